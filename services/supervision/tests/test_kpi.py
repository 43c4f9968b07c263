from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.events import Rating, TicketAccepted, TicketClosed, TicketRated, TicketResolved
from gridloop.shared.worktime import WorkCalendar, around_the_clock
from gridloop.stack.testing import make_event
from gridloop.supervision import kpi

pytestmark = pytest.mark.unit
CHINA = WorkCalendar(is_workday=lambda day: day.weekday() < 5)
# Monday 2026-03-02, 11:50 in the city (03:50 UTC): ten minutes before the lunch break.
BEFORE_LUNCH = datetime(2026, 3, 2, 3, 50, tzinfo=UTC)


def _ticket(**fields):  # type: ignore[no-untyped-def]
    return {
        "dispatched_at": BEFORE_LUNCH,
        "accepted_at": None,
        "accept_deadline": BEFORE_LUNCH + timedelta(hours=4),
        "resolve_deadline": BEFORE_LUNCH + timedelta(days=1),
        **fields,
    }


def test_a_response_across_the_lunch_break_counts_only_working_minutes() -> None:
    accepted = make_event(
        TicketAccepted(department="CG", round=1), ticket_id="t", at=BEFORE_LUNCH + timedelta(minutes=110)
    )
    tally = kpi.tally(_ticket(), accepted, CHINA)
    # 11:50–12:00 and 13:30–13:40 are office hours; the lunch break between is not
    assert tally.minutes == {"accept": {"20": 1}}
    assert tally.counts == {"accepted": 1, "responded": 1, "responded_on_time": 1}


def test_a_second_acceptance_after_rework_is_not_a_new_response() -> None:
    accepted = make_event(TicketAccepted(department="CG", round=1), ticket_id="t", at=BEFORE_LUNCH + timedelta(days=2))
    tally = kpi.tally(_ticket(accepted_at=BEFORE_LUNCH), accepted, around_the_clock())
    assert tally.counts == {"accepted": 1}
    assert tally.minutes == {}


def test_a_late_resolution_is_counted_but_not_on_time() -> None:
    resolved = make_event(
        TicketResolved(department="CG", round=1, note="修好"), ticket_id="t", at=BEFORE_LUNCH + timedelta(days=2)
    )
    tally = kpi.tally(_ticket(), resolved, around_the_clock())
    assert tally.counts == {"resolved": 1}
    assert tally.minutes == {"resolve": {str(2 * 24 * 60): 1}}


def test_ratings_and_automatic_closures_are_told_apart() -> None:
    rated = make_event(TicketRated(rating=Rating.BASICALLY_SATISFIED), ticket_id="t")
    closed = make_event(TicketClosed(auto=True), ticket_id="t")
    assert kpi.tally(_ticket(), rated, CHINA).counts == {"rated": 1, "basically_satisfied": 1}
    assert kpi.tally(_ticket(), closed, CHINA).counts == {"closed": 1, "closed_auto": 1}


def test_a_recount_takes_the_old_duration_out_of_the_buckets_and_puts_the_new_one_in() -> None:
    counted = kpi.Tally(counts={"accepted": 1, "responded": 1}, minutes={"accept": {"180": 1}})
    new, difference = kpi.recounted(counted, 630)
    assert new.minutes == {"accept": {"630": 1}} and new.counts == counted.counts
    assert difference.minutes == {"accept": {"180": -1, "630": 1}} and difference.counts == {}
    buckets = kpi.Tally(minutes={"accept": {"180": 2, "60": 1}})
    buckets.add(difference)
    assert kpi.percentile(buckets.minutes["accept"], 90) == 630
    assert kpi.recounted(counted, 180)[1].minutes == {"accept": {}}  # nothing changed, nothing added


def test_nearest_rank_percentiles() -> None:
    histogram = {"10": 1, "20": 1, "30": 1, "40": 1}
    assert kpi.percentile(histogram, 50) == 20
    assert kpi.percentile(histogram, 90) == 40
    assert kpi.percentile({"7": 9, "100": 1}, 90) == 7
    assert kpi.percentile({}, 50) is None


