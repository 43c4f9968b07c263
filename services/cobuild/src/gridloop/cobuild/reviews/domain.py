"""两向评议 and the yearly sheets: the indicators of a member, of a unit in a community and of a
community for a period, the quarterly feedback card's lines, and the rules of a yearly grade.

Everything here works on plain documents as the collections hold them (see CONTRACTS) and takes
the time it needs as an argument. Periods are the city's (Asia/Shanghai) years and quarters."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.events import Grade, Rating, ReviewSubject
from gridloop.shared.volunteering_lifecycle import MEMBER_ON_ROLL, MemberStatus, RecordStatus

EARNING_REASONS = frozenset({"service_hours", "wish_fulfilled", "report_verified", "post_duty", "reversal"})
"""Movements that count as points earned in a period (a reversal takes back what was earned)."""

GRADE_NAMES = {Grade.EXCELLENT: "优秀", Grade.PASS: "合格", Grade.BASIC: "基本合格", Grade.FAIL: "不合格"}
RATING_NAMES = {Rating.SATISFIED: "满意", Rating.BASICALLY_SATISFIED: "基本满意", Rating.UNSATISFIED: "不满意"}
STATUS_NAMES = {
    MemberStatus.PENDING: "待确认",
    MemberStatus.REPORTED: "已报到",
    MemberStatus.ACTIVE: "在岗",
    MemberStatus.LAPSED: "失效",
    MemberStatus.INACTIVE: "已注销",
    MemberStatus.TRANSFERRED: "已转出",
}
GRADED_PASS_OR_ABOVE = frozenset({Grade.EXCELLENT, Grade.PASS})


class ReviewRefused(Exception):
    """A grade the rules do not allow (422 with `code`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC of a city year or quarter."""

    year: int
    quarter: int | None = None

    @property
    def start(self) -> datetime:
        month = 1 if self.quarter is None else 3 * (self.quarter - 1) + 1
        return datetime(self.year, month, 1, tzinfo=CITY_ZONE)

    @property
    def end(self) -> datetime:
        if self.quarter is None or self.quarter == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=CITY_ZONE)
        return datetime(self.year, 3 * self.quarter + 1, 1, tzinfo=CITY_ZONE)

    def holds(self, value: Any) -> bool:
        """Whether an instant (or a city day, or an ISO day string) falls in the period."""
        instant = when(value)
        return instant is not None and self.start <= instant < self.end

    @property
    def label(self) -> str:
        return f"{self.year}年" if self.quarter is None else f"{self.year}年第{self.quarter}季度"


def when(value: Any) -> datetime | None:
    """A stored time as an aware instant: datetimes (naive ones are UTC, as MongoDB returns them),
    city days and ISO strings of either; None for anything else."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=CITY_ZONE)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=CITY_ZONE)
    return None


def city_year(now: datetime) -> int:
    return now.astimezone(CITY_ZONE).year


def year_started(year: int, *, now: datetime) -> bool:
    """A year can be graded once it has begun in the city."""
    return year <= city_year(now)


def city_day(value: Any) -> str:
    instant = when(value)
    return instant.astimezone(CITY_ZONE).date().isoformat() if instant else ""


# ------------------------------------------------------------------ member


@dataclass(frozen=True)
class Minimum:
    """The yearly minimum of a member's service (settings)."""

    services: int = 2
    minutes: int = 480


@dataclass
class MemberIndicators:
    member_id: str
    community_code: str
    unit_code: str | None
    party_member: bool
    status: str
    reported_at: str  # city day; "" for never reported
    never_reported: bool
    posts: list[str]
    services: int  # approved records in the period
    minutes: int  # their approved minutes
    points_earned: int
    balance: int
    ratings: dict[str, int] = field(default_factory=dict)  # rating -> records rated so in the period
    met_minimum: bool = False

    @property
    def hours(self) -> float:
        return hours(self.minutes)

    def basis(self) -> dict[str, Any]:
        return asdict(self)


def hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def approved_in(records: Iterable[Mapping[str, Any]], period: Period) -> list[Mapping[str, Any]]:
    """Approved records whose service day falls in the period (the approval time if it has none)."""
    return [
        r
        for r in records
        if r.get("status") == RecordStatus.APPROVED
        and period.holds(r.get("service_date") or r.get("checkin_at") or r.get("approved_at"))
    ]


def rating_counts(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = {rating.value: 0 for rating in Rating}
    for record in records:
        rating = record.get("rating")
        if rating in counts:
            counts[rating] += 1
    return counts


def points_earned(movements: Iterable[Mapping[str, Any]], *, member_id: str, period: Period) -> int:
    """Points put on (or taken back from) the member's account by earning movements in the period."""
    account = f"member:{member_id}"
    total = 0
    for movement in movements:
        if movement.get("reason") not in EARNING_REASONS or not period.holds(movement.get("at")):
            continue
        total += sum(int(e["amount"]) for e in movement.get("entries", []) if e.get("account") == account)
    return total


def met_minimum(services: int, minutes: int, minimum: Minimum) -> bool:
    return services >= minimum.services and minutes >= minimum.minutes


def member_indicators(
    member: Mapping[str, Any],
    *,
    records: Iterable[Mapping[str, Any]],
    movements: Iterable[Mapping[str, Any]],
    balance: int,
    posts: Iterable[Mapping[str, Any]],
    period: Period,
    minimum: Minimum,
) -> MemberIndicators:
    """One member's figures for the period: `records`, `movements` and `posts` may hold other
    members' too; only this member's count."""
    member_id = str(member["_id"])
    mine = [r for r in records if r.get("member_id") == member_id]
    approved = approved_in(mine, period)
    minutes = sum(int(r.get("minutes") or 0) for r in approved)
    return MemberIndicators(
        member_id=member_id,
        community_code=str(member.get("community_code", "")),
        unit_code=member.get("unit_code"),
        party_member=bool(member.get("party_member")),
        status=str(member.get("status", "")),
        reported_at=city_day(member.get("reported_at")),
        never_reported=member.get("reported_at") is None,
        posts=sorted(str(p["_id"]) for p in posts if member_id in p.get("holders", [])),
        services=len(approved),
        minutes=minutes,
        points_earned=points_earned(movements, member_id=member_id, period=period),
        balance=balance,
        ratings=rating_counts(approved),
        met_minimum=met_minimum(len(approved), minutes, minimum),
    )


def counted_as_reported(member: Mapping[str, Any], period: Period) -> bool:
    """报到 in the rates: confirmed by the community before the period ended and still on the roll."""
    reported = when(member.get("reported_at"))
    return reported is not None and reported < period.end and member.get("status") in MEMBER_ON_ROLL


# ------------------------------------------------------------------ unit


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


@dataclass
class UnitIndicators:
    """A unit's figures in one community it reported to (its members serving there)."""

    unit_code: str
    community_code: str
    reported_at: str
    receipt_number: str
    party_members: int | None  # the headcount the unit confirmed
    members_reported: int
    members_serving: int  # with at least one approved record in the period
    members_meeting_minimum: int
    participation_rate: float | None  # 参与率
    completion_rate: float | None  # 服务完成率
    minutes: int
    offers_given: int
    offers_used: int
    projects_led: int
    wishes_fulfilled: int
    ratings: dict[str, int]
    community_grade: str | None  # the community's grade of the unit
    grade_of_community: str | None  # the unit's grade of the community

    @property
    def hours(self) -> float:
        return hours(self.minutes)

    def basis(self) -> dict[str, Any]:
        return asdict(self)


def unit_indicators(
    report: Mapping[str, Any],
    *,
    headcount: Mapping[str, Any] | None,
    members: Sequence[MemberIndicators],
    member_docs: Mapping[str, Mapping[str, Any]],
    offers: Iterable[Mapping[str, Any]],
    projects: Iterable[Mapping[str, Any]],
    needs: Iterable[Mapping[str, Any]],
    grades: Iterable[Mapping[str, Any]],
    period: Period,
) -> UnitIndicators:
    """The figures of the unit's report to one community: `members` are the indicators of the
    unit's members (any community: only those serving in the report's community count)."""
    unit, community = str(report["unit_code"]), str(report["community_code"])
    here = [m for m in members if m.unit_code == unit and m.community_code == community]
    reported = [m for m in here if counted_as_reported(member_docs.get(m.member_id, {}), period)]
    serving = sum(1 for m in reported if m.services > 0)
    meeting = sum(1 for m in reported if m.met_minimum)
    ratings = {rating.value: sum(m.ratings.get(rating.value, 0) for m in here) for rating in Rating}
    given = [o for o in offers if o.get("unit_code") == unit and community in o.get("community_codes", [])]
    given_in = [o for o in given if period.holds(o.get("created_at")) and o.get("status") != "withdrawn"]
    used = [o for o in given if any(period.holds(u.get("at")) for u in o.get("uses", []))]
    led = [
        p
        for p in projects
        if unit in p.get("unit_codes", [])
        and p.get("community_code") == community
        and period.holds(p.get("created_at"))
    ]
    wishes = [
        n
        for n in needs
        if n.get("kind") == "wish"
        and n.get("status") == "done"
        and n.get("community_code") == community
        and unit in n.get("claimant_codes", [])
        and period.holds(n.get("done_at"))
    ]
    return UnitIndicators(
        unit_code=unit,
        community_code=community,
        reported_at=city_day(report.get("reported_at")),
        receipt_number=str(report.get("receipt_number", "")),
        party_members=int(headcount["party_members"])
        if headcount and headcount.get("party_members") is not None
        else None,
        members_reported=len(reported),
        members_serving=serving,
        members_meeting_minimum=meeting,
        participation_rate=rate(serving, len(reported)),
        completion_rate=rate(meeting, len(reported)),
        minutes=sum(m.minutes for m in here),
        offers_given=len(given_in),
        offers_used=len(used),
        projects_led=len(led),
        wishes_fulfilled=len(wishes),
        ratings=ratings,
        community_grade=grade_of(grades, ReviewSubject.UNIT, unit, reviewer=community, year=period.year),
        grade_of_community=grade_of(grades, ReviewSubject.COMMUNITY, community, reviewer=unit, year=period.year),
    )


def grade_of(
    grades: Iterable[Mapping[str, Any]], kind: ReviewSubject, subject: str, *, reviewer: str, year: int
) -> str | None:
    for review in grades:
        if (
            review.get("year") == year
            and review.get("subject_kind") == kind
            and review.get("subject_code") == subject
            and review.get("reviewer_code") == reviewer
        ):
            return str(review["grade"])
    return None


# ------------------------------------------------------------------ community


@dataclass
class CommunityIndicators:
    community_code: str
    needs_collected: int
    needs_done: int
    needs_converted: int
    projects: int
    units_reported: int
    members_reported: int
    minutes: int
    admissions_refused: int  # tasks refused at the 准入 gate that named the community
    grades_from_units: dict[str, int]  # grade -> units that gave it

    @property
    def hours(self) -> float:
        return hours(self.minutes)

    def basis(self) -> dict[str, Any]:
        return asdict(self)


def community_indicators(
    community: str,
    *,
    needs: Iterable[Mapping[str, Any]],
    projects: Iterable[Mapping[str, Any]],
    reports: Iterable[Mapping[str, Any]],
    member_docs: Iterable[Mapping[str, Any]],
    records: Iterable[Mapping[str, Any]],
    admissions: Iterable[Mapping[str, Any]],
    grades: Iterable[Mapping[str, Any]],
    period: Period,
) -> CommunityIndicators:
    mine = [n for n in needs if n.get("community_code") == community]
    collected = [n for n in mine if period.holds(n.get("created_at"))]
    done = [n for n in mine if n.get("status") == "done" and period.holds(n.get("done_at"))]
    converted = [n for n in collected if n.get("status") == "converted" or n.get("ticket_id")]
    served = approved_in((r for r in records if r.get("community_code") == community), period)
    refused = [
        a
        for a in admissions
        if a.get("status") == "refused"
        and community in a.get("community_codes", [])
        and period.holds(a.get("decided_at") or a.get("created_at") or a.get("requested_at"))
    ]
    received = {grade.value: 0 for grade in Grade}
    for review in grades:
        if (
            review.get("year") == period.year
            and review.get("subject_kind") == ReviewSubject.COMMUNITY
            and review.get("subject_code") == community
            and review.get("grade") in received
        ):
            received[str(review["grade"])] += 1
    return CommunityIndicators(
        community_code=community,
        needs_collected=len(collected),
        needs_done=len(done),
        needs_converted=len(converted),
        projects=sum(1 for p in projects if p.get("community_code") == community and period.holds(p.get("created_at"))),
        units_reported=sum(
            1
            for r in reports
            if r.get("community_code") == community and (when(r.get("reported_at")) or period.end) < period.end
        ),
        members_reported=sum(
            1 for m in member_docs if m.get("community_code") == community and counted_as_reported(m, period)
        ),
        minutes=sum(int(r.get("minutes") or 0) for r in served),
        admissions_refused=len(refused),
        grades_from_units=received,
    )


# ------------------------------------------------------------------ grading


def check_year(year: int, *, now: datetime) -> None:
    """Only a year that has begun in the city is graded."""
    if not year_started(year, now=now):
        raise ReviewRefused("future_year", f"{year}年尚未开始，不能评议 (the year has not begun)")


def check_grade(*, kind: ReviewSubject, grade: Grade, subject: Mapping[str, Any], year: int, now: datetime) -> None:
    """The rules of a yearly grade: only a year that has begun; a member the community never
    confirmed (no reported_at) is graded at most 基本合格."""
    check_year(year, now=now)
    if kind is ReviewSubject.MEMBER and subject.get("reported_at") is None and grade in GRADED_PASS_OR_ABOVE:
        raise ReviewRefused(
            "never_reported", "该党员从未到社区报到，评议不能为合格及以上 (never reported: basic or fail only)"
        )


def review_doc(
    *,
    year: int,
    kind: ReviewSubject,
    subject_code: str,
    reviewer_kind: ReviewSubject,
    reviewer_code: str,
    community_code: str,
    grade: Grade,
    comment: str,
    basis: Mapping[str, Any],
    reviewer_sub: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "_id": f"{year}:{kind.value}:{subject_code}:{reviewer_code}",
        "year": year,
        "subject_kind": kind.value,
        "subject_code": subject_code,
        "reviewer_kind": reviewer_kind.value,
        "reviewer_code": reviewer_code,
        "community_code": community_code,
        "grade": grade.value,
        "comment": comment,
        "basis": dict(basis),
        "reviewer_sub": reviewer_sub,
        "at": now,
    }


# ------------------------------------------------------------------ feedback card


def remark(indicators: MemberIndicators) -> str:
    """The card's one-line remark on a member's quarter."""
    if indicators.never_reported:
        return "尚未到社区报到"
    if indicators.services == 0:
        return "本季度未参加服务"
    parts = [f"本季度服务{indicators.services}次，计{indicators.hours:g}小时"]
    unsatisfied = indicators.ratings.get(Rating.UNSATISFIED.value, 0)
    if unsatisfied:
        parts.append(f"{unsatisfied}次评价为不满意")
    elif indicators.ratings.get(Rating.SATISFIED.value, 0):
        parts.append("服务对象满意")
    return "，".join(parts)
