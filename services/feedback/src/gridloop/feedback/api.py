"""Feedback routes: the reporter's verification tasks, verdicts and ratings."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gridloop.feedback import handlers
from gridloop.feedback.deps import CurrentUser, PhotoIds, ServiceDatabase
from gridloop.feedback.domain import AlreadyRated, NotYourTicket
from gridloop.feedback.handlers import UnknownNotification, UnknownTicket
from gridloop.shared.api.feedback import NotificationList, NotificationView, VerificationList, VerificationView
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Rating, Role
from gridloop.shared.limits import PHOTOS_MAX
from gridloop.shared.photos import UnknownPhotos

router = APIRouter(prefix="/v1", tags=["feedback"], responses=ERROR_RESPONSES)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    passed: bool = Field(description="true: fixed, close it (结案); false: not fixed, rework (返工)")
    comment: str = Field(default="", max_length=1000)
    photos: list[str] = Field(default_factory=list, max_length=PHOTOS_MAX)


class RateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rating: Rating = Field(description="满意 satisfied, 基本满意 basically_satisfied, 不满意 unsatisfied")
    comment: str = Field(default="", max_length=1000)


# A verification's verdict fields are absent until there is a verdict, as they always were.
@router.get(
    "/verifications", summary="Verification tasks (grid workers see their own)", response_model_exclude_unset=True
)
async def verifications(
    user: CurrentUser,
    database: ServiceDatabase,
    status: Annotated[str | None, Query(pattern="^(pending|passed|failed|expired)$")] = None,
    rated: Annotated[bool | None, Query(description="false: closed tickets still waiting for a rating")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> VerificationList:
    require_role(user, Role.GRID_WORKER, Role.SUPERVISOR)
    tasks = await handlers.verification_tasks(database=database, user=user, status=status, rated=rated, limit=limit)
    return VerificationList.model_validate(tasks)


@router.get(
    "/verifications/{ticket_id}",
    summary="One verification task of the caller's, as their list shows it: pending, done, rated or not",
    response_model_exclude_unset=True,
)
async def verification(user: CurrentUser, database: ServiceDatabase, ticket_id: str) -> VerificationView:
    require_role(user, Role.GRID_WORKER, Role.SUPERVISOR)
    try:
        task = await handlers.verification_task(database=database, user=user, ticket_id=ticket_id)
    except UnknownTicket as exc:
        raise NotFound("verification task", ticket_id) from exc
    return VerificationView.model_validate(task)


@router.get("/notifications", summary="通知: what became of the reports you filed")
async def notifications(
    user: CurrentUser,
    database: ServiceDatabase,
    unread: Annotated[bool | None, Query(description="true: only those not yet read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationList:
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER)
    found = await handlers.notifications(database=database, recipient=user, unread=unread, limit=limit)
    return NotificationList.model_validate(found)


@router.post("/notifications/{notification_id}/read", summary="Mark a notification read")
async def mark_read(user: CurrentUser, database: ServiceDatabase, notification_id: str) -> NotificationView:
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER)
    try:
        read = await handlers.mark_read(database=database, recipient=user, notification_id=notification_id)
    except UnknownNotification as exc:
        raise NotFound("notification", notification_id) from exc
    return NotificationView.model_validate(read)


@router.post(
    "/verifications/{ticket_id}",
    summary="核查: pass closes the ticket, fail reopens it for rework",
    response_model_exclude_unset=True,
)
async def verify(
    user: CurrentUser, database: ServiceDatabase, seal: PhotoIds, ticket_id: str, body: VerifyRequest
) -> VerificationView:
    require_role(user, Role.GRID_WORKER)
    try:
        verified = await handlers.verify(
            database=database,
            seal=seal,
            ticket_id=ticket_id,
            actor=user,
            passed=body.passed,
            comment=body.comment,
            photos=body.photos,
        )
    except (UnknownTicket, NotYourTicket) as exc:
        raise NotFound("ticket", ticket_id) from exc
    except UnknownPhotos as exc:
        raise ApiError(
            422, "unknown_photos", "照片不存在或不是本人上传的 (not photos you uploaded)", {"photos": exc.ids}
        ) from exc
    return VerificationView.model_validate(verified)


@router.post("/ratings/{ticket_id}", summary="评价: rate a closed ticket once", response_model_exclude_unset=True)
async def rate(user: CurrentUser, database: ServiceDatabase, ticket_id: str, body: RateRequest) -> VerificationView:
    require_role(user, Role.GRID_WORKER)
    try:
        rated = await handlers.rate(
            database=database,
            ticket_id=ticket_id,
            actor=user,
            rating=body.rating,
            comment=body.comment,
        )
    except (UnknownTicket, NotYourTicket) as exc:
        raise NotFound("ticket", ticket_id) from exc
    except AlreadyRated as exc:
        raise ApiError(409, "already_rated", "该工单已评价 (already rated)") from exc
    return VerificationView.model_validate(rated)
