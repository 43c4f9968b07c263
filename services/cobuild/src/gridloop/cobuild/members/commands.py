"""What people ask of 双报到: a unit reports to a paired community and confirms its headcount; a
person registers; the community confirms, places, deactivates or transfers them; a member returns;
an admin erases a person's data. Each step acts in one transaction on the member as it is now,
decided by the domain, kept and announced (key: the member id; unit.* by the unit code)."""

from collections.abc import Callable
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from gridloop.cobuild.members import domain, store, views
from gridloop.cobuild.members.domain import Decision, MemberRefused, Residence, Rules
from gridloop.cobuild.members.views import UnknownMember
from gridloop.cobuild.needs import store as needs_store
from gridloop.cobuild.needs.reference import NEED_CATEGORY, UNIT
from gridloop.cobuild.posts import domain as posts_domain
from gridloop.cobuild.posts import store as posts_store
from gridloop.shared.api.members import (
    Headcount,
    HeadcountRequest,
    Member,
    RegisterRequest,
    UnitReport,
)
from gridloop.shared.events import Actor, MemberDeactivated, MemberTransferred, Role, UnitHeadcountConfirmed
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData
from gridloop.shared.volunteering_lifecycle import MemberStatus


@dataclass(frozen=True)
class Settings:
    """What commands read of the service's settings."""

    rules: Rules
    id_salt: str


async def residence(refdata: RefData, community_code: str) -> Residence | None:
    community = await refdata.get("community", community_code)
    if community is None:
        return None
    street = await refdata.get("street", community["street"]) or {}
    return Residence(
        community_code=community_code, street_code=community["street"], district_code=str(street.get("district", ""))
    )


async def grid_community(refdata: RefData, grid_code: str) -> str | None:
    grid = await refdata.get("grid", grid_code)
    return str(grid["community"]) if grid else None


def _unit_admin_of(actor: Actor, unit_code: str) -> None:
    if actor.role != Role.UNIT_ADMIN or actor.org != unit_code:
        raise MemberRefused(404, "not_found", f"单位不存在 (no unit {unit_code} of yours)")


async def report_unit(
    *, database: Database, refdata: RefData, actor: Actor, unit_code: str, community_code: str
) -> UnitReport:
    """单位报到 to a paired community: recorded and the receipt (回执) issued at once. Reporting
    again to the same community answers with the receipt already issued."""
    _unit_admin_of(actor, unit_code)
    unit = await refdata.get(UNIT, unit_code)
    place = await residence(refdata, community_code)
    domain.report_unit(unit_code=unit_code, unit=unit, community_code=community_code)
    if place is None:
        raise MemberRefused(422, "unknown_community", f"社区不存在 ({community_code})")
    report_id = f"{unit_code}:{community_code}"
    earlier = await database.db[store.UNITS_REPORTED].find_one({"_id": report_id})
    if earlier is not None:
        return UnitReport(id=report_id, **{k: v for k, v in earlier.items() if k != "_id"})
    now = database.clock.now()
    year = domain.city_year(now)
    seq = await needs_store.next_seq(database.db, f"receipt:{community_code}:{year}")
    receipt = domain.receipt_number(community_code=community_code, year=year, seq=seq)

    async def work(uow: UnitOfWork) -> UnitReport:
        doc: Doc = {
            "_id": report_id,
            "unit_code": unit_code,
            "community_code": community_code,
            "street_code": place.street_code,
            "district_code": place.district_code,
            "receipt_number": receipt,
            "reported_at": uow.now,
        }
        await uow.db[store.UNITS_REPORTED].insert_one(doc, session=uow.session)
        event = domain.unit_reported(
            unit_code=unit_code,
            community_code=community_code,
            street_code=place.street_code,
            district_code=place.district_code,
            receipt=receipt,
        )
        await uow.emit(event, ticket_id=unit_code, actor=actor)
        return UnitReport(id=report_id, **{k: v for k, v in doc.items() if k != "_id"})

    try:
        return await database.transaction(work)
    except DuplicateKeyError:
        again = await database.db[store.UNITS_REPORTED].find_one({"_id": report_id})
        if again is None:
            raise
        return UnitReport(id=report_id, **{k: v for k, v in again.items() if k != "_id"})


async def confirm_headcount(
    *, database: Database, refdata: RefData, actor: Actor, unit_code: str, body: HeadcountRequest
) -> Headcount:
    _unit_admin_of(actor, unit_code)

    async def work(uow: UnitOfWork) -> Headcount:
        await uow.db[store.UNIT_HEADCOUNTS].update_one(
            {"_id": unit_code},
            {"$set": {"party_members": body.party_members, "confirmed_at": uow.now}},
            upsert=True,
            session=uow.session,
        )
        event = UnitHeadcountConfirmed(unit_code=unit_code, party_members=body.party_members)
        await uow.emit(event, ticket_id=unit_code, actor=actor)
        return Headcount(unit_code=unit_code, party_members=body.party_members, confirmed_at=uow.now)

    return await database.transaction(work)


