from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.shared.events import (
    Actor,
    Rating,
    Role,
    TicketAccepted,
    TicketDispatched,
    TicketRated,
    TicketRejected,
    TicketReported,
    envelope,
)
from gridloop.stack.testing import make_event
from gridloop.supervision import domain

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WORKER = Actor(sub="gw-1", name="网格员", role=Role.GRID_WORKER, org="LJ01")


def _event(payload, at=AT):  # type: ignore[no-untyped-def]
    return envelope(
        payload,
        event_id=f"e-{at.timestamp()}",
        ticket_id="t1",
        producer="test",
        actor=WORKER,
        occurred_at=at,
        correlation_id="c",
    )


def _opened() -> dict[str, Any]:
    event = _reported()
    assert isinstance(event.payload, TicketReported)
    return domain.new_ticket(event, event.payload)


def _reported():  # type: ignore[no-untyped-def]
    return _event(
        TicketReported(
            ticket_number="QH-1",
            category_code="SJ-0101",
            category_name="暴露垃圾",
            description="垃圾",
            location=None,
            address="",
            grid_code="LJ01-G1",
            community_code="LJ01",
            street_code="LJ",
            district_code="QH",
        )
    )


def test_the_record_follows_the_ticket_through_dispatch_rejection_and_acceptance() -> None:
    ticket = _opened()
    dispatched = _event(
        TicketDispatched(
            round=1,
            lead_department="CG",
            accept_deadline=AT + timedelta(hours=1),
            resolve_deadline=AT + timedelta(hours=4),
            manual=False,
        ),
        AT + timedelta(minutes=1),
    )
    ticket |= domain.apply(ticket, dispatched)
    assert (ticket["status"], ticket["lead_department"], ticket["dispatch_mode"]) == ("dispatched", "CG", "auto")
    ticket |= domain.apply(
        ticket, _event(TicketRejected(department="CG", round=1, reason="非职责"), AT + timedelta(minutes=2))
    )
    assert (ticket["status"], ticket["rejections"]) == ("pending_dispatch", 1)
    redispatch = _event(
        TicketDispatched(
            round=2,
            lead_department="ZJ",
            accept_deadline=AT + timedelta(hours=2),
            resolve_deadline=AT + timedelta(hours=5),
            manual=True,
        ),
        AT + timedelta(minutes=3),
    )
    ticket |= domain.apply(ticket, redispatch)
    accepted = _event(TicketAccepted(department="ZJ", round=2), AT + timedelta(minutes=4))
    assert domain.attribution(ticket, accepted) == "ZJ"
    ticket |= domain.apply(ticket, accepted)
    assert (ticket["status"], ticket["accepted_at"], ticket["dispatch_mode"]) == (
        "accepted",
        AT + timedelta(minutes=4),
        "manual",
    )


def test_a_rating_counts_for_the_lead_department() -> None:
    ticket = _opened() | {"lead_department": "SW", "status": "closed"}
    assert domain.attribution(ticket, _event(TicketRated(rating=Rating.UNSATISFIED))) == "SW"


def test_stage_durations_time_each_step_once_for_the_lead_department() -> None:
    dispatched_at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    ticket = {"lead_department": "CG", "dispatched_at": dispatched_at, "accepted_at": None, "resolved_at": None}
    accepted = make_event(
        TicketAccepted(department="CG", round=1), ticket_id="t", at=dispatched_at + timedelta(minutes=7)
    )
    assert domain.stage_durations(ticket, accepted) == [("dispatch_to_accept", "CG", 420.0)]
    again = {**ticket, "accepted_at": dispatched_at + timedelta(minutes=7)}
    assert domain.stage_durations(again, accepted) == []  # accepting again after rework is not a new response
    assert domain.stage_durations({**ticket, "lead_department": None}, accepted) == []


def _open(ticket_id: str, grid: str, status: str, owed: timedelta | None, located: bool = True) -> dict[str, Any]:
    deadline = AT + owed if owed is not None else None
    return {
        "_id": ticket_id,
        "ticket_number": f"QH-{ticket_id}",
        "category_name": "暴露垃圾",
        "grid_code": grid,
        "status": status,
        "accept_deadline": deadline,
        "resolve_deadline": deadline,
        "location": {"lon": 120.1, "lat": 30.2} if located else None,
    }


def test_the_map_counts_every_open_ticket_per_grid_and_places_the_most_urgent_first() -> None:
    records = [
        _open("t-waiting", "G1", "accepted", timedelta(hours=2)),
        _open("t-new", "G1", "reported", None),
        _open("t-late", "G1", "dispatched", timedelta(hours=-1)),
        _open("t-unplaced", "G1", "dispatched", timedelta(hours=-3), located=False),
        _open("t-later", "G2", "reopened", timedelta(hours=-0.5)),
    ]
    view = domain.command_map(records, now=AT, grid=None, limit=10)
    assert view["grids"] == [
        {"grid_code": "G1", "open": 4, "overdue": 2},
        {"grid_code": "G2", "open": 1, "overdue": 1},
    ]
    assert [p["ticket_id"] for p in view["points"]] == ["t-late", "t-later", "t-waiting", "t-new"]
    assert [p["overdue"] for p in view["points"]] == [True, True, False, False]
    assert view["truncated"] is False
    one_grid = domain.command_map(records, now=AT, grid="G1", limit=2)
    assert ([p["ticket_id"] for p in one_grid["points"]], one_grid["truncated"]) == (["t-late", "t-waiting"], True)
    assert one_grid["grids"] == view["grids"]
