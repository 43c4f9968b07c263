"""Pure feedback rules: who verifies, what a pass or a fail leads to, when a rating is allowed,
when an unverified ticket closes by itself, and what the reporter is told."""

from datetime import datetime, timedelta
from typing import Any

from gridloop.shared.clock import as_utc
from gridloop.shared.events import (
    Actor,
    CancelReason,
    Payload,
    Rating,
    Role,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketReopened,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, next_status


class NotYourTicket(PermissionError):
    """Only the ticket's verifier verifies and rates it."""


class AlreadyRated(Exception):
    pass


def verifier_for(reporter: Actor, community_code: str) -> dict[str, str]:
    """核查人: the reporter when they are a grid worker; otherwise (a hotline or walk-in report
    registered by the street) the grid workers of the ticket's community."""
    if reporter.role == Role.GRID_WORKER:
        return {"kind": "reporter", "sub": reporter.sub}
    return {"kind": "community", "community": community_code}


def may_verify(ticket: dict[str, Any], user: Actor) -> bool:
    verifier = ticket.get("verifier") or {"kind": "reporter", "sub": ticket["reporter"]}
    if user.role != Role.GRID_WORKER:
        return False
    if verifier["kind"] == "reporter":
        return bool(verifier["sub"] == user.sub)
    return bool(verifier["community"] == user.org)


def verify(
    *, ticket: dict[str, Any], status: TicketStatus, verifier: Actor, passed: bool, comment: str, photos: list[str]
) -> TicketClosed | TicketReopened:
    """Pass closes the ticket (结案); fail sends it back to the same department and counts a rework (返工)."""
    if not may_verify(ticket, verifier):
        raise NotYourTicket("only the ticket's verifier checks it")
    if passed:
        next_status(status, TicketClosed.EVENT_TYPE)
        return TicketClosed(auto=False, comment=comment)
    next_status(status, TicketReopened.EVENT_TYPE)
    return TicketReopened(
        department=ticket["department"], rework_count=ticket["reworks"] + 1, comment=comment, photos=photos
    )


def rate(*, ticket: dict[str, Any], status: TicketStatus, rater: Actor, rating: Rating, comment: str) -> TicketRated:
    """One rating per ticket, by its verifier, once it is closed."""
    if not may_verify(ticket, rater):
        raise NotYourTicket("only the ticket's verifier rates it")
    next_status(status, TicketRated.EVENT_TYPE)
    if ticket.get("rating") is not None:
        raise AlreadyRated("this ticket is already rated (已评价)")
    return TicketRated(rating=rating, comment=comment)


AUTO_CLOSE_COMMENT = "逾期未核查，系统自动结案 (closed automatically: not verified in time)"


def auto_close(*, ticket: dict[str, Any], status: TicketStatus, now: datetime, after: timedelta) -> TicketClosed | None:
    """A resolved ticket nobody verified within `after` closes by itself, marked as such."""
    verification = ticket.get("verification") or {}
    if status != TicketStatus.RESOLVED or verification.get("status") != "pending":
        return None
    if as_utc(verification["since"]) + after > now:
        return None
    next_status(status, TicketClosed.EVENT_TYPE)
    return TicketClosed(auto=True, comment=AUTO_CLOSE_COMMENT)


CANCEL_REASONS = {
    CancelReason.INVALID: "无效报告",
    CancelReason.OUT_OF_SCOPE: "不属于受理范围",
    CancelReason.DUPLICATE: "与已有工单重复，已合并",
}


def notification_text(ticket_number: str, payload: Payload) -> str | None:
    """What the reporter is told when their ticket changes state; None for steps they need not see."""
    match payload:
        case TicketDispatched():
            return f"您上报的问题 {ticket_number} 已派遣至处置部门"
        case TicketAccepted():
            return f"您上报的问题 {ticket_number} 已受理，正在处置"
        case TicketResolved():
            return f"您上报的问题 {ticket_number} 已处置完毕，请现场核查"
        case TicketReopened():
            return f"您上报的问题 {ticket_number} 核查未通过，已退回返工"
        case TicketClosed(auto=True):
            return f"您上报的问题 {ticket_number} 逾期未核查，已自动结案"
        case TicketClosed():
            return f"您上报的问题 {ticket_number} 已结案"
        case TicketCancelled(reason=reason):
            return f"您上报的问题 {ticket_number} 已撤销：{CANCEL_REASONS[reason]}"
    return None


def original_closed_text(duplicate_number: str, original_number: str) -> str:
    return f"与您上报的问题 {duplicate_number} 合并处理的工单 {original_number} 已结案"


OUTGOING_FIRST_RETRY = timedelta(seconds=5)
OUTGOING_LONGEST_WAIT = timedelta(minutes=10)
OUTGOING_MAX_AGE = timedelta(hours=24)
"""A notification not out through the gateway within a day is no longer news: it stays in the
app and is not sent (nor is the history sent when a city first connects its gateway)."""


def next_outgoing_try(attempts: int, now: datetime) -> datetime:
    """After a gateway failure: 5 s, doubling, at most 10 minutes apart."""
    delay: timedelta = OUTGOING_FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return now + min(delay, OUTGOING_LONGEST_WAIT)
