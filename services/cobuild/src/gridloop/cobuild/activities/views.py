"""Activities and records as the API shows them, the lists, and the rotating code."""

from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.activities import domain, store
from gridloop.cobuild.activities.domain import UnknownActivity, UnknownMember
from gridloop.cobuild.activities.rules import Rules, current_code
from gridloop.cobuild.offers.domain import Invalid, NotAllowed
from gridloop.shared.api.activities import (
    ACTIVITY_STATUS_LABELS,
    METHOD_LABELS,
    RATING_LABELS,
    RECORD_STATUS_LABELS,
    Activity,
    ActivityPage,
    CheckinCode,
    Presence,
    Record,
    RecordPage,
)
from gridloop.shared.clock import as_utc
from gridloop.shared.events import Actor, GeoPoint, Rating, RecordMethod, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor, page
from gridloop.shared.volunteering_lifecycle import ActivityStatus, RecordStatus

ActivityKey = tuple[Literal["activities"], datetime, str]
ACTIVITY_CURSOR = Cursor(TypeAdapter(ActivityKey))
RecordKey = tuple[Literal["records"], str]
RECORD_CURSOR = Cursor(TypeAdapter(RecordKey))


def _maybe(value: Any) -> datetime | None:
    return as_utc(value) if value is not None else None


def shown(
    activity: Doc,
    *,
    reader: Actor,
    now: datetime,
    rules: Rules,
    member_id: str | None = None,
    checkin: Doc | None = None,
    record: Doc | None = None,
) -> Activity:
    mine = None
    if reader.role is Role.MEMBER and member_id:
        mine = Presence(
            signed_up=member_id in activity["signups"],
            checkin_at=_maybe(checkin["checkin_at"]) if checkin else None,
            record_id=str(record["_id"]) if record else None,
            record_status=RecordStatus(record["status"]) if record else None,
        )
    status = ActivityStatus(activity["status"])
    return Activity(
        id=str(activity["_id"]),
        title=activity["title"],
        organizer_kind=activity["organizer_kind"],
        organizer_code=activity["organizer_code"],
        community_code=activity["community_code"],
        grid_code=activity["grid_code"],
        street_code=activity["street_code"],
        district_code=activity["district_code"],
        place=GeoPoint(lon=activity["place"]["lon"], lat=activity["place"]["lat"]),
        starts_at=as_utc(activity["starts_at"]),
        ends_at=as_utc(activity["ends_at"]),
        capacity=activity["capacity"],
        signed_up=len(activity["signups"]),
        post_id=activity.get("post_id"),
        need_id=activity.get("need_id"),
        project_id=activity.get("project_id"),
        status=status,
        status_label=ACTIVITY_STATUS_LABELS[status],
        cancel_reason=activity.get("cancel_reason", ""),
        mine=mine,
        allowed_actions=domain.activity_actions(
            activity,
            reader,
            now=now,
            rules=rules,
            member_id=member_id,
            checked_in=checkin is not None,
            record=record,
        ),
        created_at=as_utc(activity["created_at"]),
    )


def shown_record(record: Doc, *, reader: Actor, rules: Rules) -> Record:
    status = RecordStatus(record["status"])
    method = RecordMethod(record["method"])
    rating = Rating(record["rating"]) if record.get("rating") else None
    return Record(
        id=str(record["_id"]),
        activity_id=record["activity_id"],
        activity_title=record["activity_title"],
        member_id=record["member_id"],
        unit_code=record.get("unit_code"),
        community_code=record["community_code"],
        grid_code=record["grid_code"],
        method=method,
        method_label=METHOD_LABELS[method],
        checkin_at=_maybe(record.get("checkin_at")),
        checkout_at=_maybe(record.get("checkout_at")),
        minutes_claimed=record["minutes_claimed"],
        minutes_by_rule=domain.rule_minutes(record, rules),
        minutes=record.get("minutes"),
        note=record.get("note", ""),
        reason=record.get("reason", ""),
        status=status,
        status_label=RECORD_STATUS_LABELS[status],
        rating=rating,
        rating_label=RATING_LABELS[rating] if rating else "",
        service_date=as_utc(record["service_date"]),
        organizer_kind=record["organizer_kind"],
        organizer_code=record["organizer_code"],
        approved_at=_maybe(record.get("approved_at")),
        post_id=record.get("post_id"),
        allowed_actions=domain.record_actions(record, reader),
    )


async def _member_id(database: Database, reader: Actor) -> str | None:
    if reader.role is not Role.MEMBER:
        return None
    member = await store.member_by_sub(database.db, reader.sub)
    return str(member["_id"]) if member else None


