"""Pure projection rules: how each event changes a ticket's supervision record, and how raw
counts become the indicators supervisors read."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridloop.shared.clock import as_utc
from gridloop.shared.events import (
    Envelope,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDeadlinesRevised,
    TicketDispatched,
    TicketExtensionDecided,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, can_apply, is_overdue, next_status, owed_deadline
from gridloop.shared.worktime import WorkCalendar
from gridloop.supervision import kpi


def new_ticket(event: Envelope, p: TicketReported) -> dict[str, Any]:
    """The record a report opens."""
    return {
        "_id": event.ticket_id,
        "ticket_number": p.ticket_number,
        "category_code": p.category_code,
        "category_name": p.category_name,
        "street_code": p.street_code,
        "community_code": p.community_code,
        "grid_code": p.grid_code,
        "district_code": p.district_code,
        "location": p.location.model_dump() if p.location else None,  # for the command centre's map
        "priority": p.priority.value,
        "reporter": event.actor.sub,
        "status": TicketStatus.REPORTED.value,
        "lead_department": None,
        "assisting_departments": [],
        "round": 0,
        "reported_at": event.occurred_at,
        "dispatched_at": None,
        "accepted_at": None,
        "resolved_at": None,
        "closed_at": None,
        "cancelled_at": None,
        "accept_deadline": None,
        "resolve_deadline": None,
        "rejections": 0,
        "reworks": 0,
        "rating": None,
        "last_event_at": event.occurred_at,
        "version": 0,
    }


def apply(ticket: dict[str, Any], event: Envelope) -> dict[str, Any]:
    """The changes an event makes to a ticket's record (status through the shared lifecycle)."""
    changes: dict[str, Any] = {"last_event_at": event.occurred_at}
    current = TicketStatus(ticket["status"])
    if can_apply(current, event.event_type):
        changes["status"] = next_status(current, event.event_type).value
    at = event.occurred_at
    match event.payload:
        case TicketDispatched() as p:
            changes.update(
                lead_department=p.lead_department,
                assisting_departments=p.assisting_departments,
                round=p.round,
                dispatched_at=at,
                accepted_at=None,
                resolved_at=None,
                accept_deadline=p.accept_deadline,
                resolve_deadline=p.resolve_deadline,
                deadlines_provisional=p.provisional,
                dispatch_mode="manual" if p.manual else "auto",
            )
        case TicketDeadlinesRevised() as p if p.round == ticket["round"]:
            changes.update(
                accept_deadline=p.accept_deadline,
                resolve_deadline=p.resolve_deadline,
                deadlines_provisional=p.provisional,
            )
        case TicketAccepted():
            changes.update(accepted_at=ticket["accepted_at"] or at)
        case TicketRejected():
            changes.update(rejections=ticket["rejections"] + 1)
        case TicketResolved():
            changes.update(resolved_at=at)
        case TicketReopened() as p:
            changes.update(reworks=p.rework_count, resolved_at=None)
        case TicketClosed():
            changes.update(closed_at=at)
        case TicketCancelled():
            changes.update(cancelled_at=at)
        case TicketRated() as p:
            changes.update(rating=p.rating.value)
        case TicketExtensionDecided() as p if p.approved:
            changes.update(resolve_deadline=p.resolve_deadline, extended=True)
        case _:
            pass
    return changes


def attribution(ticket: dict[str, Any], event: Envelope) -> str | None:
    """The department an event counts for: the one acting, else the ticket's lead."""
    department = getattr(event.payload, "department", None)
    if isinstance(event.payload, TicketDispatched):
        department = event.payload.lead_department
    return department or ticket.get("lead_department")


def stage_durations(ticket: dict[str, Any], event: Envelope) -> list[tuple[str, str, float]]:
    """(stage, department, seconds) that `event` completes, for the turnaround histograms:
    dispatch→accept on acceptance, dispatch→resolve on resolution, resolve→close on closure."""
    department = ticket.get("lead_department")
    if not department:
        return []
    at = event.occurred_at
    start = {
        "ticket.accepted": ("dispatch_to_accept", ticket.get("dispatched_at")),
        "ticket.resolved": ("dispatch_to_resolve", ticket.get("dispatched_at")),
        "ticket.closed": ("resolve_to_close", ticket.get("resolved_at")),
    }.get(event.event_type)
    if start is None or start[1] is None:
        return []
    if event.event_type == "ticket.accepted" and ticket.get("accepted_at"):
        return []  # a re-acceptance after rework is not a new response
    return [(start[0], department, max(0.0, (at - as_utc(start[1])).total_seconds()))]


