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
