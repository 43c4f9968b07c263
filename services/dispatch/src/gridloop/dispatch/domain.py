"""Pure dispatch rules: which department a ticket goes to, and by when it must be handled."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridloop.shared.clock import as_utc
from gridloop.shared.directory import serves_street
from gridloop.shared.events import (
    Actor,
    CancelReason,
    DeadlineKind,
    Priority,
    Role,
    TicketCancelled,
    TicketDeadlinesRevised,
    TicketDispatched,
    TicketEscalated,
    TicketExtensionDecided,
    TicketOverdue,
)
from gridloop.shared.lifecycle import ACTIVE_STATES, OPEN_STATES, TicketStatus, next_status
from gridloop.shared.worktime import TimeUnit, WorkCalendar

RULES_ACTOR = Actor(sub="dispatch-rules", name="自动派遣规则", role=Role.SYSTEM, org="")
WATCHDOG_ACTOR = Actor(sub="sla-watchdog", name="时限监控", role=Role.SYSTEM, org="")
CALENDAR_ACTOR = Actor(sub="work-calendar", name="工作日历", role=Role.SYSTEM, org="")
"""Who dispatch's own decisions are announced as: its routing rules, its deadline watch, the working calendar."""


@dataclass(frozen=True)
class Route:
    rule_id: str
    lead: str
    assisting: tuple[str, ...]


class InvalidAssignment(ValueError):
    """A manual assignment that names no department, an unknown one, or the lead twice."""


NOT_SERVING = "该部门不负责本街道 (department does not serve this street)"


class DepartmentNotServing(InvalidAssignment):
    """A manual assignment to a department that does not serve the ticket's street."""

    def __init__(self, departments: list[str]) -> None:
        super().__init__(NOT_SERVING)
        self.departments = departments


# 部件先属主后属地, 事件先属地后属主: components go to their owner first, events to the area first.
BASIS_ORDER = {"component": ("owner", "area"), "event": ("area", "owner")}


def serves(department: Mapping[str, Any], street_code: str) -> bool:
    """A department serves the whole district unless it names the streets it serves (the
    directory's `serves`; empty: everywhere). Routing sends a ticket only to a lead that serves its
    street, and the street desk may name only departments that do."""
    return serves_street(department.get("serves") or [], street_code)


def route(
    *,
    category_code: str,
    family: str,
    street_code: str,
    community_code: str,
    rules: list[dict[str, Any]],
    departments: dict[str, dict[str, Any]],
) -> Route | None:
    """The rule a ticket follows.

    A rule matches its category, in its street or community if it names one, when its lead
    department serves the ticket's street. Where an owner rule (属主) and an area rule (属地) both
    match, the category's family decides which basis goes first; within a basis, a community rule
    beats a street rule, which beats a district-wide one."""
    matching = [
        r
        for r in rules
        if r["category"] == category_code
        and r.get("street") in (None, street_code)
        and r.get("community") in (None, community_code)
        and r["lead"] in departments
        and serves(departments[r["lead"]], street_code)
    ]
    if not matching:
        return None
    order = BASIS_ORDER.get(family, ("owner", "area"))

    def rank(rule: dict[str, Any]) -> tuple[int, int, str]:
        basis = rule.get("basis", "owner")
        specificity = 2 if rule.get("community") else 1 if rule.get("street") else 0
        return (-order.index(basis), specificity, rule["id"])

    best = max(matching, key=rank)
    return Route(rule_id=best["id"], lead=best["lead"], assisting=tuple(best.get("assisting", [])))


def limits_for(sla: dict[str, Any], priority: Priority) -> dict[str, Any]:
    """The accept and resolve limits that apply: the urgent ones for an urgent ticket, where the category has them."""
    urgent: dict[str, Any] | None = sla.get("urgent")
    limits = urgent if priority == Priority.URGENT and urgent else sla
    return {"accept": limits["accept"], "resolve": limits["resolve"]}