@dataclass(frozen=True)
class Step:
    """What projecting one event produces: the ticket's record after it (and the changes made),
    where the event counts (its department and place), and its tally for the buckets."""

    event: Envelope
    ticket: dict[str, Any]
    changes: dict[str, Any]
    place: dict[str, Any]  # department, street_code, district_code, grid_code, community_code
    tally: kpi.Tally
    timed_from: datetime | None = None  # the dispatch a duration in the tally is counted from
    basis: tuple[str, ...] = ()  # the holiday schedules that duration was counted on (2027@statutory ...)

    def row(self) -> dict[str, Any]:
        """The timeline row: who did what, when, where it counts, and what it adds up to."""
        event = self.event
        return {
            "_id": event.event_id,
            "ticket_id": event.ticket_id,
            "event_type": event.event_type,
            "version": event.version,
            "occurred_at": event.occurred_at,
            "producer": event.producer,
            "actor": event.actor.model_dump(mode="json"),
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "payload": event.payload.model_dump(mode="json"),
            **self.place,
            "tally": self.tally.to_doc(),
            **({"timed_from": self.timed_from, "minutes_basis": list(self.basis)} if self.basis else {}),
        }


def project(before: dict[str, Any] | None, event: Envelope, calendar: WorkCalendar) -> Step:
    """One event through the projection rules; `before` is None for the report that opens a ticket."""
    timed_from: datetime | None = None
    basis: tuple[str, ...] = ()
    if before is None:
        if not isinstance(event.payload, TicketReported):
            raise LookupError(f"{event.event_type} for a ticket never reported ({event.ticket_id})")
        ticket = new_ticket(event, event.payload)
        changes: dict[str, Any] = {}
        tally = kpi.tally(ticket, event, calendar)
    else:
        changes = apply(before, event)
        tally = kpi.tally(before, event, calendar)
        ticket = {**before, **changes}
        if tally.minutes:
            timed_from = as_utc(before["dispatched_at"])
            basis = tuple(calendar.basis(timed_from, as_utc(event.occurred_at)))
    place = {
        "department": attribution(ticket, event),
        "street_code": ticket["street_code"],
        "district_code": ticket["district_code"],
        "grid_code": ticket["grid_code"],
        "community_code": ticket["community_code"],
    }
    return Step(
        event=event, ticket=ticket, changes=changes, place=place, tally=tally, timed_from=timed_from, basis=basis
    )


@dataclass(frozen=True)
class Recount:
    """A timeline row's duration counted again on the calendar as it is now."""

    tally: kpi.Tally  # the row's tally with the new duration
    difference: kpi.Tally  # what its buckets must add: the old duration out, the new one in
    basis: list[str]


def recount(row: dict[str, Any], calendar: WorkCalendar) -> Recount:
    """When a year's holiday schedule arrives, a duration counted across that year by the
    statutory rule is counted again; nothing is left out of the figures meanwhile."""
    start, end = as_utc(row["timed_from"]), as_utc(row["occurred_at"])
    tally, difference = kpi.recounted(kpi.Tally.from_doc(row["tally"]), kpi.working_minutes(calendar, start, end))
    return Recount(tally=tally, difference=difference, basis=calendar.basis(start, end))


def command_map(records: list[dict[str, Any]], *, now: datetime, grid: str | None, limit: int) -> dict[str, Any]:
    """The command centre's map of open tickets: how many are open and overdue in each grid, and
    the tickets with a location as points (only `grid`'s, when given): at most `limit`, by the
    deadline owed, earliest first, so the overdue lead and those owing no step come last."""
    counts: dict[str, tuple[int, int]] = {}
    located: list[tuple[dict[str, Any], bool]] = []
    for record in records:
        overdue = is_overdue(record, now)
        open_, late = counts.get(record["grid_code"], (0, 0))
        counts[record["grid_code"]] = (open_ + 1, late + int(overdue))
        if record.get("location") and (grid is None or record["grid_code"] == grid):
            located.append((record, overdue))
    located.sort(key=lambda point: _by_deadline_owed(point[0], now))
    return {
        "grids": [{"grid_code": code, "open": o, "overdue": late} for code, (o, late) in sorted(counts.items())],
        "points": [
            {
                "ticket_id": record["_id"],
                "ticket_number": record["ticket_number"],
                "status": record["status"],
                "overdue": overdue,
                "category_name": record["category_name"],
                "grid_code": record["grid_code"],
                "lon": record["location"]["lon"],
                "lat": record["location"]["lat"],
            }
            for record, overdue in located[:limit]
        ],
        "truncated": len(located) > limit,
    }


def _by_deadline_owed(record: dict[str, Any], now: datetime) -> tuple[bool, datetime, str]:
    deadline = owed_deadline(record)
    return deadline is None, deadline or now, str(record["_id"])