async def one(*, database: Database, reader: Actor, activity_id: str, rules: Rules) -> Activity:
    domain.reads_activities(reader)
    activity = await store.get(database.db, activity_id)
    if activity is None or not domain.visible(activity, reader):
        raise UnknownActivity(activity_id)
    member_id = await _member_id(database, reader)
    checkin = record = None
    if member_id:
        checkin = await store.checkin(database.db, activity_id, member_id)
        record = await store.record_of(database.db, activity_id, member_id)
    now = database.clock.now()
    return shown(activity, reader=reader, now=now, rules=rules, member_id=member_id, checkin=checkin, record=record)


async def listing(
    *,
    database: Database,
    reader: Actor,
    community: str | None,
    since: datetime | None,
    until: datetime | None,
    status: ActivityStatus | None,
    limit: int,
    cursor: str | None,
    rules: Rules,
) -> ActivityPage:
    scope = domain.list_filter(reader)
    if scope is None:
        raise NotAllowed("无权查看服务活动 (your role does not read activities)")
    parts: list[Doc] = [scope]
    if community is not None:
        parts.append({"community_code": community})
    if since is not None:
        parts.append({"ends_at": {"$gte": as_utc(since)}})
    if until is not None:
        parts.append({"starts_at": {"$lt": as_utc(until)}})
    if status is not None:
        parts.append({"status": status.value})
    before = None
    if cursor:
        _, at, key = ACTIVITY_CURSOR.decode(cursor)
        before = (as_utc(at), key)
    docs, next_cursor = page(
        await store.activities(database.db, query={"$and": parts}, before=before, limit=limit + 1),
        limit=limit,
        key=lambda d: ACTIVITY_CURSOR.encode(("activities", as_utc(d["starts_at"]), str(d["_id"]))),
    )
    member_id = await _member_id(database, reader)
    ids = [str(d["_id"]) for d in docs]
    checkins = await store.checkins_of_member(database.db, member_id, ids) if member_id else {}
    records = await store.records_of_member(database.db, member_id, ids) if member_id else {}
    now = database.clock.now()
    return ActivityPage(
        items=[
            shown(
                d,
                reader=reader,
                now=now,
                rules=rules,
                member_id=member_id,
                checkin=checkins.get(str(d["_id"])),
                record=records.get(str(d["_id"])),
            )
            for d in docs
        ],
        next_cursor=next_cursor,
    )


async def code(*, database: Database, reader: Actor, activity_id: str, key: str, rules: Rules) -> CheckinCode:
    """The organiser's rotating code (only while check-in is open)."""
    domain.reads_activities(reader)
    activity = await store.get(database.db, activity_id)
    if activity is None or not domain.visible(activity, reader):
        raise UnknownActivity(activity_id)
    if not domain.is_organiser(activity, reader):
        raise NotAllowed("只有活动的组织方可以查看签到码 (the organiser only)")
    now = database.clock.now()
    value, expires = current_code(key, activity_id, now, rules)
    return CheckinCode(code=value, expires_at=expires, window_seconds=rules.code_seconds)


async def records(
    *,
    database: Database,
    reader: Actor,
    member: str | None,
    activity: str | None,
    status: RecordStatus | None,
    year: int | None,
    limit: int,
    cursor: str | None,
    rules: Rules,
) -> RecordPage:
    own = await _member_id(database, reader)
    if reader.role is Role.MEMBER:
        if member not in (None, "me", own):
            raise NotAllowed("只能查看本人的服务记录 (your own records only)")
        if own is None:
            return RecordPage(items=[])
    scope = domain.record_filter(reader, own)
    if scope is None:
        raise NotAllowed("无权查看服务记录 (your role does not read records)")
    parts: list[Doc] = [scope]
    if member not in (None, "me"):
        parts.append({"member_id": member})
    if activity is not None:
        parts.append({"activity_id": activity})
    if status is not None:
        parts.append({"status": status.value})
    if year is not None:
        if not 2000 <= year <= 2100:
            raise Invalid("bad_year", "年份无效 (year out of range)")
        start, end = domain.year_bounds(year)
        parts.append({"service_date": {"$gte": start, "$lt": end}})
    query = {"$and": parts}
    before = RECORD_CURSOR.decode(cursor)[1] if cursor else None
    docs, next_cursor = page(
        await store.records(database.db, query=query, before=before, limit=limit + 1),
        limit=limit,
        key=lambda d: RECORD_CURSOR.encode(("records", str(d["_id"]))),
    )
    return RecordPage(
        items=[shown_record(d, reader=reader, rules=rules) for d in docs],
        next_cursor=next_cursor,
        approved_minutes=await store.approved_minutes(database.db, query),
    )


async def member_for_certificate(database: Database, member_id: str) -> Doc:
    member = await store.member(database.db, member_id)
    if member is None:
        raise UnknownMember(member_id)
    return member
