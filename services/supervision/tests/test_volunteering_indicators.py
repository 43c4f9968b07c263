"""The 双报到 and volunteering indicators' arithmetic on a story of events folded by the projection's
own steps (the rebuild's replay, in memory): every rate with its numerator and denominator, the
year cut at midnight city time, a redelivery that changes nothing, and the boards (persons only on
the 红榜, units on both)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.events import (
    Actor,
    Envelope,
    LedgerEntry,
    MemberConfirmed,
    MemberDeactivated,
    MemberErased,
    MemberLapsed,
    MemberPlaced,
    MemberRegistered,
    MemberReturned,
    MemberTransferred,
    Payload,
    PointsMoved,
    PointsReason,
    PostClaimed,
    PostClosed,
    PostPublished,
    PostReleased,
    Rating,
    RecordApproved,
    RecordRated,
    ReportChannel,
    Role,
    UnitHeadcountConfirmed,
    UnitReported,
)
from gridloop.stack.testing import make_event
from gridloop.supervision.volunteering import domain, handlers
from gridloop.supervision.volunteering.domain import Directory, Facts, Rules, VolunteeringUnit, Year
from gridloop.supervision.volunteering.rebuild import Replay
from gridloop.supervision.volunteering.store import HEADCOUNTS, MEMBERS, POINTS, POSTS, RECORDS, REPORTS

pytestmark = pytest.mark.unit
CITY = ZoneInfo("Asia/Shanghai")
SPRING = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
LAST_MINUTE = datetime(2030, 12, 31, 23, 59, tzinfo=CITY)  # still 2030 in the city (15:59 UTC)
NEW_YEAR = datetime(2031, 1, 1, 0, 0, tzinfo=CITY)  # 2031 in the city, 2030 in UTC
PLACES = {
    "LJ01": {"community_code": "LJ01", "street_code": "LJ", "district_code": "QH"},
    "LJ02": {"community_code": "LJ02", "street_code": "LJ", "district_code": "QH"},
    "WH01": {"community_code": "WH01", "street_code": "WH", "district_code": "QH"},
}
DIRECTORY = Directory(
    communities={"LJ01": "LJ", "LJ02": "LJ", "WH01": "WH"},
    streets={"LJ": "QH", "WH": "QH"},
    units={
        "U-HOSP": {"street": "LJ", "communities": ["LJ01", "LJ02"]},
        "U-SCHOOL": {"street": "LJ", "communities": ["LJ01"]},
        "U-TAX": {"street": "WH", "communities": ["WH01"]},
    },
    names={"LJ01": "江畔社区"},
)
DISTRICT = domain.area_scope(DIRECTORY, district="QH")
RULES = Rules(min_services=2, min_minutes=480, min_volume=1, board_size=1, persons=2)


class Story:
    """Events in order, each a minute after the one before unless dated."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []
        self.at = SPRING

    def add(self, key: str, *payloads: Payload, at: datetime | None = None) -> list[Envelope]:
        added = []
        for payload in payloads:
            self.at += timedelta(minutes=1)
            added.append(make_event(payload, ticket_id=key, at=at or self.at))
        self.events += added
        return added

    def member(
        self, member_id: str, community: str, *, unit: str | None = None, party: bool = True, confirm: bool = True
    ) -> None:
        registered = MemberRegistered(
            member_id=member_id, unit_code=unit, party_member=party, channel=ReportChannel.ONLINE, **PLACES[community]
        )
        confirmed = [MemberConfirmed(member_id=member_id, community_code=community)] if confirm else []
        self.add(member_id, registered, *confirmed)

    def record(self, record_id: str, member_id: str, community: str, minutes: int, day: datetime) -> None:
        approved = RecordApproved(
            record_id=record_id,
            activity_id="A1",
            member_id=member_id,
            grid_code=f"{community}-G1",
            service_date=day,
            minutes=minutes,
            **PLACES[community],
        )
        self.add(member_id, approved)

    def post(self, post_id: str, community: str, headcount: int) -> None:
        published = PostPublished(
            post_id=post_id, grid_code=f"{community}-G1", category="治安巡逻", headcount=headcount, **PLACES[community]
        )
        self.add(post_id, published)

    def claim(self, post_id: str, member_id: str, community: str) -> None:
        self.add(member_id, PostClaimed(post_id=post_id, member_id=member_id, community_code=community, grid_code="G"))

    def points(self, movement_id: str, member_id: str, community: str, amount: int, reason: PointsReason) -> None:
        entries = [
            LedgerEntry(account=f"member:{member_id}", amount=amount),
            LedgerEntry(account=f"community_pool:{community}", amount=-amount),
        ]
        moved = PointsMoved(
            movement_id=movement_id,
            member_id=member_id,
            community_code=community,
            reason=reason,
            source_ref=movement_id,
            entries=entries,
        )
        self.add(member_id, moved)


