"""What organisers and members do with activities and records: publish, sign up, check in and out,
log by hand, approve, return, reject, rate, cancel and close. Each is decided by the domain on the
documents as they are now (read inside the transaction), kept and announced in one transaction."""

from collections.abc import Callable
from datetime import datetime

from gridloop.cobuild.activities import domain, store
from gridloop.cobuild.activities.domain import UnknownActivity, UnknownRecord
from gridloop.cobuild.activities.rules import Rules
from gridloop.cobuild.activities.views import shown, shown_record
from gridloop.cobuild.offers import reference
from gridloop.cobuild.offers.domain import NotAllowed
from gridloop.cobuild.posts import store as posts_store
from gridloop.shared.api.activities import Activity, ActivityRequest, CheckedIn, ManualLogRequest, Record
from gridloop.shared.events import Actor, GeoPoint, Rating, Role, VolunteeringPayload
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData


async def publish(
    *, database: Database, refdata: RefData, request: ActivityRequest, actor: Actor, rules: Rules
) -> Activity:
    place = await reference.place(refdata, request.grid_code)
    paired: list[str] = []
    if actor.role is Role.UNIT_ADMIN:
        unit = await reference.unit(refdata, actor.org)
        paired = [str(c) for c in unit.get("communities", [])] if unit else []

    async def work(uow: UnitOfWork) -> Activity:
        activity_id = new_id()
        post = (
            await uow.db[posts_store.POSTS].find_one({"_id": request.post_id}, session=uow.session)
            if request.post_id is not None
            else None
        )
        doc, payload = domain.publish(
            activity_id=activity_id,
            request=request,
            actor=actor,
            place=place,
            paired_communities=paired,
            now=uow.now,
            rules=rules,
            post=post,
        )
        await uow.db[store.ACTIVITIES].insert_one(doc, session=uow.session)
        await uow.emit(payload, ticket_id=activity_id, actor=actor)
        return shown(doc, reader=actor, now=uow.now, rules=rules)

    return await database.transaction(work)


async def _member(uow: UnitOfWork, actor: Actor, activity: Doc) -> Doc:
    """The caller's member registration, on the roll of the activity's community (409 otherwise)."""
    if actor.role is not Role.MEMBER:
        raise NotAllowed("只有报到党员或志愿者可以这样做 (members only)")
    member = await store.member_by_sub(uow.db, actor.sub, session=uow.session)
    domain.on_roll(member, activity)
    assert member is not None
    return member


async def _activity(uow: UnitOfWork, activity_id: str, actor: Actor) -> Doc:
    domain.reads_activities(actor)
    activity = await store.get(uow.db, activity_id, session=uow.session)
    if activity is None or not domain.visible(activity, actor):
        raise UnknownActivity(activity_id)
    return activity


async def signup(*, database: Database, activity_id: str, actor: Actor, rules: Rules) -> Activity:
    async def work(uow: UnitOfWork) -> Activity:
        activity = await _activity(uow, activity_id, actor)
        member = await _member(uow, actor, activity)
        changes, payload = domain.signup(activity, member_id=str(member["_id"]), now=uow.now)
        await update_versioned(uow, store.ACTIVITIES, activity, changes)
        await uow.emit(payload, ticket_id=str(member["_id"]), actor=actor)
        return shown({**activity, **changes}, reader=actor, now=uow.now, rules=rules, member_id=str(member["_id"]))

    return await database.transaction(work)


async def checkin(
    *, database: Database, activity_id: str, actor: Actor, code: str, location: GeoPoint, key: str, rules: Rules
) -> CheckedIn:
    async def work(uow: UnitOfWork) -> CheckedIn:
        activity = await _activity(uow, activity_id, actor)
        member = await _member(uow, actor, activity)
        member_id = str(member["_id"])
        doc, distance = domain.checkin(
            activity,
            member_id=member_id,
            code=code,
            location=location,
            key=key,
            now=uow.now,
            rules=rules,
            checked_in=await store.checkin(uow.db, activity_id, member_id, session=uow.session),
            record=await store.record_of(uow.db, activity_id, member_id, session=uow.session),
        )
        await uow.db[store.CHECKINS].insert_one(doc, session=uow.session)
        return CheckedIn(activity_id=activity_id, checkin_at=uow.now, distance_m=distance)

    return await database.transaction(work)


async def checkout(
    *, database: Database, activity_id: str, actor: Actor, code: str, location: GeoPoint, key: str, rules: Rules
) -> Record:
    async def work(uow: UnitOfWork) -> Record:
        activity = await _activity(uow, activity_id, actor)
        member = await _member(uow, actor, activity)
        member_id = str(member["_id"])
        doc, payload = domain.checkout(
            activity,
            record_id=new_id(),
            member=member,
            code=code,
            location=location,
            key=key,
            now=uow.now,
            rules=rules,
            checked_in=await store.checkin(uow.db, activity_id, member_id, session=uow.session),
            record=await store.record_of(uow.db, activity_id, member_id, session=uow.session),
        )
        await uow.db[store.RECORDS].insert_one(doc, session=uow.session)
        await uow.db[store.CHECKINS].delete_one({"_id": f"{activity_id}:{member_id}"}, session=uow.session)
        await uow.emit(payload, ticket_id=member_id, actor=actor)
        return shown_record(doc, reader=actor, rules=rules)

    return await database.transaction(work)


