"""What people are shown, in one place for the console and the app: Chinese names of states,
reasons, events and indicators, times in the city's zone, and how long is left before a deadline.
The app reads the names and the limits from `GET /app/labels.json` (`document`)."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gridloop.shared import limits
from gridloop.shared.api.dispatch import QueueReason
from gridloop.shared.api.handling import OrderRole, OrderStatus, StepKind
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.cobuild_lifecycle import NeedStatus, OfferStatus, ProjectStatus
from gridloop.shared.events import CancelReason, NeedKind, NeedSource, OfferKind, Rating
from gridloop.shared.lifecycle import TicketStatus

TICKET_STATUS: dict[TicketStatus, str] = {
    TicketStatus.REPORTED: "已上报", TicketStatus.PENDING_DISPATCH: "待派遣", TicketStatus.DISPATCHED: "已派遣",
    TicketStatus.ACCEPTED: "处置中", TicketStatus.RESOLVED: "待核查", TicketStatus.REOPENED: "返工",
    TicketStatus.CLOSED: "已办结", TicketStatus.CANCELLED: "已作废",
}  # fmt: skip
ORDER_STATUS: dict[OrderStatus, str] = {
    OrderStatus.DISPATCHED: "待接单", OrderStatus.ACCEPTED: "处置中", OrderStatus.PART_DONE: "协办已反馈",
    OrderStatus.RESOLVED: "已办结待核查", OrderStatus.REOPENED: "返工", OrderStatus.REJECTED: "已退单",
    OrderStatus.CLOSED: "已结案", OrderStatus.CANCELLED: "已作废",
}  # fmt: skip
QUEUE_REASON: dict[QueueReason, str] = {
    QueueReason.NO_RULE: "无匹配规则", QueueReason.REJECTED: "部门退单", QueueReason.POSSIBLE_DUPLICATE: "疑似重复",
}  # fmt: skip
CANCEL_REASON: dict[CancelReason, str] = {
    CancelReason.INVALID: "无效上报", CancelReason.OUT_OF_SCOPE: "不属于受理范围",
    CancelReason.DUPLICATE: "重复上报（合并）", CancelReason.CONVERTED_TO_NEED: "转为居民需求",
}  # fmt: skip
ORDER_STEP: dict[StepKind, str] = {  # a work order's 处置记录
    StepKind.DISPATCHED: "派遣", StepKind.ACCEPTED: "接单", StepKind.REJECTED: "退单", StepKind.PROGRESS: "进展",
    StepKind.PART_DONE: "协办反馈", StepKind.EXTENSION_REQUESTED: "申请延期", StepKind.EXTENSION_DECIDED: "延期审批",
    StepKind.RESOLVED: "办结", StepKind.REOPENED: "核查未通过，返工", StepKind.CLOSED: "结案",
    StepKind.CANCELLED: "作废",
}  # fmt: skip
REJECT_REASONS = ("非本部门职责", "定位不准，无法找到现场", "信息不全，无法处置", "已由其他部门处置", "其他")
ORDER_ROLE: dict[OrderRole, str] = {OrderRole.LEAD: "主办", OrderRole.ASSISTING: "协办"}
EVENT = {
    "ticket.reported": "上报立案", "ticket.dispatched": "派遣", "ticket.accepted": "接单", "ticket.rejected": "退单",
    "ticket.progressed": "处置进展", "ticket.extension_requested": "申请延期", "ticket.extension_decided": "延期审批",
    "ticket.resolved": "办结", "ticket.reopened": "核查未通过，返工", "ticket.closed": "结案", "ticket.rated": "评价",
    "ticket.cancelled": "作废", "ticket.overdue": "超期", "ticket.escalated": "升级督办",
    "ticket.deadlines_revised": "期限按节假日安排重算",
}  # fmt: skip
RATING: dict[Rating, str] = {
    Rating.SATISFIED: "满意", Rating.BASICALLY_SATISFIED: "基本满意", Rating.UNSATISFIED: "不满意",
}  # fmt: skip
# 共建: needs (居民需求), offers (资源清单) and projects (惠民项目).
NEED_STATUS: dict[NeedStatus, str] = {
    NeedStatus.SUBMITTED: "待审核", NeedStatus.REVIEWED: "已审核", NeedStatus.PUBLISHED: "认领中",
    NeedStatus.ASSIGNED: "已派单", NeedStatus.CLAIMED: "已认领", NeedStatus.IN_SERVICE: "服务中",
    NeedStatus.DELIVERED: "已兑现待确认", NeedStatus.DONE: "已完成", NeedStatus.REJECTED: "未通过",
    NeedStatus.ESCALATED: "逾期未认领（已上报街道）", NeedStatus.CONVERTED: "已转办", NeedStatus.WITHDRAWN: "已撤回",
    NeedStatus.MERGED: "已合并",
}  # fmt: skip
NEED_KIND: dict[NeedKind, str] = {
    NeedKind.WISH: "微心愿", NeedKind.SERVICE: "服务需求", NeedKind.PROJECT_IDEA: "项目建议",
}  # fmt: skip
NEED_SOURCE: dict[NeedSource, str] = {
    NeedSource.APP: "居民自报", NeedSource.VISIT: "网格员走访", NeedSource.HOTLINE: "热线来电",
    NeedSource.WISH_WALL: "心愿墙登记", NeedSource.TICKET: "工单转入", NeedSource.HOTSPOT: "热点难点",
}  # fmt: skip
NEED_ACTION = {  # a need's actions, as its buttons and its confirmations name them
    "review": "审核", "publish": "发布认领", "assign": "派单", "reject": "不予受理", "merge": "合并",
    "convert": "转为案件", "approve-release": "同意退出认领", "accept-assignment": "接单", "return": "退回派单",
    "claim": "认领", "contact": "已联系居民", "request-release": "申请退出认领", "deliver": "已兑现",
    "confirm": "确认完成", "rate": "评价", "withdraw": "撤回",
}  # fmt: skip
OFFER_KIND: dict[OfferKind, str] = {
    OfferKind.VENUE: "场地", OfferKind.SERVICE: "服务", OfferKind.GOODS: "物资", OfferKind.FUNDS: "资金",
    OfferKind.PEOPLE: "人员", OfferKind.CHANNEL: "渠道",
}  # fmt: skip
OFFER_STATUS: dict[OfferStatus, str] = {
    OfferStatus.SUBMITTED: "待社区确认", OfferStatus.ACCEPTED: "已接受", OfferStatus.DECLINED: "未接受",
    OfferStatus.WITHDRAWN: "已撤回",
}  # fmt: skip
PROJECT_STATUS: dict[ProjectStatus, str] = {
    ProjectStatus.PROPOSED: "待审批", ProjectStatus.APPROVED: "已批准", ProjectStatus.IN_PROGRESS: "实施中",
    ProjectStatus.SUSPENDED: "已暂停", ProjectStatus.COMPLETED: "已完成", ProjectStatus.EVALUATED: "已评估",
    ProjectStatus.CANCELLED: "已取消",
}  # fmt: skip
PROJECT_ACTION = {
    "approve": "批准", "start": "开始实施", "progress": "更新进度", "suspend": "暂停", "resume": "恢复实施",
    "complete": "完成结项", "rate": "录入居民评价", "evaluate": "评估", "cancel": "取消项目",
}  # fmt: skip
PROJECT_GRADE = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}
KPIS = (
    ("response_rate", "响应率"),
    ("on_time_resolution_rate", "按期处置率"),
    ("resolution_rate", "解决率"),
    ("satisfaction_rate", "满意率"),
    ("rework_rate", "返工率"),
    ("rejection_rate", "退单率"),
)
UNITS = {"departments": "部门", "streets": "街道", "communities": "社区", "grids": "网格"}


def events_in_order(event_types: Iterable[str]) -> list[tuple[str, str]]:
    """Event types with their Chinese names, in the order a ticket lives them (as EVENT lists them),
    any this console has no name for last: how the webhook form offers them."""
    place = {code: n for n, code in enumerate(EVENT)}
    ordered = sorted(event_types, key=lambda code: (place.get(code, len(place)), code))
    return [(code, EVENT.get(code, code)) for code in ordered]


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(value: Any, fmt: str = "%m-%d %H:%M") -> str:
    """An instant in the city's time zone."""
    moment = _instant(value)
    return moment.astimezone(CITY_ZONE).strftime(fmt) if moment else ""


def countdown(value: Any, now: datetime) -> dict[str, Any]:
    """How long until a deadline (or how long past it) at `now`, as the desk shows it."""
    moment = _instant(value)
    if moment is None:
        return {"text": "", "late": False}
    seconds = int((moment - now).total_seconds())
    late = seconds < 0
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    span = (f"{days}天" if days else "") + (f"{hours}小时" if hours or days else "") + f"{mins}分"
    return {"text": f"超期 {span}" if late else f"剩 {span}", "late": late}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def document() -> dict[str, Any]:
    """The names and limits the app shows, as `GET /app/labels.json` serves them."""
    return {
        "ticket_status": TICKET_STATUS,
        "order_status": ORDER_STATUS,
        "event": EVENT,
        "rating": RATING,
        "queue_reason": QUEUE_REASON,
        "need_status": NEED_STATUS,
        "need_kind": NEED_KIND,
        "limits": {"text_min": limits.TEXT_MIN, "photos_max": limits.PHOTOS_MAX},
    }
