"""Admission as the API shows it: requests (one, a page), a community's inbox, flags, and the
certificates a community may issue."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.admission import domain, reference, store
from gridloop.cobuild.admission.domain import NotAllowed, Refused, UnknownRequest
from gridloop.shared.api.admission import (
    AdmissionRequestPage,
    AdmissionRequestView,
    CertificateAccepted,
    CertificateList,
    FlagList,
    FlagView,
    Inbox,
    InboxTask,
)
from gridloop.shared.clock import as_utc
from gridloop.shared.events import Actor, AdmissionTaskType, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor, page
from gridloop.shared.refdata import RefData
from gridloop.shared.volunteering_lifecycle import AdmissionStatus

RequestKey = tuple[Literal["admission"], str]
REQUEST_CURSOR = Cursor(TypeAdapter(RequestKey))


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def shown(request: dict[str, Any], *, reader: Actor, now: datetime) -> AdmissionRequestView:
    item = request.get("list_item")
    return AdmissionRequestView(
        id=request["_id"],
        number=request["number"],
        department_code=request["department_code"],
        department_name=request["department_name"],
        district_code=request["district_code"],
        task_type=request["task_type"],
        task_type_label=domain.task_type_label(request["task_type"]),
        title=request["title"],
        description=request["description"],
        community_codes=request["community_codes"],
        starts_on=date.fromisoformat(request["starts_on"]),
        ends_on=_date(request.get("ends_on")),
        resources_provided=request["resources_provided"],
        emergency=request["emergency"],
        emergency_reason=request["emergency_reason"],
        status=request["status"],
        status_label=domain.status_label(request["status"]),
        decided_by=request.get("decided_by"),
        list_item=domain.list_item(item) if item else None,
        reason=request.get("revoke_reason") or request.get("reason", ""),
        submitted_at=as_utc(request["submitted_at"]),
        decision_due=as_utc(request["decision_due"]),
        overdue=domain.overdue({**request, "decision_due": as_utc(request["decision_due"])}, now),
        decided_at=as_utc(request["decided_at"]) if request.get("decided_at") else None,
        revoked_at=as_utc(request["revoked_at"]) if request.get("revoked_at") else None,
        allowed_actions=domain.allowed_actions(request, reader),
    )


def shown_flag(flag: Doc) -> FlagView:
    return FlagView(
        id=flag["_id"],
        community_code=flag["community_code"],
        department_code=flag["department_code"],
        department_name=flag["department_name"],
        task_type=flag["task_type"],
        task_type_label=domain.task_type_label(flag["task_type"]),
        title=flag["title"],
        received_on=date.fromisoformat(flag["received_on"]),
        note=flag["note"],
        flagged_at=as_utc(flag["flagged_at"]),
    )


async def one(*, database: Database, reader: Actor, request_id: str) -> AdmissionRequestView:
    if domain.list_filter(reader) is None:
        raise NotAllowed("无权查看准入申请 (your role does not read admission requests)")
    request = await store.get(database.db, request_id)
    if request is None or not domain.visible(request, reader):
        raise UnknownRequest(request_id)
    return shown(request, reader=reader, now=database.clock.now())


async def listing(
    *,
    database: Database,
    reader: Actor,
    status: AdmissionStatus | None,
    overdue: bool,
    limit: int,
    cursor: str | None,
) -> AdmissionRequestPage:
    """The requests in the reader's scope, newest first; `overdue`: only those past their decision's due time."""
    scope = domain.list_filter(reader)
    if scope is None or reader.role == Role.COMMUNITY_WORKER:
        raise NotAllowed("无权查看准入申请 (your role does not read admission requests)")
    now = database.clock.now()
    parts: list[Doc] = [scope]
    if status is not None:
        parts.append({"status": status.value})
    if overdue:
        parts.append({"status": AdmissionStatus.SUBMITTED.value, "decision_due": {"$lte": now}})
    before = REQUEST_CURSOR.decode(cursor)[1] if cursor else None
    docs, next_cursor = page(
        await store.listing(database.db, query={"$and": parts}, before=before, limit=limit + 1),
        limit=limit,
        key=lambda d: REQUEST_CURSOR.encode(("admission", d["_id"])),
    )
    return AdmissionRequestPage(items=[shown(d, reader=reader, now=now) for d in docs], next_cursor=next_cursor)


async def inbox(*, database: Database, reader: Actor) -> Inbox:
    """The community's admitted tasks, current and upcoming (a revoked or finished one is gone)."""
    if reader.role != Role.COMMUNITY_WORKER:
        raise NotAllowed("社区事务收件箱只对社区工作者开放 (only a community worker reads the inbox)")
    today = domain.city_day(database.clock.now())
    found = await store.inbox(database.db, community=reader.org, status=AdmissionStatus.ADMITTED.value)
    return Inbox(
        community_code=reader.org,
        items=[
            InboxTask(
                request_id=r["_id"],
                number=r["number"],
                department_code=r["department_code"],
                department_name=r["department_name"],
                task_type=r["task_type"],
                task_type_label=domain.task_type_label(r["task_type"]),
                title=r["title"],
                description=r["description"],
                starts_on=date.fromisoformat(r["starts_on"]),
                ends_on=_date(r.get("ends_on")),
                resources_provided=r["resources_provided"],
                emergency=r["emergency"],
                decided_by=r.get("decided_by"),
                list_item_name=str((r.get("list_item") or {}).get("name", "")),
                current=domain.current(r, today=today),
            )
            for r in found
            if domain.in_inbox(r, today=today)
        ],
    )