async def log(*, database: Database, activity_id: str, actor: Actor, request: ManualLogRequest, rules: Rules) -> Record:
    async def work(uow: UnitOfWork) -> Record:
        activity = await _activity(uow, activity_id, actor)
        member = await _member(uow, actor, activity)
        member_id = str(member["_id"])
        existing = await store.record_of(uow.db, activity_id, member_id, session=uow.session)
        doc, new, payload = domain.log(
            activity,
            record_id=new_id(),
            member=member,
            minutes_claimed=request.minutes_claimed,
            note=request.note,
            now=uow.now,
            record=existing,
        )
        if new:
            await uow.db[store.RECORDS].insert_one(doc, session=uow.session)
            result = doc
        else:
            assert existing is not None
            await update_versioned(uow, store.RECORDS, existing, doc)
            result = {**existing, **doc}
        await uow.emit(payload, ticket_id=member_id, actor=actor)
        return shown_record(result, reader=actor, rules=rules)

    return await database.transaction(work)


Decide = Callable[[Doc, Doc | None, datetime], tuple[Doc, VolunteeringPayload]]


async def _decide(*, database: Database, record_id: str, actor: Actor, rules: Rules, decide: Decide) -> Record:
    """An action on a record, checked on the record as it is at the moment of the action; `decide`
    is given the record, its member's registration (the unit they report from) and the time."""
    if actor.role not in (Role.COMMUNITY_WORKER, Role.UNIT_ADMIN):
        raise NotAllowed("无权处理服务记录 (your role does not decide records)")

    async def work(uow: UnitOfWork) -> Record:
        record = await store.record(uow.db, record_id, session=uow.session)
        if record is None or not domain.record_visible(record, actor, None):
            raise UnknownRecord(record_id)
        member = await store.member(uow.db, str(record["member_id"]), session=uow.session)
        changes, payload = decide(record, member, uow.now)
        await update_versioned(uow, store.RECORDS, record, changes)
        await uow.emit(payload, ticket_id=str(record["member_id"]), actor=actor)
        return shown_record({**record, **changes}, reader=actor, rules=rules)

    return await database.transaction(work)


async def approve(*, database: Database, record_id: str, actor: Actor, minutes: int | None, rules: Rules) -> Record:
    return await _decide(
        database=database,
        record_id=record_id,
        actor=actor,
        rules=rules,
        decide=lambda r, m, now: domain.approve(r, actor=actor, minutes=minutes, member=m, now=now, rules=rules),
    )


async def send_back(*, database: Database, record_id: str, actor: Actor, reason: str, rules: Rules) -> Record:
    return await _decide(
        database=database,
        record_id=record_id,
        actor=actor,
        rules=rules,
        decide=lambda r, _m, _now: domain.send_back(r, actor=actor, reason=reason),
    )


async def reject(*, database: Database, record_id: str, actor: Actor, reason: str, rules: Rules) -> Record:
    return await _decide(
        database=database,
        record_id=record_id,
        actor=actor,
        rules=rules,
        decide=lambda r, _m, _now: domain.reject(r, actor=actor, reason=reason),
    )


async def rate(*, database: Database, record_id: str, actor: Actor, rating: Rating, rules: Rules) -> Record:
    return await _decide(
        database=database,
        record_id=record_id,
        actor=actor,
        rules=rules,
        decide=lambda r, _m, now: domain.rate(r, actor=actor, rating=rating, now=now),
    )


async def cancel(*, database: Database, activity_id: str, actor: Actor, reason: str, rules: Rules) -> Activity:
    async def work(uow: UnitOfWork) -> Activity:
        activity = await _activity(uow, activity_id, actor)
        has = await store.has_records(uow.db, activity_id, session=uow.session)
        changes, payload = domain.cancel(activity, actor=actor, reason=reason, has_records=has)
        await update_versioned(uow, store.ACTIVITIES, activity, changes)
        await uow.emit(payload, ticket_id=activity_id, actor=actor)
        return shown({**activity, **changes}, reader=actor, now=uow.now, rules=rules)

    return await database.transaction(work)


async def close(*, database: Database, activity_id: str, actor: Actor, rules: Rules) -> Activity:
    async def work(uow: UnitOfWork) -> Activity:
        activity = await _activity(uow, activity_id, actor)
        pending = await store.undecided(uow.db, activity_id, session=uow.session)
        changes, payload = domain.close(activity, actor=actor, open_records=pending, now=uow.now)
        await update_versioned(uow, store.ACTIVITIES, activity, changes)
        await uow.emit(payload, ticket_id=activity_id, actor=actor)
        return shown({**activity, **changes}, reader=actor, now=uow.now, rules=rules)

    return await database.transaction(work)
