"""Street desk routes: the queue, manual assignment (吹哨) and cancellation."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gridloop.dispatch import handlers, store
from gridloop.dispatch.domain import InvalidAssignment, NoPendingExtension
from gridloop.dispatch.handlers import UnknownTicket
from gridloop.shared.access import place_filter
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import CancelReason, Role
from gridloop.shared.service import Runtime

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


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/queue", summary="Tickets waiting for a person to dispatch: no rule matched, or sent back (退单)")
async def queue(
    request: Request, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    require_role(user, Role.STREET_DISPATCHER, Role.SUPERVISOR)
    scope = place_filter(user, street="street_code", district="district_code")
    docs = await store.queue(_runtime(request).database.db, scope=scope, limit=limit)
    return {"items": [handlers.queue_view(d) for d in docs]}


@router.post("/tickets/{ticket_id}/assign", summary="Dispatch by hand to a lead and assisting departments (吹哨)")
async def assign(request: Request, user: CurrentUser, ticket_id: str, body: AssignRequest) -> dict[str, Any]:
    require_role(user, Role.STREET_DISPATCHER)
    await _in_scope(request, user, ticket_id)
    runtime = _runtime(request)
    try:
        return await handlers.assign(
            database=runtime.database,
            refdata=runtime.refdata,
            calendars=handlers.calendars_of(runtime),
            ticket_id=ticket_id,
            lead=body.lead_department,
            assisting=body.assisting_departments,
            actor=user,
        )
    except UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    except InvalidAssignment as exc:
        raise ApiError(422, "invalid_assignment", str(exc)) from exc


@router.post("/tickets/{ticket_id}/cancel", summary="Cancel an invalid, out-of-scope or duplicate report")
async def cancel(request: Request, user: CurrentUser, ticket_id: str, body: CancelRequest) -> dict[str, Any]:
    require_role(user, Role.STREET_DISPATCHER)
    await _in_scope(request, user, ticket_id)
    try:
        return await handlers.cancel(
            database=_runtime(request).database,
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


async def _in_scope(request: Request, user: CurrentUser, ticket_id: str) -> None:
    """A street's dispatcher acts on its own street's tickets; others' do not exist for them."""
    doc = await store.get(_runtime(request).database.db, ticket_id)
    if doc is None or doc["street_code"] != user.org:
        raise NotFound("ticket", ticket_id)


class DecideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approved: bool
    comment: str = Field(default="", max_length=500)


@router.post("/extensions/{ticket_id}/decide", summary="延期审批: approve or deny a department's request")
async def decide_extension(request: Request, user: CurrentUser, ticket_id: str, body: DecideRequest) -> dict[str, Any]:
    require_role(user, Role.STREET_DISPATCHER)
    await _in_scope(request, user, ticket_id)
    try:
        return await handlers.decide_extension(
            database=_runtime(request).database,
            ticket_id=ticket_id,
            approved=body.approved,
            comment=body.comment,
            actor=user,
        )
    except NoPendingExtension as exc:
        raise ApiError(409, "no_pending_extension", str(exc)) from exc
