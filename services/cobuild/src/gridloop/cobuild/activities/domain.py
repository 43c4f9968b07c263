"""Pure rules of activities (服务活动) and service records (过程纪实): who publishes, who signs up,
check-in and check-out, manual logs, and the organiser's decisions. No I/O; the time is passed in.
The counting rules themselves are in `rules.py`."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gridloop.cobuild.activities.rules import (
    Rules,
    code_accepted,
    counted_minutes,
    distance_m,
    manual_limit,
    within_time,
)
from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed, Place, Unknown
from gridloop.shared.api.activities import ActivityAction, ActivityRequest, RecordAction
from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.cobuild_lifecycle import move
from gridloop.shared.events import (
    ActivityCancelled,
    ActivityClosed,
    ActivityPublished,
    ActivitySignedUp,
    Actor,
    GeoPoint,
    Rating,
    RecordApproved,
    RecordMethod,
    RecordRated,
    RecordRejected,
    RecordReturned,
    RecordSubmitted,
    Role,
)
from gridloop.shared.volunteering_lifecycle import (
    ACTIVITY_TRANSITIONS,
    MEMBER_ON_ROLL,
    RECORD_TRANSITIONS,
    ActivityStatus,
    MemberStatus,
    RecordStatus,
)

Doc = dict[str, Any]


class UnknownActivity(Unknown):
    """No such activity, or one outside the caller's scope (404)."""


class UnknownRecord(Unknown):
    """No such record, or one outside the caller's scope (404)."""


class UnknownMember(Unknown):
    """No such member registration, or one outside the caller's scope (404)."""


# ---- who sees, who organises -------------------------------------------------------------------------


def is_organiser(doc: Mapping[str, Any], actor: Actor) -> bool:
    """The activity's (or record's) organiser: the community's workers or the unit's admins."""
    if actor.role is Role.COMMUNITY_WORKER:
        return bool(doc["organizer_kind"] == "community" and doc["organizer_code"] == actor.org)
    if actor.role is Role.UNIT_ADMIN:
        return bool(doc["organizer_kind"] == "unit" and doc["organizer_code"] == actor.org)
    return False


def list_filter(reader: Actor) -> Doc | None:
    """The activities a reader may list: its community's (workers, members), a unit's own, a street's
    and a district's. None for a role that reads no activity."""
    match reader.role:
        case Role.COMMUNITY_WORKER | Role.MEMBER:
            return {"community_code": reader.org}
        case Role.UNIT_ADMIN:
            return {"organizer_kind": "unit", "organizer_code": reader.org}
        case Role.STREET_DISPATCHER:
            return {"street_code": reader.org}
        case Role.SUPERVISOR:
            return {"$or": [{"district_code": reader.org}, {"street_code": reader.org}]}
    return None


def visible(activity: Mapping[str, Any], reader: Actor) -> bool:
    match reader.role:
        case Role.COMMUNITY_WORKER | Role.MEMBER:
            return bool(activity["community_code"] == reader.org)
        case Role.UNIT_ADMIN:
            return is_organiser(activity, reader)
        case Role.STREET_DISPATCHER:
            return bool(activity["street_code"] == reader.org)
        case Role.SUPERVISOR:
            return reader.org in (activity["street_code"], activity["district_code"])
    return False


def reads_activities(reader: Actor) -> None:
    if list_filter(reader) is None:
        raise NotAllowed("无权查看服务活动 (your role does not read activities)")


def record_filter(reader: Actor, member_id: str | None) -> Doc | None:
    """The records a reader may list: a member their own, a community all of its community's, a unit
    the records of the activities it ran."""
    match reader.role:
        case Role.MEMBER:
            return {"member_id": member_id} if member_id else None
        case Role.COMMUNITY_WORKER:
            return {"community_code": reader.org}
        case Role.UNIT_ADMIN:
            return {"organizer_kind": "unit", "organizer_code": reader.org}
    return None


def record_visible(record: Mapping[str, Any], reader: Actor, member_id: str | None) -> bool:
    scope = record_filter(reader, member_id)
    return scope is not None and all(record.get(k) == v for k, v in scope.items())


# ---- publishing ---------------------------------------------------------------------------------------


