"""Department inbox routes: list work orders; accept, reject, progress, resolve."""

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gridloop.handling import handlers
from gridloop.handling.deps import CurrentUser, PhotoIds, ServiceDatabase
from gridloop.handling.domain import (
    ACTING_ROLES,
    Action,
    ActionNotAllowed,
    EvidenceRequired,
    InvalidExtension,
    NotYourOrder,
    OrderRole,
    OrderStatus,
    PartAlreadyReported,
    PartsPending,
    RoundSuperseded,
)
from gridloop.handling.handlers import UnknownWorkOrder
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import GeoPoint, Priority, Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.shared.photos import UnknownPhotos

router = APIRouter(prefix="/v1/work-orders", tags=["handling"], responses=ERROR_RESPONSES)


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=2, max_length=500, description="退单理由")


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class WorkOrder(BaseModel):
    """A department's work order (工单) for one round of a ticket."""

    ticket_id: str
    ticket_number: str
    department: str
    role: OrderRole = Field(description="lead (主办) or assisting (协办)")
    round: int
    status: OrderStatus
    category_code: str
    category_name: str
    description: str
    location: GeoPoint | None
    address: str
    grid_code: str
    street_code: str
    photos: list[str]
    priority: Priority
    accept_deadline: datetime
    resolve_deadline: datetime
    deadlines_provisional: bool | None = Field(
        description="预计: counted on a year whose holiday schedule is not published yet"
    )
    dispatched_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    rework_count: int
    notes: list[dict[str, Any]]
    extension_pending: dict[str, Any] | None
    part: dict[str, Any] | None
    evidence_required: bool | None
    ticket_status: str | None = Field(
        default=None, description="the ticket's state (in an action's answer: after the action)"
    )
    allowed_actions: list[Action] = Field(
        description="当前可办理的操作 (the actions the caller may take on this order now, each the last "
        "segment of its route, e.g. accept -> POST /v1/work-orders/{ticket_id}/accept; empty for a "
        "supervisor, and for an order of an earlier dispatch round or one that owes nothing)"
    )


class InboxItem(WorkOrder):
    overdue: bool = Field(description="超期: past the deadline of the step the department owes")


class Inbox(BaseModel):
    items: list[InboxItem] = Field(
        description="按部门当前应办时限排序，最早的在前（超期的在前），同一时限按工单号 "
        "(by the deadline owed next: acceptance while dispatched, the fix while accepted or "
        "reopened; earliest first, so the overdue first; orders owing nothing last; ties by ticket)"
    )
    next_cursor: str | None = Field(
        description="下一页游标，传给 cursor 参数；最后一页为 null "
        "(pass as `cursor` for the next page; null on the last page)"
    )


Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="上一页返回的 next_cursor (the next_cursor of the previous page)",
    ),
]


@router.get("", summary="The department's inbox (supervisors: every department in their district or street)")
async def inbox(
    database: ServiceDatabase,
    user: CurrentUser,
    status: Annotated[list[OrderStatus] | None, Query(description="只看这些状态 (only orders in these states)")] = None,
    overdue: Annotated[
        bool | None, Query(description="true 只看超期，false 只看未超期 (true: only the overdue; false: the rest)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数 (orders per page)")] = 100,
    cursor: Cursor = None,
) -> Inbox:
    require_role(user, Role.DEPARTMENT_AGENT, Role.SUPERVISOR)
    try:
        found = await handlers.inbox(
            database=database, reader=user, statuses=status, overdue=overdue, limit=limit, cursor=cursor
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc
    return Inbox.model_validate(found)


@router.get(
    "/{ticket_id}",
    summary="One work order of the caller's: the department's own of the latest round (supervisors: the lead's)",
)
async def work_order(database: ServiceDatabase, user: CurrentUser, ticket_id: str) -> InboxItem:
    require_role(user, Role.DEPARTMENT_AGENT, Role.SUPERVISOR)
    try:
        return InboxItem.model_validate(await handlers.work_order(database=database, reader=user, ticket_id=ticket_id))
    except UnknownWorkOrder as exc:
        raise NotFound("work order", ticket_id) from exc


async def _run(action: Awaitable[dict[str, Any]], ticket_id: str) -> WorkOrder:
    try:
        return WorkOrder.model_validate(await action)
    except UnknownWorkOrder as exc:
        raise NotFound("work order", ticket_id) from exc
    except UnknownPhotos as exc:
        raise ApiError(
            422, "unknown_photos", "照片不存在或不是本人上传的 (not photos you uploaded)", {"photos": exc.ids}
        ) from exc
    except NotYourOrder as exc:
        raise ApiError(403, "not_lead_department", f"无权处理该工单 ({exc})") from exc
    except RoundSuperseded as exc:
        raise ApiError(
            409,
            "round_superseded",
            f"该工单已退回或已改派，本部门不能再办理 ({exc})",
            {"round": exc.order_round, "current_round": exc.current_round},
        ) from exc
    except ActionNotAllowed as exc:
        raise ApiError(
            409,
            "invalid_state",
            f"工单当前状态不允许此操作 ({exc})",
            {"status": exc.status.value, "action": exc.action.value},
        ) from exc


@router.post("/{ticket_id}/accept", summary="接单: take the ticket on")
async def accept(database: ServiceDatabase, user: CurrentUser, ticket_id: str) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    return await _run(handlers.accept(database=database, ticket_id=ticket_id, actor=user), ticket_id)


@router.post("/{ticket_id}/reject", summary="退单: send back to the street with a reason")
async def reject(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: RejectRequest) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    return await _run(
        handlers.reject(database=database, ticket_id=ticket_id, actor=user, reason=body.reason),
        ticket_id,
    )


@router.post("/{ticket_id}/progress", summary="Post a progress note")
async def progress(
    database: ServiceDatabase, seal: PhotoIds, user: CurrentUser, ticket_id: str, body: NoteRequest
) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    return await _run(
        handlers.progress(
            database=database, seal=seal, ticket_id=ticket_id, actor=user, note=body.note, photos=body.photos
        ),
        ticket_id,
    )


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    requested_resolve_deadline: AwareDatetime = Field(description="the later resolve deadline asked for")
    reason: str = Field(min_length=2, max_length=500, description="延期理由")


@router.post("/{ticket_id}/extension", summary="延期申请: ask the street for more time to resolve")
async def extension(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: ExtensionRequest) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    try:
        return await _run(
            handlers.request_extension(
                database=database,
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
async def part(
    database: ServiceDatabase, seal: PhotoIds, user: CurrentUser, ticket_id: str, body: NoteRequest
) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    try:
        return await _run(
            handlers.report_part(
                database=database, seal=seal, ticket_id=ticket_id, actor=user, note=body.note, photos=body.photos
            ),
            ticket_id,
        )
    except PartAlreadyReported as exc:
        raise ApiError(409, "part_already_reported", f"协办部门已反馈 ({exc})") from exc


@router.post("/{ticket_id}/resolve", summary="办结: report the problem fixed, with evidence")
async def resolve(
    database: ServiceDatabase, seal: PhotoIds, user: CurrentUser, ticket_id: str, body: ResolveRequest
) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    try:
        return await _run(
            handlers.resolve(
                database=database,
                seal=seal,
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
