"""Pure rules of 社区事务准入 (community task admission). No I/O; the time and the lists are passed in.

- A department files a request at least 30 working days before the task starts (an emergency —
  public safety, health, a disaster — may come sooner, with its reason); the district decides within
  15 working days of filing.
- A task on the duty (依法履职) or assist (协助政府) list — or a certificate on the certificate list —
  is admitted by the list; one on the negative list is refused by it with the list's standard text;
  anything else waits for the district, which admits or refuses with a reason. An admitted task may
  be revoked by the district.
- The lists are versions: the district's version in force on a day is the latest whose valid_from
  has come, and it replaces the earlier one whole.
- A community may certify only what the certificate list in force names; anything else is refused
  with the negative list's standard text (naming who issues it), or a default text.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from gridloop.shared.api.admission import (
    LIST_LABELS,
    STATUS_LABELS,
    TASK_TYPE_LABELS,
    AdmissionRequestBody,
    DecisionBody,
    ListItem,
)
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.cobuild_lifecycle import move
from gridloop.shared.events import (
    Actor,
    AdmissionDecided,
    AdmissionRequested,
    AdmissionRevoked,
    AdmissionTaskType,
    Role,
    TaskFlagged,
    VolunteeringPayload,
)
from gridloop.shared.volunteering_lifecycle import ADMISSION_TRANSITIONS, AdmissionStatus
from gridloop.shared.worktime import TimeUnit, WorkCalendar

Doc = dict[str, Any]

WORKING_DAYS_AHEAD = 30
"""A request is filed at least this many working days before the task starts (西城: 30)."""
DECISION_WORKING_DAYS = 15
"""The district decides within this many working days of the filing."""
DEFAULT_REFUSAL = "该证明不在本社区可出具证明事项清单内，请向有关主管部门申请。"
ACTIVE_LISTS = ("duty", "assist")


class Refused(Exception):
    """An action the rules refuse, with the status, code and Chinese message the caller is given."""

    status = 422
    code = "refused"

    def __init__(self, code: str, message: str, details: Any = None, *, status: int | None = None) -> None:
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status
        super().__init__(message)


class NotAllowed(Refused):
    def __init__(self, message: str) -> None:
        super().__init__("forbidden", message, status=403)


class UnknownRequest(LookupError):
    """No such request, or one outside the caller's scope (404)."""


# ---- the lists -----------------------------------------------------------------------------------------


def city_day(now: datetime) -> date:
    return now.astimezone(CITY_ZONE).date()


def version_in_force(items: Iterable[Mapping[str, Any]], *, district: str, on: date) -> str | None:
    """The district's list version in force on `on`: the latest valid_from not after it."""
    versions = {
        (_as_date(i["valid_from"]), str(i["version"]))
        for i in items
        if i.get("district") == district and _as_date(i["valid_from"]) <= on
    }
    return max(versions)[1] if versions else None


def items_in_force(items: Iterable[Mapping[str, Any]], *, district: str, on: date) -> list[Mapping[str, Any]]:
    """The items of the district's version in force on `on`, by code."""
    listed = list(items)
    version = version_in_force(listed, district=district, on=on)
    if version is None:
        return []
    found = [i for i in listed if i.get("district") == district and i["version"] == version]
    return sorted(found, key=lambda i: str(i["code"]))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def list_item(item: Mapping[str, Any]) -> ListItem:
    return ListItem(
        code=item["code"],
        list=item["list"],
        list_label=LIST_LABELS[item["list"]],
        name=item["name"],
        task_type=item.get("task_type"),
        department_code=item.get("department"),
        issuer=item.get("issuer", ""),
        refusal=item.get("refusal", ""),
        version=item["version"],
        valid_from=_as_date(item["valid_from"]),
    )


def matches(item: Mapping[str, Any], *, task_type: AdmissionTaskType, text: str) -> bool:
    """An item covers a task of its type (any type when it names none) whose text has one of its
    keywords, or its name."""
    if item.get("task_type") not in (None, task_type.value):
        return False
    words = [*item.get("keywords", []), item["name"]]
    return any(w and w in text for w in words)


@dataclass(frozen=True)
class ListVerdict:
    admitted: bool
    decided_by: Literal["list", "negative_list"]
    item: Mapping[str, Any]


