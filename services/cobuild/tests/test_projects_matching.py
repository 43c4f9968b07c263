"""Matching on a set clock: category required, nearer first, available in time, capacity honoured,
and each unmatched need with its reason in Chinese."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild.projects import matching

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NAMES = {"NC-ELDER": "助老服务", "NC-HEALTH": "健康义诊"}


def _need(need_id: str, *, category: str = "NC-ELDER", grid: str = "LJ01-G1", **more: Any) -> dict[str, Any]:
    return {
        "_id": need_id,
        "need_number": f"XQ-{need_id}",
        "category_code": category,
        "grid_code": grid,
        "community_code": grid[:4],
        "street_code": grid[:2],
        "claim_deadline": NOW + timedelta(days=10),
        **more,
    }


def _offer(
    offer_id: str, *, grid: str = "LJ01-G1", categories: tuple[str, ...] = ("NC-ELDER",), **more: Any
) -> dict[str, Any]:
    return {
        "_id": offer_id,
        "title": f"资源{offer_id}",
        "unit_code": "U-LJ-HOSP",
        "category_codes": list(categories),
        "grid_code": grid,
        "grid_community_code": grid[:4],
        "street_code": grid[:2],
        "accepted_communities": ["LJ01", "LJ02"],
        "capacity": 5,
        "used": 0,
        "available_from": NOW - timedelta(days=1),
        "available_until": NOW + timedelta(days=30),
        **more,
    }


def test_the_same_grid_beats_the_same_community_which_beats_the_same_street() -> None:
    need = _need("n1")
    grid, community, street = _offer("g"), _offer("c", grid="LJ01-G2"), _offer("s", grid="LJ02-G1")
    scores = {o["_id"]: matching.score(need, o, now=NOW, category_name="助老服务") for o in (grid, community, street)}
    assert all(isinstance(s, matching.Pair) for s in scores.values())
    ranked = sorted(scores.values(), key=lambda p: -p.score)  # type: ignore[union-attr]
    assert [p.offer_id for p in ranked] == ["g", "c", "s"]  # type: ignore[union-attr]
    assert scores["g"].reasons[:2] == ["同类资源：助老服务", "同一网格"]  # type: ignore[union-attr]
    assert "同一街道" in scores["s"].reasons  # type: ignore[union-attr]


def test_each_need_gets_its_best_offer_and_capacity_is_never_promised_twice() -> None:
    needs = [_need("n1"), _need("n2"), _need("n3", grid="LJ01-G2")]
    offers = [_offer("near", capacity=1), _offer("far", grid="LJ02-G1", capacity=1)]
    pairs, unpaired = matching.match(needs, offers, now=NOW, category_names=NAMES)
    assert {(p.need_id, p.offer_id) for p in pairs} == {("n1", "near"), ("n2", "far")}
    assert [(u.need_id, u.reason) for u in unpaired] == [("n3", "资源容量已用完")]


def test_unmatched_needs_say_why() -> None:
    needs = [
        _need("other-kind", category="NC-HEALTH"),
        _need("too-late", claim_deadline=NOW + timedelta(days=3)),
        _need("far-away", grid="WH01-G1"),
    ]
    offers = [
        _offer("later", available_from=NOW + timedelta(days=5)),
        _offer("elsewhere", grid="LJ02-G1", available_from=NOW + timedelta(days=5)),
    ]
    far = _offer("lj-only", accepted_communities=["WH01"], available_from=NOW - timedelta(days=1))
    pairs, unpaired = matching.match(needs, [*offers, far], now=NOW, category_names=NAMES)
    assert pairs == []
    assert {u.need_id: u.reason for u in unpaired} == {
        "other-kind": "无同类资源",
        "too-late": "资源不在可用期",
        "far-away": "距离过远",
    }


def test_an_offer_not_yet_open_serves_a_need_whose_deadline_it_reaches_and_says_from_when() -> None:
    need = _need("n1", claim_deadline=NOW + timedelta(days=10))
    offer = _offer("o", available_from=NOW + timedelta(days=5))
    pair = matching.score(need, offer, now=NOW, category_name="助老服务")
    assert isinstance(pair, matching.Pair)
    assert any("起可用" in r for r in pair.reasons)
    used_up = matching.score(need, _offer("full", used=5), now=NOW, category_name="助老服务")
    assert used_up == "资源容量已用完"


def test_distance_between_grid_centres_is_shown_for_a_pair_not_in_the_same_grid() -> None:
    need, offer = _need("n1"), _offer("o", grid="LJ01-G2")
    centres = {"LJ01-G1": (120.0, 30.0), "LJ01-G2": (120.01, 30.0)}
    pair = matching.score(need, offer, now=NOW, category_name="助老服务", centroids=centres)
    assert isinstance(pair, matching.Pair) and "相距约1.0公里" in pair.reasons