def deadlines(*, start: datetime, limits: dict[str, Any], calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """Accept and resolve deadlines from a dispatch's time limits, counted on the working calendar."""
    accept, resolve = limits["accept"], limits["resolve"]
    return (
        calendar.add(start, accept["within"], TimeUnit(accept["unit"])),
        calendar.add(start, resolve["within"], TimeUnit(resolve["unit"])),
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
    accept_by, resolve_by = deadlines(start=now, limits=limits_for(sla, priority), calendar=calendar)
    return TicketDispatched(
        round=previous_round + 1,
        lead_department=lead,
        assisting_departments=assisting,
        accept_deadline=accept_by,
        resolve_deadline=resolve_by,
        manual=manual,
        rule_id=rule_id,
        provisional=calendar.provisional(now, max(accept_by, resolve_by)),
    )


def assign(
    *,
    status: TicketStatus,
    street_code: str,
    previous_round: int,
    lead: str,
    assisting: list[str],
    departments: Mapping[str, Mapping[str, Any]],
    now: datetime,
    sla: dict[str, Any],
    priority: Priority,
    calendar: WorkCalendar,
) -> TicketDispatched:
    """吹哨: the street dispatches by hand, to departments of the directory that serve the ticket's
    street, the lead and each assisting one (the rule routing follows for its lead); refused unless
    the ticket waits for a dispatch."""
    next_status(status, TicketDispatched.EVENT_TYPE)
    named = [lead, *assisting]
    for code in named:
        if code not in departments:
            raise InvalidAssignment(f"unknown department {code} (部门不存在)")
    strangers = [code for code in named if not serves(departments[code], street_code)]
    if strangers:
        raise DepartmentNotServing(strangers)
    return dispatch(
        status=status,
        previous_round=previous_round,
        lead=lead,
        assisting=assisting,
        now=now,
        sla=sla,
        priority=priority,
        calendar=calendar,
        manual=True,
    )


def dispatched_changes(
    dispatched: TicketDispatched, *, at: datetime, limits: dict[str, Any], calendar: WorkCalendar
) -> dict[str, Any]:
    """A round's dispatch as the ticket keeps it, with the limits and the calendar basis its
    deadlines were counted on, so a new holiday schedule can count them again."""
    end = max(dispatched.accept_deadline, dispatched.resolve_deadline)
    return {
        "status": "dispatched",
        "lead": dispatched.lead_department,
        "assisting": dispatched.assisting_departments,
        "round": dispatched.round,
        "dispatched_at": at,
        "accept_deadline": dispatched.accept_deadline,
        "resolve_deadline": dispatched.resolve_deadline,
        "overdue": [],
        "escalated": False,
        "escalate_at": escalate_at(dispatched_at=at, resolve_deadline=dispatched.resolve_deadline),
        "queue_reason": None,
        "queued_at": None,
        "limits": limits,
        "calendar_basis": calendar.basis(at, end),
        "provisional": dispatched.provisional,
        "extended": False,
    }


def revise_deadlines(
    ticket: dict[str, Any], *, calendar: WorkCalendar, now: datetime
) -> tuple[TicketDeadlinesRevised | None, dict[str, Any]]:
    """The current round's deadlines counted again from its dispatch on the calendar as it is now
    (a year's holiday schedule arrived or changed): an event only if a deadline or its provisional
    mark moved. An approved extension's date is the street's decision and stays; a lapse already
    announced is announced again only if the new deadline has passed too."""
    limits = ticket.get("limits")
    if not limits:  # dispatched before its limits were kept: its deadlines stand
        return None, {"calendar_basis": []}
    dispatched_at = as_utc(ticket["dispatched_at"])
    accept_by, resolve_by = deadlines(start=dispatched_at, limits=limits, calendar=calendar)
    if ticket.get("extended"):
        resolve_by = as_utc(ticket["resolve_deadline"])
    end = max(accept_by, resolve_by)
    provisional = calendar.provisional(dispatched_at, end)
    changes: dict[str, Any] = {"calendar_basis": calendar.basis(dispatched_at, end), "provisional": provisional}
    before = (as_utc(ticket["accept_deadline"]), as_utc(ticket["resolve_deadline"]), ticket.get("provisional", False))
    if before == (accept_by, resolve_by, provisional):
        return None, changes
    still_lapsed = {"accept": accept_by < now, "resolve": resolve_by < now}
    changes |= {
        "accept_deadline": accept_by,
        "resolve_deadline": resolve_by,
        "overdue": [kind for kind in ticket.get("overdue", []) if still_lapsed.get(kind, True)],
        "escalate_at": escalate_at(dispatched_at=dispatched_at, resolve_deadline=resolve_by),
    }
    revised = TicketDeadlinesRevised(
        round=ticket["round"],
        department=ticket["lead"],
        accept_deadline=accept_by,
        resolve_deadline=resolve_by,
        provisional=provisional,
        reason="工作日历已更新，时限按节假日安排重新计算 (the working calendar changed: deadlines counted again)",
    )
    return revised, changes


def cancel(
    *,
    status: TicketStatus,
    reason: CancelReason,
    comment: str,
    duplicate_of: str | None,
    ticket_id: str,
    original_status: TicketStatus | None = None,
) -> TicketCancelled:
    """撤销; as a duplicate (合并) only into a ticket that is still open, whose reporter's fix covers
    both. A household's need rather than a department's job (converted_to_need) leaves the tickets
    for cobuild, which takes it as a need; it merges into nothing."""
    next_status(status, TicketCancelled.EVENT_TYPE)
    if reason == CancelReason.DUPLICATE and not duplicate_of:
        raise InvalidAssignment("a duplicate must name the ticket it duplicates")
    if reason == CancelReason.CONVERTED_TO_NEED and duplicate_of:
        raise InvalidAssignment(
            "a report converted to a resident's need merges into no ticket (转为居民需求的工单不能合并)"
        )
    if duplicate_of == ticket_id:
        raise InvalidAssignment("a ticket cannot duplicate itself")
    if duplicate_of and original_status not in OPEN_STATES:
        raise InvalidAssignment("a report can be merged only into an open ticket (只能合并到未办结的工单)")
    return TicketCancelled(reason=reason, comment=comment, duplicate_of=duplicate_of)


def sla_for(category_code: str, slas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The category's time limit, else the directory's default."""
    return slas.get(category_code) or slas["default"]


ESCALATE_AFTER = 0.5  # past the resolve deadline by half the time allowed: the district steps in
REJECTIONS_BEFORE_ESCALATION = 3


def watchdog_findings(ticket: dict[str, Any], *, now: datetime) -> list[TicketOverdue | TicketEscalated]:
    """What the SLA watchdog announces for a ticket now: each deadline's lapse once, escalation once."""
    findings: list[TicketOverdue | TicketEscalated] = []
    flagged = set(ticket.get("overdue", []))
    status = ticket["status"]
    accept_by, resolve_by = ticket.get("accept_deadline"), ticket.get("resolve_deadline")
    if status == "dispatched" and accept_by and as_utc(accept_by) < now and "accept" not in flagged:
        findings.append(TicketOverdue(kind=DeadlineKind.ACCEPT, department=ticket["lead"], deadline=as_utc(accept_by)))
    if status in ACTIVE_STATES and resolve_by and as_utc(resolve_by) < now:
        if "resolve" not in flagged:
            findings.append(
                TicketOverdue(kind=DeadlineKind.RESOLVE, department=ticket["lead"], deadline=as_utc(resolve_by))
            )
        if not ticket.get("escalated") and now > as_utc(ticket["escalate_at"]):
            findings.append(
                TicketEscalated(
                    level="district",
                    reason="超期未办结：已超过处置时限的一半 (resolve deadline exceeded by half the time allowed)",
                )
            )
    return findings


def escalate_at(*, dispatched_at: datetime, resolve_deadline: datetime) -> datetime:
    """When an unresolved ticket goes to the district: past its resolve deadline by half the time allowed."""
    return resolve_deadline + (resolve_deadline - dispatched_at) * ESCALATE_AFTER


def watchdog_marks(ticket: dict[str, Any], findings: list[TicketOverdue | TicketEscalated]) -> dict[str, Any]:
    """The flags that keep the watchdog from announcing the same lapse twice."""
    overdue = list(ticket.get("overdue", []))
    overdue += [f.kind.value for f in findings if isinstance(f, TicketOverdue)]
    return {
        "overdue": overdue,
        "escalated": ticket.get("escalated", False) or any(isinstance(f, TicketEscalated) for f in findings),
    }


def escalation_for_rejections(rejections: int) -> TicketEscalated | None:
    """A ticket every department keeps sending back goes to the district (3 times)."""
    if rejections >= REJECTIONS_BEFORE_ESCALATION:
        return TicketEscalated(level="district", reason=f"已被退单 {rejections} 次 (sent back {rejections} times)")
    return None


class NoPendingExtension(LookupError):
    """Nothing to decide: no request, or it was decided already."""


def decide_extension(
    *, ticket: dict[str, Any], status: TicketStatus, approved: bool, comment: str, now: datetime
) -> tuple[TicketExtensionDecided, dict[str, Any]]:
    """The street approves (the new deadline applies, the lapse watch starts again) or denies (it stays)."""
    next_status(status, TicketExtensionDecided.EVENT_TYPE)
    request = ticket.get("extension")
    if not request or request.get("status") != "pending":
        raise NoPendingExtension("no extension request waits for a decision (没有待审批的延期申请)")
    deadline = as_utc(request["until"]) if approved else as_utc(ticket["resolve_deadline"])
    changes: dict[str, Any] = {
        "extension": {**request, "status": "approved" if approved else "denied", "decided_at": now, "comment": comment}
    }
    if approved:
        changes |= {
            "resolve_deadline": deadline,
            "extended": True,
            "overdue": [k for k in ticket.get("overdue", []) if k != "resolve"],
            "escalate_at": escalate_at(dispatched_at=as_utc(ticket["dispatched_at"]), resolve_deadline=deadline),
        }
    return TicketExtensionDecided(approved=approved, resolve_deadline=deadline, comment=comment), changes
