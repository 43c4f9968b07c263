"""Indicators (考核指标): what each event adds to the tallies of its units, how a window is cut
into whole days, whole hours and raw edges, and how tallies become the rates, percentiles,
composite score and ranking (红黑榜) supervisors read. Every definition is in docs/metrics.md."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.events import (
    Envelope,
    TicketAccepted,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketResolved,
)
from gridloop.shared.worktime import WorkCalendar


class Unit(StrEnum):
    DISTRICTS = "districts"  # the whole district: the command centre's headline figures
    DEPARTMENTS = "departments"
    STREETS = "streets"
    COMMUNITIES = "communities"
    GRIDS = "grids"


DIRECTORY_KINDS = {
    Unit.DISTRICTS: "district",
    Unit.DEPARTMENTS: "department",
    Unit.STREETS: "street",
    Unit.COMMUNITIES: "community",
    Unit.GRIDS: "grid",
}
"""The directory's kind of record that names each unit."""
UNIT_FIELDS = {
    "districts": "district_code",
    "departments": "department",
    "streets": "street_code",
    "communities": "community_code",
    "grids": "grid_code",
}
STAGES = ("accept", "resolve")  # dispatch→accept and dispatch→resolve, in working minutes
COUNTED = (
    "reported",
    "dispatched",
    "dispatched_auto",
    "dispatched_manual",
    "accepted",  # every acceptance, the one after a rework (返工) included
    "responded",  # the first acceptance after a dispatch: the department's response (响应)
    "responded_on_time",
    "rejected",
    "resolved",
    "resolved_on_time",
    "reopened",
    "closed",
    "closed_auto",
    "cancelled",
    "rated",
    "satisfied",
    "basically_satisfied",
    "unsatisfied",
    "overdue",  # deadlines that lapsed (接单 or 处置 超期), each counted once
    "escalated",
)
ZONE = CITY_ZONE
# Windows lie in this century: outside it window arithmetic would run off the ends of the calendar.
EARLIEST = datetime(2000, 1, 1, tzinfo=ZONE)
LATEST = datetime(2099, 12, 31, tzinfo=ZONE)
DEFAULT_WINDOW = timedelta(days=30)
Window = tuple[datetime, datetime]


@dataclass
class Tally:
    """What events add up to for one unit: counts, and working-minute histograms per stage."""

    counts: dict[str, int] = field(default_factory=dict)
    minutes: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> {"37": n}

    def add(self, other: "Tally") -> None:
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        for stage, histogram in other.minutes.items():
            mine = self.minutes.setdefault(stage, {})
            for value, n in histogram.items():
                mine[value] = mine.get(value, 0) + n

    def to_doc(self) -> dict[str, Any]:
        return {"n": self.counts, "m": self.minutes}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> "Tally":
        doc = doc or {}
        return cls(counts=dict(doc.get("n", {})), minutes={s: dict(h) for s, h in doc.get("m", {}).items()})

    def increments(self, prefix: str) -> dict[str, int]:
        """The `$inc` paths that add this tally under `prefix` in a bucket document."""
        paths = {f"{prefix}.n.{name}": n for name, n in self.counts.items()}
        for stage, histogram in self.minutes.items():
            paths |= {f"{prefix}.m.{stage}.{value}": n for value, n in histogram.items()}
        return paths


