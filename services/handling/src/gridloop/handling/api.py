"""Department inbox routes: list work orders; accept, reject, progress, resolve."""

from collections.abc import Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gridloop.handling import handlers, store
from gridloop.handling.domain import (
    EvidenceRequired,
    InvalidExtension,
    NotYourOrder,
    PartAlreadyReported,
    PartsPending,
    is_overdue,
)
from gridloop.handling.handlers import UnknownWorkOrder
from gridloop.shared.access import place_filter
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.service import Runtime

router = APIRouter(prefix="/v1/work-orders", tags=["handling"], responses=ERROR_RESPONSES)


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=2, max_length=500, description="退单理由")


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("", summary="The department's inbox (supervisors: every department in their district or street)")
async def inbox(
    request: Request,
    user: CurrentUser,
    status: Annotated[list[str] | None, Query(description="dispatched, accepted, reopened, resolved, ...")] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT, Role.SUPERVISOR)
    runtime = _runtime(request)
    # An agent sees their department's orders; a supervisor, those of their district or street.
    scope = (
        {"department": user.org}
        if user.role == Role.DEPARTMENT_AGENT
        else place_filter(user, street="street_code", district="district_code")
    )
    now = runtime.clock.now()
    if overdue:
        docs = await store.overdue_candidates(runtime.database.db, scope=scope, now=now, limit=limit)
    else:
        docs = await store.inbox(runtime.database.db, scope=scope, statuses=status, limit=limit)
    items = [handlers.order_view(d) | {"overdue": is_overdue(d, now)} for d in docs]
    if overdue is False:
        items = [i for i in items if not i["overdue"]]
    return {"items": items}


async def _run(action: Awaitable[dict[str, Any]], ticket_id: str) -> dict[str, Any]:
    try:
        return await action
    except UnknownWorkOrder as exc:
        raise NotFound("work order", ticket_id) from exc
    except NotYourOrder as exc:
        raise ApiError(403, "not_lead_department", f"无权处理该工单 ({exc})") from exc


@router.post("/{ticket_id}/accept", summary="接单: take the ticket on")
async def accept(request: Request, user: CurrentUser, ticket_id: str) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    return await _run(handlers.accept(database=_runtime(request).database, ticket_id=ticket_id, actor=user), ticket_id)


@router.post("/{ticket_id}/reject", summary="退单: send back to the street with a reason")
async def reject(request: Request, user: CurrentUser, ticket_id: str, body: RejectRequest) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    return await _run(
        handlers.reject(database=_runtime(request).database, ticket_id=ticket_id, actor=user, reason=body.reason),
        ticket_id,
    )


@router.post("/{ticket_id}/progress", summary="Post a progress note")
async def progress(request: Request, user: CurrentUser, ticket_id: str, body: NoteRequest) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    return await _run(
        handlers.progress(
            database=_runtime(request).database, ticket_id=ticket_id, actor=user, note=body.note, photos=body.photos
        ),
        ticket_id,
    )


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    requested_resolve_deadline: AwareDatetime = Field(description="the later resolve deadline asked for")
    reason: str = Field(min_length=2, max_length=500, description="延期理由")


@router.post("/{ticket_id}/extension", summary="延期申请: ask the street for more time to resolve")
async def extension(request: Request, user: CurrentUser, ticket_id: str, body: ExtensionRequest) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    try:
        return await _run(
            handlers.request_extension(
                database=_runtime(request).database,
                ticket_id=ticket_id,
                actor=user,
                until=body.requested_resolve_deadline,
                reason=body.reason,
            ),
            ticket_id,
        )
    except InvalidExtension as exc:
        raise ApiError(422, "invalid_extension", f"延期申请不合法 ({exc})") from exc


class ResolveRequest(NoteRequest):
    override_reason: str = Field(
        default="",
        max_length=500,
        description="why the lead resolves before every assisting department reported its part (先行办结理由)",
    )


@router.post("/{ticket_id}/part", summary="协办反馈: an assisting department reports its part done")
async def part(request: Request, user: CurrentUser, ticket_id: str, body: NoteRequest) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    try:
        return await _run(
            handlers.report_part(
                database=_runtime(request).database, ticket_id=ticket_id, actor=user, note=body.note, photos=body.photos
            ),
            ticket_id,
        )
    except PartAlreadyReported as exc:
        raise ApiError(409, "part_already_reported", f"协办部门已反馈 ({exc})") from exc


@router.post("/{ticket_id}/resolve", summary="办结: report the problem fixed, with evidence")
async def resolve(request: Request, user: CurrentUser, ticket_id: str, body: ResolveRequest) -> dict[str, Any]:
    require_role(user, Role.DEPARTMENT_AGENT)
    try:
        return await _run(
            handlers.resolve(
                database=_runtime(request).database,
                ticket_id=ticket_id,
                actor=user,
                note=body.note,
                photos=body.photos,
                override_reason=body.override_reason,
            ),
            ticket_id,
        )
    except PartsPending as exc:
        raise ApiError(409, "assisting_parts_pending", str(exc)) from exc
    except EvidenceRequired as exc:
        raise ApiError(422, "evidence_required", str(exc)) from exc
