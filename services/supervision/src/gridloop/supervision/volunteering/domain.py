"""Pure rules of the 双报到 and volunteering indicators (docs/metrics.md, "双报到 and volunteering
indicators"): how each event of the volunteering topic changes supervision's record of a unit's
report, a unit's headcount, a member, a post, an approved service record or a points movement, and
how the records add up to a year's counts and rates. No I/O, no clock: the year is an argument and
its bounds are cut in city time (Asia/Shanghai).

Statuses are taken as they stood at the year's end (for the current year: now, since nothing later
is known): a unit reported by then, its headcount as last confirmed before then, a member on the roll
then, a post open then with its holders then. Service records count by their service date in the
year, points movements by when they happened."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.cobuild_lifecycle import can_move
from gridloop.shared.events import (
    Envelope,
    MemberConfirmed,
    MemberDeactivated,
    MemberErased,
    MemberLapsed,
    MemberPlaced,
    MemberRegistered,
    MemberReturned,
    MemberTransferred,
    PointsMoved,
    PointsReason,
    PostClaimed,
    PostClosed,
    PostPublished,
    PostReleased,
    RecordApproved,
    RecordRated,
    UnitHeadcountConfirmed,
    UnitReported,
)
from gridloop.shared.volunteering_lifecycle import MEMBER_ON_ROLL, MEMBER_TRANSITIONS, MemberStatus

Doc = dict[str, Any]
PLACE = ("community_code", "street_code", "district_code")
INSUFFICIENT = "样本不足"
EARNING = frozenset(
    {
        PointsReason.SERVICE_HOURS,
        PointsReason.WISH_FULFILLED,
        PointsReason.REPORT_VERIFIED,
        PointsReason.POST_DUTY,
        PointsReason.REVERSAL,  # a record rated 不满意 gives its points back: less earned
    }
)
"""The movements that count as points earned; redemption and expiry spend, they earn nothing."""
MEMBER_EVENTS = (
    MemberRegistered,
    MemberConfirmed,
    MemberPlaced,
    MemberReturned,
    MemberLapsed,
    MemberDeactivated,
    MemberTransferred,
    MemberErased,
)
POST_EVENTS = (PostPublished, PostClaimed, PostReleased, PostClosed)
RECORD_EVENTS = (RecordApproved, RecordRated)
PROJECTED_PAYLOADS = (UnitReported, UnitHeadcountConfirmed, *MEMBER_EVENTS, *POST_EVENTS, *RECORD_EVENTS, PointsMoved)
"""The volunteering events these indicators read; the rest of the topic is other areas'."""


class VolunteeringUnit(StrEnum):
    """What the figures are given for: areas of the city, and the reporting units (驻区单位)."""

    COMMUNITIES = "communities"
    STREETS = "streets"
    DISTRICTS = "districts"
    UNITS = "units"


@dataclass(frozen=True)
class Rules:
    """The yearly minimum of service (服务完成率) and the boards' sizes, from the settings."""

    min_services: int = 2
    min_minutes: int = 480
    min_volume: int = 5  # members reported before a unit is ranked
    board_size: int = 3  # units on the 红榜 and on the 黑榜
    persons: int = 10  # persons on the points 红榜


# Time ----------------------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January 00:00, next 1 January 00:00) of `year` in city time, as UTC instants."""
    start = datetime(year, 1, 1, tzinfo=CITY_ZONE)
    end = datetime(year + 1, 1, 1, tzinfo=CITY_ZONE)
    return as_utc(start), as_utc(end)


def city_year(at: datetime) -> int:
    """The year `at` falls in, in city time."""
    return as_utc(at).astimezone(CITY_ZONE).year


def _before(value: datetime | None, end: datetime) -> bool:
    return value is not None and as_utc(value) < end


# Records: each step returns the record after the event, or None when it changes nothing --------


def report_step(before: Doc | None, event: Envelope, p: UnitReported) -> Doc | None:
    """单位报到 to one community: one record per unit and community, dated by its first report."""
    if before is not None and not as_utc(event.occurred_at) < as_utc(before["reported_at"]):
        return None
    return {
        "_id": f"{p.unit_code}:{p.community_code}",
        "unit_code": p.unit_code,
        "community_code": p.community_code,
        "street_code": p.street_code,
        "district_code": p.district_code,
        "receipt_number": p.receipt_number,
        "reported_at": event.occurred_at,
    }


