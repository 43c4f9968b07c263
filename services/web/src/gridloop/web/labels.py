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
from gridloop.shared.events import CancelReason, Rating
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
        "limits": {"text_min": limits.TEXT_MIN, "photos_max": limits.PHOTOS_MAX},
    }