def _flag_scope(reader: Actor) -> Doc:
    match reader.role:
        case Role.COMMUNITY_WORKER:
            return {"community_code": reader.org}
        case Role.DEPARTMENT_AGENT:
            return {"department_code": reader.org}
        case Role.SUPERVISOR:
            return {"$or": [{"district_code": reader.org}, {"street_code": reader.org}]}
        case Role.STREET_DISPATCHER:
            return {"street_code": reader.org}
    raise NotAllowed("无权查看未准入事项 (your role does not read flags)")


async def flags(*, database: Database, reader: Actor, limit: int) -> FlagList:
    found = await store.flags(database.db, query=_flag_scope(reader), limit=limit)
    return FlagList(items=[shown_flag(f) for f in found])


async def _district_of(refdata: RefData, community_code: str) -> str:
    community = await reference.community(refdata, community_code)
    if community is None:
        raise Refused("unknown_community", f"目录中没有社区 {community_code} (no such community)")
    return await reference.district_of_street(refdata, str(community["street"])) or ""


async def certificates(*, refdata: RefData, community_code: str, now: datetime) -> CertificateList:
    """The certificate list in force today for the community's district, and the negative list's
    certificates with who issues them instead."""
    district = await _district_of(refdata, community_code)
    every = await reference.items(refdata)
    today = domain.city_day(now)
    in_force = domain.items_in_force(every, district=district, on=today)
    return CertificateList(
        community_code=community_code,
        district_code=district,
        version=domain.version_in_force(every, district=district, on=today),
        items=[domain.list_item(i) for i in in_force if i["list"] == "certificate"],
        negative=[
            domain.list_item(i)
            for i in in_force
            if i["list"] == "negative" and i.get("task_type") in (None, AdmissionTaskType.CERTIFICATE.value)
        ],
    )


CERTIFYING_ROLES = (Role.RESIDENT, Role.MEMBER, Role.COMMUNITY_WORKER)


async def certificate_request(
    *, refdata: RefData, reader: Actor, community_code: str, certificate: str, now: datetime
) -> CertificateAccepted:
    """A certificate asked of the community: accepted when on its list, else refused with the text
    naming who issues it."""
    if reader.role not in CERTIFYING_ROLES:
        raise NotAllowed("只有居民或社区工作者可以申请开具证明 (only a resident or a community worker asks)")
    if reader.role == Role.COMMUNITY_WORKER and reader.org != community_code:
        raise NotAllowed("只能为本社区受理证明申请 (only for your own community)")
    district = await _district_of(refdata, community_code)
    in_force = domain.items_in_force(await reference.items(refdata), district=district, on=domain.city_day(now))
    item = domain.check_certificate(in_force, certificate)
    return CertificateAccepted(community_code=community_code, item=domain.list_item(item))