def test_rates_and_the_composite_score() -> None:
    tally = kpi.Tally(
        counts={
            "dispatched": 10,
            "rejected": 1,
            "responded": 8,
            "responded_on_time": 6,
            "resolved": 8,
            "resolved_on_time": 4,
            "reopened": 2,
            "closed": 6,
            "rated": 4,
            "satisfied": 2,
            "basically_satisfied": 1,
            "unsatisfied": 1,
        },
        minutes={"accept": {"5": 3, "50": 1}},
    )
    figures = kpi.indicators(tally)
    assert figures["response_rate"] == 0.75
    assert figures["on_time_resolution_rate"] == 0.5
    assert figures["resolution_rate"] == 0.75
    assert figures["satisfaction_rate"] == 0.75
    assert figures["rejection_rate"] == 0.1
    assert figures["rework_rate"] == 0.25
    assert (figures["accept_minutes_median"], figures["accept_minutes_p90"]) == (5, 50)
    assert figures["resolve_minutes_median"] is None
    assert figures["score"] == 75.0
    weighted = kpi.indicators(tally, ScoreWeights(response=1.0, resolution=0.0, satisfaction=0.0))
    assert weighted["score"] == 75.0
    assert kpi.indicators(kpi.Tally())["score"] is None


def test_weights_must_add_up_to_one() -> None:
    with pytest.raises(ValidationError):
        ScoreWeights(response=0.5, resolution=0.5, satisfaction=0.5)


def test_the_ranking_leaves_out_units_below_the_minimum_volume() -> None:
    def unit(code: str, score: float | None, dispatched: int) -> dict:  # type: ignore[type-arg]
        return {"code": code, "score": score, "dispatched": dispatched}

    items = [unit("A", 90, 20), unit("B", 70, 20), unit("C", 99, 3), unit("D", 80, 20), unit("E", None, 20)]
    board = kpi.ranking(items, min_volume=10, board_size=3)
    assert [(r["rank"], r["code"]) for r in board["ranked"]] == [(1, "A"), (2, "D"), (3, "B")]
    assert [r["code"] for r in board["red_list"]] == ["A"]  # three ranked: one on each board
    assert [r["code"] for r in board["black_list"]] == ["B"]


def test_a_window_is_cut_into_days_hours_and_raw_edges_in_city_time() -> None:
    # 2026-03-01 22:30 to 2026-03-04 01:15 in the city (UTC+8)
    start = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    end = datetime(2026, 3, 3, 17, 15, tzinfo=UTC)
    plan = kpi.plan_window(start, end)
    midnight_2nd, midnight_4th = datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 3, 16, tzinfo=UTC)
    assert plan.days == (midnight_2nd, midnight_4th)
    assert plan.hours == [
        (datetime(2026, 3, 1, 15, tzinfo=UTC), midnight_2nd),
        (midnight_4th, datetime(2026, 3, 3, 17, tzinfo=UTC)),
    ]
    assert plan.raw == [(start, datetime(2026, 3, 1, 15, tzinfo=UTC)), (datetime(2026, 3, 3, 17, tzinfo=UTC), end)]
    short = kpi.plan_window(start, start + timedelta(minutes=20))
    assert (short.days, short.hours, short.raw) == (None, [], [(start, start + timedelta(minutes=20))])
    hours = kpi.plan_window(midnight_2nd + timedelta(hours=1), midnight_2nd + timedelta(hours=5))
    assert (hours.days, hours.raw) == (None, [])


def test_a_month_runs_from_the_citys_midnight() -> None:
    assert kpi.month_window("2026-12") == (
        datetime(2026, 11, 30, 16, tzinfo=UTC),
        datetime(2026, 12, 31, 16, tzinfo=UTC),
    )
    assert kpi.month_window("2027-01") == (
        datetime(2026, 12, 31, 16, tzinfo=UTC),
        datetime(2027, 1, 31, 16, tzinfo=UTC),
    )
    with pytest.raises(ValueError):
        kpi.month_window("2026-13")