async def register(
    *, database: Database, refdata: RefData, actor: Actor, body: RegisterRequest, settings: Settings
) -> Member:
    """个人报到 by the person (MEMBER: their residence community is their token's) or at the
    community's desk (COMMUNITY_WORKER, naming the person's sub)."""
    if actor.role == Role.MEMBER:
        sub = actor.sub
    elif actor.role == Role.COMMUNITY_WORKER:
        if not body.sub:
            raise MemberRefused(422, "sub_required", "现场报到请填写报到人账号 (the person's sub)")
        sub = body.sub
    else:
        raise MemberRefused(403, "forbidden", "只有本人或社区工作者可以报到 (the person or the community desk)")
    place = await residence(refdata, actor.org)
    if place is None:
        raise MemberRefused(422, "unknown_community", f"社区不存在 ({actor.org})")
    unit = await refdata.get(UNIT, body.unit_code) if body.unit_code else None
    categories = frozenset(c["code"] for c in await refdata.all(NEED_CATEGORY))
    domain.check_registration(
        id_number=body.id_number,
        party_member=body.party_member,
        unit_code=body.unit_code,
        unit=unit,
        service_types=body.service_types,
        known_service_types=categories,
    )

    async def work(uow: UnitOfWork) -> Member:
        previous = await store.latest_of(uow.db, sub, session=uow.session)
        member_id = "M-" + new_id().replace("-", "")
        event, doc = domain.register(
            member_id=member_id,
            sub=sub,
            previous=MemberStatus(previous["status"]) if previous else None,
            residence=place,
            party_member=body.party_member,
            unit_code=body.unit_code,
            skills=body.skills,
            service_types=body.service_types,
            availability=body.availability,
            channel=body.channel,
            now=uow.now,
        )
        private = {
            "_id": member_id,
            "name": body.name,
            "phone": body.phone,
            "id_hash": domain.id_hash(body.id_number, salt=settings.id_salt),
            "id_tail": domain.id_tail(body.id_number),
        }
        await uow.db[store.MEMBERS].insert_one(doc, session=uow.session)
        await uow.db[store.MEMBER_PRIVATE].insert_one(private, session=uow.session)
        await uow.emit(event, ticket_id=member_id, actor=actor)
        return views.shown(doc, reader=actor, private=private, posts=[], rules=settings.rules)

    try:
        return await database.transaction(work)
    except DuplicateKeyError as exc:
        raise MemberRefused(409, "already_registered", "您已报到，无需重复报到 (one registration per person)") from exc


Permit = Callable[[Actor, Doc], bool]


def community_worker(actor: Actor, member: Doc) -> bool:
    return actor.role == Role.COMMUNITY_WORKER and actor.org == member["community_code"]


def self_or_community(actor: Actor, member: Doc) -> bool:
    return community_worker(actor, member) or (actor.role == Role.MEMBER and actor.sub == member["sub"])


def admin(actor: Actor, member: Doc) -> bool:
    return actor.role == Role.ADMIN


async def act(
    *,
    database: Database,
    actor: Actor,
    member_id: str,
    permit: Permit,
    decide: Callable[[Doc, UnitOfWork], Decision],
    rules: Rules,
) -> Member:
    """One step on a member: in the caller's sight (else 404), theirs to do (else 403), decided,
    kept and announced."""

    async def work(uow: UnitOfWork) -> Doc:
        doc = await store.get(uow.db, member_id, session=uow.session)
        if doc is None or not views.sees(actor, doc):
            raise UnknownMember(member_id)
        if not permit(actor, doc):
            raise MemberRefused(403, "forbidden", "无权对此报到人员执行此操作 (not yours to do)")
        payload, changes = decide(doc, uow)
        await update_versioned(uow, store.MEMBERS, doc, changes)
        await uow.emit(payload, ticket_id=member_id, actor=actor)
        if isinstance(payload, MemberDeactivated | MemberTransferred):
            await vacate(uow, member_id, actor)
        return {**doc, **changes, "version": doc["version"] + 1}

    after = await database.transaction(work)
    return await views.present(database=database, reader=actor, doc=after, rules=rules)


async def vacate(uow: UnitOfWork, member_id: str, actor: Actor) -> None:
    """A member who left or moved away holds no post any more: each place is free again."""
    for post in await posts_store.held_by(uow.db, member_id, session=uow.session):
        event, changes = posts_domain.vacate(post, member_id)
        await update_versioned(uow, posts_store.POSTS, post, changes)
        await uow.emit(event, ticket_id=member_id, actor=actor)


async def confirm(*, database: Database, actor: Actor, member_id: str, rules: Rules) -> Member:
    return await act(
        database=database,
        actor=actor,
        member_id=member_id,
        permit=community_worker,
        decide=lambda doc, uow: domain.confirm(doc, now=uow.now),
        rules=rules,
    )


async def place(
    *, database: Database, refdata: RefData, actor: Actor, member_id: str, grid_code: str, squad: str, rules: Rules
) -> Member:
    grid_of = await grid_community(refdata, grid_code)
    return await act(
        database=database,
        actor=actor,
        member_id=member_id,
        permit=community_worker,
        decide=lambda doc, uow: domain.place(
            doc, grid_code=grid_code, grid_community=grid_of, squad=squad, now=uow.now
        ),
        rules=rules,
    )


async def return_to_community(*, database: Database, actor: Actor, member_id: str, rules: Rules) -> Member:
    return await act(
        database=database,
        actor=actor,
        member_id=member_id,
        permit=self_or_community,
        decide=lambda doc, uow: domain.return_to_community(doc, now=uow.now),
        rules=rules,
    )


async def deactivate(*, database: Database, actor: Actor, member_id: str, reason: str, rules: Rules) -> Member:
    return await act(
        database=database,
        actor=actor,
        member_id=member_id,
        permit=community_worker,
        decide=lambda doc, uow: domain.deactivate(doc, reason=reason),
        rules=rules,
    )


async def transfer(
    *, database: Database, refdata: RefData, actor: Actor, member_id: str, to_community_code: str, rules: Rules
) -> Member:
    known = await refdata.get("community", to_community_code) is not None
    return await act(
        database=database,
        actor=actor,
        member_id=member_id,
        permit=community_worker,
        decide=lambda doc, uow: domain.transfer(doc, to_community_code=to_community_code, known=known),
        rules=rules,
    )
