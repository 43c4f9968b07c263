"""评议's rules on plain documents: each indicator of a member, a unit's report and a community,
the quarterly card's remark and the rules of a yearly grade (never reported; a future year)."""

from datetime import UTC, datetime
from typing import Any

import pytest

from gridloop.cobuild.reviews import domain
from gridloop.cobuild.reviews.domain import Minimum, Period, ReviewRefused
from gridloop.shared.events import Grade, ReviewSubject

Y = 2026
NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)


def at(month: int, day: int = 10, year: int = Y) -> datetime:
    return datetime(year, month, day, 4, 0, tzinfo=UTC)


def member(mid: str, **kw: Any) -> dict[str, Any]:
    return {
        "_id": mid,
        "community_code": "LJ01",
        "unit_code": "U-LJ-HOSP",
        "party_member": True,
        "status": "active",
        "reported_at": at(2, 1),
        **kw,
    }


def record(mid: str, minutes: int, when: datetime, status: str = "approved", **kw: Any) -> dict[str, Any]:
    return {
        "member_id": mid,
        "minutes": minutes,
        "status": status,
        "service_date": when,
        "community_code": "LJ01",
        **kw,
    }


def move(mid: str, amount: int, when: datetime, reason: str = "service_hours") -> dict[str, Any]:
    return {
        "member_id": mid,
        "reason": reason,
        "at": when,
        "entries": [
            {"account": f"member:{mid}", "amount": amount},
            {"account": "community_pool:LJ01", "amount": -amount},
        ],
    }


def figures(m: dict[str, Any], records: list[dict[str, Any]], period: Period | None = None, **kw: Any) -> Any:
    return domain.member_indicators(
        m,
        records=records,
        movements=kw.get("movements", []),
        balance=kw.get("balance", 0),
        posts=kw.get("posts", []),
        period=period or Period(Y),
        minimum=Minimum(),
    )


def test_periods_are_the_citys_years_and_quarters() -> None:
    # 31 Dec 17:00 UTC is already 1 January in the city
    assert not Period(2026).holds(datetime(2026, 12, 31, 17, 0, tzinfo=UTC))
    assert Period(2027).holds(datetime(2026, 12, 31, 17, 0, tzinfo=UTC))
    assert Period(2026, 2).holds("2026-06-30") and not Period(2026, 2).holds("2026-07-01")
    assert Period(2026, 4).end == Period(2027).start


def test_member_counts_only_approved_services_of_the_year_and_meets_the_minimum() -> None:
    m = member("M-1")
    records = [
        record("M-1", 300, at(3), rating="satisfied"),
        record("M-1", 200, at(9), rating="unsatisfied"),
        record("M-1", 500, at(5), status="submitted"),  # not approved: not counted
        record("M-1", 90, at(11, year=2025)),  # last year
        record("M-2", 999, at(4)),  # someone else
    ]
    f = figures(m, records)
    assert (f.services, f.minutes, f.hours) == (2, 500, 8.3)
    assert f.ratings == {"satisfied": 1, "basically_satisfied": 0, "unsatisfied": 1}
    assert f.met_minimum and not f.never_reported and f.reported_at == "2026-02-01"
    short = figures(m, records[:1])
    assert not short.met_minimum  # one service, 300 minutes
    long_once = figures(m, [record("M-1", 600, at(3))])
    assert not long_once.met_minimum  # 600 minutes but one service


def test_member_points_earned_in_the_year_posts_and_balance() -> None:
    m = member("M-1")
    movements = [
        move("M-1", 5, at(3)),
        move("M-1", 3, at(6), reason="wish_fulfilled"),
        move("M-1", -2, at(7), reason="reversal"),
        move("M-1", -4, at(8), reason="redeem"),  # spending is not earning
        move("M-1", 9, at(12, year=2025)),
    ]
    posts = [
        {"_id": "P-2", "holders": ["M-1"]},
        {"_id": "P-1", "holders": ["M-1", "M-3"]},
        {"_id": "P-9", "holders": []},
    ]
    f = figures(m, [], movements=movements, posts=posts, balance=11)
    assert (f.points_earned, f.balance, f.posts) == (6, 11, ["P-1", "P-2"])


def test_a_member_never_confirmed_is_flagged() -> None:
    f = figures(member("M-9", reported_at=None, status="pending"), [])
    assert f.never_reported and f.reported_at == "" and domain.remark(f) == "尚未到社区报到"