def fold(events: list[Envelope]) -> Replay:
    replay = Replay()
    for event in events:
        replay.add(event)
    return replay


def facts(replay: Replay) -> Facts:
    held = {c: list(docs.values()) for c, docs in replay.records.items()}
    return Facts(
        reports=held[REPORTS],
        headcounts=held[HEADCOUNTS],
        members=held[MEMBERS],
        posts=held[POSTS],
        records=held[RECORDS],
        points=held[POINTS],
    )


def year_of(events: list[Envelope], year: int = 2030, rules: Rules = RULES) -> Year:
    return Year.of(facts(fold(events)), year, rules)


def the_round() -> Story:
    """Units: the hospital reports to LJ01 and LJ02 (4 Party members), the school never reports
    (no headcount), the tax bureau reports to WH01 (2). Members: m1 (hospital, LJ01, placed, two
    services of 4 hours: meets the minimum), m2 (hospital, LJ01) left, m3 (hospital, LJ02) never
    confirmed, m4 (a plain volunteer, LJ01, one hour), m5 (tax bureau, WH01) lapsed: on the roll."""
    s = Story()
    s.add("U-HOSP", UnitReported(unit_code="U-HOSP", receipt_number="HZ-1", **PLACES["LJ01"]))
    s.add("U-HOSP", UnitReported(unit_code="U-HOSP", receipt_number="HZ-2", **PLACES["LJ02"]))
    s.add("U-TAX", UnitReported(unit_code="U-TAX", receipt_number="HZ-3", **PLACES["WH01"]))
    s.add("U-HOSP", UnitHeadcountConfirmed(unit_code="U-HOSP", party_members=5))
    s.add("U-HOSP", UnitHeadcountConfirmed(unit_code="U-HOSP", party_members=4))  # corrected: the last counts
    s.add("U-TAX", UnitHeadcountConfirmed(unit_code="U-TAX", party_members=2))
    s.member("m1", "LJ01", unit="U-HOSP")
    s.add("m1", MemberPlaced(member_id="m1", community_code="LJ01", grid_code="LJ01-G1", squad="一队"))
    s.member("m2", "LJ01", unit="U-HOSP")
    s.add("m2", MemberDeactivated(member_id="m2", community_code="LJ01", reason="搬离"))
    s.member("m3", "LJ02", unit="U-HOSP", confirm=False)
    s.member("m4", "LJ01", party=False)
    s.member("m5", "WH01", unit="U-TAX")
    s.add("m5", MemberPlaced(member_id="m5", community_code="WH01", grid_code="WH01-G1", squad="一队"))
    s.add("m5", MemberLapsed(member_id="m5", community_code="WH01", reason="missed_return"))
    s.record("r1", "m1", "LJ01", 240, datetime(2030, 5, 1, 9, tzinfo=CITY))
    s.record("r2", "m1", "LJ02", 240, datetime(2030, 6, 1, 9, tzinfo=CITY))
    s.record("r3", "m4", "LJ01", 60, datetime(2030, 6, 1, 9, tzinfo=CITY))
    s.add("m1", RecordRated(record_id="r1", member_id="m1", rating=Rating.SATISFIED))
    s.post("P1", "LJ01", 1)
    s.claim("P1", "m1", "LJ01")
    s.post("P2", "LJ01", 2)
    s.claim("P2", "m4", "LJ01")
    s.post("P3", "LJ02", 1)
    s.claim("P3", "m3", "LJ02")
    s.add("m3", PostReleased(post_id="P3", member_id="m3", community_code="LJ02", grid_code="G"))
    s.post("P4", "LJ02", 1)
    s.add("P4", PostClosed(post_id="P4", community_code="LJ02"))
    return s


