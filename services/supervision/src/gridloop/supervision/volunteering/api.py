"""The 双报到 and volunteering indicators' routes: a year's figures per community, street,
district or reporting unit, and the year's boards. Each parses the request, calls a handler and
maps its errors; the rules live in domain.py."""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from gridloop.shared.api.supervision import VolunteeringBoard, VolunteeringStats
from gridloop.shared.errors import ERROR_RESPONSES, ApiError
from gridloop.supervision.deps import (
    CobuildReader,
    ReferenceData,
    ServiceDatabase,
    VolunteeringReader,
    VolunteeringRules,
    VolunteeringYear,
)
from gridloop.supervision.volunteering import handlers
from gridloop.supervision.volunteering.domain import VolunteeringUnit

router = APIRouter(prefix="/v1/supervision/volunteering", tags=["supervision"], responses=ERROR_RESPONSES)


@router.get("/board", summary="双报到红黑榜 of a year: units by the composite; persons only on the points 红榜")
async def board(
    reader: CobuildReader,
    year: VolunteeringYear,
    rules: VolunteeringRules,
    database: ServiceDatabase,
    refdata: ReferenceData,
    min_volume: Annotated[
        int | None, Query(ge=1, le=100000, description="members reported before a unit is ranked")
    ] = None,
) -> VolunteeringBoard:
    if min_volume is not None:
        rules = replace(rules, min_volume=min_volume)
    found = await handlers.board(database=database, refdata=refdata, reader=reader, year=year, rules=rules)
    return VolunteeringBoard.model_validate(found)


@router.get("/{unit}", summary="双报到 and volunteering figures of a year per community, street, district or unit")
async def stats(
    reader: VolunteeringReader,
    year: VolunteeringYear,
    rules: VolunteeringRules,
    database: ServiceDatabase,
    refdata: ReferenceData,
    unit: VolunteeringUnit,
) -> VolunteeringStats:
    try:
        figures = await handlers.stats(
            database=database, refdata=refdata, reader=reader, unit=unit, year=year, rules=rules
        )
    except handlers.NotAnArea as exc:
        raise ApiError(
            403, "forbidden", "单位只能查看本单位的数据 (a unit admin reads its unit's row: /units)"
        ) from exc
    return VolunteeringStats.model_validate(figures)
