"""Pure handling rules: who may act on a work order, and what each action says."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from gridloop.shared.api.handling import Action, DeadlineOwed, OrderRole, OrderStatus, StepKind
from gridloop.shared.events import (
    Actor,
    Role,
    TicketAccepted,
    TicketExtensionRequested,
    TicketProgressed,
    TicketRejected,
    TicketResolved,
)
from gridloop.shared.lifecycle import OWED_DEADLINE, TicketStatus, TransitionNotAllowed, can_apply

__all__ = [
    "ACTING_ROLES",
    "ANNOUNCES",
    "TRANSITIONS",
    "WITHDRAWN_REASON",
    "Action",
    "ActionNotAllowed",
    "EvidenceRequired",
    "InvalidExtension",
    "NotYourOrder",
    "OrderRole",
    "OrderStatus",
    "PartAlreadyReported",
    "PartsPending",
    "Round",
    "RoundSuperseded",
    "StepKind",
    "Ticket",
    "UnknownWorkOrder",
    "accept",
    "allowed_actions",
    "deadline_owed",
    "history",
    "pending_parts",
    "progress",
    "refusal",
    "reject",
    "report_part",
    "request_extension",
    "resolve",
    "round_of",
    "shown_order",
    "step",
    "with_step",
    "withdrawn_on_rejection",
]


class Round(StrEnum):
    """An order's dispatch round, against the ticket's: a ticket sent back (退单) and dispatched
    again is in a new round, and every order of the earlier rounds is superseded."""

    CURRENT = "current"
    SUPERSEDED = "superseded"


_S, _A = OrderStatus, Action
TRANSITIONS: Mapping[tuple[Round, OrderRole, OrderStatus], frozenset[Action]] = {
    (Round.CURRENT, OrderRole.LEAD, _S.DISPATCHED): frozenset({_A.ACCEPT, _A.REJECT}),
    (Round.CURRENT, OrderRole.LEAD, _S.REOPENED): frozenset({_A.ACCEPT}),
    (Round.CURRENT, OrderRole.LEAD, _S.ACCEPTED): frozenset({_A.PROGRESS, _A.EXTENSION, _A.RESOLVE}),
    (Round.CURRENT, OrderRole.ASSISTING, _S.DISPATCHED): frozenset({_A.PART}),
}
"""The actions a work order allows, by its round, its role and its status. Every combination not
listed allows none: no order of a superseded round, and no order that is resolved, part_done,
rejected, closed or cancelled. The ticket's own state must allow the event an action announces
too (ANNOUNCES, checked against shared.lifecycle): an assisting part waits for the lead's 接单."""

ANNOUNCES: Mapping[Action, str] = {
    Action.ACCEPT: TicketAccepted.EVENT_TYPE,
    Action.REJECT: TicketRejected.EVENT_TYPE,
    Action.PROGRESS: TicketProgressed.EVENT_TYPE,
    Action.EXTENSION: TicketExtensionRequested.EVENT_TYPE,
    Action.PART: TicketProgressed.EVENT_TYPE,
    Action.RESOLVE: TicketResolved.EVENT_TYPE,
}
ACTING_ROLES: frozenset[Role] = frozenset({Role.DEPARTMENT_AGENT})
"""Who acts on work orders: a department's agents, on their own department's orders."""


@dataclass(frozen=True)
class Ticket:
    """What handling knows of a ticket at the moment of an action: its state and dispatch round."""

    status: TicketStatus
    round: int


class UnknownWorkOrder(LookupError):
    """No work order of the ticket for the caller: none was given to them, or it is outside their scope."""


class NotYourOrder(PermissionError):
    """The work order belongs to another department, or the department only assists."""


class RoundSuperseded(Exception):
    """The department's work order is of an earlier dispatch round: the ticket was sent back and
    dispatched again, so nothing may be done on it any more."""

    def __init__(self, *, order_round: int, current_round: int) -> None:
        self.order_round = order_round
        self.current_round = current_round
        super().__init__(f"this work order is of dispatch round {order_round}; the ticket is in round {current_round}")


class ActionNotAllowed(Exception):
    """The work order's status does not allow the action (TRANSITIONS)."""

    def __init__(self, action: Action, status: OrderStatus) -> None:
        self.action = action
        self.status = status
        super().__init__(f"{action} is not allowed while the work order is {status}")


class PartsPending(Exception):
    """Assisting departments have not reported their parts, and the lead gave no override reason."""


class PartAlreadyReported(Exception):
    pass


class EvidenceRequired(ValueError):
    """The category asks for photos of the result, and none came with the resolution."""


class InvalidExtension(ValueError):
    """An extension request that asks for no more time, or while another waits for a decision."""


def round_of(order: Mapping[str, Any], ticket: Ticket) -> Round:
    return Round.CURRENT if order["round"] == ticket.round else Round.SUPERSEDED


