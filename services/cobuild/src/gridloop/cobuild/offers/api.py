"""Routes of offers (资源清单) under /v1/cobuild: routes parse, call a command or view, map errors."""

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query

from gridloop.cobuild.offers import commands, views
from gridloop.cobuild.offers.domain import Refused, Unknown
from gridloop.shared.api.cobuild import EmptyRequest, Offer, OfferPage, OfferRequest, ReasonRequest
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed, OfferStatus
from gridloop.shared.deps import ReferenceData, ServiceDatabase
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)

T = TypeVar("T")
CursorQuery = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="上一页返回的 next_cursor (the previous page's cursor)")
]
Code = Annotated[str | None, Query(max_length=32, description="社区编码 (community code)")]


async def answer(action: Awaitable[T], *, what: str, key: str) -> T:
    """The command's answer, or its refusal as the API's error."""
    try:
        return await action
    except Unknown as exc:
        raise NotFound(what, key) from exc
    except Refused as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
    except CobuildTransitionNotAllowed as exc:
        raise ApiError(
            409,
            "transition_not_allowed",
            f"当前状态不允许此操作 ({exc})",
            {"status": exc.current.value if exc.current else None, "action": exc.event_type},
        ) from exc
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.post("/offers", status_code=201, summary="提交资源: a unit offers a resource to its paired communities")
async def submit(database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: OfferRequest) -> Offer:
    require_role(user, Role.UNIT_ADMIN)
    return await answer(
        commands.submit(database=database, refdata=refdata, request=body, actor=user), what="offer", key=""
    )


@router.get("/offers", summary="资源清单: the offers the caller may see, newest first")
async def listing(
    database: ServiceDatabase,
    user: CurrentUser,
    status: Annotated[OfferStatus | None, Query(description="只看此状态 (only this status)")] = None,
    community: Code = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 (per page)")] = 50,
    cursor: CursorQuery = None,
) -> OfferPage:
    return await answer(
        views.listing(database=database, reader=user, status=status, community=community, limit=limit, cursor=cursor),
        what="offer",
        key="",
    )


@router.get("/offers/{offer_id}", summary="One offer")
async def one(database: ServiceDatabase, user: CurrentUser, offer_id: str) -> Offer:
    return await answer(views.one(database=database, reader=user, offer_id=offer_id), what="资源", key=offer_id)


@router.post("/offers/{offer_id}/accept", summary="接收: a listed community takes the offer on")
async def accept(
    database: ServiceDatabase, user: CurrentUser, offer_id: str, body: EmptyRequest | None = None
) -> Offer:
    return await answer(commands.accept(database=database, offer_id=offer_id, actor=user), what="资源", key=offer_id)


@router.post("/offers/{offer_id}/decline", summary="婉拒: a listed community declines the offer, with a reason")
async def decline(database: ServiceDatabase, user: CurrentUser, offer_id: str, body: ReasonRequest) -> Offer:
    return await answer(
        commands.decline(database=database, offer_id=offer_id, actor=user, reason=body.reason),
        what="资源",
        key=offer_id,
    )


@router.post("/offers/{offer_id}/withdraw", summary="撤回: the unit takes its offer back, with a reason")
async def withdraw(database: ServiceDatabase, user: CurrentUser, offer_id: str, body: ReasonRequest) -> Offer:
    return await answer(
        commands.withdraw(database=database, offer_id=offer_id, actor=user, reason=body.reason),
        what="资源",
        key=offer_id,
    )
