"""Dispatch's API as its clients see it: the street desk's requests (派遣, 撤销, 延期审批) and the
answers (the queue, pending extensions, the dispatch made), written once for the service and the console."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.events import CancelReason, Priority
from gridloop.shared.lifecycle import TicketStatus


class QueueReason(StrEnum):
    """Why a ticket waits at the street desk."""

    NO_RULE = "no_rule"  # no routing rule took it
    REJECTED = "rejected"  # a department sent it back (退单)
    POSSIBLE_DUPLICATE = "possible_duplicate"  # 疑似重复: the street merges it or sends it on


# Requests the street desk sends


class AssignRequest(BaseModel):
    """吹哨: dispatch by hand to one lead department and any assisting ones, each serving the ticket's street."""

    model_config = ConfigDict(extra="forbid")
    lead_department: str = Field(min_length=1, max_length=32, description="主办部门 (lead department code)")
    assisting_departments: list[str] = Field(
        default_factory=list, max_length=10, description="协办部门 (assisting department codes)"
    )


class CancelRequest(BaseModel):
    """撤销: an invalid, out-of-scope or duplicate report (a duplicate names the open ticket it merges
    into), or a household's need rather than a department's job (cobuild takes it as a need)."""

    model_config = ConfigDict(extra="forbid")
    reason: CancelReason = Field(
        description="invalid 无效, out_of_scope 非职责范围, duplicate 重复 (合并), converted_to_need 转为居民需求"
    )
    comment: str = Field(default="", max_length=500, description="说明 (comment)")
    duplicate_of: str | None = Field(
        default=None, max_length=64, description="合并到的工单 (the open ticket a duplicate merges into)"
    )


class DecideRequest(BaseModel):
    """延期审批: approve or deny a department's request for a later resolve deadline."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approved: bool = Field(description="true 同意, false 不同意")
    comment: str = Field(default="", max_length=500, description="审批意见 (comment)")


# Answers


class Rejection(BaseModel):
    """退单: a department sent the ticket back."""

    department: str = Field(description="退单部门 (the department that sent it back)")
    round: int = Field(description="派遣轮次 (the dispatch round it was sent back in)")
    reason: str = Field(description="退单理由 (the reason given)")
    at: datetime = Field(description="退单时间 (when)")


class QueueItem(BaseModel):
    """A ticket waiting at the street desk for a person to dispatch it."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    ticket_number: str = Field(description="工单号 (ticket number, e.g. QH-20261122-00042)")
    category_code: str = Field(description="问题类别编码 (category code)")
    category_name: str = Field(description="问题类别 (category name)")
    description: str = Field(description="问题描述 (what was found)")
    street_code: str = Field(description="街道 (street)")
    community_code: str = Field(description="社区 (community)")
    grid_code: str = Field(description="网格 (grid)")
    priority: Priority = Field(description="紧急程度 (priority)")
    status: TicketStatus = Field(description="当前状态 (reported 待派遣, or pending_dispatch after a send-back)")
    round: int = Field(description="已派遣轮次 (dispatch rounds so far; 0 before the first)")
    queue_reason: QueueReason = Field(
        description="no_rule 无匹配规则, rejected 退单 or possible_duplicate 疑似重复 (why it waits)"
    )
    queued_at: datetime = Field(description="进入队列时间 (when it started waiting)")
    rejections: list[Rejection] = Field(description="退单记录, oldest first (every send-back)")
    reported_at: datetime = Field(description="上报时间 (when it was reported)")
    possible_duplicates: list[str] = Field(description="疑似重复的工单 (open tickets it may duplicate)")


class Queue(BaseModel):
    items: list[QueueItem] = Field(
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

    ticket_id: str = Field(description="工单编号 (ticket id)")
    round: int = Field(description="派遣轮次 (this dispatch's round)")
    lead_department: str = Field(description="主办部门 (lead department)")
    assisting_departments: list[str] = Field(description="协办部门 (assisting departments)")
    accept_deadline: datetime = Field(description="签收时限 (accept by)")
    resolve_deadline: datetime = Field(description="处置时限 (resolve by)")
    manual: bool = Field(description="人工派遣 (dispatched by hand, not by a rule)")
    rule_id: str | None = Field(description="派遣规则 (the rule that routed it; null when by hand)")
    provisional: bool = Field(description="预计: counted on a year whose holiday schedule is not published yet")


class Cancelled(BaseModel):
    """撤销: the ticket is cancelled; nothing more can happen to it."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    status: TicketStatus = Field(description="cancelled 已撤销")
    reason: CancelReason = Field(description="撤销原因 (reason)")
    comment: str = Field(description="说明 (comment)")
    duplicate_of: str | None = Field(description="合并到的工单 (the ticket it was merged into), else null")


class ExtensionDecided(BaseModel):
    """延期审批结果: the decision and the resolve deadline that applies now."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    approved: bool = Field(description="同意 (approved)")
    resolve_deadline: datetime = Field(description="处置时限 (the resolve deadline now)")
    comment: str = Field(description="审批意见 (comment)")
