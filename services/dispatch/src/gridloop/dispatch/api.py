"""Street desk routes: the queue (a page, or one ticket of it), manual assignment (吹哨),
cancellation and extension decisions. Each route checks the caller's role, calls a view or a
command and maps its errors; the request and response models live in `gridloop.shared.api.dispatch`."""

from typing import Annotated

from fastapi import APIRouter, Query

from gridloop.dispatch import commands, views
from gridloop.dispatch.commands import UnknownTicket
from gridloop.dispatch.deps import CurrentUser, ReferenceData, ServiceDatabase, WorkingCalendar
from gridloop.dispatch.domain import DepartmentNotServing, InvalidAssignment, NoPendingExtension
from gridloop.dispatch.views import NotQueued
from gridloop.shared.api.dispatch import (
    Assigned,
    AssignRequest,
    Cancelled,
    CancelRequest,
    DecideRequest,
    ExtensionDecided,
    PendingExtensions,
    Queue,
    QueueItem,
    QueueReason,
)
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor

router = APIRouter(prefix="/v1/dispatch", tags=["dispatch"], responses=ERROR_RESPONSES)


@router.get(
    "/queue",
    summary="派遣队列: tickets waiting for a person to dispatch (no rule matched, sent back 退单, possible duplicate)",
    description="The caller's queue: a street dispatcher sees their street's, a supervisor their district's.",
)
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
        return await views.street_queue(database=database, reader=user, reason=reason, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.get(
    "/queue/{ticket_id}",
    summary="One ticket of the caller's queue, as the queue lists it",
    description="Scoped like the queue: 404 `not_queued` when the ticket does not wait in the caller's queue "
    "(dispatched already, cancelled, another street's, or unknown).",
)
async def queued_ticket(database: ServiceDatabase, user: CurrentUser, ticket_id: str) -> QueueItem:
    require_role(user, Role.STREET_DISPATCHER, Role.SUPERVISOR)
    try:
        return await views.queued_ticket(database=database, reader=user, ticket_id=ticket_id)
    except NotQueued as exc:
        raise ApiError(
            404, "not_queued", "工单不在派遣队列中 (the ticket is not in your queue)", {"id": ticket_id}
        ) from exc


@router.get("/extensions", summary="延期申请: extension requests waiting for the street's decision, oldest first")
async def extensions(
    database: ServiceDatabase,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500, description="最多返回条数 (at most this many requests)")] = 100,
) -> PendingExtensions:
    require_role(user, Role.STREET_DISPATCHER, Role.SUPERVISOR)
    return await views.pending_extensions(database=database, reader=user, limit=limit)


@router.post(
    "/tickets/{ticket_id}/assign",
    summary="Dispatch by hand to a lead and assisting departments (吹哨)",
    description="Each department named must serve the ticket's street (the directory's `serves`; empty: the "
    "whole district), as automatic routing requires: 422 `department_not_serving` otherwise, with the "
    "departments in `details`. 422 `invalid_assignment` for an unknown department or one named twice; "
    "409 `invalid_state` unless the ticket waits in the queue.",
)
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
        return await commands.assign(
            database=database,
            refdata=refdata,
            calendars=calendars,
            ticket_id=ticket_id,
            lead=body.lead_department,
            assisting=body.assisting_departments,
            actor=user,
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except DepartmentNotServing as exc:
        raise ApiError(422, "department_not_serving", str(exc), {"departments": exc.departments}) from exc
    except InvalidAssignment as exc:
        raise ApiError(422, "invalid_assignment", str(exc)) from exc


@router.post(
    "/tickets/{ticket_id}/cancel",
    summary="Cancel an invalid, out-of-scope or duplicate report, or turn it into a resident's need (转为居民需求)",
)
async def cancel(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: CancelRequest) -> Cancelled:
    require_role(user, Role.STREET_DISPATCHER)
    try:
        return await commands.cancel(
            database=database,
            ticket_id=ticket_id,
            reason=body.reason,
            comment=body.comment,
            duplicate_of=body.duplicate_of,
            actor=user,
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except InvalidAssignment as exc:
        raise ApiError(422, "invalid_cancellation", str(exc)) from exc


@router.post("/extensions/{ticket_id}/decide", summary="延期审批: approve or deny a department's request")
async def decide_extension(
    database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: DecideRequest
) -> ExtensionDecided:
    require_role(user, Role.STREET_DISPATCHER)
    try:
        return await commands.decide_extension(
            database=database, ticket_id=ticket_id, approved=body.approved, comment=body.comment, actor=user
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except NoPendingExtension as exc:
        raise ApiError(409, "no_pending_extension", str(exc)) from exc
