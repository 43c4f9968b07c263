"""Pure handling rules: who may act on a work order, and what each action says."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from gridloop.shared.events import (
    TicketAccepted,
    TicketExtensionRequested,
    TicketProgressed,
    TicketRejected,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, next_status


class OrderRole(StrEnum):
    LEAD = "lead"
    ASSISTING = "assisting"


class NotYourOrder(PermissionError):
    """The work order belongs to another department, or the department only assists."""


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


def resolve(
    *, order: dict[str, Any], status: TicketStatus, department: str, note: str, photos: list[str]
) -> TicketResolved:
    _lead_check(order, department)
    next_status(status, TicketResolved.EVENT_TYPE)
    return TicketResolved(department=department, round=order["round"], note=note, photos=photos)


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


def is_overdue(order: dict[str, Any], now: datetime) -> bool:
    """Past the accept deadline while unaccepted, or past the resolve deadline while unresolved."""
    if order["status"] == "dispatched":
        return bool(order["accept_deadline"] < now)
    if order["status"] in ("accepted", "reopened"):
        return bool(order["resolve_deadline"] < now)
    return False
