"""Dispatch's API models: the street desk's queue, manual assignment (吹哨), cancellation and
extension decisions."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.events import CancelReason, Priority

QueueReason = Literal["no_rule", "rejected", "possible_duplicate"]


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_department: str = Field(min_length=1, max_length=32, description="主办部门")
    assisting_departments: list[str] = Field(default_factory=list, max_length=10, description="协办部门")


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: CancelReason
    comment: str = Field(default="", max_length=500)
    duplicate_of: str | None = Field(default=None, max_length=64)


class DecideRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approved: bool
    comment: str = Field(default="", max_length=500)


class QueuedTicket(BaseModel):
    """A ticket waiting at the street desk."""

    ticket_id: str
    ticket_number: str
    category_code: str
    category_name: str
    description: str
    street_code: str
    community_code: str
    grid_code: str
    priority: Priority
    status: str
    round: int
    queue_reason: str | None = Field(description="no_rule, rejected (退单) or possible_duplicate (疑似重复)")
    queued_at: datetime | None
    rejections: list[dict[str, Any]] = Field(description="each send-back: department, round, reason, at")
    reported_at: datetime
    possible_duplicates: list[str]


class Queue(BaseModel):
    items: list[QueuedTicket] = Field(
        description="最早进入队列的在前，同一时刻按工单号 (oldest queued first, ties by ticket)"
    )
    next_cursor: str | None = Field(
        description="下一页游标，传给 cursor 参数；最后一页为 null "
        "(pass as `cursor` for the next page; null on the last page)"
    )


class PendingExtension(BaseModel):
    """延期申请: a department's request for a later resolve deadline, waiting for the street."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    ticket_number: str = Field(description="工单号 (ticket number, e.g. QH-20261122-00042)")
    category_name: str = Field(description="问题类别 (category name)")
    street_code: str = Field(description="所属街道 (the ticket's street)")
    department: str = Field(description="申请部门 (the lead department asking)")
    reason: str = Field(description="延期理由 (the reason given)")
    requested_resolve_deadline: datetime = Field(description="申请延至 (the resolve deadline asked for)")
    resolve_deadline: datetime = Field(description="当前处置时限 (the resolve deadline now)")
    requested_at: datetime = Field(description="申请时间 (when it was asked)")


class PendingExtensions(BaseModel):
    items: list[PendingExtension] = Field(description="最早的申请在前 (oldest request first)")


class Assigned(BaseModel):
    """The dispatch made (派遣): the round's departments and deadlines."""

    ticket_id: str
    round: int
    lead_department: str
    assisting_departments: list[str]
    accept_deadline: datetime
    resolve_deadline: datetime
    manual: bool
    rule_id: str | None
    provisional: bool = Field(description="预计: counted on a year whose holiday schedule is not published yet")


class Cancelled(BaseModel):
    ticket_id: str
    status: str
    reason: CancelReason
    comment: str
    duplicate_of: str | None


class ExtensionDecided(BaseModel):
    ticket_id: str
    approved: bool
    resolve_deadline: datetime
    comment: str
