from datetime import UTC, datetime

import pytest

from gridloop.shared.cobuild_lifecycle import NEED_TRANSITIONS, OFFER_TRANSITIONS, PROJECT_TRANSITIONS
from gridloop.shared.events import (
    NEEDS_TOPIC,
    TICKETS_TOPIC,
    Actor,
    Envelope,
    MalformedEvent,
    Role,
    TicketDispatched,
    TicketRated,
    UnknownEventType,
    envelope,
    payload_types,
)
from gridloop.shared.lifecycle import TRANSITIONS, TicketStatus, TransitionNotAllowed, can_apply, next_status

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _dispatched() -> Envelope:
    payload = TicketDispatched(
        round=1,
        lead_department="CG",
        assisting_departments=["SCJG"],
        accept_deadline=AT,
        resolve_deadline=AT,
        manual=False,
        rule_id="R-1",
    )
    return envelope(
        payload,
        event_id="e1",
        ticket_id="t1",
        producer="dispatch",
        actor=Actor(sub="rules", role=Role.SYSTEM),
        occurred_at=AT,
        correlation_id="c1",
    )


def test_an_event_survives_the_wire_with_its_type_version_and_payload() -> None:
    original = _dispatched()
    parsed = Envelope.from_wire(original.to_wire())
    assert parsed == original
    assert isinstance(parsed.payload, TicketDispatched)
    assert dict(original.headers())["event_type"] == b"ticket.dispatched"


def test_every_lifecycle_event_of_the_brief_has_a_payload_and_a_transition() -> None:
    by_topic: dict[str, set[str]] = {}
    for (event_type, _), payload in payload_types().items():
        by_topic.setdefault(payload.TOPIC, set()).add(event_type)
    assert by_topic[TICKETS_TOPIC] == set(TRANSITIONS)
    assert len(by_topic[TICKETS_TOPIC]) == 15  # the brief's 14 and ticket.deadlines_revised (docs/calendar.md)
    # the 共建 loop's: each need, offer and project event has its row in cobuild's tables
    assert by_topic[NEEDS_TOPIC] == set(NEED_TRANSITIONS) | set(OFFER_TRANSITIONS) | set(PROJECT_TRANSITIONS)


def test_unknown_types_and_versions_are_refused_not_guessed() -> None:
    with pytest.raises(UnknownEventType):
        Envelope.from_wire(_dispatched().to_wire().replace(b'"version":1', b'"version":9'))
    with pytest.raises(UnknownEventType):
        Envelope.from_wire(_dispatched().to_wire().replace(b"ticket.dispatched", b"ticket.teleported"))
    with pytest.raises(MalformedEvent):
        Envelope.from_wire(b"not json at all")
    with pytest.raises(MalformedEvent):
        Envelope.from_wire(_dispatched().to_wire().replace(b'"lead_department":"CG"', b'"lead_department":7'))


def test_the_closed_loop_path_is_allowed_in_order() -> None:
    status = None
    for event_type in [
        "ticket.reported",
        "ticket.dispatched",
        "ticket.accepted",
        "ticket.resolved",
        "ticket.reopened",
        "ticket.accepted",
        "ticket.resolved",
        "ticket.closed",
        "ticket.rated",
    ]:
        status = next_status(status, event_type)
    assert status == TicketStatus.CLOSED


def test_a_rejected_ticket_waits_for_dispatch_again() -> None:
    assert next_status(TicketStatus.DISPATCHED, "ticket.rejected") == TicketStatus.PENDING_DISPATCH
    assert next_status(TicketStatus.PENDING_DISPATCH, "ticket.dispatched") == TicketStatus.DISPATCHED


@pytest.mark.parametrize(
    ("status", "event_type"),
    [
        (TicketStatus.CANCELLED, "ticket.accepted"),
        (TicketStatus.CLOSED, "ticket.cancelled"),
        (TicketStatus.ACCEPTED, "ticket.closed"),
        (TicketStatus.DISPATCHED, "ticket.resolved"),
        (TicketStatus.RESOLVED, "ticket.rated"),
        (None, "ticket.accepted"),
    ],
)
def test_actions_the_state_does_not_allow_are_refused(status: TicketStatus | None, event_type: str) -> None:
    assert not can_apply(status, event_type)
    with pytest.raises(TransitionNotAllowed):
        next_status(status, event_type)


def test_rating_keeps_a_closed_ticket_closed() -> None:
    assert next_status(TicketStatus.CLOSED, TicketRated.EVENT_TYPE) == TicketStatus.CLOSED