def headcount_entry(event: Envelope, p: UnitHeadcountConfirmed) -> Doc:
    """One confirmation of a unit's Party-member headcount; the last before a moment counts then."""
    return {"_id": event.event_id, "unit_code": p.unit_code, "party_members": p.party_members, "at": event.occurred_at}


def member_step(before: Doc | None, event: Envelope) -> Doc | None:
    """A member's record: the status history (each entry with where the member then belonged),
    moved by the shared MEMBER_TRANSITIONS; an event the status does not allow, or one for a member
    never registered, changes nothing."""
    p = event.payload
    if before is not None and event.event_id in before.get("events", []):
        return None  # a redelivery: some steps (a second placement, a return) are allowed again
    current = MemberStatus(before["status"]) if before is not None else None
    if event.event_type not in MEMBER_TRANSITIONS or not can_move(MEMBER_TRANSITIONS, current, event.event_type):
        return None
    if isinstance(p, MemberErased):
        if before is None or before.get("erased"):
            return None
        return {**before, "erased": True, "events": [*before.get("events", []), event.event_id]}
    if isinstance(p, MemberRegistered):
        entry = {
            "at": event.occurred_at,
            "status": MemberStatus.PENDING.value,
            "community_code": p.community_code,
            "street_code": p.street_code,
            "district_code": p.district_code,
            "unit_code": p.unit_code,
            "party_member": p.party_member,
        }
        member_id = p.member_id
    else:
        assert before is not None
        _, target = MEMBER_TRANSITIONS[event.event_type]
        status = target or current
        assert status is not None
        entry = {**before["history"][-1], "at": event.occurred_at, "status": status.value}
        member_id = before["_id"]
    history = [*(before["history"] if before else []), entry]
    return {
        "_id": member_id,
        "status": entry["status"],
        "erased": bool(before and before.get("erased")),
        "history": history,
        "events": [*(before.get("events", []) if before else []), event.event_id],
    }


def member_at(member: Mapping[str, Any], end: datetime) -> Doc | None:
    """The member as they stood just before `end` (their latest history entry), or None."""
    entries = [e for e in member.get("history", []) if _before(e["at"], end)]
    return {"member_id": member["_id"], **entries[-1]} if entries else None


def post_step(before: Doc | None, event: Envelope) -> Doc | None:
    """A post (公益岗位) with its claims. A claim may arrive before the post's publication (they are
    keyed apart on the topic), so either may open the record."""
    p = event.payload
    assert isinstance(p, POST_EVENTS)
    if before is not None and event.event_id in before.get("events", []):
        return None  # a redelivery: a claim released since would otherwise be made again
    after = _post_changed(before, event, p)
    return None if after is None else {**after, "events": [*after.get("events", []), event.event_id]}


def _post_changed(
    before: Doc | None, event: Envelope, p: PostPublished | PostClaimed | PostReleased | PostClosed
) -> Doc | None:
    post = before or {
        "_id": p.post_id,
        "published_at": None,
        "closed_at": None,
        "headcount": 0,
        "grid_code": None,
        **dict.fromkeys(PLACE),
        "claims": [],
        "events": [],
    }
    at = event.occurred_at
    match p:
        case PostPublished():
            if post["published_at"] is not None:
                return None
            return {
                **post,
                "published_at": at,
                "headcount": p.headcount,
                "grid_code": p.grid_code,
                "community_code": p.community_code,
                "street_code": p.street_code,
                "district_code": p.district_code,
                "category": p.category,
            }
        case PostClaimed():
            if any(c["member_id"] == p.member_id and c["released_at"] is None for c in post["claims"]):
                return None
            return {**post, "claims": [*post["claims"], {"member_id": p.member_id, "at": at, "released_at": None}]}
        case PostReleased():
            held = [
                i for i, c in enumerate(post["claims"]) if c["member_id"] == p.member_id and c["released_at"] is None
            ]
            if not held:
                return None
            claims = [dict(c) for c in post["claims"]]
            claims[held[-1]]["released_at"] = at
            return {**post, "claims": claims}
        case PostClosed():
            return None if post["closed_at"] is not None else {**post, "closed_at": at}
    return None


def holders_at(post: Mapping[str, Any], end: datetime) -> int:
    """How many held the post just before `end`."""
    return len(
        {
            c["member_id"]
            for c in post.get("claims", [])
            if _before(c["at"], end) and not _before(c.get("released_at"), end)
        }
    )


