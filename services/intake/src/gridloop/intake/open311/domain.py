"""Open311 GeoReport v2 rules: the category catalogue as services, a 311 client's form as a
report, GridLoop's states as `open`/`closed` with notes, and the client applications' keys and
areas. Pure: no I/O, no clock read.

Specification: GeoReport v2 (wiki.open311.org/GeoReport_v2). Identifiers: a service is a
category (`service_code` = category code); a service request is a report, and its
`service_request_id` is the ticket number (QH-20261201-00027) people see everywhere else; its
`token` is the ticket id."""

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridloop.shared.api.intake import ReportRequest
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import CancelReason, GeoPoint, Priority
from gridloop.shared.lifecycle import TERMINAL_STATES, TicketStatus

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00+08:00"  # when this endpoint's behaviour last changed
FORMATS = {"json": "application/json", "xml": "text/xml"}
DEFAULT_WINDOW = timedelta(days=90)  # GET requests without dates: the last 90 days
MAX_RESULTS = 1000
MAX_DESCRIPTION = 2000  # GridLoop's own limit on a report's text (the specification allows 4000)
KEY_PREFIX = "o311_"


class Open311Error(Exception):
    """An answer in the specification's error format: HTTP status, and the description (and
    headers such as a refusal's Retry-After)."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.description = description
        self.headers = headers or {}
        super().__init__(description)


# ---- client applications ---------------------------------------------------------------------


def new_api_key() -> str:
    """A key shown once to the admin who registers the application; only its hash is kept."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(api_key: str) -> str:
    """Keys are 256 random bits, so one SHA-256 is enough to keep them unreadable at rest
    (a slow hash protects guessable passwords, not random keys)."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def key_matches(api_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(api_key), stored_hash)


# ---- services (categories) -------------------------------------------------------------------

PRIORITY_ATTRIBUTE = {
    "variable": True,
    "code": "priority",
    "datatype": "singlevaluelist",
    "required": False,
    "datatype_description": "一般 normal（默认）或 紧急 urgent",
    "order": 1,
    "description": "紧急程度 (priority): 紧急 shortens the time limits",
    "values": [{"key": Priority.NORMAL.value, "name": "一般"}, {"key": Priority.URGENT.value, "name": "紧急"}],
}
"""The attribute every service takes: the categories carry no other extra fields yet; when they
do, they are listed here the same way."""


def service(category: Mapping[str, Any]) -> dict[str, Any]:
    family = "部件" if category.get("family") == "component" else "事件"
    major = category.get("major") or {}
    return {
        "service_code": category["code"],
        "service_name": category["name"],
        "description": f"{family} · {major.get('name', '')} · {category['name']}",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(k for k in (family, major.get("name", ""), category["name"]) if k),
        "group": major.get("name", ""),
    }


def service_definition(category: Mapping[str, Any]) -> dict[str, Any]:
    return {"service_code": category["code"], "attributes": [PRIORITY_ATTRIBUTE]}


# ---- a 311 client's form → a report -----------------------------------------------------------


@dataclass(frozen=True)
class Filing:
    report: ReportRequest
    media_url: str | None
    fingerprint_fields: tuple[tuple[str, str], ...]


def _number(form: Mapping[str, str], name: str, low: float, high: float) -> float:
    try:
        value = float(form[name])
    except ValueError as exc:
        raise Open311Error(400, f"{name} 不是数字 ({name} must be a number)") from exc
    if not low <= value <= high:
        raise Open311Error(400, f"{name} 超出范围 ({name} must lie between {low} and {high})")
    return value


def parse_filing(form: Mapping[str, str], *, category: Mapping[str, Any]) -> Filing:
    """The form of POST requests as GridLoop's report. A place is a WGS84 point (lat/long):
    GridLoop finds the grid from it. An address alone cannot be placed (no geocoder is
    configured), so it is refused with 400 rather than filed nowhere."""
    has_lat, has_long = bool(form.get("lat")), bool(form.get("long"))
    if has_lat != has_long:
        raise Open311Error(400, "lat 与 long 须同时提供 (give both lat and long)")
    if not has_lat:
        if form.get("address_string") or form.get("address_id"):
            raise Open311Error(
                400, "仅凭地址无法定位，请提供 lat/long (an address alone cannot be placed: give lat and long)"
            )
        raise Open311Error(400, "需要定位 lat/long (lat and long are required)")
    point = GeoPoint(lon=_number(form, "long", -180, 180), lat=_number(form, "lat", -90, 90))
    description = (form.get("description") or "").strip() or str(category["name"])
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description 过长，最多 {MAX_DESCRIPTION} 字 (description too long)")
    priority = form.get("attribute[priority]") or Priority.NORMAL.value
    if priority not in {p.value for p in Priority}:
        raise Open311Error(400, "attribute[priority] 只能是 normal 或 urgent (priority must be normal or urgent)")
    unknown = sorted(k for k in form if k.startswith("attribute[") and k != "attribute[priority]")
    if unknown:
        raise Open311Error(400, f"未知的属性 (unknown attributes): {', '.join(unknown)}")
    media_url = (form.get("media_url") or "").strip() or None
    if media_url and not media_url.startswith(("https://", "http://")):
        raise Open311Error(400, "media_url 须为 http(s) 地址 (media_url must be an http(s) address)")
    address = (form.get("address_string") or "").strip()[:300]
    report = ReportRequest(
        category_code=str(category["code"]),
        description=description if len(description) >= 2 else f"{description}（{category['name']}）",
        location=point,
        address=address,
        priority=Priority(priority),
    )
    fields = tuple(sorted((k, v) for k, v in form.items() if k != "api_key"))
    return Filing(report=report, media_url=media_url, fingerprint_fields=fields)


def implied_idempotency_key(client_id: str, fields: tuple[tuple[str, str], ...]) -> str:
    """311 clients send no Idempotency-Key: the same form sent again by the same application
    (a retry after a lost answer) is the same filing. A client that sends the header gets it."""
    digest = hashlib.sha256(repr((client_id, fields)).encode()).hexdigest()[:40]
    return f"open311-form-{digest}"


# ---- reports → service requests ----------------------------------------------------------------

CANCEL_NOTES = {
    CancelReason.INVALID.value: "无效上报",
    CancelReason.OUT_OF_SCOPE.value: "不属于受理范围",
    CancelReason.DUPLICATE.value: "重复上报，已并入",
}


def open_or_closed(status: str) -> str:
    return "closed" if TicketStatus(status) in TERMINAL_STATES else "open"


def status_notes(report: Mapping[str, Any], lead_name: str) -> str:
    """What became of it, in the words the city's own app uses."""
    status = TicketStatus(report["status"])
    dept = lead_name or "责任部门"
    match status:
        case TicketStatus.REPORTED:
            return "已立案，等待派遣"
        case TicketStatus.PENDING_DISPATCH:
            return "等待街道人工派遣"
        case TicketStatus.DISPATCHED:
            return f"已派遣至{dept}，等待接单"
        case TicketStatus.ACCEPTED:
            return f"{dept}已接单，正在处置"
        case TicketStatus.RESOLVED:
            return f"{dept}已处置完毕，等待现场核查"
        case TicketStatus.REOPENED:
            return f"核查未通过，已退回{dept}返工"
        case TicketStatus.CLOSED:
            return "已办结：现场核查通过"
        case TicketStatus.CANCELLED:
            reason = _cancel_reason(report)
            merged = report.get("duplicate_of")
            return f"已撤销：{reason}" + (f"（{merged}）" if merged and reason == CANCEL_NOTES["duplicate"] else "")
    raise AssertionError(status)