def test_a_communitys_rates_each_with_its_numerator_and_denominator() -> None:
    year = year_of(the_round().events)
    lj01 = domain.area_figures(year, DIRECTORY, VolunteeringUnit.COMMUNITIES, DISTRICT)["LJ01"]
    assert lj01 == {
        "units_obligated": 2,  # its paired units: the hospital and the school
        "units_reported": 1,
        "unit_report_rate": 0.5,
        "party_headcount": 4,  # the school never confirmed its headcount: out of both
        "party_members_reported": 1,  # m2 left, m3 was never confirmed
        "party_report_rate": 0.25,
        "members_reported": 2,  # m1 and the volunteer m4
        "members_participating": 2,
        "participation_rate": 1.0,
        "members_meeting_minimum": 1,  # m4 served one hour only
        "completion_rate": 0.5,
        "posts_published": 2,
        "posts_full": 1,
        "post_claim_rate": 0.5,
        "minutes": 540,
        "hours": 9.0,
        "hours_per_member": 4.5,
    }


def test_a_street_and_the_district_add_up_their_places() -> None:
    year = year_of(the_round().events)
    streets = domain.area_figures(year, DIRECTORY, VolunteeringUnit.STREETS, DISTRICT)
    lj = streets["LJ"]
    assert (lj["units_obligated"], lj["units_reported"], lj["unit_report_rate"]) == (2, 1, 0.5)
    assert (lj["members_reported"], lj["posts_published"], lj["posts_full"]) == (2, 3, 1)  # P3 was released
    wh = streets["WH"]
    assert (wh["unit_report_rate"], wh["party_report_rate"], wh["members_reported"]) == (1.0, 0.5, 1)
    assert (wh["participation_rate"], wh["post_claim_rate"], wh["hours_per_member"]) == (0.0, None, 0.0)
    qh = domain.area_figures(year, DIRECTORY, VolunteeringUnit.DISTRICTS, DISTRICT)["QH"]
    assert (qh["units_obligated"], qh["units_reported"], qh["party_headcount"], qh["party_members_reported"]) == (
        3,
        2,
        6,
        2,
    )
    assert (qh["party_report_rate"], qh["members_reported"], qh["completion_rate"]) == (0.3333, 3, 0.3333)


def test_a_units_row_counts_the_members_who_named_it_wherever_they_live() -> None:
    year = year_of(the_round().events)
    units = domain.unit_figures(year, ["U-HOSP", "U-SCHOOL"])
    assert {k: units["U-HOSP"][k] for k in ("units_reported", "party_report_rate", "members_reported", "hours")} == {
        "units_reported": 1,
        "party_report_rate": 0.25,
        "members_reported": 1,
        "hours": 8.0,
    }
    school = units["U-SCHOOL"]
    assert (school["unit_report_rate"], school["party_report_rate"], school["participation_rate"]) == (0.0, None, None)


def test_a_reader_sees_only_their_scope() -> None:
    year = year_of(the_round().events)
    lj01 = domain.area_scope(DIRECTORY, community="LJ01")
    streets = domain.area_figures(year, DIRECTORY, VolunteeringUnit.STREETS, lj01)
    assert list(streets) == ["LJ"]  # the street's row counts only the community's part
    assert (streets["LJ"]["posts_published"], streets["LJ"]["units_obligated"]) == (2, 2)
    assert domain.area_scope(DIRECTORY, street="WH").units == {"U-TAX"}