def working_minutes(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Whole working minutes (rounded down) between two instants. Days of a year whose holiday
    schedule is not published count by the statutory rule, and are counted again when it is."""
    return int(calendar.between(as_utc(start), as_utc(end)).total_seconds() // 60)


def tally(ticket: Mapping[str, Any], event: Envelope, calendar: WorkCalendar) -> Tally:
    """What `event` adds to its units, given the ticket's record as it was before the event."""
    name = event.event_type.removeprefix("ticket.")
    at = as_utc(event.occurred_at)
    result = Tally(counts={name: 1} if name in COUNTED else {})
    dispatched_at = ticket.get("dispatched_at")

    def on_time(deadline: datetime | None) -> bool:
        return deadline is not None and at <= as_utc(deadline)

    def timed(stage: str) -> None:
        if dispatched_at is not None:
            result.minutes[stage] = {str(working_minutes(calendar, dispatched_at, at)): 1}

    match event.payload:
        case TicketDispatched() as p:
            result.counts["dispatched_manual" if p.manual else "dispatched_auto"] = 1
        case TicketAccepted() if ticket.get("accepted_at") is None:
            result.counts["responded"] = 1
            if on_time(ticket.get("accept_deadline")):
                result.counts["responded_on_time"] = 1
            timed("accept")
        case TicketResolved():
            if on_time(ticket.get("resolve_deadline")):
                result.counts["resolved_on_time"] = 1
            timed("resolve")
        case TicketClosed() as p if p.auto:
            result.counts["closed_auto"] = 1
        case TicketRated() as p:
            result.counts[p.rating.value] = 1
        case _:
            pass
    return result


def recounted(tally: Tally, minutes: int) -> tuple[Tally, Tally]:
    """A timed event's tally with its duration counted again, and the difference to add to its
    buckets (the old duration taken out, the new one put in)."""
    new = Tally(counts=dict(tally.counts), minutes={stage: {str(minutes): 1} for stage in tally.minutes})
    difference = Tally()
    for stage, histogram in tally.minutes.items():
        change = {value: -n for value, n in histogram.items()}
        change[str(minutes)] = change.get(str(minutes), 0) + 1
        difference.minutes[stage] = {value: n for value, n in change.items() if n}
    return new, difference


def unit_codes(row: Mapping[str, Any]) -> dict[str, str]:
    """The unit of each kind an event counts for (no department before the first dispatch)."""
    return {unit: row[f] for unit, f in UNIT_FIELDS.items() if row.get(f)}


# Windows ---------------------------------------------------------------------------------


def hour_start(at: datetime) -> datetime:
    return as_utc(at).replace(minute=0, second=0, microsecond=0)


def day_start(at: datetime, zone: ZoneInfo = ZONE) -> datetime:
    """The city's midnight that begins the day `at` falls on, in UTC."""
    local = as_utc(at).astimezone(zone)
    return as_utc(local.replace(hour=0, minute=0, second=0, microsecond=0))


def _ceil_hour(at: datetime) -> datetime:
    start = hour_start(at)
    return start if start == at else start + timedelta(hours=1)


def _ceil_day(at: datetime, zone: ZoneInfo) -> datetime:
    start = day_start(at, zone)
    return start if start == at else day_start(start + timedelta(hours=36), zone)


@dataclass(frozen=True)
class WindowPlan:
    """[start, end) cut into pre-aggregated whole days and whole hours, and raw edges under an hour."""

    days: tuple[datetime, datetime] | None
    hours: list[tuple[datetime, datetime]]
    raw: list[tuple[datetime, datetime]]


def plan_window(start: datetime, end: datetime, zone: ZoneInfo = ZONE) -> WindowPlan:
    start, end = as_utc(start), as_utc(end)
    h0, h1 = _ceil_hour(start), hour_start(end)
    if h0 >= h1:
        return WindowPlan(days=None, hours=[], raw=[(start, end)])
    raw = [(a, b) for a, b in ((start, h0), (h1, end)) if a < b]
    d0, d1 = _ceil_day(h0, zone), day_start(h1, zone)
    if d0 >= d1:
        return WindowPlan(days=None, hours=[(h0, h1)], raw=raw)
    hours = [(a, b) for a, b in ((h0, d0), (d1, h1)) if a < b]
    return WindowPlan(days=(d0, d1), hours=hours, raw=raw)


class WindowOutOfRange(ValueError):
    """A window's start or end lies outside the years the calendar arithmetic covers."""


class InvalidWindow(ValueError):
    """A window that does not start before it ends."""


def window(start: datetime | None, end: datetime | None, *, now: datetime) -> Window:
    """The window [start, end) a reader asked for: `end` defaults to now, `start` to 30 days
    before `end`; what the reader gives must lie in 2000–2099 and start before it ends."""
    until = _in_range(end or now)
    since = _in_range(start) if start else until - DEFAULT_WINDOW
    if since >= until:
        raise InvalidWindow(f"{since.isoformat()} is not before {until.isoformat()}")
    return since, until


def _in_range(value: datetime) -> datetime:
    """The instant in UTC, if it lies in the years readers may ask about."""
    try:
        utc = as_utc(value)
    except OverflowError:  # an offset that takes it before year 1 or past 9999 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise WindowOutOfRange(f"{value.isoformat()} lies outside {EARLIEST.year}–{LATEST.year}")
    return utc


def month_window(month: str, zone: ZoneInfo = ZONE) -> Window:
    """[first midnight, next month's first midnight) of a month written YYYY-MM, in city time."""
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"month must be written YYYY-MM, not {month!r}") from exc
    following = (first + timedelta(days=32)).replace(day=1)
    return as_utc(first), as_utc(following)