def by_the_lists(
    items: Sequence[Mapping[str, Any]], *, task_type: AdmissionTaskType, title: str, list_item_code: str | None
) -> ListVerdict | None:
    """What the lists in force decide about a task: admitted with the item it is on, refused by the
    negative list, or None (the district decides). The negative list is looked at first, always. A
    named item must be on the lists in force and be of the task's type; naming it only says which item
    the department means, it does not put an unlisted task on the list: unless the item's keywords (or
    name) are in the title too, the district decides."""
    negative = next((i for i in items if i["list"] == "negative" and matches(i, task_type=task_type, text=title)), None)
    if negative is not None:
        return _verdict(negative)
    positive_lists = (*ACTIVE_LISTS, "certificate") if task_type == AdmissionTaskType.CERTIFICATE else ACTIVE_LISTS
    if list_item_code:
        named = next((i for i in items if i["code"] == list_item_code), None)
        if named is None:
            raise Refused(
                "unknown_list_item",
                f"准入清单中没有编码为 {list_item_code} 的现行事项 (no such item on the lists in force)",
                {"list_item_code": list_item_code},
            )
        if named["list"] == "negative":
            return _verdict(named)
        if named["list"] not in positive_lists or named.get("task_type") not in (None, task_type.value):
            raise Refused(
                "list_item_mismatch",
                f"所列清单事项 {list_item_code} 与申请的事项类型不符 (the named item is not of this task's type)",
                {"list_item_code": list_item_code, "task_type": task_type.value},
            )
        return _verdict(named) if matches(named, task_type=task_type, text=title) else None
    positive = next(
        (i for i in items if i["list"] in positive_lists and matches(i, task_type=task_type, text=title)), None
    )
    return _verdict(positive) if positive is not None else None


def _verdict(item: Mapping[str, Any]) -> ListVerdict:
    if item["list"] == "negative":
        return ListVerdict(admitted=False, decided_by="negative_list", item=item)
    return ListVerdict(admitted=True, decided_by="list", item=item)


# ---- time ----------------------------------------------------------------------------------------------


def earliest_start(now: datetime, calendar: WorkCalendar) -> date:
    """The first day a task filed now may start without an emergency: 30 working days on."""
    return city_day(calendar.add(now, WORKING_DAYS_AHEAD, TimeUnit.WORKING_DAYS))


def decision_due(submitted_at: datetime, calendar: WorkCalendar) -> datetime:
    return calendar.add(submitted_at, DECISION_WORKING_DAYS, TimeUnit.WORKING_DAYS)


def overdue(request: Mapping[str, Any], now: datetime) -> bool:
    return bool(request["status"] == AdmissionStatus.SUBMITTED and request["decision_due"] <= now)


# ---- requests ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Department:
    code: str
    name: str


def request_number(*, now: datetime, seq: int) -> str:
    return f"ZR-{now.astimezone(CITY_ZONE):%Y%m%d}-{seq:04d}"


