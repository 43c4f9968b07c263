"""Pure feedback rules: who verifies, what a pass or a fail leads to, and when a rating is allowed."""

from typing import Any

from gridloop.shared.events import Rating, TicketClosed, TicketRated, TicketReopened
from gridloop.shared.lifecycle import TicketStatus, next_status


class NotYourTicket(PermissionError):
    """Only the reporter verifies and rates their report."""


class AlreadyRated(Exception):
    pass


def verify(
    *, ticket: dict[str, Any], status: TicketStatus, verifier: str, passed: bool, comment: str, photos: list[str]
) -> TicketClosed | TicketReopened:
    """Pass closes the ticket (结案); fail sends it back to the same department and counts a rework (返工)."""
    if ticket["reporter"] != verifier:
        raise NotYourTicket("only the reporter verifies this ticket")
    if passed:
        next_status(status, TicketClosed.EVENT_TYPE)
        return TicketClosed(auto=False, comment=comment)
    next_status(status, TicketReopened.EVENT_TYPE)
    return TicketReopened(
        department=ticket["department"], rework_count=ticket["reworks"] + 1, comment=comment, photos=photos
    )


def rate(*, ticket: dict[str, Any], status: TicketStatus, rater: str, rating: Rating, comment: str) -> TicketRated:
    """One rating per ticket, by the reporter, once it is closed."""
    if ticket["reporter"] != rater:
        raise NotYourTicket("only the reporter rates this ticket")
    next_status(status, TicketRated.EVENT_TYPE)
    if ticket.get("rating") is not None:
        raise AlreadyRated("this ticket is already rated (已评价)")
    return TicketRated(rating=rating, comment=comment)