def publish(
    *,
    activity_id: str,
    request: ActivityRequest,
    actor: Actor,
    place: Place | None,
    paired_communities: list[str],
    now: datetime,
    rules: Rules,
    post: Mapping[str, Any] | None = None,
) -> tuple[Doc, ActivityPublished]:
    """A community worker publishes for their community; a unit admin for a community the unit is
    paired with (结对社区). The window is in the future, ends after it starts, lasts a day at most.
    An activity that serves a post (its records earn post duty) names an open post of that
    community: `post` is the one `request.post_id` names, as read now (None: there is none)."""
    if actor.role not in (Role.COMMUNITY_WORKER, Role.UNIT_ADMIN):
        raise NotAllowed("只有社区工作者或驻区单位可以发布服务活动")
    if place is None:
        raise Invalid("unknown_grid", f"没有网格 {request.grid_code} (unknown grid)")
    if actor.role is Role.COMMUNITY_WORKER and place.community_code != actor.org:
        raise NotAllowed("只能在本社区的网格发布活动 (a grid of your community only)")
    if actor.role is Role.UNIT_ADMIN and place.community_code not in paired_communities:
        raise Invalid(
            "community_not_paired",
            f"{place.community_code} 不是本单位的结对社区 (not a community the unit is paired with)",
        )
    if request.post_id is not None and (
        post is None or post.get("community_code") != place.community_code or post.get("status") != "open"
    ):
        raise Invalid(
            "unknown_post",
            f"本社区没有开放中的岗位 {request.post_id} (no open post of the community by that id)",
        )
    starts, ends = as_utc(request.starts_at), as_utc(request.ends_at)
    if ends <= starts:
        raise Invalid("bad_window", "结束时间须晚于开始时间 (ends_at must be after starts_at)")
    if ends - starts > rules.max_length:
        raise Invalid("bad_window", "一次活动不超过 24 小时 (an activity lasts at most 24 hours)")
    if starts <= now:
        raise Invalid("starts_in_past", "开始时间须晚于现在 (starts_at must be in the future)")
    kind = "community" if actor.role is Role.COMMUNITY_WORKER else "unit"
    doc: Doc = {
        "_id": activity_id,
        "title": request.title,
        "organizer_kind": kind,
        "organizer_code": actor.org,
        "community_code": place.community_code,
        "grid_code": place.grid_code,
        "street_code": place.street_code,
        "district_code": place.district_code,
        "place": {"lon": request.place.lon, "lat": request.place.lat},
        "starts_at": starts,
        "ends_at": ends,
        "capacity": request.capacity,
        "signups": [],
        "post_id": request.post_id,
        "need_id": request.need_id,
        "project_id": request.project_id,
        "status": move(ACTIVITY_TRANSITIONS, None, ActivityPublished.EVENT_TYPE).value,
        "cancel_reason": "",
        "published_by": actor.sub,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    payload = ActivityPublished(
        activity_id=activity_id,
        organizer_kind=kind,
        organizer_code=actor.org,
        community_code=place.community_code,
        grid_code=place.grid_code,
        street_code=place.street_code,
        district_code=place.district_code,
        starts_at=starts,
        ends_at=ends,
        capacity=request.capacity,
        post_id=request.post_id,
        need_id=request.need_id,
        project_id=request.project_id,
    )
    return doc, payload


def _organiser(activity: Mapping[str, Any], actor: Actor) -> None:
    if not is_organiser(activity, actor):
        raise NotAllowed("只有活动的组织方可以这样做 (only the activity's organiser)")


def cancel(
    activity: Mapping[str, Any], *, actor: Actor, reason: str, has_records: bool
) -> tuple[Doc, ActivityCancelled]:
    _organiser(activity, actor)
    status = move(ACTIVITY_TRANSITIONS, ActivityStatus(activity["status"]), ActivityCancelled.EVENT_TYPE)
    if has_records:
        raise Conflict("has_records", "已有服务记录的活动不能取消，请审核后结项 (records exist: close it instead)")
    return {"status": status.value, "cancel_reason": reason}, ActivityCancelled(
        activity_id=str(activity["_id"]), reason=reason
    )


def close(activity: Mapping[str, Any], *, actor: Actor, open_records: int, now: datetime) -> tuple[Doc, ActivityClosed]:
    _organiser(activity, actor)
    status = move(ACTIVITY_TRANSITIONS, ActivityStatus(activity["status"]), ActivityClosed.EVENT_TYPE)
    if now < as_utc(activity["ends_at"]):
        raise Conflict("not_ended", "活动结束后才能结项 (the activity has not ended)")
    if open_records:
        raise Conflict("records_pending", f"还有 {open_records} 条服务记录待审核或待更正 (records not decided)")
    return {"status": status.value, "closed_at": now}, ActivityClosed(activity_id=str(activity["_id"]))


# ---- members -------------------------------------------------------------------------------------------


def on_roll(member: Mapping[str, Any] | None, activity: Mapping[str, Any]) -> str:
    """The member's id if their registration is on the roll of the activity's community; else 409."""
    if (
        member is None
        or member.get("erased")
        or member.get("community_code") != activity["community_code"]
        or MemberStatus(member["status"]) not in MEMBER_ON_ROLL
    ):
        raise Conflict("not_reported", "请先到本社区报到并经社区确认 (no confirmed registration in this community)")
    return str(member["_id"])


def signup(activity: Mapping[str, Any], *, member_id: str, now: datetime) -> tuple[Doc, ActivitySignedUp]:
    move(ACTIVITY_TRANSITIONS, ActivityStatus(activity["status"]), ActivitySignedUp.EVENT_TYPE)
    if now >= as_utc(activity["starts_at"]):
        raise Conflict("signup_closed", "活动已开始，报名已截止 (sign-up closes at the start)")
    if member_id in activity["signups"]:
        raise Conflict("already_signed_up", "您已报名该活动 (already signed up)")
    if len(activity["signups"]) >= activity["capacity"]:
        raise Conflict("full", "报名人数已满 (the activity is full)")
    return {"signups": [*activity["signups"], member_id]}, ActivitySignedUp(
        activity_id=str(activity["_id"]), member_id=member_id
    )


def _present(
    activity: Mapping[str, Any],
    *,
    member_id: str,
    code: str,
    location: GeoPoint,
    key: str,
    now: datetime,
    rules: Rules,
) -> int:
    """The checks both check-in and check-out pass: signed up, the activity on, the time, the code and
    the place. Returns the distance in metres."""
    if ActivityStatus(activity["status"]) is not ActivityStatus.PUBLISHED:
        raise Conflict("activity_not_open", "活动已取消或已结项 (the activity is not open)")
    if member_id not in activity["signups"]:
        raise Conflict("not_signed_up", "您未报名该活动 (not signed up)")
    if not within_time(now, activity["starts_at"], activity["ends_at"], rules):
        raise Invalid("outside_time", "只能在活动开始前 30 分钟至结束后 30 分钟内签到签退 (outside the check-in time)")
    if not code_accepted(key, str(activity["_id"]), code, now, rules):
        raise Invalid("bad_code", "签到码不正确或已过期，请看组织方的最新签到码 (wrong or expired code)")
    place = activity["place"]
    distance = distance_m(place["lon"], place["lat"], location.lon, location.lat)
    if distance > rules.radius_m:
        raise Invalid(
            "too_far",
            f"您距活动地点约 {int(distance)} 米，须在 {int(rules.radius_m)} 米内签到签退 (too far from the place)",
            {"distance_m": int(distance), "radius_m": int(rules.radius_m)},
        )
    return int(distance)


def checkin(
    activity: Mapping[str, Any],
    *,
    member_id: str,
    code: str,
    location: GeoPoint,
    key: str,
    now: datetime,
    rules: Rules,
    checked_in: Mapping[str, Any] | None,
    record: Mapping[str, Any] | None,
) -> tuple[Doc, int]:
    """签到: the check-in kept until check-out (no event: nothing is recorded until the member leaves)."""
    distance = _present(activity, member_id=member_id, code=code, location=location, key=key, now=now, rules=rules)
    if record is not None:
        raise Conflict("already_recorded", "该活动已有您的服务记录 (a record exists)")
    if checked_in is not None:
        raise Conflict("already_checked_in", "您已签到 (already checked in)")
    doc: Doc = {
        "_id": f"{activity['_id']}:{member_id}",
        "activity_id": str(activity["_id"]),
        "member_id": member_id,
        "checkin_at": now,
        "checkin_location": {"lon": location.lon, "lat": location.lat},
    }
    return doc, distance


def checkout(
    activity: Mapping[str, Any],
    *,
    record_id: str,
    member: Mapping[str, Any],
    code: str,
    location: GeoPoint,
    key: str,
    now: datetime,
    rules: Rules,
    checked_in: Mapping[str, Any] | None,
    record: Mapping[str, Any] | None,
) -> tuple[Doc, RecordSubmitted]:
    """签退: the record of the time between check-in and check-out, counted by the rules."""
    member_id = str(member["_id"])
    _present(activity, member_id=member_id, code=code, location=location, key=key, now=now, rules=rules)
    if record is not None:
        raise Conflict("already_recorded", "该活动已有您的服务记录 (a record exists)")
    if checked_in is None:
        raise Conflict("not_checked_in", "请先签到 (check in first)")
    checkin_at = as_utc(checked_in["checkin_at"])
    minutes = counted_minutes(checkin_at, now, activity["starts_at"], activity["ends_at"], rules)
    doc = _record(
        activity,
        record_id=record_id,
        member=member,
        method=RecordMethod.CHECKIN,
        minutes_claimed=minutes,
        note="",
        now=now,
    )
    doc.update(checkin_at=checkin_at, checkout_at=now, checkout_location={"lon": location.lon, "lat": location.lat})
    return doc, _submitted(doc)


def _record(
    activity: Mapping[str, Any],
    *,
    record_id: str,
    member: Mapping[str, Any],
    method: RecordMethod,
    minutes_claimed: int,
    note: str,
    now: datetime,
) -> Doc:
    return {
        "_id": record_id,
        "activity_id": str(activity["_id"]),
        "activity_title": activity["title"],
        "member_id": str(member["_id"]),
        "unit_code": member.get("unit_code"),
        "community_code": activity["community_code"],
        "grid_code": activity["grid_code"],
        "street_code": activity["street_code"],
        "district_code": activity["district_code"],
        "starts_at": activity["starts_at"],
        "ends_at": activity["ends_at"],
        "method": method.value,
        "checkin_at": None,
        "checkout_at": None,
        "minutes_claimed": minutes_claimed,
        "minutes": None,
        "note": note,
        "reason": "",
        "status": move(RECORD_TRANSITIONS, None, RecordSubmitted.EVENT_TYPE).value,
        "rating": None,
        "service_date": as_utc(activity["starts_at"]),
        "organizer_kind": activity["organizer_kind"],
        "organizer_code": activity["organizer_code"],
        "approved_by": None,
        "approved_at": None,
        "post_id": activity.get("post_id"),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _submitted(record: Mapping[str, Any]) -> RecordSubmitted:
    return RecordSubmitted(
        record_id=str(record["_id"]),
        activity_id=str(record["activity_id"]),
        member_id=str(record["member_id"]),
        method=RecordMethod(record["method"]),
        minutes_claimed=int(record["minutes_claimed"]),
    )


def log(
    activity: Mapping[str, Any],
    *,
    record_id: str,
    member: Mapping[str, Any],
    minutes_claimed: int,
    note: str,
    now: datetime,
    record: Mapping[str, Any] | None,
) -> tuple[Doc, bool, RecordSubmitted]:
    """补录 after the activity ended, or the correction of a returned record. Returns the record (the
    whole new one, or the changes to the returned one), whether it is new, and the event."""
    member_id = str(member["_id"])
    if ActivityStatus(activity["status"]) is not ActivityStatus.PUBLISHED:
        raise Conflict("activity_not_open", "活动已取消或已结项 (the activity is not open)")
    if member_id not in activity["signups"]:
        raise Conflict("not_signed_up", "您未报名该活动 (not signed up)")
    if now < as_utc(activity["ends_at"]):
        raise Conflict("not_ended", "活动结束后才能补录 (log by hand after the activity ends)")
    if record is None:
        doc = _record(
            activity,
            record_id=record_id,
            member=member,
            method=RecordMethod.MANUAL,
            minutes_claimed=minutes_claimed,
            note=note,
            now=now,
        )
        return doc, True, _submitted(doc)
    status = move(RECORD_TRANSITIONS, RecordStatus(record["status"]), RecordSubmitted.EVENT_TYPE)
    changes: Doc = {
        "status": status.value,
        "method": RecordMethod.MANUAL.value,
        "minutes_claimed": minutes_claimed,
        "note": note,
    }
    return changes, False, _submitted({**record, **changes})


# ---- deciding records ----------------------------------------------------------------------------------


def rule_minutes(record: Mapping[str, Any], rules: Rules) -> int:
    """The most the rules allow for the record: the counted time of a check-in record; a manual
    claim capped to the activity's window."""
    if record["method"] == RecordMethod.CHECKIN.value:
        return int(record["minutes_claimed"])
    return manual_limit(int(record["minutes_claimed"]), record["starts_at"], record["ends_at"], rules)


def _decider(record: Mapping[str, Any], actor: Actor, event_type: str) -> RecordStatus | None:
    if not is_organiser(record, actor):
        raise NotAllowed("只有活动的组织方可以审核服务记录 (only the activity's organiser decides)")
    return move(RECORD_TRANSITIONS, RecordStatus(record["status"]), event_type)


def approve(
    record: Mapping[str, Any],
    *,
    actor: Actor,
    minutes: int | None,
    member: Mapping[str, Any] | None,
    now: datetime,
    rules: Rules,
) -> tuple[Doc, RecordApproved]:
    status = _decider(record, actor, RecordApproved.EVENT_TYPE)
    limit = rule_minutes(record, rules)
    granted = limit if minutes is None else minutes
    if granted > limit:
        raise Invalid(
            "over_rule",
            f"核定时长不能超过规则计算的 {limit} 分钟 (more than the rules count)",
            {"minutes_by_rule": limit},
        )
    unit_code = member.get("unit_code") if member else record.get("unit_code")
    changes: Doc = {
        "status": status.value if status else record["status"],
        "minutes": granted,
        "unit_code": unit_code,
        "approved_by": actor.sub,
        "approved_at": now,
        "reason": "",
    }
    payload = RecordApproved(
        record_id=str(record["_id"]),
        activity_id=str(record["activity_id"]),
        member_id=str(record["member_id"]),
        unit_code=unit_code,
        community_code=record["community_code"],
        grid_code=record["grid_code"],
        street_code=record["street_code"],
        district_code=record["district_code"],
        service_date=as_utc(record["service_date"]).astimezone(CITY_ZONE),
        minutes=granted,
        post_id=record.get("post_id"),
    )
    return changes, payload


def send_back(record: Mapping[str, Any], *, actor: Actor, reason: str) -> tuple[Doc, RecordReturned]:
    status = _decider(record, actor, RecordReturned.EVENT_TYPE)
    assert status is not None
    return {"status": status.value, "reason": reason}, RecordReturned(
        record_id=str(record["_id"]), member_id=str(record["member_id"]), reason=reason
    )


def reject(record: Mapping[str, Any], *, actor: Actor, reason: str) -> tuple[Doc, RecordRejected]:
    status = _decider(record, actor, RecordRejected.EVENT_TYPE)
    assert status is not None
    return {"status": status.value, "reason": reason}, RecordRejected(
        record_id=str(record["_id"]), member_id=str(record["member_id"]), reason=reason
    )


def rate(record: Mapping[str, Any], *, actor: Actor, rating: Rating, now: datetime) -> tuple[Doc, RecordRated]:
    """A community worker of the activity's community rates an approved record, once."""
    if actor.role is not Role.COMMUNITY_WORKER or actor.org != record["community_code"]:
        raise NotAllowed("只有活动所在社区的工作者可以评价 (the community's workers rate)")
    move(RECORD_TRANSITIONS, RecordStatus(record["status"]), RecordRated.EVENT_TYPE)
    if record.get("rating"):
        raise Conflict("already_rated", "该记录已评价 (already rated)")
    return {"rating": rating.value, "rated_by": actor.sub, "rated_at": now}, RecordRated(
        record_id=str(record["_id"]), member_id=str(record["member_id"]), rating=rating
    )


# ---- what the caller may do -----------------------------------------------------------------------------


def activity_actions(
    activity: Mapping[str, Any],
    reader: Actor,
    *,
    now: datetime,
    rules: Rules,
    member_id: str | None,
    checked_in: bool,
    record: Mapping[str, Any] | None,
) -> list[ActivityAction]:
    acts: list[ActivityAction] = []
    open_ = ActivityStatus(activity["status"]) is ActivityStatus.PUBLISHED
    starts, ends = as_utc(activity["starts_at"]), as_utc(activity["ends_at"])
    if reader.role is Role.MEMBER and member_id and open_:
        signed = member_id in activity["signups"]
        if not signed and now < starts and len(activity["signups"]) < activity["capacity"]:
            acts.append(ActivityAction.SIGNUP)
        if signed and record is None and within_time(now, starts, ends, rules):
            acts.append(ActivityAction.CHECKOUT if checked_in else ActivityAction.CHECKIN)
        returned = record is not None and record["status"] == RecordStatus.RETURNED.value
        if signed and now >= ends and (record is None or returned):
            acts.append(ActivityAction.LOG)
    if is_organiser(activity, reader) and open_:
        if within_time(now, starts, ends, rules):
            acts.append(ActivityAction.CODE)
        acts.append(ActivityAction.CANCEL)
        if now >= ends:
            acts.append(ActivityAction.CLOSE)
    return acts


def record_actions(record: Mapping[str, Any], reader: Actor) -> list[RecordAction]:
    status = RecordStatus(record["status"])
    acts: list[RecordAction] = []
    if is_organiser(record, reader) and status is RecordStatus.SUBMITTED:
        acts += [RecordAction.APPROVE, RecordAction.RETURN, RecordAction.REJECT]
    if (
        reader.role is Role.COMMUNITY_WORKER
        and reader.org == record["community_code"]
        and status is RecordStatus.APPROVED
        and not record.get("rating")
    ):
        acts.append(RecordAction.RATE)
    return acts


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The city's year as instants."""
    start = datetime(year, 1, 1, tzinfo=CITY_ZONE)
    return start, datetime(year + 1, 1, 1, tzinfo=CITY_ZONE)