def _cancel_reason(report: Mapping[str, Any]) -> str:
    return CANCEL_NOTES.get(str(report.get("cancel_reason") or ""), "已撤销")


def city_time(at: datetime | None) -> str | None:
    """Dates with their time zone, in the city's zone: 2026-12-01T09:30:00+08:00."""
    return at.astimezone(CITY_ZONE).isoformat(timespec="seconds") if at else None


def service_request(report: Mapping[str, Any], *, lead_name: str) -> dict[str, Any]:
    location = report.get("location")
    return {
        "service_request_id": report["ticket_number"],
        "status": open_or_closed(report["status"]),
        "status_notes": status_notes(report, lead_name),
        "service_name": report["category_name"],
        "service_code": report["category_code"],
        "description": report["description"],
        "agency_responsible": lead_name,
        "service_notice": "",
        "requested_datetime": city_time(report["created_at"]),
        "updated_datetime": city_time(report["updated_at"]),
        "expected_datetime": city_time(report.get("resolve_deadline")),
        "address": report.get("address", ""),
        "address_id": "",
        "zipcode": "",
        "lat": location["lat"] if location else None,
        "long": location["lon"] if location else None,
        "media_url": report.get("media_url") or "",
    }


# ---- GET requests filters ----------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    numbers: list[str] | None
    categories: list[str] | None
    statuses: list[str] | None  # GridLoop states
    start: datetime
    end: datetime | None


def _date(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} 须为 ISO 8601 时间 ({name} must be a w3 date-time)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CITY_ZONE)


def _listed(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


def parse_query(params: Mapping[str, str], *, now: datetime) -> Query:
    """The filters of GET requests. Without dates, the last 90 days; with service_request_id,
    the others are ignored (as the specification says)."""
    numbers = _listed(params.get("service_request_id"))
    if numbers:
        return Query(
            numbers=numbers[:MAX_RESULTS],
            categories=None,
            statuses=None,
            start=datetime.min.replace(tzinfo=CITY_ZONE),
            end=None,
        )
    end = _date(params["end_date"], "end_date") if params.get("end_date") else None
    start = _date(params["start_date"], "start_date") if params.get("start_date") else (end or now) - DEFAULT_WINDOW
    if end is not None and end < start:
        raise Open311Error(400, "end_date 早于 start_date (end_date is before start_date)")
    wanted = _listed(params.get("status"))
    statuses: list[str] | None = None
    if wanted:
        if not set(wanted) <= {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed (status must be open or closed)")
        statuses = sorted(s.value for s in TicketStatus if open_or_closed(s.value) in wanted)
    return Query(numbers=None, categories=_listed(params.get("service_code")), statuses=statuses, start=start, end=end)