def test_card_remark_reads_the_quarter() -> None:
    m = member("M-1")
    q3 = Period(Y, 3)
    assert domain.remark(figures(m, [record("M-1", 120, at(3))], q3)) == "本季度未参加服务"
    served = figures(m, [record("M-1", 90, at(8), rating="satisfied")], q3)
    assert domain.remark(served) == "本季度服务1次，计1.5小时，服务对象满意"
    bad = figures(m, [record("M-1", 60, at(8), rating="unsatisfied")], q3)
    assert domain.remark(bad) == "本季度服务1次，计1小时，1次评价为不满意"


def unit_case() -> tuple[list[Any], dict[str, Any]]:
    docs = {
        "M-1": member("M-1"),
        "M-2": member("M-2"),
        "M-3": member("M-3", reported_at=None, status="pending"),  # not counted as reported
        "M-4": member("M-4", community_code="LJ02"),  # serves another community
        "M-5": member("M-5", status="transferred"),  # gone
    }
    records = [
        record("M-1", 240, at(3), rating="satisfied"),
        record("M-1", 240, at(4)),
        record("M-2", 60, at(5), rating="basically_satisfied"),
        record("M-4", 600, at(5)),
    ]
    return [figures(d, records) for d in docs.values()], docs


def test_unit_rates_hours_offers_projects_wishes_and_grades() -> None:
    members, docs = unit_case()
    report = {"unit_code": "U-LJ-HOSP", "community_code": "LJ01", "reported_at": at(1, 15), "receipt_number": "HZ-1"}
    offers = [
        {"unit_code": "U-LJ-HOSP", "community_codes": ["LJ01"], "created_at": at(2), "status": "accepted",
         "uses": [{"at": at(3), "amount": 1}]},
        {"unit_code": "U-LJ-HOSP", "community_codes": ["LJ01"], "created_at": at(4), "status": "accepted", "uses": []},
        {"unit_code": "U-LJ-HOSP", "community_codes": ["LJ01"], "created_at": at(4), "status": "withdrawn", "uses": []},
        {"unit_code": "U-LJ-HOSP", "community_codes": ["LJ02"], "created_at": at(4), "status": "accepted", "uses": []},
    ]  # fmt: skip
    projects = [
        {"unit_codes": ["U-LJ-HOSP"], "community_code": "LJ01", "created_at": at(6)},
        {"unit_codes": ["U-LJ-SCHOOL"], "community_code": "LJ01", "created_at": at(6)},
        {"unit_codes": ["U-LJ-HOSP"], "community_code": "LJ01", "created_at": at(6, year=2025)},
    ]
    needs = [
        {"kind": "wish", "status": "done", "community_code": "LJ01", "claimant_codes": ["U-LJ-HOSP"], "done_at": at(7)},
        {"kind": "wish", "status": "delivered", "community_code": "LJ01", "claimant_codes": ["U-LJ-HOSP"]},
        {
            "kind": "service",
            "status": "done",
            "community_code": "LJ01",
            "claimant_codes": ["U-LJ-HOSP"],
            "done_at": at(7),
        },
    ]
    grades = [
        {"year": Y, "subject_kind": "unit", "subject_code": "U-LJ-HOSP", "reviewer_code": "LJ01", "grade": "excellent"},
        {"year": Y, "subject_kind": "community", "subject_code": "LJ01", "reviewer_code": "U-LJ-HOSP", "grade": "pass"},
        {"year": 2025, "subject_kind": "unit", "subject_code": "U-LJ-HOSP", "reviewer_code": "LJ01", "grade": "fail"},
    ]
    u = domain.unit_indicators(
        report,
        headcount={"_id": "U-LJ-HOSP", "party_members": 40},
        members=members,
        member_docs=docs,
        offers=offers,
        projects=projects,
        needs=needs,
        grades=grades,
        period=Period(Y),
    )
    assert (u.members_reported, u.members_serving, u.members_meeting_minimum) == (2, 2, 1)
    assert (u.participation_rate, u.completion_rate) == (1.0, 0.5)
    assert (u.minutes, u.hours, u.party_members, u.reported_at) == (540, 9.0, 40, "2026-01-15")
    assert (u.offers_given, u.offers_used, u.projects_led, u.wishes_fulfilled) == (2, 1, 1, 1)
    assert u.ratings == {"satisfied": 1, "basically_satisfied": 1, "unsatisfied": 0}
    assert (u.community_grade, u.grade_of_community) == ("excellent", "pass")


def test_unit_without_members_has_no_rate() -> None:
    report = {"unit_code": "U-X", "community_code": "LJ01", "reported_at": at(1)}
    u = domain.unit_indicators(
        report,
        headcount=None,
        members=[],
        member_docs={},
        offers=[],
        projects=[],
        needs=[],
        grades=[],
        period=Period(Y),
    )
    assert (u.participation_rate, u.completion_rate, u.party_members, u.community_grade) == (None, None, None, None)


