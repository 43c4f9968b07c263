"""Suggested need↔offer pairs (智能匹配), a pure rule: an offer serves a need when its categories
hold the need's, its community accepted it, it is available by the time the need must be met and
it has capacity left; nearer is better (same grid, then community, then street). Each need gets
its best offer, the best pairs first, no offer promised beyond its capacity; a need without one
gets the reason. No I/O; the time is passed in."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridloop.cobuild.offers import domain as offers
from gridloop.shared.clock import CITY_ZONE, as_utc

NO_OFFER = "无同类资源"
NOT_AVAILABLE = "资源不在可用期"
TOO_FAR = "距离过远"
NO_CAPACITY = "资源容量已用完"

PROXIMITY = {3: ("同一网格", 40), 2: ("同一社区", 30), 1: ("同一街道", 15)}
"""How near an offer is to a need, and what that adds to the score; a different street is too far."""
CATEGORY_POINTS = 40
AVAILABLE_NOW_POINTS = 10
CAPACITY_POINTS = 10  # for ten or more uses left, less for fewer


@dataclass(frozen=True)
class Pair:
    need_id: str
    offer_id: str
    score: int
    reasons: list[str]


@dataclass(frozen=True)
class Unpaired:
    need_id: str
    reason: str


def need_by(need: Mapping[str, Any], now: datetime) -> datetime:
    """When the need must be met: its claim deadline, or its delivery deadline; else now."""
    for field in ("claim_deadline", "deliver_deadline"):
        if need.get(field) is not None:
            return max(as_utc(need[field]), now)
    return now


def proximity(need: Mapping[str, Any], offer: Mapping[str, Any]) -> int:
    """3 same grid, 2 same community, 1 same street, 0 farther."""
    if offer["grid_code"] == need["grid_code"]:
        return 3
    if offer.get("grid_community_code") == need["community_code"]:
        return 2
    if offer["street_code"] == need["street_code"]:
        return 1
    return 0


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    """Great-circle distance between two (lon, lat) points, None when either is unknown."""
    if a is None or b is None:
        return None
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _judged(need: Mapping[str, Any], offer: Mapping[str, Any], *, now: datetime, by: datetime) -> int | str:
    """The pair's score, or why this offer cannot serve this need (the cheap part of `score`)."""
    if need["category_code"] not in offer["category_codes"] or need["community_code"] not in offer.get(
        "accepted_communities", []
    ):
        return NO_OFFER
    if not offers.available_between(offer, now, by):
        return NOT_AVAILABLE
    level = proximity(need, offer)
    if level == 0:
        return TOO_FAR
    left = offers.remaining(offer)
    if left <= 0:
        return NO_CAPACITY
    total = CATEGORY_POINTS + PROXIMITY[level][1] + round(CAPACITY_POINTS * min(left, 10) / 10)
    if as_utc(offer["available_from"]) <= now:
        total += AVAILABLE_NOW_POINTS
    return total


def _reasons(
    need: Mapping[str, Any],
    offer: Mapping[str, Any],
    *,
    now: datetime,
    category_name: str,
    centroids: Mapping[str, tuple[float, float]] | None,
) -> list[str]:
    """Why the pair was suggested, in Chinese: the category, how near, when, how much is left."""
    level = proximity(need, offer)
    reasons = [f"同类资源：{category_name}", PROXIMITY[level][0]]
    km = distance_km((centroids or {}).get(need["grid_code"]), (centroids or {}).get(offer["grid_code"]))
    if km is not None and level < 3:
        reasons.append(f"相距约{km:.1f}公里")
    if as_utc(offer["available_from"]) <= now:
        until = as_utc(offer["available_until"]).astimezone(CITY_ZONE)
        reasons.append(f"现可使用（至{until.month}月{until.day}日）")
    else:
        start = as_utc(offer["available_from"]).astimezone(CITY_ZONE)
        reasons.append(f"{start.month}月{start.day}日起可用，赶得上需求期限")
    reasons.append(f"剩余容量{offers.remaining(offer)}")
    return reasons


def score(
    need: Mapping[str, Any],
    offer: Mapping[str, Any],
    *,
    now: datetime,
    category_name: str,
    centroids: Mapping[str, tuple[float, float]] | None = None,
) -> Pair | str:
    """The pair's score and reasons, or why this offer cannot serve this need."""
    judged = _judged(need, offer, now=now, by=need_by(need, now))
    if isinstance(judged, str):
        return judged
    reasons = _reasons(need, offer, now=now, category_name=category_name, centroids=centroids)
    return Pair(need_id=str(need["_id"]), offer_id=str(offer["_id"]), score=judged, reasons=reasons)


_REASON_ORDER = [NO_CAPACITY, TOO_FAR, NOT_AVAILABLE, NO_OFFER]
"""When no offer serves a need, the reason of the offer that came closest."""


def match(
    needs: Sequence[Mapping[str, Any]],
    candidates: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    category_names: Mapping[str, str],
    centroids: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[list[Pair], list[Unpaired]]:
    """Each need's best offer, pairs by score (best first; ties: the older need), capacity
    honoured across pairs; the needs left over with the reason."""
    of_category: dict[str, list[Mapping[str, Any]]] = {}
    for offer in candidates:
        for category in offer["category_codes"]:
            of_category.setdefault(category, []).append(offer)
    scored: list[tuple[int, str, str]] = []
    closest: dict[str, str] = {}
    for need in needs:
        best_reason, by = NO_OFFER, need_by(need, now)
        for offer in of_category.get(need["category_code"], []):
            judged = _judged(need, offer, now=now, by=by)
            if isinstance(judged, int):
                scored.append((judged, str(need["_id"]), str(offer["_id"])))
            elif _REASON_ORDER.index(judged) < _REASON_ORDER.index(best_reason):
                best_reason = judged
        closest[str(need["_id"])] = best_reason
    left = {str(o["_id"]): offers.remaining(o) for o in candidates}
    paired: dict[str, tuple[int, str]] = {}
    starved: set[str] = set()
    for points, need_id, offer_id in sorted(scored, key=lambda p: (-p[0], p[1], p[2])):
        if need_id in paired:
            continue
        if left[offer_id] <= 0:
            starved.add(need_id)
            continue
        left[offer_id] -= 1
        paired[need_id] = (points, offer_id)
    by_need = {str(n["_id"]): n for n in needs}
    by_offer = {str(o["_id"]): o for o in candidates}
    pairs = [
        Pair(
            need_id=need_id,
            offer_id=offer_id,
            score=points,
            reasons=_reasons(
                by_need[need_id],
                by_offer[offer_id],
                now=now,
                category_name=category_names.get(by_need[need_id]["category_code"], by_need[need_id]["category_code"]),
                centroids=centroids,
            ),
        )
        for need_id, (points, offer_id) in sorted(paired.items(), key=lambda p: (-p[1][0], p[0]))
    ]
    unpaired = [
        Unpaired(
            need_id=str(n["_id"]),
            reason=NO_CAPACITY if str(n["_id"]) in starved else closest[str(n["_id"])],
        )
        for n in needs
        if str(n["_id"]) not in paired
    ]
    return pairs, unpaired
