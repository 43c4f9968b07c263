"""Pure dispatch rules: which department a ticket goes to, and by when it must be handled."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridloop.shared.events import CancelReason, Priority, TicketCancelled, TicketDispatched
from gridloop.shared.lifecycle import TicketStatus, next_status
from gridloop.shared.worktime import TimeUnit, WorkCalendar


@dataclass(frozen=True)
class Route:
    rule_id: str
    lead: str
    assisting: tuple[str, ...]


class InvalidAssignment(ValueError):
    """A manual assignment that names no department, an unknown one, or the lead twice."""


def route(*, category_code: str, street_code: str, rules: list[dict[str, Any]]) -> Route | None:
    """The most specific matching rule: one for this category in this street beats one for the category."""
    matching = [r for r in rules if r["category"] == category_code and r.get("street") in (None, street_code)]
    if not matching:
        return None
    best = max(matching, key=lambda r: (r.get("street") is not None, r["id"]))
    return Route(rule_id=best["id"], lead=best["lead"], assisting=tuple(best.get("assisting", [])))


def deadlines(
    *, now: datetime, sla: dict[str, Any], priority: Priority, calendar: WorkCalendar
) -> tuple[datetime, datetime]:
    """Accept and resolve deadlines from the category's time limits, counted on the working calendar."""
    limits = sla.get("urgent") if priority == Priority.URGENT and sla.get("urgent") else sla
    accept, resolve = limits["accept"], limits["resolve"]
    return (
        calendar.add(now, accept["within"], TimeUnit(accept["unit"])),
        calendar.add(now, resolve["within"], TimeUnit(resolve["unit"])),
    )


def dispatch(
    *,
    status: TicketStatus,
    previous_round: int,
    lead: str,
    assisting: list[str],
    now: datetime,
    sla: dict[str, Any],
    priority: Priority,
    calendar: WorkCalendar,
    manual: bool,
    rule_id: str | None = None,
) -> TicketDispatched:
    """A dispatch for the next round; refused unless the ticket waits for one."""
    next_status(status, TicketDispatched.EVENT_TYPE)
    if lead in assisting:
        raise InvalidAssignment("the lead department cannot also assist (主办部门不能同时为协办)")
    if len(set(assisting)) != len(assisting):
        raise InvalidAssignment("an assisting department is named twice")
    accept_by, resolve_by = deadlines(now=now, sla=sla, priority=priority, calendar=calendar)
    return TicketDispatched(
        round=previous_round + 1,
        lead_department=lead,
        assisting_departments=assisting,
        accept_deadline=accept_by,
        resolve_deadline=resolve_by,
        manual=manual,
        rule_id=rule_id,
    )


def cancel(
    *, status: TicketStatus, reason: CancelReason, comment: str, duplicate_of: str | None, ticket_id: str
) -> TicketCancelled:
    next_status(status, TicketCancelled.EVENT_TYPE)
    if reason == CancelReason.DUPLICATE and not duplicate_of:
        raise InvalidAssignment("a duplicate must name the ticket it duplicates")
    if duplicate_of == ticket_id:
        raise InvalidAssignment("a ticket cannot duplicate itself")
    return TicketCancelled(reason=reason, comment=comment, duplicate_of=duplicate_of)


def sla_for(category_code: str, slas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The category's time limit, else the directory's default."""
    return slas.get(category_code) or slas["default"]
