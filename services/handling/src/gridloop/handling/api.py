"""Department inbox routes: list work orders; accept, reject, progress, resolve."""

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Query

from gridloop.handling import commands, views
from gridloop.handling.deps import CurrentUser, PhotoIds, ServiceDatabase
from gridloop.handling.domain import (
    ACTING_ROLES,
    ActionNotAllowed,
    EvidenceRequired,
    InvalidExtension,
    NotYourOrder,
    OrderStatus,
    PartAlreadyReported,
    PartsPending,
    RoundSuperseded,
    UnknownWorkOrder,
)
from gridloop.shared.api.handling import (
    ExtensionRequest,
    Inbox,
    InboxItem,
    NoteRequest,
    RejectRequest,
    ResolveRequest,
    WorkOrder,
)
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.shared.photos import UnknownPhotos

router = APIRouter(prefix="/v1/work-orders", tags=["handling"], responses=ERROR_RESPONSES)


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
        return await views.inbox(
            database=database, reader=user, statuses=status, overdue=overdue, limit=limit, cursor=cursor
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.get(
    "/{ticket_id}",
    summary="One work order of the caller's: the department's own of the latest round (supervisors: the lead's)",
)
async def work_order(database: ServiceDatabase, user: CurrentUser, ticket_id: str) -> InboxItem:
    require_role(user, Role.DEPARTMENT_AGENT, Role.SUPERVISOR)
    try:
        return await views.work_order(database=database, reader=user, ticket_id=ticket_id)
    except UnknownWorkOrder as exc:
        raise NotFound("work order", ticket_id) from exc


async def _run(action: Awaitable[WorkOrder], ticket_id: str) -> WorkOrder:
    try:
        return await action
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
    return await _run(commands.accept(database=database, ticket_id=ticket_id, actor=user), ticket_id)


@router.post("/{ticket_id}/reject", summary="退单: send back to the street with a reason")
async def reject(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: RejectRequest) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    return await _run(
        commands.reject(database=database, ticket_id=ticket_id, actor=user, reason=body.reason),
        ticket_id,
    )


@router.post("/{ticket_id}/progress", summary="Post a progress note")
async def progress(
    database: ServiceDatabase, seal: PhotoIds, user: CurrentUser, ticket_id: str, body: NoteRequest
) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    return await _run(
        commands.progress(
            database=database, seal=seal, ticket_id=ticket_id, actor=user, note=body.note, photos=body.photos
        ),
        ticket_id,
    )


@router.post("/{ticket_id}/extension", summary="延期申请: ask the street for more time to resolve")
async def extension(database: ServiceDatabase, user: CurrentUser, ticket_id: str, body: ExtensionRequest) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    try:
        return await _run(
            commands.request_extension(
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


@router.post("/{ticket_id}/part", summary="协办反馈: an assisting department reports its part done")
async def part(
    database: ServiceDatabase, seal: PhotoIds, user: CurrentUser, ticket_id: str, body: NoteRequest
) -> WorkOrder:
    require_role(user, *ACTING_ROLES)
    try:
        return await _run(
            commands.report_part(
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
            commands.resolve(
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