def open_at(post: Mapping[str, Any], end: datetime) -> bool:
    """Published and not closed just before `end`."""
    return _before(post.get("published_at"), end) and not _before(post.get("closed_at"), end)


def record_step(before: Doc | None, event: Envelope) -> Doc | None:
    """An approved service record (its minutes, service date and place); a rating is kept on it."""
    match event.payload:
        case RecordApproved() as p:
            if before is not None:
                return None
            return {
                "_id": p.record_id,
                "member_id": p.member_id,
                "unit_code": p.unit_code,
                "grid_code": p.grid_code,
                **{f: getattr(p, f) for f in PLACE},
                "service_date": p.service_date,
                "year": city_year(p.service_date),
                "minutes": p.minutes,
                "approved_at": event.occurred_at,
                "rating": None,
            }
        case RecordRated() as p:
            if before is None or before.get("rating") == p.rating.value:
                return None
            return {**before, "rating": p.rating.value}
    return None


def points_entry(event: Envelope, p: PointsMoved) -> Doc | None:
    """What one ledger movement adds to the member's points earned in its year; None when it earns
    nothing (a redemption, an expiry, a movement not touching the member's account)."""
    if p.reason not in EARNING:
        return None
    earned = sum(e.amount for e in p.entries if e.account == f"member:{p.member_id}")
    if earned == 0:
        return None
    return {
        "_id": p.movement_id,
        "member_id": p.member_id,
        "unit_code": p.unit_code,
        "community_code": p.community_code,
        "reason": p.reason.value,
        "points": earned,
        "at": event.occurred_at,
        "year": city_year(event.occurred_at),
    }


# The directory and a reader's scope ------------------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """The places and the reporting units as the directory names them."""

    communities: dict[str, str] = field(default_factory=dict)  # community -> street
    streets: dict[str, str] = field(default_factory=dict)  # street -> district
    units: dict[str, Doc] = field(default_factory=dict)  # unit -> {street, communities (结对社区)}
    names: dict[str, str] = field(default_factory=dict)  # any code -> its name


@dataclass(frozen=True)
class Scope:
    """What a reader may see: communities, and units (the reporting units of those places)."""

    communities: frozenset[str]
    units: frozenset[str]


def unit_street(unit: Mapping[str, Any]) -> str:
    return str(unit.get("street") or "")


def unit_communities(unit: Mapping[str, Any]) -> list[str]:
    return [str(c) for c in unit.get("communities") or []]


def area_scope(
    directory: Directory, *, community: str | None = None, street: str | None = None, district: str | None = None
) -> Scope:
    """The communities of a community, a street or a district, and the units obligated there: a
    community's paired units (结对单位), a street's or a district's units by where they are."""
    if community is not None:
        return Scope(
            frozenset({community} & set(directory.communities) or {community}),
            frozenset(u for u, r in directory.units.items() if community in unit_communities(r)),
        )
    if street is not None:
        return Scope(
            frozenset(c for c, s in directory.communities.items() if s == street),
            frozenset(u for u, r in directory.units.items() if unit_street(r) == street),
        )
    streets = {s for s, d in directory.streets.items() if d == district}
    return Scope(
        frozenset(c for c, s in directory.communities.items() if s in streets),
        frozenset(u for u, r in directory.units.items() if unit_street(r) in streets),
    )


def areas(directory: Directory, unit: VolunteeringUnit) -> dict[str, Scope]:
    """Every community, street or district of the directory with its communities and units."""
    match unit:
        case VolunteeringUnit.COMMUNITIES:
            return {c: area_scope(directory, community=c) for c in sorted(directory.communities)}
        case VolunteeringUnit.STREETS:
            return {s: area_scope(directory, street=s) for s in sorted(directory.streets)}
        case VolunteeringUnit.DISTRICTS:
            return {d: area_scope(directory, district=d) for d in sorted(set(directory.streets.values()))}
    raise ValueError(f"{unit} is not an area")


def within(area: Scope, scope: Scope) -> Scope:
    return Scope(area.communities & scope.communities, area.units & scope.units)


# Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Every record a year's figures are made of: the lasting ones (reports, headcounts, members,
    posts) whole, the service records and points movements of the year."""

    reports: list[Doc] = field(default_factory=list)
    headcounts: list[Doc] = field(default_factory=list)
    members: list[Doc] = field(default_factory=list)
    posts: list[Doc] = field(default_factory=list)
    records: list[Doc] = field(default_factory=list)
    points: list[Doc] = field(default_factory=list)


COUNTS = (
    "units_obligated",
    "units_reported",
    "party_headcount",
    "party_members_reported",
    "members_reported",
    "members_participating",
    "members_meeting_minimum",
    "posts_published",
    "posts_full",
    "minutes",
)
RATES = ("unit_report_rate", "party_report_rate", "participation_rate", "completion_rate", "post_claim_rate")


def _ratio(num: int | float, den: int | float) -> float | None:
    return round(num / den, 4) if den else None


@dataclass(frozen=True)
class Year:
    """The year's facts read once: who stood where at the year's end and what each member did."""

    year: int
    rules: Rules
    end: datetime
    on_roll: list[Doc]  # members on the roll at the year's end, as they stood
    reported_pairs: set[tuple[str, str]]  # (unit, community) reported by the year's end
    headcounts: dict[str, int]  # unit -> headcount last confirmed before the year's end
    open_posts: list[Doc]
    services: dict[str, int]  # member -> approved records in the year
    minutes: dict[str, int]  # member -> approved minutes in the year
    points: list[Doc]

    @classmethod
    def of(cls, facts: Facts, year: int, rules: Rules) -> "Year":
        start, end = year_bounds(year)
        standing = [s for m in facts.members if (s := member_at(m, end)) is not None]
        headcounts: dict[str, tuple[datetime, int]] = {}
        for h in facts.headcounts:
            at = as_utc(h["at"])
            if at < end and (h["unit_code"] not in headcounts or headcounts[h["unit_code"]][0] <= at):
                headcounts[h["unit_code"]] = (at, int(h["party_members"]))
        services: dict[str, int] = {}
        minutes: dict[str, int] = {}
        for r in facts.records:
            if start <= as_utc(r["service_date"]) < end:
                services[r["member_id"]] = services.get(r["member_id"], 0) + 1
                minutes[r["member_id"]] = minutes.get(r["member_id"], 0) + int(r["minutes"])
        return cls(
            year=year,
            rules=rules,
            end=end,
            on_roll=[s for s in standing if MemberStatus(s["status"]) in MEMBER_ON_ROLL],
            reported_pairs={
                (r["unit_code"], r["community_code"]) for r in facts.reports if _before(r["reported_at"], end)
            },
            headcounts={u: n for u, (_, n) in headcounts.items()},
            open_posts=[p for p in facts.posts if open_at(p, end)],
            services=services,
            minutes=minutes,
            points=[p for p in facts.points if start <= as_utc(p["at"]) < end],
        )

    def _members(self, cohort: Iterable[Doc]) -> dict[str, int]:
        c = {"members_reported": 0, "members_participating": 0, "members_meeting_minimum": 0, "minutes": 0}
        for m in cohort:
            served, minutes = self.services.get(m["member_id"], 0), self.minutes.get(m["member_id"], 0)
            c["members_reported"] += 1
            c["members_participating"] += served > 0
            c["members_meeting_minimum"] += served >= self.rules.min_services and minutes >= self.rules.min_minutes
            c["minutes"] += minutes
        return c

    def _party(self, units: Iterable[str]) -> dict[str, int]:
        """党员报到: the units' Party members on the roll over their confirmed headcounts; a unit
        whose headcount was never confirmed is left out of both."""
        confirmed = {u for u in units if u in self.headcounts}
        return {
            "party_headcount": sum(self.headcounts[u] for u in confirmed),
            "party_members_reported": sum(1 for m in self.on_roll if m["party_member"] and m["unit_code"] in confirmed),
        }

    def area(self, scope: Scope) -> dict[str, Any]:
        """An area's figures: its obligated units, the members living there, its posts."""
        reported = {u for u, c in self.reported_pairs if u in scope.units and c in scope.communities}
        posts = [p for p in self.open_posts if p["community_code"] in scope.communities]
        c = {
            "units_obligated": len(scope.units),
            "units_reported": len(reported),
            **self._party(scope.units),
            **self._members(m for m in self.on_roll if m["community_code"] in scope.communities),
            "posts_published": len(posts),
            "posts_full": sum(1 for p in posts if holders_at(p, self.end) >= p["headcount"]),
        }
        return with_rates(c)

    def unit(self, code: str) -> dict[str, Any]:
        """A reporting unit's figures: reported (to any community) or not, its Party members, and
        the members who named it as their unit wherever they live. Posts belong to grids: none."""
        c = {
            "units_obligated": 1,
            "units_reported": int(any(u == code for u, _ in self.reported_pairs)),
            **self._party([code]),
            **self._members(m for m in self.on_roll if m["unit_code"] == code),
            "posts_published": 0,
            "posts_full": 0,
        }
        return with_rates(c)

    def persons(self, scope: Scope, size: int) -> list[dict[str, Any]]:
        """积分红榜: the members with the most points earned in the year within the scope's
        communities, only those with points above zero, ties by id. Ids only: names are cobuild's."""
        earned: dict[str, int] = {}
        where: dict[str, str] = {}
        for p in self.points:
            if p["community_code"] in scope.communities:
                earned[p["member_id"]] = earned.get(p["member_id"], 0) + int(p["points"])
                where[p["member_id"]] = p["community_code"]
        top = sorted(((-n, m) for m, n in earned.items() if n > 0))[:size]
        return [
            {"rank": rank, "member_id": m, "community_code": where[m], "points": -n}
            for rank, (n, m) in enumerate(top, start=1)
        ]


