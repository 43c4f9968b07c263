"""The 共建 indicators' routes: a unit's figures in a window, and a street's community board.
Each parses the request, calls a handler and maps its errors; the rules live in domain.py."""

from typing import Annotated

from fastapi import APIRouter, Query

from gridloop.shared.api.supervision import CobuildBoard, CobuildStats
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.supervision.cobuild import handlers
from gridloop.supervision.cobuild.domain import CobuildUnit
from gridloop.supervision.deps import BoardMinVolume, CobuildReader, ReferenceData, RequestedWindow, ServiceDatabase

router = APIRouter(prefix="/v1/supervision/cobuild", tags=["supervision"], responses=ERROR_RESPONSES)


@router.get("/board", summary="共建看板: each community of a street with its 共建 figures (样本不足 below a minimum)")
async def board(
    reader: CobuildReader,
    window: RequestedWindow,
    database: ServiceDatabase,
    refdata: ReferenceData,
    default_volume: BoardMinVolume,
    street: Annotated[
        str | None,
        Query(min_length=1, max_length=32, description="街道代码 (default: the reader's street or community's street)"),
    ] = None,
    min_volume: Annotated[
        int | None, Query(ge=1, le=100000, description="needs collected before a community's rates are shown")
    ] = None,
) -> CobuildBoard:
    try:
        found = await handlers.board(
            database=database,
            refdata=refdata,
            reader=reader,
            street=street,
            window=window,
            min_volume=min_volume or default_volume,
        )
    except handlers.StreetRequired as exc:
        raise ApiError(422, "street_required", "请指定街道 (name the street: street=)") from exc
    except handlers.UnknownStreet as exc:
        raise NotFound("street", str(exc)) from exc
    return CobuildBoard.model_validate(found)


@router.get("/{unit}", summary="共建 figures per grid, community, street or district in a window [from, to)")
async def stats(
    reader: CobuildReader,
    window: RequestedWindow,
    database: ServiceDatabase,
    refdata: ReferenceData,
    unit: CobuildUnit,
    code: Annotated[
        str | None, Query(min_length=1, max_length=32, description="只看该单位的 (only this unit's figures)")
    ] = None,
) -> CobuildStats:
    figures = await handlers.stats(
        database=database, refdata=refdata, reader=reader, unit=unit, window=window, code=code
    )
    return CobuildStats.model_validate(figures)