def file_request(
    *,
    request_id: str,
    number: str,
    body: AdmissionRequestBody,
    actor: Actor,
    department: Department | None,
    district_code: str,
    communities: Sequence[str],
    items: Sequence[Mapping[str, Any]],
    calendar: WorkCalendar,
    now: datetime,
) -> tuple[Doc, list[VolunteeringPayload]]:
    """A department's request, decided at once when the lists decide it."""
    if actor.role != Role.DEPARTMENT_AGENT:
        raise NotAllowed("只有职能部门可以提交准入申请 (only a department files admission requests)")
    if department is None:
        raise Refused("unknown_department", f"目录中没有部门 {actor.org} (the directory has no such department)")
    if not communities:
        raise Refused("no_communities", "没有可承接的社区 (no community to put the task on)")
    if body.emergency and len(body.emergency_reason) < 2:
        raise Refused("emergency_reason_required", "紧急事项须说明紧急事由 (an emergency needs its reason)")
    today = city_day(now)
    if body.starts_on < today:
        raise Refused("starts_in_the_past", "开始日期已过 (the task cannot start in the past)")
    earliest = earliest_start(now, calendar)
    if not body.emergency and body.starts_on < earliest:
        raise Refused(
            "too_late",
            f"须在开始前至少{WORKING_DAYS_AHEAD}个工作日提出准入申请，最早可于 {earliest.isoformat()} 开始 "
            "(file at least 30 working days ahead, or mark it an emergency with its reason)",
            {"earliest_start": earliest.isoformat()},
        )
    verdict = by_the_lists(items, task_type=body.task_type, title=body.title, list_item_code=body.list_item_code)
    status = move(ADMISSION_TRANSITIONS, None, "admission.requested")
    doc: Doc = {
        "_id": request_id,
        "number": number,
        "department_code": department.code,
        "department_name": department.name,
        "district_code": district_code,
        "task_type": body.task_type.value,
        "title": body.title,
        "description": body.description,
        "community_codes": list(communities),
        "starts_on": body.starts_on.isoformat(),
        "ends_on": body.ends_on.isoformat() if body.ends_on else None,
        "resources_provided": body.resources_provided,
        "emergency": body.emergency,
        "emergency_reason": body.emergency_reason if body.emergency else "",
        "status": status.value,
        "decided_by": None,
        "list_item": None,
        "reason": "",
        "submitted_by": actor.sub,
        "submitted_at": now,
        "decision_due": decision_due(now, calendar),
        "decided_at": None,
        "revoked_at": None,
        "version": 1,
    }
    payloads: list[VolunteeringPayload] = [
        AdmissionRequested(
            request_id=request_id,
            department_code=department.code,
            district_code=district_code,
            task_type=body.task_type,
            community_codes=list(communities),
            starts_on=datetime.combine(body.starts_on, datetime.min.time(), CITY_ZONE),
            emergency=body.emergency,
        )
    ]
    if verdict is not None:
        changes, decided = _decide(
            doc,
            admitted=verdict.admitted,
            decided_by=verdict.decided_by,
            item=verdict.item,
            reason="" if verdict.admitted else str(verdict.item.get("refusal", "")),
            now=now,
        )
        doc.update(changes)
        payloads.append(decided)
    return doc, payloads


def _decide(
    request: Mapping[str, Any],
    *,
    admitted: bool,
    decided_by: Literal["list", "negative_list", "district"],
    item: Mapping[str, Any] | None,
    reason: str,
    now: datetime,
) -> tuple[Doc, AdmissionDecided]:
    event = "admission.admitted" if admitted else "admission.refused"
    status = move(ADMISSION_TRANSITIONS, AdmissionStatus(request["status"]), event)
    changes: Doc = {
        "status": status.value,
        "decided_by": decided_by,
        "list_item": dict(item) if item is not None else None,
        "reason": reason,
        "decided_at": now,
    }
    return changes, AdmissionDecided(
        request_id=request["_id"],
        department_code=request["department_code"],
        district_code=request["district_code"],
        admitted=admitted,
        decided_by=decided_by,
        list_item_code=str(item["code"]) if item is not None else None,
        reason=reason,
    )


def decides(actor: Actor, request: Mapping[str, Any]) -> bool:
    """The district's supervisor decides and revokes the district's requests."""
    return actor.role == Role.SUPERVISOR and actor.org == request["district_code"]


def decide(
    request: Mapping[str, Any], *, body: DecisionBody, actor: Actor, now: datetime
) -> tuple[Doc, AdmissionDecided]:
    if not decides(actor, request):
        raise NotAllowed("只有区级审核部门可以决定准入 (only the district decides)")
    return _decide(request, admitted=body.admitted, decided_by="district", item=None, reason=body.reason, now=now)


def revoke(request: Mapping[str, Any], *, reason: str, actor: Actor, now: datetime) -> tuple[Doc, AdmissionRevoked]:
    if not decides(actor, request):
        raise NotAllowed("只有区级审核部门可以撤销准入 (only the district revokes)")
    status = move(ADMISSION_TRANSITIONS, AdmissionStatus(request["status"]), "admission.revoked")
    changes: Doc = {"status": status.value, "revoked_at": now, "revoke_reason": reason}
    return changes, AdmissionRevoked(
        request_id=request["_id"], department_code=request["department_code"], reason=reason
    )


def allowed_actions(request: Mapping[str, Any], actor: Actor) -> list[Literal["admit", "refuse", "revoke"]]:
    if not decides(actor, request):
        return []
    if request["status"] == AdmissionStatus.SUBMITTED:
        return ["admit", "refuse"]
    if request["status"] == AdmissionStatus.ADMITTED:
        return ["revoke"]
    return []


def status_label(status: str) -> str:
    return STATUS_LABELS[AdmissionStatus(status)]


def task_type_label(task_type: str) -> str:
    return TASK_TYPE_LABELS[AdmissionTaskType(task_type)]