def _roles_for(action: Action) -> frozenset[OrderRole]:
    return frozenset(role for (_, role, _), actions in TRANSITIONS.items() if action in actions)


def refusal(action: Action, *, order: Mapping[str, Any], ticket: Ticket, department: str) -> Exception | None:
    """Why `department` may not take `action` on `order` now, judged on the order as it is at this
    moment (its department, round, role and status) and the ticket's state; None when it may."""
    if order["department"] != department:
        return NotYourOrder("this work order belongs to another department")
    round_ = round_of(order, ticket)
    if round_ is Round.SUPERSEDED:
        return RoundSuperseded(order_round=order["round"], current_round=ticket.round)
    role, status = OrderRole(order["role"]), OrderStatus(order["status"])
    if role not in _roles_for(action):
        if role is OrderRole.LEAD:
            return NotYourOrder("only an assisting department (协办) reports a part; the lead resolves")
        return NotYourOrder("only the lead department (主办) may do this")
    if action is Action.PART and order.get("part"):
        return PartAlreadyReported("this department has already reported its part (已反馈)")
    if action not in TRANSITIONS.get((round_, role, status), frozenset()):
        return ActionNotAllowed(action, status)
    if not can_apply(ticket.status, ANNOUNCES[action]):
        return TransitionNotAllowed(ANNOUNCES[action], ticket.status)
    if action is Action.EXTENSION and order.get("extension_pending"):
        return InvalidExtension("an extension request is already waiting for the street's decision")
    return None


def allowed_actions(order: Mapping[str, Any], *, ticket: Ticket | None, reader: Actor) -> list[Action]:
    """The actions the reader may take on the order now (the API shows them with the order, so no
    page decides them): none for a reader who does not act on work orders."""
    if ticket is None or reader.role not in ACTING_ROLES:
        return []
    return [action for action in Action if refusal(action, order=order, ticket=ticket, department=reader.org) is None]


def _permit(action: Action, *, order: Mapping[str, Any], ticket: Ticket, department: str) -> None:
    reason = refusal(action, order=order, ticket=ticket, department=department)
    if reason is not None:
        raise reason


def shown_order(orders: list[dict[str, Any]], *, reader: Actor) -> dict[str, Any] | None:
    """The one work order a reader sees of a ticket, among the orders in their scope: a department
    its own of the latest round it was given (the lead order where it holds both roles), a
    supervisor the lead department's; nobody else any."""
    match reader.role:
        case Role.DEPARTMENT_AGENT:
            candidates = [o for o in orders if o["department"] == reader.org]
        case Role.SUPERVISOR:
            candidates = [o for o in orders if o["role"] == OrderRole.LEAD]
        case _:
            candidates = []
    return max(candidates, key=lambda o: (o["round"], o["role"] == OrderRole.LEAD), default=None)


