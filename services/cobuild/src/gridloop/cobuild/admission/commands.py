"""What departments, the district and communities do about admission: file a request (decided at
once when the lists decide it), decide, revoke, flag an unadmitted task. Each is decided by the
domain, kept and announced in one transaction."""

from gridloop.cobuild.admission import domain, reference, store
from gridloop.cobuild.admission.domain import Refused, UnknownRequest
from gridloop.cobuild.admission.views import shown, shown_flag
from gridloop.cobuild.offers import store as counters
from gridloop.shared.api.admission import (
    AdmissionRequestBody,
    AdmissionRequestView,
    DecisionBody,
    FlagBody,
    FlagView,
)
from gridloop.shared.events import Actor, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars, RefData

REQUEST_PREFIX = "ZR"


async def _communities(refdata: RefData, body: AdmissionRequestBody) -> tuple[list[str], str]:
    """The communities the task goes to (a street: all of its own) and their district."""
    codes = list(dict.fromkeys(body.community_codes))
    if body.street_code:
        street_communities = await reference.communities_of_street(refdata, body.street_code)
        if not street_communities:
            raise Refused("unknown_street", f"目录中没有街道 {body.street_code} 或其下没有社区")
        codes = list(dict.fromkeys([*codes, *street_communities]))
    districts = set()
    for code in codes:
        community = await reference.community(refdata, code)
        if community is None:
            raise Refused("unknown_community", f"目录中没有社区 {code} (no such community)", {"community_code": code})
        districts.add(await reference.district_of_street(refdata, str(community["street"])))
    if len(districts) != 1 or None in districts:
        raise Refused("several_districts", "承接社区须属于同一个区 (the communities must be in one district)")
    return codes, str(districts.pop())


async def file(
    *, database: Database, refdata: RefData, calendars: Calendars, body: AdmissionRequestBody, actor: Actor
) -> AdmissionRequestView:
    """A department's request; the lists in force on the day decide it when they cover it."""
    if actor.role != Role.DEPARTMENT_AGENT:
        raise domain.NotAllowed("只有职能部门可以提交准入申请 (only a department files admission requests)")
    communities, district = await _communities(refdata, body)
    department = await reference.department(refdata, actor.org)
    items = await reference.items(refdata)
    calendar = await calendars()
    await counters.ensure_counter(database.db, prefix=REQUEST_PREFIX, now=database.clock.now())

    async def work(uow: UnitOfWork) -> AdmissionRequestView:
        request_id = new_id()
        number = await counters.next_number(uow.db, prefix=REQUEST_PREFIX, now=uow.now, session=uow.session)
        doc, payloads = domain.file_request(
            request_id=request_id,
            number=number,
            body=body,
            actor=actor,
            department=department,
            district_code=district,
            communities=communities,
            items=domain.items_in_force(items, district=district, on=domain.city_day(uow.now)),
            calendar=calendar,
            now=uow.now,
        )
        await uow.db[store.REQUESTS].insert_one(doc, session=uow.session)
        if doc["status"] == "admitted":
            await store.put_tasks(uow.db, doc, uow.session)
        for payload in payloads:
            await uow.emit(payload, ticket_id=request_id, actor=actor)
        return shown(doc, reader=actor, now=uow.now)

    return await database.transaction(work)


def _district_only(actor: Actor) -> None:
    if actor.role != Role.SUPERVISOR:
        raise domain.NotAllowed("只有区级审核部门可以决定或撤销准入 (only the district decides)")


async def _request(uow: UnitOfWork, request_id: str, actor: Actor) -> Doc:
    """The request as it is now, read inside the transaction (404 when the actor does not see it)."""
    request = await store.get(uow.db, request_id, session=uow.session)
    if request is None or not domain.visible(request, actor):
        raise UnknownRequest(request_id)
    return request


async def decide(*, database: Database, request_id: str, body: DecisionBody, actor: Actor) -> AdmissionRequestView:
    """The district admits or refuses a request the lists did not decide."""
    _district_only(actor)

    async def work(uow: UnitOfWork) -> AdmissionRequestView:
        request = await _request(uow, request_id, actor)
        changes, payload = domain.decide(request, body=body, actor=actor, now=uow.now)
        await update_versioned(uow, store.REQUESTS, request, changes)
        after = {**request, **changes}
        if after["status"] == "admitted":
            await store.put_tasks(uow.db, after, uow.session)
        await uow.emit(payload, ticket_id=request_id, actor=actor)
        return shown(after, reader=actor, now=uow.now)

    return await database.transaction(work)


async def revoke(*, database: Database, request_id: str, reason: str, actor: Actor) -> AdmissionRequestView:
    """The district withdraws an admission: the task leaves the communities' inboxes."""
    _district_only(actor)

    async def work(uow: UnitOfWork) -> AdmissionRequestView:
        request = await _request(uow, request_id, actor)
        changes, payload = domain.revoke(request, reason=reason, actor=actor, now=uow.now)
        await update_versioned(uow, store.REQUESTS, request, changes)
        await store.set_task_status(uow.db, request_id, str(changes["status"]), uow.session)
        await uow.emit(payload, ticket_id=request_id, actor=actor)
        return shown({**request, **changes}, reader=actor, now=uow.now)

    return await database.transaction(work)


async def flag(*, database: Database, refdata: RefData, body: FlagBody, actor: Actor) -> FlagView:
    """A community worker reports a task that came without admission; it counts against the department."""
    community = await reference.community(refdata, actor.org) or {}
    street = str(community.get("street", ""))
    district = await reference.district_of_street(refdata, street) if street else None
    department = await reference.department(refdata, body.department_code)

    async def work(uow: UnitOfWork) -> FlagView:
        flag_id = new_id()
        doc, payload = domain.flag(
            flag_id=flag_id,
            actor=actor,
            department=department,
            street_code=street,
            district_code=district or "",
            task_type=body.task_type,
            title=body.title,
            received_on=body.received_on,
            note=body.note,
            now=uow.now,
        )
        await uow.db[store.FLAGS].insert_one(doc, session=uow.session)
        await uow.emit(payload, ticket_id=flag_id, actor=actor)
        return shown_flag(doc)

    return await database.transaction(work)