# Indicators ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """How units are scored and ranked, from the service's settings."""

    weights: ScoreWeights
    min_volume: int  # dispatches in the window before a unit is ranked
    board_size: int  # units on the 红榜 and on the 黑榜


def percentile(histogram: Mapping[str, int], p: float) -> int | None:
    """Nearest-rank percentile: the smallest value with at least p % of the values at or below it."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value, n in sorted(((int(v), n) for v, n in histogram.items())):
        seen += n
        if seen >= rank:
            return value
    raise AssertionError("unreachable: ranks are bounded by the total")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def indicators(t: Tally, weights: ScoreWeights | None = None) -> dict[str, Any]:
    """Counts, the rates derived from them (None where the denominator is zero), working-minute
    percentiles and the composite score (None unless all three of its rates exist)."""
    weights = weights or ScoreWeights()
    c = {name: t.counts.get(name, 0) for name in COUNTED}
    rates = {
        "response_rate": _ratio(c["responded_on_time"], c["responded"]),  # 响应率
        "on_time_resolution_rate": _ratio(c["resolved_on_time"], c["resolved"]),  # 按期处置率
        "resolution_rate": _ratio(c["closed"], c["closed"] + c["reopened"]),  # 解决率
        "satisfaction_rate": _ratio(c["satisfied"] + c["basically_satisfied"], c["rated"]),  # 满意率
        "rejection_rate": _ratio(c["rejected"], c["dispatched"]),  # 退单率
        "rework_rate": _ratio(c["reopened"], c["resolved"]),  # 返工率
        "manual_dispatch_rate": _ratio(c["dispatched_manual"], c["dispatched"]),
    }
    durations = {
        f"{stage}_minutes_{name}": percentile(t.minutes.get(stage, {}), p)
        for stage in STAGES
        for name, p in (("median", 50), ("p90", 90))
    }
    response, resolution, satisfaction = rates["response_rate"], rates["resolution_rate"], rates["satisfaction_rate"]
    score = (
        round(
            100 * (weights.response * response + weights.resolution * resolution + weights.satisfaction * satisfaction),
            2,
        )
        if response is not None and resolution is not None and satisfaction is not None
        else None
    )
    return {**c, **rates, **durations, "score": score}


class Board(TypedDict):
    """The ranking (红黑榜) of a window's units."""

    ranked: list[dict[str, Any]]
    red_list: list[dict[str, Any]]
    black_list: list[dict[str, Any]]
    unranked: list[str]


def _eligible(items: Iterable[dict[str, Any]], min_volume: int) -> list[dict[str, Any]]:
    """Units with at least `min_volume` dispatches and a score, best first, ties by code."""
    return sorted(
        (i for i in items if i["dispatched"] >= min_volume and i["score"] is not None),
        key=lambda i: (-i["score"], i["code"]),
    )


def ranking(items: Iterable[dict[str, Any]], *, min_volume: int, board_size: int) -> Board:
    """Ranked units, best first, ties by code; the 红榜 is the top of that list, the 黑榜 the
    bottom, never overlapping (with fewer than twice `board_size` ranked, each gets half). The
    others, too few dispatches or no score, are listed as unranked."""
    units = list(items)
    ranked = [{"rank": n, **i} for n, i in enumerate(_eligible(units, min_volume), start=1)]
    size = min(board_size, len(ranked) // 2)
    codes = {r["code"] for r in ranked}
    return {
        "ranked": ranked,
        "red_list": ranked[:size],
        "black_list": list(reversed(ranked[len(ranked) - size :])) if size else [],
        "unranked": [i["code"] for i in units if i["code"] not in codes],
    }


def standings(items: Iterable[dict[str, Any]], *, min_volume: int) -> list[dict[str, Any]]:
    """Every unit with its rank (None when it is not ranked): the ranked first, in rank order,
    then the rest by code. The evaluation sheet lists every department this way."""
    units = list(items)
    ranks = {i["code"]: n for n, i in enumerate(_eligible(units, min_volume), start=1)}
    rows = [{**i, "rank": ranks.get(i["code"])} for i in units]
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
