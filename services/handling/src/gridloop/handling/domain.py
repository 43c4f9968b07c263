"""Pure handling rules: who may act on a work order, and what each action says."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from gridloop.shared.events import (
    Actor,
    Role,
    TicketAccepted,
    TicketExtensionRequested,
    TicketProgressed,
    TicketRejected,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, next_status


class OrderStatus(StrEnum):
    """Where a department's work order stands."""

    DISPATCHED = "dispatched"  # in the inbox, not yet taken on
    ACCEPTED = "accepted"  # 接单
    PART_DONE = "part_done"  # an assisting department reported its part (协办反馈)
    RESOLVED = "resolved"  # 办结, waiting for verification
    REOPENED = "reopened"  # 返工 after a failed verification
    REJECTED = "rejected"  # 退单
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OrderRole(StrEnum):
    LEAD = "lead"
    ASSISTING = "assisting"


class NotYourOrder(PermissionError):
    """The work order belongs to another department, or the department only assists."""


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


def _lead_check(order: dict[str, Any], department: str) -> None:
    if order["department"] != department:
        raise NotYourOrder("this work order belongs to another department")
    if order["role"] != OrderRole.LEAD:
        raise NotYourOrder("only the lead department (主办) may do this")


def accept(*, order: dict[str, Any], status: TicketStatus, department: str) -> TicketAccepted:
    _lead_check(order, department)
    next_status(status, TicketAccepted.EVENT_TYPE)
    return TicketAccepted(department=department, round=order["round"])


def reject(*, order: dict[str, Any], status: TicketStatus, department: str, reason: str) -> TicketRejected:
    _lead_check(order, department)
    next_status(status, TicketRejected.EVENT_TYPE)
    return TicketRejected(department=department, round=order["round"], reason=reason)


def progress(
    *, order: dict[str, Any], status: TicketStatus, department: str, note: str, photos: list[str]
) -> TicketProgressed:
    _lead_check(order, department)
    next_status(status, TicketProgressed.EVENT_TYPE)
    return TicketProgressed(department=department, note=note, photos=photos)


class PartsPending(Exception):
    """Assisting departments have not reported their parts, and the lead gave no override reason."""


class PartAlreadyReported(Exception):
    pass


class EvidenceRequired(ValueError):
    """The category asks for photos of the result, and none came with the resolution."""


def report_part(
    *, order: dict[str, Any], status: TicketStatus, department: str, note: str, photos: list[str]
) -> TicketProgressed:
    """协办反馈: an assisting department reports its part of a joint ticket done, once per round."""
    if order["department"] != department:
        raise NotYourOrder("this work order belongs to another department")
    if order["role"] != OrderRole.ASSISTING:
        raise NotYourOrder("only an assisting department (协办) reports a part; the lead resolves")
    next_status(status, TicketProgressed.EVENT_TYPE)
    if order.get("part"):
        raise PartAlreadyReported("this department has already reported its part (已反馈)")
    return TicketProgressed(department=department, note=note, photos=photos, part_done=True)


def resolve(
    *,
    order: dict[str, Any],
    status: TicketStatus,
    department: str,
    note: str,
    photos: list[str],
    pending_parts: list[str],
    override_reason: str = "",
) -> TicketResolved:
    """办结 by the lead: every assisting part reported first, or an override with a reason; photos
    where the category requires evidence."""
    _lead_check(order, department)
    next_status(status, TicketResolved.EVENT_TYPE)
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


class InvalidExtension(ValueError):
    """An extension request that asks for no more time, or while another waits for a decision."""


def request_extension(
    *, order: dict[str, Any], status: TicketStatus, department: str, until: datetime, reason: str
) -> TicketExtensionRequested:
    """延期申请: more time to resolve, decided by the street."""
    _lead_check(order, department)
    next_status(status, TicketExtensionRequested.EVENT_TYPE)
    if order.get("extension_pending"):
        raise InvalidExtension("an extension request is already waiting for the street's decision")
    if until <= order["resolve_deadline"]:
        raise InvalidExtension("the requested deadline must be later than the current one")
    return TicketExtensionRequested(department=department, requested_resolve_deadline=until, reason=reason)