def test_a_window_across_the_new_year_takes_the_days_on_either_side() -> None:
    # 2026-12-30 00:00 to 2027-01-03 00:00 in the city: four whole days, two of each year
    start, end = datetime(2026, 12, 29, 16, tzinfo=UTC), datetime(2027, 1, 2, 16, tzinfo=UTC)
    assert kpi.plan_window(start, end) == kpi.WindowPlan(days=(start, end), hours=[], raw=[])
    assert kpi.day_start(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_a_readers_scope_is_applied_to_documents_held_in_memory() -> None:
    from gridloop.shared.access import scope_filter
    from gridloop.shared.events import Actor, Role
    from gridloop.supervision import store
    from gridloop.supervision.readmodel import visible

    bucket = {"street_code": "LJ", "district_code": "QH"}
    ticket = {**bucket, "community_code": "LJ01", "lead_department": "CG"}
    readers = {
        who: Actor(sub="x", role=role, org=org)
        for who, role, org in [
            ("district", Role.SUPERVISOR, "QH"),
            ("street", Role.SUPERVISOR, "LJ"),
            ("other street", Role.SUPERVISOR, "WH"),
            ("desk", Role.STREET_DISPATCHER, "LJ"),
            ("agent", Role.DEPARTMENT_AGENT, "CG"),
        ]
    }
    sees = {
        "district": True,
        "street": True,
        "other street": False,
        "desk": True,
        "agent": False,
    }
    for doc, fields in [
        (bucket, store.BUCKET),
        ({**bucket, "tally": {}}, store.TIMELINE_ROW),
        (ticket, store.TICKET_RECORD),
    ]:
        assert {who: visible(reader, doc, fields) for who, reader in readers.items()} == sees
    assert visible(None, bucket, store.BUCKET)  # the gauges read the whole city
    # the database queries select by the same rule: one equality per branch, which _find runs apart
    assert scope_filter(readers["district"], store.BUCKET) == {"$or": [{"district_code": "QH"}, {"street_code": "QH"}]}
    assert scope_filter(readers["desk"], store.BUCKET) == {"street_code": "LJ"}


NOW = datetime(2026, 3, 20, 8, tzinfo=UTC)


def test_a_window_defaults_to_the_last_30_days_and_must_start_before_it_ends() -> None:
    assert kpi.window(None, None, now=NOW) == (NOW - timedelta(days=30), NOW)
    start = datetime(2026, 3, 1, tzinfo=kpi.ZONE)
    assert kpi.window(start, None, now=NOW) == (datetime(2026, 2, 28, 16, tzinfo=UTC), NOW)
    with pytest.raises(kpi.InvalidWindow):
        kpi.window(NOW, NOW, now=NOW)
    with pytest.raises(kpi.WindowOutOfRange):
        kpi.window(None, datetime(1999, 12, 31, tzinfo=UTC), now=NOW)
    with pytest.raises(kpi.WindowOutOfRange):
        kpi.window(datetime(2100, 1, 1, tzinfo=UTC), None, now=NOW)
    # offsets that put an instant before year 1 or past 9999 in UTC are out of range too, not a crash
    with pytest.raises(kpi.WindowOutOfRange):
        kpi.window(None, datetime(1, 1, 1, 0, 35, tzinfo=timezone(timedelta(hours=16, minutes=14))), now=NOW)
    with pytest.raises(kpi.WindowOutOfRange):
        kpi.window(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), None, now=NOW)


def test_units_below_the_minimum_volume_are_unranked_and_the_sheet_lists_them_after_the_ranked() -> None:
    def unit(code: str, score: float | None, dispatched: int) -> dict:  # type: ignore[type-arg]
        return {"code": code, "score": score, "dispatched": dispatched}

    items = [unit("A", 70, 20), unit("B", 90, 20), unit("C", 99, 3), unit("D", None, 20), unit("E", 90, 20)]
    board = kpi.ranking(items, min_volume=10, board_size=3)
    assert [r["code"] for r in board["ranked"]] == ["B", "E", "A"]  # ties by code
    assert board["unranked"] == ["C", "D"]
    standings = kpi.standings(items, min_volume=10)
    assert [(r["rank"], r["code"]) for r in standings] == [(1, "B"), (2, "E"), (3, "A"), (None, "C"), (None, "D")]
