"""The ticket lifecycle: the one table of allowed transitions every service checks against.

reported -> dispatched -> accepted -> resolved -> closed, with
pending_dispatch (a department sent it back) -> dispatched,
resolved -> reopened -> accepted again, and any open state -> cancelled.
"""

from enum import StrEnum


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