def withdrawn_on_rejection(
    orders_of_round: list[dict[str, Any]], *, at: datetime
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """退单 ends the round: the assisting orders that have not reported their part are withdrawn
    (作废), so they neither wait in an inbox nor fall overdue for a round that is over. Each with
    its changes, the step in its record included."""
    return [
        (
            o,
            {
                "status": OrderStatus.CANCELLED.value,
                **with_step(o, step(StepKind.CANCELLED, at, reason=WITHDRAWN_REASON)),
            },
        )
        for o in orders_of_round
        if o["role"] == OrderRole.ASSISTING and o["status"] == OrderStatus.DISPATCHED
    ]


WITHDRAWN_REASON = "主办部门已退单，本轮作废 (the lead department sent the ticket back)"


def accept(*, order: dict[str, Any], ticket: Ticket, department: str) -> TicketAccepted:
    _permit(Action.ACCEPT, order=order, ticket=ticket, department=department)
    return TicketAccepted(department=department, round=order["round"])


def reject(*, order: dict[str, Any], ticket: Ticket, department: str, reason: str) -> TicketRejected:
    _permit(Action.REJECT, order=order, ticket=ticket, department=department)
    return TicketRejected(department=department, round=order["round"], reason=reason)


def progress(
    *, order: dict[str, Any], ticket: Ticket, department: str, note: str, photos: list[str]
) -> TicketProgressed:
    _permit(Action.PROGRESS, order=order, ticket=ticket, department=department)
    return TicketProgressed(department=department, note=note, photos=photos)


def report_part(
    *, order: dict[str, Any], ticket: Ticket, department: str, note: str, photos: list[str]
) -> TicketProgressed:
    """协办反馈: an assisting department reports its part of a joint ticket done, once per round."""
    _permit(Action.PART, order=order, ticket=ticket, department=department)
    return TicketProgressed(department=department, note=note, photos=photos, part_done=True)


def resolve(
    *,
    order: dict[str, Any],
    ticket: Ticket,
    department: str,
    note: str,
    photos: list[str],
    pending_parts: list[str],
    override_reason: str = "",
) -> TicketResolved:
    """办结 by the lead: every assisting part reported first, or an override with a reason; photos
    where the category requires evidence."""
    _permit(Action.RESOLVE, order=order, ticket=ticket, department=department)
    if pending_parts and not override_reason:
        raise PartsPending(
            f"assisting departments have not reported their parts: {', '.join(pending_parts)} "
            "(协办部门尚未反馈；如需先行办结，请说明理由)"
        )
    if order.get("evidence_required") and not photos:
        raise EvidenceRequired("this category requires photos of the result (该类别办结须上传现场照片)")
    return TicketResolved(
        department=department,
        round=order["round"],
        note=note,
        photos=photos,
        override_reason=override_reason if pending_parts else "",
    )


def pending_parts(orders_of_round: list[dict[str, Any]]) -> list[str]:
    """The assisting departments of the round that have not reported their part."""
    return sorted(o["department"] for o in orders_of_round if o["role"] == OrderRole.ASSISTING and not o.get("part"))


def request_extension(
    *, order: dict[str, Any], ticket: Ticket, department: str, until: datetime, reason: str
) -> TicketExtensionRequested:
    """延期申请: more time to resolve, decided by the street."""
    _permit(Action.EXTENSION, order=order, ticket=ticket, department=department)
    if until <= order["resolve_deadline"]:
        raise InvalidExtension("the requested deadline must be later than the current one")
    return TicketExtensionRequested(department=department, requested_resolve_deadline=until, reason=reason)


# ---- the order's record and the deadline it owes ------------------------------------------------------


def step(
    kind: StepKind,
    at: datetime,
    *,
    note: str = "",
    reason: str = "",
    photos: Sequence[str] = (),
    approved: bool | None = None,
) -> dict[str, Any]:
    """One step of a work order's record (处置记录), as stored with the order."""
    return {"kind": kind.value, "at": at, "note": note, "reason": reason, "photos": list(photos), "approved": approved}


def _instant(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def history(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every step of the order, oldest first: as recorded with it (each step appended as it
    happened), or, for an order stored before its steps were recorded, as far as its fields tell."""
    steps: list[dict[str, Any]] | None = order.get("history")
    if steps is not None:
        return list(steps)
    return sorted(_told_by_fields(order), key=lambda s: _instant(s["at"]))


def with_step(order: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The change that adds a step to the order's record."""
    return {"history": [*history(order), new]}


def _told_by_fields(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    steps = [step(StepKind.DISPATCHED, order["dispatched_at"])] if order.get("dispatched_at") else []
    if order.get("accepted_at"):
        steps.append(step(StepKind.ACCEPTED, order["accepted_at"]))
    notes = order.get("notes", [])
    steps += [step(StepKind.PROGRESS, n["at"], note=n["note"], photos=n.get("photos", [])) for n in notes]
    if order.get("part"):
        part = order["part"]
        steps.append(step(StepKind.PART_DONE, part["at"], note=part["note"], photos=part.get("photos", [])))
    if order.get("extension_pending"):
        asked = order["extension_pending"]
        steps.append(step(StepKind.EXTENSION_REQUESTED, asked["at"], reason=asked["reason"]))
    if order.get("resolved_at"):
        done = order.get("resolution") or {}
        steps.append(
            step(
                StepKind.RESOLVED,
                order["resolved_at"],
                note=done.get("note", ""),
                photos=done.get("photos", []),
                reason=done.get("override_reason", ""),
            )
        )
    ended = {
        OrderStatus.REJECTED: StepKind.REJECTED,
        OrderStatus.CLOSED: StepKind.CLOSED,
        OrderStatus.CANCELLED: StepKind.CANCELLED,
    }.get(OrderStatus(order["status"]))
    at = order.get("updated_at") or order.get("dispatched_at")
    if ended is not None and at is not None:
        steps.append(step(ended, at, reason=order.get("reject_reason", "")))
    return steps


_DEADLINE_KINDS: Mapping[str, DeadlineOwed] = {"accept_deadline": "accept", "resolve_deadline": "resolve"}


def deadline_owed(order: Mapping[str, Any], *, ticket: Ticket | None) -> DeadlineOwed | None:
    """The deadline the order counts down to now (the rule overdue is judged by: acceptance while
    dispatched, the fix while accepted or reopened); None when it owes nothing: rejected, resolved,
    closed, cancelled, or of an earlier dispatch round."""
    if ticket is not None and round_of(order, ticket) is Round.SUPERSEDED:
        return None
    field = OWED_DEADLINE.get(str(order["status"]))
    return _DEADLINE_KINDS[field] if field else None
