"""Feedback routes: the reporter's verification tasks, verdicts and ratings."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gridloop.feedback import handlers, store
from gridloop.feedback.domain import AlreadyRated, NotYourTicket
from gridloop.feedback.handlers import UnknownTicket
from gridloop.shared.access import place_filter
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Rating, Role
from gridloop.shared.service import Runtime

router = APIRouter(prefix="/v1", tags=["feedback"], responses=ERROR_RESPONSES)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    passed: bool = Field(description="true: fixed, close it (结案); false: not fixed, rework (返工)")
    comment: str = Field(default="", max_length=1000)
    photos: list[str] = Field(default_factory=list, max_length=9)


class RateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rating: Rating = Field(description="满意 satisfied, 基本满意 basically_satisfied, 不满意 unsatisfied")
    comment: str = Field(default="", max_length=1000)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/verifications", summary="Verification tasks (grid workers see their own)")
async def verifications(
    request: Request,
    user: CurrentUser,
    status: Annotated[str | None, Query(pattern="^(pending|passed|failed|expired)$")] = None,
    rated: Annotated[bool | None, Query(description="false: closed tickets still waiting for a rating")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    require_role(user, Role.GRID_WORKER, Role.SUPERVISOR)
    mine = user.role == Role.GRID_WORKER
    docs = await store.verifications(
        _runtime(request).database.db,
        scope={} if mine else place_filter(user, street="street_code", district="district_code"),
        verifier=user.sub if mine else None,
        community=user.org if mine else None,
        status=status,
        rated=rated,
        limit=limit,
    )
    return {"items": [handlers.verification_view(d) for d in docs]}


def _notification_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("ticket_id", "ticket_number", "event_type", "text", "at", "read")} | {
        "notification_id": doc["_id"]
    }


@router.get("/notifications", summary="通知: what became of the reports you filed")
async def notifications(
    request: Request,
    user: CurrentUser,
    unread: Annotated[bool | None, Query(description="true: only those not yet read")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER)
    docs = await store.notifications(_runtime(request).database.db, recipient=user.sub, unread=unread, limit=limit)
    return {"items": [_notification_view(d) for d in docs]}


@router.post("/notifications/{notification_id}/read", summary="Mark a notification read")
async def mark_read(request: Request, user: CurrentUser, notification_id: str) -> dict[str, Any]:
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER)
    doc = await store.mark_read(_runtime(request).database.db, recipient=user.sub, notification_id=notification_id)
    if doc is None:
        raise NotFound("notification", notification_id)
    return _notification_view(doc)


@router.post("/verifications/{ticket_id}", summary="核查: pass closes the ticket, fail reopens it for rework")
async def verify(request: Request, user: CurrentUser, ticket_id: str, body: VerifyRequest) -> dict[str, Any]:
    require_role(user, Role.GRID_WORKER)
    try:
        return await handlers.verify(
            database=_runtime(request).database,
            ticket_id=ticket_id,
            actor=user,
            passed=body.passed,
            comment=body.comment,
            photos=body.photos,
        )
    except (UnknownTicket, NotYourTicket) as exc:
        raise NotFound("ticket", ticket_id) from exc


@router.post("/ratings/{ticket_id}", summary="评价: rate a closed ticket once")
async def rate(request: Request, user: CurrentUser, ticket_id: str, body: RateRequest) -> dict[str, Any]:
    require_role(user, Role.GRID_WORKER)
    try:
        return await handlers.rate(
            database=_runtime(request).database,
            ticket_id=ticket_id,
            actor=user,
            rating=body.rating,
            comment=body.comment,
        )
    except (UnknownTicket, NotYourTicket) as exc:
        raise NotFound("ticket", ticket_id) from exc
    except AlreadyRated as exc:
        raise ApiError(409, "already_rated", "该工单已评价 (already rated)") from exc
