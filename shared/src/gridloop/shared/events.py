"""The event contract: an envelope around a versioned payload.

The wire contract is the `event_type` string and `version`, never a Python class name.
"""

import json
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

TICKETS_TOPIC = "gridloop.tickets.v1"
DIRECTORY_TOPIC = "gridloop.directory.v1"


def dead_letter_topic(group_id: str) -> str:
    return f"gridloop.dlq.{group_id}"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    STREET_DISPATCHER = "street_dispatcher"
    DEPARTMENT_AGENT = "department_agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"
    CLIENT_APP = "client_app"  # 第三方应用: a registered Open311 client application, never a person's token


class Actor(BaseModel):
    """Who took the action: a person from their token, or a service acting on a rule."""

    model_config = ConfigDict(frozen=True)
    sub: str
    name: str = ""
    role: Role
    org: str = ""


class GeoPoint(BaseModel):
    model_config = ConfigDict(frozen=True)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class Payload(BaseModel):
    """Base of every event payload; subclasses name their wire type and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1


_REGISTRY: dict[tuple[str, int], type[Payload]] = {}


P = TypeVar("P", bound=type[Payload])


def _register(cls: P) -> P:
    _REGISTRY[(cls.EVENT_TYPE, cls.VERSION)] = cls
    return cls


def payload_types() -> dict[tuple[str, int], type[Payload]]:
    return dict(_REGISTRY)


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CancelReason(StrEnum):
    INVALID = "invalid"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class DeadlineKind(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"


@_register
class TicketReported(Payload):
    EVENT_TYPE = "ticket.reported"
    ticket_number: str
    category_code: str
    category_name: str
    description: str
    location: GeoPoint | None
    address: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    photos: list[str] = []
    priority: Priority = Priority.NORMAL
    # Fields added later are optional, so version 1 messages already on the topic still parse.
    evidence_required: bool = False  # the category asks for photos when the ticket is resolved
    possible_duplicates: list[str] = []  # open tickets of the same category close by (疑似重复)


@_register
class TicketCancelled(Payload):
    EVENT_TYPE = "ticket.cancelled"
    reason: CancelReason
    comment: str = ""
    duplicate_of: str | None = None


@_register
class TicketDispatched(Payload):
    EVENT_TYPE = "ticket.dispatched"
    round: int = Field(ge=1)
    lead_department: str
    assisting_departments: list[str] = []
    accept_deadline: datetime
    resolve_deadline: datetime
    manual: bool
    rule_id: str | None = None
    provisional: bool = False  # counted on a year whose holiday schedule is not published yet (预计)


@_register
class TicketDeadlinesRevised(Payload):
    """The deadlines of the current round, counted again because the working calendar changed
    (a year's holiday schedule was published or amended)."""

    EVENT_TYPE = "ticket.deadlines_revised"
    round: int = Field(ge=1)
    department: str
    accept_deadline: datetime
    resolve_deadline: datetime
    provisional: bool
    reason: str


@_register
class TicketAccepted(Payload):
    EVENT_TYPE = "ticket.accepted"
    department: str
    round: int


@_register
class TicketRejected(Payload):
    EVENT_TYPE = "ticket.rejected"
    department: str
    round: int
    reason: str


@_register
class TicketProgressed(Payload):
    EVENT_TYPE = "ticket.progressed"
    department: str
    note: str
    photos: list[str] = []
    part_done: bool = False  # an assisting department (协办) reports its part of a joint ticket done


@_register
class TicketExtensionRequested(Payload):
    EVENT_TYPE = "ticket.extension_requested"
    department: str
    requested_resolve_deadline: datetime
    reason: str


@_register
class TicketExtensionDecided(Payload):
    EVENT_TYPE = "ticket.extension_decided"
    approved: bool
    resolve_deadline: datetime
    comment: str = ""


@_register
class TicketResolved(Payload):
    EVENT_TYPE = "ticket.resolved"
    department: str
    round: int
    note: str
    photos: list[str] = []
    override_reason: str = ""  # why the lead resolved before every assisting part was reported


@_register
class TicketClosed(Payload):
    EVENT_TYPE = "ticket.closed"
    auto: bool = False
    comment: str = ""


@_register
class TicketReopened(Payload):
    EVENT_TYPE = "ticket.reopened"
    department: str
    rework_count: int = Field(ge=1)
    comment: str = ""
    photos: list[str] = []


@_register
class TicketRated(Payload):
    EVENT_TYPE = "ticket.rated"
    rating: Rating
    comment: str = ""


@_register
class TicketOverdue(Payload):
    EVENT_TYPE = "ticket.overdue"
    kind: DeadlineKind
    department: str
    deadline: datetime


@_register
class TicketEscalated(Payload):
    EVENT_TYPE = "ticket.escalated"
    level: Literal["street", "district"]
    reason: str


class UnknownEventType(Exception):
    """A message whose (event_type, version) this build does not know: it goes to dead letters."""


class MalformedEvent(Exception):
    """A message that is not a valid envelope: it goes to dead letters."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)
    event_id: str
    event_type: str
    version: int
    occurred_at: datetime
    ticket_id: str
    producer: str
    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    payload: SerializeAsAny[Payload]

    def to_wire(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_wire(cls, raw: bytes) -> "Envelope":
        try:
            data = json.loads(raw)
            key = (data["event_type"], int(data["version"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedEvent(f"not an event envelope: {exc}") from exc
        payload_cls = _REGISTRY.get(key)
        if payload_cls is None:
            raise UnknownEventType(f"unknown event {key[0]} v{key[1]}")
        try:
            payload = payload_cls.model_validate(data["payload"])
            return cls.model_validate({**data, "payload": payload})
        except (ValidationError, KeyError) as exc:
            raise MalformedEvent(f"invalid {key[0]} v{key[1]}: {exc}") from exc

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("event_type", self.event_type.encode()),
            ("version", str(self.version).encode()),
            ("ticket_id", self.ticket_id.encode()),
            ("correlation_id", self.correlation_id.encode()),
        ]


def envelope(
    payload: Payload,
    *,
    event_id: str,
    ticket_id: str,
    producer: str,
    actor: Actor,
    occurred_at: datetime,
    correlation_id: str,
    causation_id: str | None = None,
) -> Envelope:
    """An event around `payload`. Only a registered payload travels: the registry is the contract
    the AsyncAPI document lists, so nothing can be published that it does not describe."""
    if _REGISTRY.get((payload.EVENT_TYPE, payload.VERSION)) is not type(payload):
        raise UnknownEventType(
            f"{type(payload).__name__} is not a registered event ({payload.EVENT_TYPE} v{payload.VERSION})"
        )
    return Envelope(
        event_id=event_id,
        event_type=payload.EVENT_TYPE,
        version=payload.VERSION,
        occurred_at=occurred_at,
        ticket_id=ticket_id,
        producer=producer,
        actor=actor,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload,
    )
