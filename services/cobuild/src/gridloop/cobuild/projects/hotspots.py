"""热点难点, a pure rule: a grid where tickets of one category keep coming back becomes a project
idea. Within the window (90 days by default): at least so many tickets closed, or so many reworks
(返工), or so many send-backs (退单) of the grid's tickets of that category. Tickets reported
before `since` (when the spot's last idea was closed, or its project completed) no longer count,
so a spot is raised again only for what happened after. No I/O; the time is passed in."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gridloop.shared.clock import as_utc

Spot = tuple[str, str]
"""(grid code, ticket category code)"""

NEED_CATEGORY_OF_MAJOR: Mapping[str, str] = {
    "SJ-01": "NC-ENV",  # 市容环境 → 环境美化
    "SJ-02": "NC-ENV",  # 街面秩序
    "SJ-04": "NC-ENV",  # 环境保护
    "BJ-03": "NC-ENV",  # 园林绿化
    "BJ-01": "NC-REPAIR",  # 公用设施 → 维修
    "BJ-02": "NC-REPAIR",  # 道路交通设施
    "SJ-06": "NC-REPAIR",  # 突发事件 (供水管道)
}
"""The need category a hotspot idea is filed under, by the tickets' major category (the first five
characters of the code); others fall to the service's default."""


@dataclass(frozen=True)
class Thresholds:
    window_days: int = 90
    closed_tickets: int = 5
    reworks: int = 2
    send_backs: int = 3


@dataclass
class Hotspot:
    grid_code: str
    category_code: str
    community_code: str
    street_code: str
    district_code: str
    closed: int = 0
    reworks: int = 0
    send_backs: int = 0
    ticket_ids: list[str] = field(default_factory=list)

    def reasons(self, thresholds: Thresholds) -> list[str]:
        """Which thresholds it crossed, in Chinese."""
        said = []
        if self.closed >= thresholds.closed_tickets:
            said.append(f"{thresholds.window_days}天内结案{self.closed}件")
        if self.reworks >= thresholds.reworks:
            said.append(f"返工{self.reworks}次")
        if self.send_backs >= thresholds.send_backs:
            said.append(f"退单{self.send_backs}次")
        return said


def window_start(now: datetime, thresholds: Thresholds) -> datetime:
    return now - timedelta(days=thresholds.window_days)


def _at(fact: Mapping[str, Any], name: str) -> datetime | None:
    value = fact.get(name)
    return as_utc(value) if isinstance(value, datetime) else None


def detect(
    facts: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    thresholds: Thresholds,
    since: Mapping[Spot, datetime] | None = None,
) -> list[Hotspot]:
    """The spots that cross a threshold now, each with the tickets that count (oldest first).
    A ticket counts when it was reported or closed within the window and after the spot's `since`;
    cancelled tickets never count; a closed one counts towards `closed` if closed in the window."""
    start = window_start(now, thresholds)
    spots: dict[Spot, Hotspot] = {}
    for fact in sorted(facts, key=lambda f: (_at(f, "reported_at") or start, str(f["_id"]))):
        if fact.get("status") == "cancelled" or not fact.get("grid_code") or not fact.get("category_code"):
            continue
        spot = (str(fact["grid_code"]), str(fact["category_code"]))
        reported, closed_at = _at(fact, "reported_at"), _at(fact, "closed_at")
        since_spot = (since or {}).get(spot)
        if since_spot is not None and reported is not None and reported < since_spot:
            continue
        floor = max(start, since_spot) if since_spot is not None else start
        closed_in = closed_at is not None and floor <= closed_at <= now
        if not (closed_in or (reported is not None and floor <= reported <= now)):
            continue
        found = spots.get(spot)
        if found is None:
            found = spots[spot] = Hotspot(
                grid_code=spot[0],
                category_code=spot[1],
                community_code=str(fact.get("community_code", "")),
                street_code=str(fact.get("street_code", "")),
                district_code=str(fact.get("district_code", "")),
            )
        if fact.get("status") == "closed" and closed_in:
            found.closed += 1
        found.reworks += int(fact.get("reworks", 0) or 0)
        found.send_backs += int(fact.get("send_backs", 0) or 0)
        found.ticket_ids.append(str(fact["_id"]))
    return [h for _, h in sorted(spots.items()) if h.reasons(thresholds)]


def need_category(ticket_category: str, *, known: set[str], default: str) -> str:
    """The need category a hotspot idea is filed under (a known one, else the default)."""
    mapped = NEED_CATEGORY_OF_MAJOR.get(ticket_category[:5])
    return mapped if mapped in known else default


def description(hotspot: Hotspot, *, category_name: str, thresholds: Thresholds) -> str:
    """The idea's text, for the community: where, what, and how often (no person named)."""
    said = "、".join(hotspot.reasons(thresholds))
    return (
        f"网格{hotspot.grid_code}的“{category_name}”问题反复出现（{said}，"
        f"涉及工单{len(hotspot.ticket_ids)}件），建议立项根治。"
    )


def still_open(
    idea: Mapping[str, Any] | None,
    projects: Iterable[Mapping[str, Any]],
    *,
    open_needs: set[str],
    open_projects: set[str],
) -> tuple[bool, datetime | None]:
    """Whether a spot's last idea is still being dealt with: a project made of it under way, or
    the idea itself open with no project completed. When it is not, since when the spot's tickets
    count again: the completion of its project, else the closing of the idea or of its cancelled
    project."""
    if idea is None:
        return False, None
    made = list(projects)
    if any(str(p["status"]) in open_projects for p in made):
        return True, None
    finished = [as_utc(p["completed_at"]) for p in made if isinstance(p.get("completed_at"), datetime)]
    if finished:
        return False, max(finished)
    if str(idea["status"]) in open_needs:
        return True, None
    ends = [as_utc(p["cancelled_at"]) for p in made if isinstance(p.get("cancelled_at"), datetime)]
    if isinstance(idea.get("updated_at"), datetime):
        ends.append(as_utc(idea["updated_at"]))
    return False, max(ends) if ends else None