def test_the_year_is_cut_at_midnight_city_time() -> None:
    s = the_round()
    s.record("late", "m4", "LJ01", 420, LAST_MINUTE)  # m4 reaches 480 minutes in 2030 ...
    s.record("early", "m4", "LJ01", 480, NEW_YEAR)  # ... and this one is 2031's
    s.add("U-SCHOOL", UnitReported(unit_code="U-SCHOOL", receipt_number="HZ-4", **PLACES["LJ01"]), at=NEW_YEAR)
    s.member("m6", "LJ02")
    s.events[-1] = make_event(s.events[-1].payload, ticket_id="m6", at=NEW_YEAR)  # confirmed at 2031's first minute
    s.add("U-SCHOOL", UnitHeadcountConfirmed(unit_code="U-SCHOOL", party_members=3), at=LAST_MINUTE)
    lj01_2030 = domain.area_figures(year_of(s.events), DIRECTORY, VolunteeringUnit.COMMUNITIES, DISTRICT)["LJ01"]
    assert (lj01_2030["units_reported"], lj01_2030["members_meeting_minimum"], lj01_2030["minutes"]) == (1, 2, 960)
    assert lj01_2030["party_headcount"] == 7  # the school's headcount was confirmed at 23:59
    lj02_2030 = domain.area_figures(year_of(s.events), DIRECTORY, VolunteeringUnit.COMMUNITIES, DISTRICT)["LJ02"]
    assert lj02_2030["members_reported"] == 0  # m6 was still pending when 2030 ended
    after = domain.area_figures(year_of(s.events, 2031), DIRECTORY, VolunteeringUnit.COMMUNITIES, DISTRICT)
    assert (after["LJ01"]["units_reported"], after["LJ01"]["minutes"], after["LJ02"]["members_reported"]) == (2, 480, 1)
    assert after["LJ01"]["members_participating"] == 1  # only m4 served in 2031


def test_a_redelivered_event_changes_no_record() -> None:
    events = the_round().events
    s = Story()
    s.add("m1", MemberReturned(member_id="m1", community_code="LJ01"))  # allowed again from active
    s.points("mv1", "m1", "LJ01", 8, PointsReason.SERVICE_HOURS)
    s.add("m2", MemberErased(member_id="m2"))
    events = events + s.events
    replay = fold(events)
    for event in events:  # each again, past the replay's own dedup: the steps alone must hold
        collection, record_id = handlers.target(event)
        assert handlers.apply(replay.records[collection].get(record_id), event) is None, event.event_type
    assert replay.records[MEMBERS]["m2"]["erased"] is True
    assert replay.records[POSTS]["P3"]["claims"][0]["released_at"] is not None


def test_a_claim_before_the_posts_publication_still_counts_and_a_transfer_moves_the_member() -> None:
    s = Story()
    s.member("m1", "LJ01")
    s.claim("P9", "m1", "LJ01")  # keyed by the member: may come before the post's own event
    s.post("P9", "LJ01", 1)
    s.add("m1", MemberTransferred(member_id="m1", community_code="LJ01", to_community_code="WH01"))
    s.member("m1", "WH01")
    figures = domain.area_figures(year_of(s.events), DIRECTORY, VolunteeringUnit.COMMUNITIES, DISTRICT)
    assert (figures["LJ01"]["posts_full"], figures["LJ01"]["members_reported"]) == (1, 0)
    assert figures["WH01"]["members_reported"] == 1


def test_an_event_the_members_status_does_not_allow_changes_nothing() -> None:
    s = Story()
    s.member("m1", "LJ01", confirm=False)
    s.add("m1", MemberPlaced(member_id="m1", community_code="LJ01", grid_code="LJ01-G1", squad="一队"))
    s.add("m9", MemberConfirmed(member_id="m9", community_code="LJ01"))  # never registered
    replay = fold(s.events)
    assert (replay.records[MEMBERS]["m1"]["status"], replay.skipped, "m9" in replay.records[MEMBERS]) == (
        "pending",
        2,
        False,
    )


