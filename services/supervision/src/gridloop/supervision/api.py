"""Supervision routes: a ticket's full timeline, counts by unit and window, the overdue list."""

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gridloop.shared.access import place_filter, sees_ticket
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.clock import IsoDatetime, as_utc
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.service import Runtime
from gridloop.supervision import domain, store

router = APIRouter(prefix="/v1/supervision", tags=["supervision"], responses=ERROR_RESPONSES)
READERS = (Role.SUPERVISOR, Role.STREET_DISPATCHER)  # each within their district or street


class Unit(StrEnum):
    DEPARTMENTS = "departments"
    STREETS = "streets"
    GRIDS = "grids"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": doc.pop("_id"), **{k: v for k, v in doc.items() if k != "version"}}


@router.get("/tickets/{ticket_id}", summary="A ticket's record and its full timeline: who did what, when")
async def ticket(request: Request, user: CurrentUser, ticket_id: str) -> dict[str, Any]:
    require_role(user, *READERS)
    db = _runtime(request).database.db
    doc = await store.get_ticket(db, ticket_id)
    if doc is None or not sees_ticket(
        user,
        reporter=None,
        community=doc["community_code"],
        street=doc["street_code"],
        district=doc["district_code"],
    ):
        raise NotFound("ticket", ticket_id)
    events = await store.timeline(db, ticket_id)
    return {
        "ticket": _view(doc),
        "timeline": [
            {
                "event_id": e["_id"],
                "event_type": e["event_type"],
                "occurred_at": e["occurred_at"],
                "actor": e["actor"],
                "department": e["department"],
                "correlation_id": e["correlation_id"],
                "payload": e["payload"],
            }
            for e in events
        ],
    }


@router.get("/stats/{unit}", summary="Counts and rates per department, street or grid in a window [from, to)")
async def stats(
    request: Request,
    user: CurrentUser,
    unit: Unit,
    start: Annotated[IsoDatetime | None, Query(alias="from")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    require_role(user, *READERS)
    now = _runtime(request).clock.now()
    end = as_utc(end) if end else now
    start = as_utc(start) if start else end - timedelta(days=30)
    if start >= end:
        raise ApiError(422, "invalid_window", "开始时间须早于结束时间 (from must be before to)")
    scope = place_filter(user, street="street_code", district="district_code")
    counts = await store.counts(_runtime(request).database.db, unit=unit.value, start=start, end=end, scope=scope)
    return {
        "unit": unit.value,
        "window": {"from": start, "to": end, "timestamp": "occurred_at"},
        "items": [{"code": code, **domain.indicators(c)} for code, c in sorted(counts.items())],
    }


@router.get("/overdue", summary="Open tickets past their accept or resolve deadline")
async def overdue(
    request: Request, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> dict[str, Any]:
    require_role(user, *READERS)
    runtime = _runtime(request)
    scope = place_filter(user, street="street_code", district="district_code")
    docs = await store.overdue(runtime.database.db, now=runtime.clock.now(), limit=limit, scope=scope)
    return {"items": [_view(d) for d in docs]}
