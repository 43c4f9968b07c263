"""Handling's API as the console reads and sends it: work orders and the department inbox, the
bodies of a department's actions, and the webhooks a department registers (with the admin's
allow-lists). The service answers with these models and the console's client returns them."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from gridloop.shared.clock import AwareIsoDatetime, Instant
from gridloop.shared.events import GeoPoint, Priority
from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN

# ---- work orders ------------------------------------------------------------------------------------


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


class Action(StrEnum):
    """What a department does with its work order; each names its route (`POST .../{action}`)."""

    ACCEPT = "accept"  # 接单
    REJECT = "reject"  # 退单
    PROGRESS = "progress"  # 处置进展
    EXTENSION = "extension"  # 延期申请
    PART = "part"  # 协办反馈
    RESOLVE = "resolve"  # 办结


class StepKind(StrEnum):
    """One step in a work order's record (处置记录)."""

    DISPATCHED = "dispatched"  # 派遣
    ACCEPTED = "accepted"  # 接单
    REJECTED = "rejected"  # 退单, with the reason
    PROGRESS = "progress"  # 处置进展
    PART_DONE = "part_done"  # 协办反馈
    EXTENSION_REQUESTED = "extension_requested"  # 延期申请, with the reason
    EXTENSION_DECIDED = "extension_decided"  # the street's decision on it
    RESOLVED = "resolved"  # 办结
    REOPENED = "reopened"  # 返工 after a failed verification
    CLOSED = "closed"  # 结案
    CANCELLED = "cancelled"  # 作废: the ticket was cancelled, or the lead sent it back (assisting orders)


DeadlineOwed = Literal["accept", "resolve"]


class OrderStep(BaseModel):
    """A step of a work order: what happened to it, when, and what was said with it."""

    kind: StepKind
    at: datetime
    note: str = Field(default="", description="the note, progress or result text; the street's comment")
    reason: str = Field(default="", description="退单、延期、先行办结或作废的理由 (why it was sent back, delayed, ...)")
    photos: list[str] = Field(default_factory=list)
    approved: bool | None = Field(default=None, description="extension_decided: whether the street granted it")


class WorkOrder(BaseModel):
    """A department's work order (工单) for one round of a ticket."""

    ticket_id: str
    ticket_number: str
    department: str
    role: OrderRole = Field(description="lead (主办) or assisting (协办)")
    round: int
    status: OrderStatus
    category_code: str
    category_name: str
    description: str
    location: GeoPoint | None
    address: str
    grid_code: str
    street_code: str
    photos: list[str]
    priority: Priority
    accept_deadline: datetime
    resolve_deadline: datetime
    deadlines_provisional: bool | None = Field(
        description="预计: counted on a year whose holiday schedule is not published yet"
    )
    dispatched_at: datetime
    accepted_at: datetime | None
    resolved_at: datetime | None
    rework_count: int
    notes: list[dict[str, Any]]
    extension_pending: dict[str, Any] | None
    part: dict[str, Any] | None
    evidence_required: bool | None
    ticket_status: str | None = Field(
        default=None, description="the ticket's state (in an action's answer: after the action)"
    )
    allowed_actions: list[Action] = Field(
        description="当前可办理的操作 (the actions the caller may take on this order now, each the last "
        "segment of its route, e.g. accept -> POST /v1/work-orders/{ticket_id}/accept; empty for a "
        "supervisor, and for an order of an earlier dispatch round or one that owes nothing)"
    )
    history: list[OrderStep] = Field(
        description="处置记录: every step of this order, oldest first (a rejected order ends with its 退单 "
        "and the reason)"
    )
    deadline_owed: DeadlineOwed | None = Field(
        description="the deadline this order counts down to now: accept (accept_deadline) while dispatched, "
        "resolve (resolve_deadline) while accepted or reopened; null when it owes nothing (rejected, "
        "resolved, closed, cancelled, or of an earlier dispatch round)"
    )


class InboxItem(WorkOrder):
    overdue: bool = Field(description="超期: past the deadline of the step the department owes")


