"""Routes of needs under /v1/cobuild: collect, list, the wish wall, one need, and each step of its
loop. Each route parses, calls a view or a command, and maps its errors; the models live in
`gridloop.shared.api.cobuild`. Not yours: 404 (out of sight) or 403 (in sight, not yours to do);
the need's state: 409 `transition_not_allowed`; what the body names: 422."""

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from gridloop.cobuild.deps import CurrentUser, PhotoIds, ReferenceData, ServiceDatabase, WorkingCalendar
from gridloop.cobuild.needs import commands, views
from gridloop.cobuild.needs.domain import (
    AlreadyRated,
    InvalidNeedRequest,
    NeedSubmissionRefused,
    NoReleaseRequested,
    NotAllowed,
    RatedByTicket,
    ReleaseAlreadyRequested,
)
from gridloop.cobuild.needs.views import UnknownNeed
from gridloop.shared.api.cobuild import (
    AssignNeedRequest,
    ClaimRequest,
    ConvertRequest,
    DeliverRequest,
    EmptyRequest,
    MergeRequest,
    Need,
    NeedList,
    NoteRequest,
    RateNeedRequest,
    ReasonRequest,
    ReviewRequest,
    SubmitNeedRequest,
    Wall,
)
from gridloop.shared.auth import require_role
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed, NeedStatus
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import NeedKind, Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.shared.photos import UnknownPhotos

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=200, description="每页条数 (items per page)")]
CursorParam = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="上一页的 next_cursor (the previous page's next_cursor)"),
]
Code = Annotated[str | None, Query(min_length=1, max_length=32)]


@contextmanager
def need_errors(need_id: str) -> Iterator[None]:
    """The domain's refusals as the API answers them."""
    try:
        yield
    except UnknownNeed as exc:
        raise NotFound("need", need_id) from exc
    except NotAllowed as exc:
        raise ApiError(403, "forbidden", "无权对此需求执行此操作 (not yours to do on this need)") from exc
    except CobuildTransitionNotAllowed as exc:
        raise ApiError(
            409,
            "transition_not_allowed",
            f"需求当前状态不允许此操作 ({exc})",
            {"status": exc.current.value if exc.current else None, "action": exc.event_type},
        ) from exc
    except RatedByTicket as exc:
        raise ApiError(
            409, "rated_by_ticket", "该需求已转为工单，以工单评价为准 (the ticket's rating is this need's)"
        ) from exc
    except AlreadyRated as exc:
        raise ApiError(409, "already_rated", "该需求已评价 (the need has its rating)") from exc
    except NoReleaseRequested as exc:
        raise ApiError(409, "no_release_requested", "没有待审批的释放申请 (no release request waits)") from exc
    except ReleaseAlreadyRequested as exc:
        raise ApiError(
            409, "release_already_requested", "释放申请已在审批中 (a release request waits already)"
        ) from exc
    except InvalidNeedRequest as exc:
        raise ApiError(422, exc.code, str(exc)) from exc
    except UnknownPhotos as exc:
        raise ApiError(
            422, "unknown_photos", "照片不存在或不是本人上传的 (not photos you uploaded)", {"photos": exc.ids}
        ) from exc


async def _run(need_id: str, call: Awaitable[Need]) -> Need:
    with need_errors(need_id):
        return await call


@router.post(
    "/needs",
    status_code=201,
    summary="登记需求: a need collected (app, 走访, wish wall, hotline); safe to retry with Idempotency-Key",
    responses={200: {"model": Need, "description": "replay of an earlier request with the same Idempotency-Key"}},
)
async def submit(
    database: ServiceDatabase,
    refdata: ReferenceData,
    calendars: WorkingCalendar,
    user: CurrentUser,
    body: SubmitNeedRequest,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Need:
    require_role(user, Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_DISPATCHER)
    try:
        need, replay = await commands.submit(
            database=database,
            refdata=refdata,
            calendars=calendars,
            actor=user,
            request=body,
            idempotency_key=idempotency_key,
        )
    except NeedSubmissionRefused as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    except commands.IdempotencyConflict as exc:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "该幂等键已用于不同的请求 (Idempotency-Key already used with a different body)",
        ) from exc
    response.status_code = 200 if replay else 201
    response.headers["Location"] = f"/v1/cobuild/needs/{need.id}"
    return need