def test_community_needs_projects_members_hours_gate_and_grades() -> None:
    needs = [
        {"community_code": "LJ01", "status": "done", "created_at": at(2), "done_at": at(3)},
        {"community_code": "LJ01", "status": "converted", "created_at": at(4), "ticket_id": "T-1"},
        {"community_code": "LJ01", "status": "done", "created_at": at(4), "done_at": at(5), "ticket_id": "T-2"},
        {"community_code": "LJ01", "status": "published", "created_at": at(12, year=2025)},
        {"community_code": "LJ02", "status": "done", "created_at": at(2), "done_at": at(3)},
    ]
    reports = [
        {"unit_code": "A", "community_code": "LJ01", "reported_at": at(1)},
        {"unit_code": "B", "community_code": "LJ01", "reported_at": at(3, year=2027)},
    ]
    members = [member("M-1"), member("M-2", reported_at=None), member("M-3", status="inactive")]
    records = [record("M-1", 120, at(3)), record("M-1", 60, at(3), status="rejected")]
    admissions = [
        {"status": "refused", "community_codes": ["LJ01", "LJ02"], "decided_at": at(5)},
        {"status": "admitted", "community_codes": ["LJ01"], "decided_at": at(5)},
        {"status": "refused", "community_codes": ["LJ02"], "decided_at": at(5)},
    ]
    grades = [
        {"year": Y, "subject_kind": "community", "subject_code": "LJ01", "reviewer_code": "A", "grade": "pass"},
        {"year": Y, "subject_kind": "community", "subject_code": "LJ01", "reviewer_code": "B", "grade": "pass"},
        {"year": Y, "subject_kind": "unit", "subject_code": "A", "reviewer_code": "LJ01", "grade": "fail"},
    ]
    c = domain.community_indicators(
        "LJ01",
        needs=needs,
        projects=[{"community_code": "LJ01", "created_at": at(6)}],
        reports=reports,
        member_docs=members,
        records=records,
        admissions=admissions,
        grades=grades,
        period=Period(Y),
    )
    assert (c.needs_collected, c.needs_done, c.needs_converted, c.projects) == (3, 2, 2, 1)
    assert (c.units_reported, c.members_reported, c.minutes, c.admissions_refused) == (1, 1, 120, 1)
    assert c.grades_from_units == {"excellent": 0, "pass": 2, "basic": 0, "fail": 0}


@pytest.mark.parametrize("grade", [Grade.EXCELLENT, Grade.PASS])
def test_never_reported_member_cannot_be_graded_pass_or_above(grade: Grade) -> None:
    with pytest.raises(ReviewRefused) as refused:
        domain.check_grade(kind=ReviewSubject.MEMBER, grade=grade, subject={"reported_at": None}, year=Y, now=NOW)
    assert refused.value.code == "never_reported"


@pytest.mark.parametrize("grade", [Grade.BASIC, Grade.FAIL])
def test_never_reported_member_may_be_graded_basic_or_fail(grade: Grade) -> None:
    domain.check_grade(kind=ReviewSubject.MEMBER, grade=grade, subject={"reported_at": None}, year=Y, now=NOW)


def test_a_unit_needs_no_member_report_and_a_future_year_is_refused() -> None:
    domain.check_grade(kind=ReviewSubject.UNIT, grade=Grade.EXCELLENT, subject={}, year=Y, now=NOW)
    with pytest.raises(ReviewRefused) as refused:
        domain.check_grade(kind=ReviewSubject.UNIT, grade=Grade.PASS, subject={}, year=Y + 1, now=NOW)
    assert refused.value.code == "future_year"
    # the new year begins in the city at 16:00 UTC on 31 December
    domain.check_grade(
        kind=ReviewSubject.UNIT, grade=Grade.PASS, subject={}, year=2027, now=datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    )


def test_review_id_names_year_subject_and_reviewer() -> None:
    doc = domain.review_doc(
        year=Y, kind=ReviewSubject.MEMBER, subject_code="M-1", reviewer_kind=ReviewSubject.COMMUNITY,
        reviewer_code="LJ01", community_code="LJ01", grade=Grade.PASS, comment="", basis={"services": 2},
        reviewer_sub="cw-lj01", now=NOW,
    )  # fmt: skip
    assert doc["_id"] == "2026:member:M-1:LJ01" and doc["basis"] == {"services": 2} and doc["grade"] == "pass"