# ---- who sees what -------------------------------------------------------------------------------------


def list_filter(reader: Actor) -> Doc | None:
    """The requests a reader may list: a department its own, the district its district's, a
    community worker the admitted ones put on its community."""
    match reader.role:
        case Role.DEPARTMENT_AGENT:
            return {"department_code": reader.org}
        case Role.SUPERVISOR:
            return {"district_code": reader.org}
        case Role.COMMUNITY_WORKER:
            return {"community_codes": reader.org, "status": AdmissionStatus.ADMITTED.value}
    return None


def visible(request: Mapping[str, Any], reader: Actor) -> bool:
    match reader.role:
        case Role.DEPARTMENT_AGENT:
            return bool(request["department_code"] == reader.org)
        case Role.SUPERVISOR:
            return bool(request["district_code"] == reader.org)
        case Role.COMMUNITY_WORKER:
            return reader.org in request["community_codes"] and request["status"] == AdmissionStatus.ADMITTED
    return False


def in_inbox(request: Mapping[str, Any], *, today: date) -> bool:
    """Admitted, not revoked, and not yet over (current or upcoming)."""
    ends = request.get("ends_on")
    return request["status"] == AdmissionStatus.ADMITTED and (ends is None or date.fromisoformat(ends) >= today)


def current(request: Mapping[str, Any], *, today: date) -> bool:
    return date.fromisoformat(request["starts_on"]) <= today


# ---- flags ---------------------------------------------------------------------------------------------


def flag(
    *,
    flag_id: str,
    actor: Actor,
    department: Department | None,
    street_code: str,
    district_code: str,
    task_type: AdmissionTaskType,
    title: str,
    received_on: date,
    note: str,
    now: datetime,
) -> tuple[Doc, TaskFlagged]:
    """A community worker reports a task that reached the community without admission."""
    if actor.role != Role.COMMUNITY_WORKER:
        raise NotAllowed("只有社区工作者可以报告未准入事项 (only a community worker flags a task)")
    if department is None:
        raise Refused("unknown_department", "目录中没有该部门 (the directory has no such department)")
    if received_on > city_day(now):
        raise Refused("received_in_the_future", "收到日期不能晚于今天 (received_on is after today)")
    doc: Doc = {
        "_id": flag_id,
        "community_code": actor.org,
        "street_code": street_code,
        "district_code": district_code,
        "department_code": department.code,
        "department_name": department.name,
        "task_type": task_type.value,
        "title": title,
        "received_on": received_on.isoformat(),
        "note": note,
        "flagged_by": actor.sub,
        "flagged_at": now,
    }
    return doc, TaskFlagged(
        flag_id=flag_id,
        community_code=actor.org,
        street_code=street_code,
        department_code=department.code,
        district_code=district_code,
        task_type=task_type,
    )


# ---- certificates --------------------------------------------------------------------------------------


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def check_certificate(items: Sequence[Mapping[str, Any]], asked: str) -> Mapping[str, Any]:
    """The certificate-list item asked for (by code or name, or a name that has one of its keywords);
    else Refused `certificate_not_issued_here` with the negative list's text or the default one."""
    certificates = [i for i in items if i["list"] == "certificate"]
    exact = next((i for i in certificates if _same(i["code"], asked) or _same(i["name"], asked)), None)
    negative = [i for i in items if i["list"] == "negative" and i.get("task_type") in (None, "certificate")]
    named_negative = next(
        (
            i
            for i in negative
            if _same(i["code"], asked) or matches(i, task_type=AdmissionTaskType.CERTIFICATE, text=asked)
        ),
        None,
    )
    if exact is not None:
        return exact
    if named_negative is None:
        loose = next((i for i in certificates if matches(i, task_type=AdmissionTaskType.CERTIFICATE, text=asked)), None)
        if loose is not None:
            return loose
    if named_negative is not None:
        raise Refused(
            "certificate_not_issued_here",
            str(named_negative["refusal"]),
            {
                "certificate": asked,
                "list_item_code": named_negative["code"],
                "department_code": named_negative.get("department"),
                "issuer": named_negative.get("issuer", ""),
            },
        )
    raise Refused(
        "certificate_not_issued_here",
        DEFAULT_REFUSAL,
        {"certificate": asked, "list_item_code": None, "department_code": None, "issuer": "有关主管部门"},
    )
