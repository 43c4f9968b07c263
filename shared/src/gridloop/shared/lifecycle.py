"""The ticket lifecycle: the one table of allowed transitions every service checks against.

reported -> dispatched -> accepted -> resolved -> closed, with
pending_dispatch (a department sent it back) -> dispatched,
resolved -> reopened -> accepted again, and any open state -> cancelled.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class TicketStatus(StrEnum):
    REPORTED = "reported"
    PENDING_DISPATCH = "pending_dispatch"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"


S = TicketStatus
OPEN_STATES: frozenset[TicketStatus] = frozenset(
    {S.REPORTED, S.PENDING_DISPATCH, S.DISPATCHED, S.ACCEPTED, S.RESOLVED, S.REOPENED}
)
TERMINAL_STATES: frozenset[TicketStatus] = frozenset({S.CLOSED, S.CANCELLED})
QUEUED_STATES: frozenset[TicketStatus] = frozenset({S.REPORTED, S.PENDING_DISPATCH})
"""Waiting for the street: no rule took it yet, or a department sent it back."""
OWED_DEADLINE: Mapping[str, str] = {
    S.DISPATCHED.value: "accept_deadline",
    S.ACCEPTED.value: "resolve_deadline",
    S.REOPENED.value: "resolve_deadline",
}
"""The deadline of the step a department owes in each state: acceptance while dispatched, the fix
while accepted or reopened for rework."""
ACTIVE_STATES: frozenset[TicketStatus] = frozenset(TicketStatus(state) for state in OWED_DEADLINE)
"""With a department, which owes a step."""

# event type -> (states it may happen in, state it leads to; None keeps the current state)
TRANSITIONS: dict[str, tuple[frozenset[TicketStatus | None], TicketStatus | None]] = {
    "ticket.reported": (frozenset({None}), S.REPORTED),
    "ticket.dispatched": (frozenset({S.REPORTED, S.PENDING_DISPATCH}), S.DISPATCHED),
    "ticket.rejected": (frozenset({S.DISPATCHED}), S.PENDING_DISPATCH),
    "ticket.accepted": (frozenset({S.DISPATCHED, S.REOPENED}), S.ACCEPTED),
    "ticket.progressed": (frozenset({S.ACCEPTED}), None),
    "ticket.extension_requested": (frozenset({S.ACCEPTED}), None),
    "ticket.extension_decided": (frozenset({S.ACCEPTED}), None),
    "ticket.resolved": (frozenset({S.ACCEPTED}), S.RESOLVED),
    "ticket.closed": (frozenset({S.RESOLVED}), S.CLOSED),
    "ticket.reopened": (frozenset({S.RESOLVED}), S.REOPENED),
    "ticket.rated": (frozenset({S.CLOSED}), None),
    "ticket.cancelled": (frozenset(OPEN_STATES), S.CANCELLED),
    "ticket.overdue": (frozenset(OPEN_STATES), None),
    "ticket.deadlines_revised": (frozenset(OPEN_STATES), None),
    "ticket.escalated": (frozenset(OPEN_STATES), None),
}


class TransitionNotAllowed(Exception):
    """The ticket's state does not allow this action; the caller gets a 409."""

    def __init__(self, event_type: str, current: TicketStatus | None) -> None:
        self.event_type = event_type
        self.current = current
        super().__init__(f"{event_type} is not allowed while the ticket is {current or 'unknown'}")


def can_apply(current: TicketStatus | None, event_type: str) -> bool:
    allowed, _ = TRANSITIONS[event_type]
    return current in allowed


def next_status(current: TicketStatus | None, event_type: str) -> TicketStatus:
    """The state after `event_type`, or TransitionNotAllowed when the table forbids it."""
    allowed, target = TRANSITIONS[event_type]
    if current not in allowed:
        raise TransitionNotAllowed(event_type, current)
    if target is None:
        assert current is not None
        return current
    return target


def owed_deadline(record: Mapping[str, Any]) -> datetime | None:
    """The deadline of the step the department owes now (None when it owes none)."""
    field = OWED_DEADLINE.get(str(record["status"]))
    deadline: datetime | None = record.get(field) if field else None
    if deadline is None:
        return None
    return deadline.replace(tzinfo=UTC) if deadline.tzinfo is None else deadline


def is_overdue(record: Mapping[str, Any], now: datetime) -> bool:
    """超期: past the deadline of the step the department owes. Any document with `status` and the
    two deadlines (a ticket's or a work order's) is judged by this one rule."""
    deadline = owed_deadline(record)
    return deadline is not None and deadline < now


def overdue_filters(now: datetime) -> list[dict[str, Any]]:
    """The same rule as MongoDB filters, one per owed deadline (each an index can serve)."""
    by_field: dict[str, list[str]] = {}
    for status, field in OWED_DEADLINE.items():
        by_field.setdefault(field, []).append(status)
    return [{"status": {"$in": sorted(states)}, field: {"$lt": now}} for field, states in by_field.items()]


def owed_deadline_expression() -> dict[str, Any]:
    """`owed_deadline` as a MongoDB aggregation expression (null when no step is owed), for lists
    sorted by the deadline a department owes next."""
    branches = [{"case": {"$eq": ["$status", status]}, "then": f"${field}"} for status, field in OWED_DEADLINE.items()]
    return {"$ifNull": [{"$switch": {"branches": branches, "default": None}}, None]}