@router.get("/needs", summary="需求清单: the caller's needs, newest first")
async def listing(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    status: NeedStatus | None = None,
    kind: NeedKind | None = None,
    grid: Code = None,
    community: Code = None,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> NeedList:
    require_role(user, *views.LIST_READERS)
    try:
        return await views.listing(
            database=database,
            refdata=refdata,
            reader=user,
            status=status,
            kind=kind,
            grid=grid,
            community=community,
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.get("/wall", summary="心愿墙: needs open for claiming, public summaries only")
async def wall(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    community: Code = None,
    grid: Code = None,
    kind: NeedKind | None = None,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> Wall:
    require_role(user, *views.WALL_READERS)
    try:
        return await views.wall(
            database=database,
            refdata=refdata,
            reader=user,
            community=community,
            grid=grid,
            kind=kind,
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.get("/needs/{need_id}", summary="One need (its beneficiary only for those who serve the household)")
async def one(database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str) -> Need:
    require_role(user, *views.LIST_READERS)
    return await _run(need_id, views.one(database=database, refdata=refdata, reader=user, need_id=need_id))


@router.post("/needs/{need_id}/review", summary="审核: the community writes the public summary")
async def review(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ReviewRequest
) -> Need:
    return await _run(
        need_id, commands.review(database=database, refdata=refdata, need_id=need_id, actor=user, body=body)
    )


@router.post("/needs/{need_id}/publish", summary="发布: open for claiming on the wish wall")
async def publish(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: EmptyRequest
) -> Need:
    return await _run(need_id, commands.publish(database=database, refdata=refdata, need_id=need_id, actor=user))


@router.post("/needs/{need_id}/assign", summary="派单: to a unit paired with the community")
async def assign(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: AssignNeedRequest
) -> Need:
    return await _run(
        need_id,
        commands.assign(database=database, refdata=refdata, need_id=need_id, actor=user, unit_code=body.unit_code),
    )


@router.post("/needs/{need_id}/reject", summary="不予受理, with the reason the submitter sees")
async def reject(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ReasonRequest
) -> Need:
    return await _run(
        need_id, commands.reject(database=database, refdata=refdata, need_id=need_id, actor=user, reason=body.reason)
    )


@router.post("/needs/{need_id}/merge", summary="合并 into another open need of the community")
async def merge(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: MergeRequest
) -> Need:
    return await _run(
        need_id, commands.merge(database=database, refdata=refdata, need_id=need_id, actor=user, into=body.into)
    )


@router.post("/needs/{need_id}/convert", summary="转办: a department's job, filed as a ticket")
async def convert(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ConvertRequest
) -> Need:
    return await _run(
        need_id, commands.convert(database=database, refdata=refdata, need_id=need_id, actor=user, body=body)
    )


@router.post("/needs/{need_id}/approve-release", summary="同意释放认领: published again")
async def approve_release(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: EmptyRequest
) -> Need:
    return await _run(
        need_id, commands.approve_release(database=database, refdata=refdata, need_id=need_id, actor=user)
    )


@router.post("/needs/{need_id}/accept-assignment", summary="接单: the assigned unit takes the need on")
async def accept_assignment(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: EmptyRequest
) -> Need:
    return await _run(
        need_id, commands.accept_assignment(database=database, refdata=refdata, need_id=need_id, actor=user)
    )


@router.post("/needs/{need_id}/return", summary="退回派单, with the reason")
async def return_assignment(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ReasonRequest
) -> Need:
    return await _run(
        need_id,
        commands.return_assignment(database=database, refdata=refdata, need_id=need_id, actor=user, reason=body.reason),
    )


@router.post("/needs/{need_id}/claim", summary="认领 (group: others may join)")
async def claim(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ClaimRequest
) -> Need:
    return await _run(
        need_id, commands.claim(database=database, refdata=refdata, need_id=need_id, actor=user, group=body.group)
    )


@router.post("/needs/{need_id}/contact", summary="已联系服务对象: the claim holds, the service starts")
async def contact(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: NoteRequest
) -> Need:
    return await _run(need_id, commands.contact(database=database, refdata=refdata, need_id=need_id, actor=user))


@router.post("/needs/{need_id}/request-release", summary="申请释放认领, with the reason")
async def request_release(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ReasonRequest
) -> Need:
    return await _run(
        need_id,
        commands.request_release(database=database, refdata=refdata, need_id=need_id, actor=user, reason=body.reason),
    )


@router.post("/needs/{need_id}/deliver", summary="已兑现")
async def deliver(
    database: ServiceDatabase,
    refdata: ReferenceData,
    seal: PhotoIds,
    user: CurrentUser,
    need_id: str,
    body: DeliverRequest,
) -> Need:
    return await _run(
        need_id,
        commands.deliver(database=database, refdata=refdata, seal=seal, need_id=need_id, actor=user, body=body),
    )


@router.post("/needs/{need_id}/confirm", summary="确认兑现")
async def confirm(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: EmptyRequest
) -> Need:
    return await _run(need_id, commands.confirm(database=database, refdata=refdata, need_id=need_id, actor=user))


@router.post("/needs/{need_id}/rate", summary="评价 (a converted need takes its ticket's rating)")
async def rate(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: RateNeedRequest
) -> Need:
    return await _run(
        need_id, commands.rate(database=database, refdata=refdata, need_id=need_id, actor=user, body=body)
    )


@router.post("/needs/{need_id}/withdraw", summary="撤回, by the submitter")
async def withdraw(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, need_id: str, body: ReasonRequest
) -> Need:
    return await _run(
        need_id, commands.withdraw(database=database, refdata=refdata, need_id=need_id, actor=user, reason=body.reason)
    )
