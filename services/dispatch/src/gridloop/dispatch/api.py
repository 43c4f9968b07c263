"""Street desk routes: the queue, manual assignment (吹哨) and cancellation."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gridloop.dispatch import handlers
from gridloop.dispatch.deps import CurrentUser, ReferenceData, ServiceDatabase, WorkingCalendar
from gridloop.dispatch.domain import InvalidAssignment, NoPendingExtension, QueueReason
from gridloop.dispatch.handlers import UnknownTicket
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import CancelReason, Priority, Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor

router = APIRouter(prefix="/v1/dispatch", tags=["dispatch"], responses=ERROR_RESPONSES)


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_department: str = Field(min_length=1, max_length=32, description="主办部门")
    assisting_departments: list[str] = Field(default_factory=list, max_length=10, description="协办部门")


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: CancelReason
    comment: str = Field(default="", max_length=500)
    duplicate_of: str | None = Field(default=None, max_length=64)


class QueuedTicket(BaseModel):
    """A ticket waiting at the street desk."""

    ticket_id: str
    ticket_number: str
    category_code: str
    category_name: str
    description: str
    street_code: str
    community_code: str
    grid_code: str
    priority: Priority
    status: str
    round: int
    queue_reason: str | None = Field(description="no_rule, rejected (退单) or possible_duplicate (疑似重复)")
    queued_at: datetime | None
    rejections: list[dict[str, Any]] = Field(description="each send-back: department, round, reason, at")
    reported_at: datetime
    possible_duplicates: list[str]


class Queue(BaseModel):
    items: list[QueuedTicket] = Field(
        description="最早进入队列的在前，同一时刻按工单号 (oldest queued first, ties by ticket)"
    )
    next_cursor: str | None = Field(
        description="下一页游标，传给 cursor 参数；最后一页为 null "
        "(pass as `cursor` for the next page; null on the last page)"
    )


class PendingExtension(BaseModel):
    """延期申请: a department's request for a later resolve deadline, waiting for the street."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    ticket_number: str = Field(description="工单号 (ticket number, e.g. QH-20261122-00042)")
    category_name: str = Field(description="问题类别 (category name)")
    street_code: str = Field(description="所属街道 (the ticket's street)")
    department: str = Field(description="申请部门 (the lead department asking)")
    reason: str = Field(description="延期理由 (the reason given)")
    requested_resolve_deadline: datetime = Field(description="申请延至 (the resolve deadline asked for)")
    resolve_deadline: datetime = Field(description="当前处置时限 (the resolve deadline now)")
    requested_at: datetime = Field(description="申请时间 (when it was asked)")


class PendingExtensions(BaseModel):
    items: list[PendingExtension] = Field(description="最早的申请在前 (oldest request first)")


class Assigned(BaseModel):
    """The dispatch made (派遣): the round's departments and deadlines."""

    ticket_id: str
    round: int
    lead_department: str
    assisting_departments: list[str]
    accept_deadline: datetime
    resolve_deadline: datetime
    manual: bool
    rule_id: str | None
    provisional: bool = Field(description="预计: counted on a year whose holiday schedule is not published yet")


class Cancelled(BaseModel):
    ticket_id: str
    status: str
    reason: CancelReason
    comment: str
    duplicate_of: str | None


class ExtensionDecided(BaseModel):
    ticket_id: str
    approved: bool
    resolve_deadline: datetime
    comment: str


@router.get("/queue", summary="Tickets waiting for a person to dispatch: no rule matched, or sent back (退单)")
async def queue(
    database: ServiceDatabase,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数 (tickets per page)")] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="上一页的 next_cursor (the next_cursor of the previous page)"),
    ] = None,
    reason: Annotated[
        QueueReason | None,
        Query(description="只看此原因 (only tickets waiting for this reason: no_rule, rejected, possible_duplicate)"),
    ] = None,
) -> Queue:
    require_role(user, Role.STREET_DISPATCHER, Role.SUPERVISOR)
    try:
        found = await handlers.street_queue(database=database, reader=user, reason=reason, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc
    return Queue.model_validate(found)


@router.get("/extensions", summary="延期申请: extension requests waiting for the street's decision, oldest first")
async def extensions(
    database: ServiceDatabase,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500, description="最多返回条数 (at most this many requests)")] = 100,
) -> PendingExtensions:
    require_role(user, Role.STREET_DISPATCHER, Role.SUPERVISOR)
    items = await handlers.pending_extensions(database=database, reader=user, limit=limit)
    return PendingExtensions.model_validate({"items": items})


@router.post("/tickets/{ticket_id}/assign", summary="Dispatch by hand to a lead and assisting departments (吹哨)")
async def assign(
    database: ServiceDatabase,
    refdata: ReferenceData,
    calendars: WorkingCalendar,
    user: CurrentUser,
    ticket_id: str,
    body: AssignRequest,
) -> Assigned:
    require_role(user, Role.STREET_DISPATCHER)
    try:
        return Assigned.model_validate(
            await handlers.assign(
                database=database,
                refdata=refdata,
                calendars=calendars,
                ticket_id=ticket_id,
                lead=body.lead_department,
                assisting=body.assisting_departments,
                actor=user,
            )
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except InvalidAssignment as exc:
        raise ApiError(422, "invalid_assignment", str(exc)) from exc


@router.post("/tickets/{ticket_id}/cancel", summary="Cancel an invalid, out-of-scope or duplicate report")
async def cancel(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: CancelRequest) -> Cancelled:
    require_role(user, Role.STREET_DISPATCHER)
    try:
        return Cancelled.model_validate(
            await handlers.cancel(
                database=database,
                ticket_id=ticket_id,
                reason=body.reason,
                comment=body.comment,
                duplicate_of=body.duplicate_of,
                actor=user,
            )
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except InvalidAssignment as exc:
        raise ApiError(422, "invalid_cancellation", str(exc)) from exc


class DecideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approved: bool
    comment: str = Field(default="", max_length=500)


@router.post("/extensions/{ticket_id}/decide", summary="延期审批: approve or deny a department's request")
async def decide_extension(
    database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: DecideRequest
) -> ExtensionDecided:
    require_role(user, Role.STREET_DISPATCHER)
    try:
        return ExtensionDecided.model_validate(
            await handlers.decide_extension(
                database=database, ticket_id=ticket_id, approved=body.approved, comment=body.comment, actor=user
            )
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except NoPendingExtension as exc:
        raise ApiError(409, "no_pending_extension", str(exc)) from exc
