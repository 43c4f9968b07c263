"""The hotspot rule on a set clock: which spots become project ideas, and which tickets count."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild.projects import hotspots
from gridloop.cobuild.projects.hotspots import Thresholds

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
RULE = Thresholds(window_days=90, closed_tickets=5, reworks=2, send_backs=3)


def _fact(
    n: int, *, days_ago: int = 10, grid: str = "LJ01-G1", category: str = "SJ-0101", **more: Any
) -> dict[str, Any]:
    reported = NOW - timedelta(days=days_ago)
    return {
        "_id": f"t{n:03d}",
        "category_code": category,
        "grid_code": grid,
        "community_code": grid[:4],
        "street_code": grid[:2],
        "district_code": "QH",
        "status": "closed",
        "reported_at": reported,
        "closed_at": reported + timedelta(days=1),
        "reworks": 0,
        "send_backs": 0,
        **more,
    }


def test_five_closed_tickets_of_one_category_in_one_grid_within_the_window_make_a_hotspot() -> None:
    facts = [_fact(i) for i in range(4)]
    assert hotspots.detect(facts, now=NOW, thresholds=RULE) == []
    [spot] = hotspots.detect([*facts, _fact(4)], now=NOW, thresholds=RULE)
    assert (spot.grid_code, spot.category_code, spot.closed, spot.community_code) == ("LJ01-G1", "SJ-0101", 5, "LJ01")
    assert spot.ticket_ids == ["t000", "t001", "t002", "t003", "t004"]
    assert spot.reasons(RULE) == ["90天内结案5件"]


def test_tickets_elsewhere_of_another_kind_cancelled_or_older_than_the_window_do_not_count() -> None:
    facts = [
        *(_fact(i) for i in range(3)),
        _fact(10, grid="LJ01-G2"),
        _fact(11, category="SJ-0102"),
        _fact(12, status="cancelled", closed_at=None),
        _fact(13, days_ago=120),
        _fact(14, status="dispatched", closed_at=None),
    ]
    assert hotspots.detect(facts, now=NOW, thresholds=RULE) == []


def test_two_reworks_or_three_send_backs_at_one_spot_make_a_hotspot_too() -> None:
    [reworked] = hotspots.detect(
        [_fact(1, reworks=1, status="accepted", closed_at=None), _fact(2, reworks=1)], now=NOW, thresholds=RULE
    )
    assert reworked.reasons(RULE) == ["返工2次"]
    [sent_back] = hotspots.detect(
        [_fact(1, send_backs=2), _fact(2, send_backs=1, grid="LJ01-G1")], now=NOW, thresholds=RULE
    )
    assert sent_back.reasons(RULE) == ["退单3次"]


def test_after_a_spots_project_only_tickets_reported_since_count() -> None:
    facts = [_fact(i, days_ago=40) for i in range(5)] + [_fact(9, days_ago=5)]
    since = {("LJ01-G1", "SJ-0101"): NOW - timedelta(days=20)}
    assert hotspots.detect(facts, now=NOW, thresholds=RULE, since=since) == []
    assert len(hotspots.detect(facts, now=NOW, thresholds=RULE)) == 1


def test_an_idea_stays_open_while_the_need_or_its_project_is_open_and_counts_from_the_projects_end() -> None:
    needs_open, projects_open = {"submitted", "reviewed"}, {"proposed", "in_progress"}
    idea = {"_id": "n1", "status": "reviewed", "updated_at": NOW}
    assert hotspots.still_open(idea, [], open_needs=needs_open, open_projects=projects_open) == (True, None)
    running = [{"status": "in_progress"}]
    assert hotspots.still_open(idea, running, open_needs=needs_open, open_projects=projects_open) == (True, None)
    done = [{"status": "completed", "completed_at": NOW - timedelta(days=3)}]
    assert hotspots.still_open(idea, done, open_needs=needs_open, open_projects=projects_open) == (
        False,
        NOW - timedelta(days=3),
    )
    cancelled = [{"status": "cancelled", "cancelled_at": NOW - timedelta(days=1)}]
    assert hotspots.still_open(idea, cancelled, open_needs=needs_open, open_projects=projects_open) == (True, None)
    rejected = {**idea, "status": "rejected"}
    assert hotspots.still_open(rejected, [], open_needs=needs_open, open_projects=projects_open) == (False, NOW)


def test_a_hotspot_idea_is_filed_under_a_need_category_and_says_what_returns_without_naming_anyone() -> None:
    assert hotspots.need_category("SJ-0101", known={"NC-ENV", "NC-REPAIR"}, default="NC-REPAIR") == "NC-ENV"
    assert hotspots.need_category("SJ-0701", known={"NC-ENV", "NC-REPAIR"}, default="NC-REPAIR") == "NC-REPAIR"
    [spot] = hotspots.detect([_fact(i) for i in range(5)], now=NOW, thresholds=RULE)
    text = hotspots.description(spot, category_name="暴露垃圾", thresholds=RULE)
    assert "LJ01-G1" in text and "暴露垃圾" in text and "结案5件" in text