def test_persons_are_only_on_the_points_red_list_with_points_earned_in_the_year() -> None:
    s = Story()
    s.points("a", "m1", "LJ01", 10, PointsReason.SERVICE_HOURS)
    s.points("b", "m1", "LJ01", -4, PointsReason.REVERSAL)  # rated 不满意: earned less
    s.points("c", "m4", "LJ01", 6, PointsReason.POST_DUTY)
    s.points("d", "m4", "LJ01", -6, PointsReason.REDEEM)  # spending lessens nothing earned
    s.points("e", "m7", "LJ01", 6, PointsReason.WISH_FULFILLED)
    s.points("f", "m8", "LJ01", 9, PointsReason.SERVICE_HOURS)
    s.points("g", "m8", "LJ01", -9, PointsReason.REVERSAL)  # nothing earned: never listed
    s.points("h", "m5", "WH01", 50, PointsReason.SERVICE_HOURS)
    year = year_of(s.events)
    lj01 = domain.area_scope(DIRECTORY, community="LJ01")
    assert year.persons(lj01, 2) == [
        {"rank": 1, "member_id": "m1", "community_code": "LJ01", "points": 6},  # 10 less 4 given back
        {"rank": 2, "member_id": "m4", "community_code": "LJ01", "points": 6},  # ties by id; m7 is third
    ]
    assert [p["member_id"] for p in year.persons(DISTRICT, 10)] == ["m5", "m1", "m4", "m7"]
    assert year_of(s.events, 2031).persons(DISTRICT, 10) == []


def row(code: str, report: float | None, participation: float | None, completion: float | None, n: int) -> Any:
    return {
        "party_report_rate": report,
        "participation_rate": participation,
        "completion_rate": completion,
        "members_reported": n,
    }


def test_the_units_board_ranks_by_the_composite_and_leaves_small_units_unranked() -> None:
    figures = {
        "U-A": row("U-A", 1.2, 1.0, 0.8, 10),  # 报到率 above 1 counts as 1: (1 + 1 + 0.8) / 3
        "U-B": row("U-B", 0.5, 0.5, 0.2, 10),
        "U-C": row("U-C", 0.9, 0.6, 0.3, 10),
        "U-D": row("U-D", 1.0, 1.0, 1.0, 2),  # too few members reported
        "U-E": row("U-E", None, 1.0, 1.0, 10),  # no confirmed headcount
    }
    board = domain.unit_board(figures, min_volume=5, board_size=3)
    assert [(r["code"], r["rank"], r["score"]) for r in board["ranked"]] == [
        ("U-A", 1, 0.9333),
        ("U-C", 2, 0.6),
        ("U-B", 3, 0.4),
    ]
    assert ([r["code"] for r in board["red_list"]], [r["code"] for r in board["black_list"]]) == (["U-A"], ["U-B"])
    assert [(r["code"], r["insufficient"], r["note"], r["score"]) for r in board["unranked"]] == [
        ("U-D", True, "样本不足", None),
        ("U-E", True, "样本不足", None),
    ]


def test_the_year_bounds_are_city_midnights() -> None:
    start, end = domain.year_bounds(2030)
    assert (start, end) == (datetime(2029, 12, 31, 16, tzinfo=UTC), datetime(2030, 12, 31, 16, tzinfo=UTC))
    assert (domain.city_year(LAST_MINUTE), domain.city_year(NEW_YEAR)) == (2030, 2031)


def test_each_readers_scope_in_the_directory() -> None:
    def scope(role: Role, org: str) -> tuple[list[str], list[str]]:
        found = handlers.reader_scope(Actor(sub="x", role=role, org=org), DIRECTORY)
        return sorted(found.communities), sorted(found.units)

    assert scope(Role.SUPERVISOR, "QH") == (["LJ01", "LJ02", "WH01"], ["U-HOSP", "U-SCHOOL", "U-TAX"])
    assert scope(Role.SUPERVISOR, "WH") == (["WH01"], ["U-TAX"])  # a street's supervisor
    assert scope(Role.STREET_DISPATCHER, "LJ") == (["LJ01", "LJ02"], ["U-HOSP", "U-SCHOOL"])
    assert scope(Role.COMMUNITY_WORKER, "LJ02") == (["LJ02"], ["U-HOSP"])  # its paired units
    assert scope(Role.UNIT_ADMIN, "U-TAX") == ([], ["U-TAX"])
    assert scope(Role.MEMBER, "LJ01") == scope(Role.RESIDENT, "LJ01") == ([], [])