def with_rates(c: Mapping[str, int]) -> dict[str, Any]:
    """Counts with their rates (each None when its denominator is 0) and hours."""
    hours = round(c["minutes"] / 60, 2)
    return {
        **c,
        "unit_report_rate": _ratio(c["units_reported"], c["units_obligated"]),  # 单位报到率
        "party_report_rate": _ratio(c["party_members_reported"], c["party_headcount"]),  # 党员报到率
        "participation_rate": _ratio(c["members_participating"], c["members_reported"]),  # 参与率
        "completion_rate": _ratio(c["members_meeting_minimum"], c["members_reported"]),  # 服务完成率
        "post_claim_rate": _ratio(c["posts_full"], c["posts_published"]),  # 岗位认领率
        "hours": hours,
        "hours_per_member": _ratio(hours, c["members_reported"]),  # 人均服务时长
    }


def area_figures(year: Year, directory: Directory, unit: VolunteeringUnit, scope: Scope) -> dict[str, dict[str, Any]]:
    """{code: figures} of every area the reader's scope touches, counted within that scope."""
    figures = {}
    for code, area in areas(directory, unit).items():
        seen = within(area, scope)
        if seen.communities or seen.units:
            figures[code] = year.area(seen)
    return figures


def unit_figures(year: Year, units: Iterable[str]) -> dict[str, dict[str, Any]]:
    return {code: year.unit(code) for code in sorted(units)}


# Boards --------------------------------------------------------------------------------------


def unit_score(figures: Mapping[str, Any], *, min_volume: int) -> float | None:
    """A unit's composite (综合): the mean of its 党员报到率 (at most 1), 参与率 and 服务完成率; None
    below `min_volume` members reported or without any of the three."""
    parts = (figures["party_report_rate"], figures["participation_rate"], figures["completion_rate"])
    if figures["members_reported"] < min_volume or any(p is None for p in parts):
        return None
    report, participation, completion = (float(p) for p in parts)
    return round((min(report, 1.0) + participation + completion) / 3, 4)


def unit_board(figures: Mapping[str, Mapping[str, Any]], *, min_volume: int, board_size: int) -> dict[str, Any]:
    """The units' 红黑榜: ranked best first by the composite, ties by code; the 红榜 the top, the
    黑榜 the bottom (worst first), never overlapping (with fewer than twice `board_size` ranked, each
    gets half). Units below the minimum volume or without a composite are unranked (样本不足)."""
    rows = [
        {"code": code, **f, "score": unit_score(f, min_volume=min_volume), "rank": None}
        for code, f in sorted(figures.items())
    ]
    eligible = sorted((r for r in rows if r["score"] is not None), key=lambda r: (-r["score"], r["code"]))
    ranked = [{**r, "rank": n, "insufficient": False, "note": ""} for n, r in enumerate(eligible, start=1)]
    size = min(board_size, len(ranked) // 2)
    codes = {r["code"] for r in ranked}
    return {
        "ranked": ranked,
        "red_list": ranked[:size],
        "black_list": list(reversed(ranked[len(ranked) - size :])) if size else [],
        "unranked": [{**r, "insufficient": True, "note": INSUFFICIENT} for r in rows if r["code"] not in codes],
    }