class Inbox(BaseModel):
    items: list[InboxItem] = Field(
        description="按部门当前应办时限排序，最早的在前（超期的在前），同一时限按工单号 "
        "(by the deadline owed next: acceptance while dispatched, the fix while accepted or "
        "reopened; earliest first, so the overdue first; orders owing nothing last; ties by ticket)"
    )
    next_cursor: str | None = Field(
        description="下一页游标，传给 cursor 参数；最后一页为 null "
        "(pass as `cursor` for the next page; null on the last page)"
    )


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=TEXT_MIN, max_length=500, description="退单理由")


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000)
    photos: list[str] = Field(default_factory=list, max_length=PHOTOS_MAX)


class ResolveRequest(NoteRequest):
    override_reason: str = Field(
        default="",
        max_length=500,
        description="why the lead resolves before every assisting department reported its part (先行办结理由)",
    )


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    requested_resolve_deadline: AwareIsoDatetime = Field(description="the later resolve deadline asked for")
    reason: str = Field(min_length=TEXT_MIN, max_length=500, description="延期理由")


# ---- webhooks ---------------------------------------------------------------------------------------

EventTypeNames = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=20)]
EndpointAction = Literal["change", "enable", "disable", "rotate_secret", "replay", "delete"]


class EndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    url: AnyHttpUrl = Field(description="the department system's address that takes the POSTs")
    event_types: EventTypeNames = Field(
        description="e.g. ticket.dispatched, ticket.reopened, ticket.overdue (GET /v1/webhooks/event-types lists them)"
    )
    department: str | None = Field(default=None, max_length=32, description="the caller's own department, if named")
    description: str = Field(default="", max_length=200)


class EndpointChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = Field(default=None, description="true: on again, and its waiting deliveries go out")
    url: AnyHttpUrl | None = None
    event_types: EventTypeNames | None = None


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareIsoDatetime = Field(description="send again every delivery queued from this time on")


class EndpointView(BaseModel):
    endpoint_id: str
    department: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str = Field(description="why it was switched off, when it was")
    failures_in_row: int
    last_delivered_at: Instant | None
    last_error: str
    created_at: Instant
    actions: list[EndpointAction] = Field(
        description="what the caller may do to it now: its department all, the admin only disable and delete"
    )


class EndpointWithSecret(EndpointView):
    secret: str = Field(description="whsec_…: verify each delivery's webhook-signature with it")


class RotatedSecret(EndpointWithSecret):
    previous_secret_valid_until: Instant = Field(description="until then deliveries carry both signatures")


class EndpointList(BaseModel):
    items: list[EndpointView]


class Attempt(BaseModel):
    at: Instant
    status_code: int | None = Field(description="the receiver's answer; null when there was none")
    error: str


class DeliveryView(BaseModel):
    webhook_id: str = Field(description="the webhook-id header: the same on every retry and replay")
    event_id: str
    event_type: str
    ticket_id: str
    ticket_number: str = Field(description="工单编号, e.g. QH-20261201-00027")
    status: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: Instant | None
    delivered_at: Instant | None
    last_error: str
    created_at: Instant
    log: list[Attempt] = Field(description="the last attempts, oldest first")


class DeliveryLog(BaseModel):
    items: list[DeliveryView]


class Replayed(BaseModel):
    queued: int = Field(description="deliveries that will be sent again")


Destinations = Annotated[list[Annotated[str, Field(min_length=1, max_length=300)]], Field(max_length=200)]


class AllowListRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: Destinations = Field(
        description="host names (*.example.gov.cn for every name under one), IP addresses or CIDR networks, "
        "each with an optional port: hooks.cg.gov.cn, 10.12.0.0/16, 10.12.3.4:8443, [fd00:12::7]:443"
    )


class AllowListView(BaseModel):
    department: str
    entries: list[str] = Field(description="where the department's endpoints may point; empty: nowhere")
    updated_at: Instant | None
    updated_by: str


class AllowLists(BaseModel):
    items: list[AllowListView]


class WebhookEventType(BaseModel):
    event_type: str = Field(description="an event type an endpoint may subscribe to, e.g. ticket.dispatched")


class WebhookEventTypes(BaseModel):
    items: list[WebhookEventType] = Field(
        description="every event type an endpoint may subscribe to, from the event registry, in name order"
    )
