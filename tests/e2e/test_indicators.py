"""Supervision's indicators against a ground truth the test computes itself.

Tickets with known timings (late responses, a rework, an automatic closure, a rejection, an
unanswered dispatch) go onto the real broker; a running supervision service on the city's working
calendar projects them; every indicator read back over HTTP — and from the monthly evaluation
sheets — must equal what the test works out from its own list. The timings must be exact, so the
test writes the events itself rather than having services stamp them with the present time.
Windows: one ends on the hour inside the lunch break, the next runs over a whole day and ends
mid-hour, so days, hours and raw edges are all used; working minutes cross the lunch break, the
evening and the night."""

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from gridloop.shared.events import (
    Actor,
    CancelReason,
    DeadlineKind,
    Payload,
    Rating,
    Role,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDispatched,
    TicketOverdue,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, make_event, ok

pytestmark = pytest.mark.e2e
CITY = ZoneInfo("Asia/Shanghai")
A, B = "KPI-A", "KPI-B"  # departments, streets and grids of this test's own, so nothing else counts
STREET = "KPIS"


def at(day: int, hour: int, minute: int) -> datetime:
    """A time in the city on 2026-03-0<day> (Monday the 2nd and Tuesday the 3rd are working days)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=CITY).astimezone(UTC)


@dataclass
class Step:
    when: datetime
    payload: Payload
    minutes: int | None = None  # working minutes since the dispatch, worked out by hand


@dataclass
class Ticket:
    grid: str
    steps: list[Step]
    ticket_id: str = field(default_factory=new_id)


def dispatched(
    lead: str, when: datetime, accept_by: datetime, resolve_by: datetime, *, manual: bool = False, round_: int = 1
) -> Step:
    return Step(
        when,
        TicketDispatched(
            round=round_, lead_department=lead, accept_deadline=accept_by, resolve_deadline=resolve_by, manual=manual
        ),
    )


def reported(number: str, grid: str, when: datetime) -> Step:
    community = grid.rsplit("-", 1)[0]
    return Step(
        when,
        TicketReported(
            ticket_number=number,
            category_code="SJ-0101",
            category_name="暴露垃圾",
            description="指标测试",
            location=None,
            address="",
            grid_code=grid,
            community_code=community,
            street_code=STREET,
            district_code="QH",
        ),
    )


G1, G2 = f"{STREET}-C1-G1", f"{STREET}-C2-G1"
TICKETS = [
    # answered and fixed in good time, rated satisfied
    Ticket(
        G1,
        [
            reported("K-1", G1, at(2, 9, 0)),
            dispatched(A, at(2, 9, 0), at(2, 10, 0), at(2, 17, 0)),
            Step(at(2, 9, 30), TicketAccepted(department=A, round=1), 30),
            Step(at(2, 11, 0), TicketResolved(department=A, round=1, note="已清运"), 120),
            Step(at(2, 11, 30), TicketClosed()),
            Step(at(2, 11, 31), TicketRated(rating=Rating.SATISFIED)),
        ],
    ),
    # accepted late across the lunch break; reworked; the second fix lands the next morning, late
    Ticket(
        G1,
        [
            reported("K-2", G1, at(2, 11, 40)),
            dispatched(A, at(2, 11, 50), at(2, 13, 35), at(2, 17, 0)),
            Step(at(2, 13, 40), TicketAccepted(department=A, round=1), 20),  # 11:50–12:00, 13:30–13:40
            Step(at(2, 15, 0), TicketResolved(department=A, round=1, note="已处理"), 100),
            Step(at(2, 16, 0), TicketReopened(department=A, rework_count=1, comment="未清理干净")),
            Step(at(2, 16, 10), TicketAccepted(department=A, round=1)),
            Step(at(3, 9, 0), TicketResolved(department=A, round=1, note="再次处理"), 280),  # 10+240+30
            Step(at(3, 10, 0), TicketClosed()),
            Step(at(3, 10, 5), TicketRated(rating=Rating.UNSATISFIED)),
        ],
    ),
    # sent to A, which sends it back; the desk sends it to B, which answers late; closed by itself
    Ticket(
        G2,
        [
            reported("K-3", G2, at(2, 10, 0)),
            dispatched(A, at(2, 10, 5), at(2, 11, 5), at(2, 17, 0)),
            Step(at(2, 10, 30), TicketRejected(department=A, round=1, reason="非本部门职责")),
            dispatched(B, at(2, 10, 40), at(2, 11, 40), at(3, 12, 0), manual=True, round_=2),
            Step(at(2, 11, 40), TicketOverdue(kind=DeadlineKind.ACCEPT, department=B, deadline=at(2, 11, 40))),
            Step(at(2, 12, 30), TicketAccepted(department=B, round=2), 80),  # 10:40–12:00
            Step(at(3, 8, 40), TicketResolved(department=B, round=2, note="已修复"), 330),  # 80+240+10
            Step(at(4, 10, 10), TicketClosed(auto=True)),
        ],
    ),
    # reported before office hours; the response is timed from 08:30
    Ticket(
        G2,
        [
            reported("K-4", G2, at(2, 7, 45)),
            dispatched(B, at(2, 7, 50), at(2, 9, 0), at(2, 12, 0)),
            Step(at(2, 8, 40), TicketAccepted(department=B, round=1), 10),
            Step(at(2, 9, 30), TicketResolved(department=B, round=1, note="已修复"), 60),
            Step(at(2, 10, 0), TicketClosed()),
            Step(at(2, 10, 1), TicketRated(rating=Rating.BASICALLY_SATISFIED)),
        ],
    ),
    # never answered: overdue, and still open
    Ticket(
        G2,
        [
            reported("K-5", G2, at(2, 16, 0)),
            dispatched(A, at(2, 16, 5), at(2, 17, 5), at(3, 17, 0)),
            Step(at(2, 17, 5), TicketOverdue(kind=DeadlineKind.ACCEPT, department=A, deadline=at(2, 17, 5))),
        ],
    ),
    # cancelled by the street before any department saw it
    Ticket(
        G1,
        [
            reported("K-6", G1, at(3, 11, 0)),
            Step(at(3, 11, 20), TicketCancelled(reason=CancelReason.INVALID, comment="误报")),
        ],
    ),
]
WINDOWS = [
    (at(2, 7, 40), at(2, 13, 0)),  # ends on the hour in the lunch break; starts with a raw edge
    (at(2, 13, 0), at(4, 10, 20)),  # Tuesday whole, Wednesday's hours and a raw edge to 10:20
]
COUNTED = [
    "reported",
    "dispatched",
    "dispatched_auto",
    "dispatched_manual",
    "accepted",
    "responded",
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
    "overdue",
    "escalated",
]


def truth(start: datetime, end: datetime) -> dict[str, dict[str, dict[str, Any]]]:
    """{unit: {code: {counter: n, "accept": [minutes…], "resolve": [minutes…]}}} by hand-written rules."""
    units: dict[str, dict[str, dict[str, Any]]] = {u: {} for u in ("departments", "streets", "communities", "grids")}
    for ticket in TICKETS:
        lead = None
        accept_by = resolve_by = None
        answered = False
        for step in ticket.steps:
            p = step.payload
            counts: dict[str, int] = {}
            name = type(p).__name__.removeprefix("Ticket").lower()
            counts[name] = 1
            if isinstance(p, TicketDispatched):
                lead, accept_by, resolve_by, answered = p.lead_department, p.accept_deadline, p.resolve_deadline, False
                counts["dispatched_manual" if p.manual else "dispatched_auto"] = 1
            department = getattr(p, "department", None) or lead
            stage = None
            if isinstance(p, TicketAccepted) and not answered:
                answered = True
                counts["responded"] = 1
                counts["responded_on_time"] = int(step.when <= accept_by)  # type: ignore[operator]
                stage = "accept"
            if isinstance(p, TicketResolved):
                counts["resolved_on_time"] = int(step.when <= resolve_by)  # type: ignore[operator]
                stage = "resolve"
            if isinstance(p, TicketClosed) and p.auto:
                counts["closed_auto"] = 1
            if isinstance(p, TicketRated):
                counts[p.rating.value] = 1
            if not start <= step.when < end:
                continue
            community = ticket.grid.rsplit("-", 1)[0]
            places = {"streets": STREET, "communities": community, "grids": ticket.grid}
            for unit, code in ({"departments": department} | places).items():
                if code is None:
                    continue
                row = units[unit].setdefault(code, {"accept": [], "resolve": []})
                for counter, n in counts.items():
                    row[counter] = row.get(counter, 0) + n
                if stage:
                    row[stage].append(step.minutes)
    return units


def nearest_rank(values: list[int], p: int) -> int | None:
    return sorted(values)[math.ceil(p / 100 * len(values)) - 1] if values else None


def expected(row: dict[str, Any]) -> dict[str, Any]:
    c = {name: row.get(name, 0) for name in COUNTED}

    def rate(num: int, den: int) -> float | None:
        return round(num / den, 4) if den else None

    figures = {
        **c,
        "response_rate": rate(c["responded_on_time"], c["responded"]),
        "on_time_resolution_rate": rate(c["resolved_on_time"], c["resolved"]),
        "resolution_rate": rate(c["closed"], c["closed"] + c["reopened"]),
        "satisfaction_rate": rate(c["satisfied"] + c["basically_satisfied"], c["rated"]),
        "rejection_rate": rate(c["rejected"], c["dispatched"]),
        "rework_rate": rate(c["reopened"], c["resolved"]),
        "accept_minutes_median": nearest_rank(row["accept"], 50),
        "accept_minutes_p90": nearest_rank(row["accept"], 90),
        "resolve_minutes_median": nearest_rank(row["resolve"], 50),
        "resolve_minutes_p90": nearest_rank(row["resolve"], 90),
    }
    parts = [figures["response_rate"], figures["resolution_rate"], figures["satisfaction_rate"]]
    figures["score"] = (
        round(100 * (0.30 * parts[0] + 0.35 * parts[1] + 0.35 * parts[2]), 2)  # type: ignore[operator]
        if None not in parts
        else None
    )
    return figures


@pytest.fixture(scope="module")
def supervision(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("supervision", servers, service_logs, env={"GRIDLOOP_WORK_CALENDAR": "china"})
    yield service
    service.process.stop()


@pytest.fixture(scope="module")
def projected(supervision: RunningService, bus: Bus) -> RunningService:
    events = []
    for ticket in TICKETS:
        actor = Actor(sub="kpi-user", role=Role.GRID_WORKER, org=ticket.grid.rsplit("-", 1)[0])
        events += [make_event(s.payload, ticket_id=ticket.ticket_id, actor=actor, at=s.when) for s in ticket.steps]
    bus.publish_events(events)
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    everything = {"from": at(1, 0, 0).isoformat(), "to": at(5, 0, 0).isoformat()}

    def all_projected() -> bool:
        items = ok(chief.call("supervision", "GET", "/v1/supervision/stats/streets", params=everything))["items"]
        row = next((i for i in items if i["code"] == STREET), None)
        # each ticket's last event: its events share a partition, so the ones before are in too
        last = ("rated", "closed_auto", "overdue", "cancelled")
        return row is not None and tuple(row[k] for k in last) == (3, 1, 2, 1)

    eventually(all_projected, timeout=60, what="every event projected")
    return supervision


@pytest.mark.parametrize("window", [*WINDOWS, (at(2, 0, 0), at(5, 0, 0))], ids=["morning", "afternoon-to-wed", "whole"])
@pytest.mark.parametrize("unit", ["departments", "streets", "communities", "grids"])
def test_every_indicator_equals_the_ground_truth(projected: RunningService, unit: str, window: tuple) -> None:  # type: ignore[type-arg]
    chief = projected.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    start, end = window
    body = ok(
        chief.call(
            "supervision",
            "GET",
            f"/v1/supervision/stats/{unit}",
            params={"from": start.isoformat(), "to": end.isoformat()},
        )
    )
    assert datetime.fromisoformat(body["window"]["from"]) == start
    assert datetime.fromisoformat(body["window"]["to"]) == end
    got = {i["code"]: i for i in body["items"] if i["code"].startswith(("KPI", STREET))}
    want = truth(start, end)[unit]
    assert set(got) >= set(want)
    for code, row in want.items():
        figures = expected(row)
        assert {k: got[code][k] for k in figures} == figures, f"{unit} {code}"


def test_the_two_windows_add_up_to_their_union(projected: RunningService) -> None:
    chief = projected.user(sub="sup", role=Role.SUPERVISOR, org="QH")

    def counts(start: datetime, end: datetime) -> dict[str, int]:
        items = ok(
            chief.call(
                "supervision",
                "GET",
                "/v1/supervision/stats/departments",
                params={"from": start.isoformat(), "to": end.isoformat()},
            )
        )["items"]
        return {f"{i['code']}.{k}": i[k] for i in items if i["code"] in (A, B) for k in COUNTED}

    first, second, union = counts(*WINDOWS[0]), counts(*WINDOWS[1]), counts(WINDOWS[0][0], WINDOWS[1][1])
    assert {k: first.get(k, 0) + second.get(k, 0) for k in union} == union
    assert union[f"{A}.dispatched"] == 4 and union[f"{B}.responded_on_time"] == 1


def test_open_and_overdue_now_and_the_ranking(projected: RunningService) -> None:
    chief = projected.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    window = {"from": at(2, 0, 0).isoformat(), "to": at(5, 0, 0).isoformat()}
    items = {
        i["code"]: i
        for i in ok(chief.call("supervision", "GET", "/v1/supervision/stats/departments", params=window))["items"]
    }
    assert (items[A]["open_now"], items[A]["overdue_now"]) == (1, 1)  # K-5, never answered
    assert (items[B]["open_now"], items[B]["overdue_now"]) == (0, 0)
    whole = truth(at(2, 0, 0), at(5, 0, 0))["departments"]
    ranking = ok(
        chief.call("supervision", "GET", "/v1/supervision/ranking/departments", params={**window, "min_volume": 2})
    )
    mine = [r for r in ranking["ranked"] if r["code"] in (A, B)]
    scores = {code: expected(whole[code])["score"] for code in (A, B)}
    assert [r["code"] for r in mine] == sorted((A, B), key=lambda c: -scores[c])  # type: ignore[operator]
    assert ranking["window"]["from"] and ranking["weights"] == {
        "response": 0.3,
        "resolution": 0.35,
        "satisfaction": 0.35,
    }
    # B had two dispatches: with a minimum of three it is not ranked
    strict = ok(
        chief.call("supervision", "GET", "/v1/supervision/ranking/departments", params={**window, "min_volume": 3})
    )
    assert B in strict["unranked"] and A in [r["code"] for r in strict["ranked"]]


def test_the_monthly_evaluation_sheet_in_csv_and_xlsx(projected: RunningService) -> None:
    chief = projected.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    month = truth(at(1, 0, 0), datetime(2026, 4, 1, tzinfo=CITY).astimezone(UTC))["departments"]
    response = chief.call("supervision", "GET", "/v1/supervision/evaluation/2026-03", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_code = {r["部门编码"]: r for r in rows}
    for code in (A, B):
        figures = expected(month[code])
        assert int(by_code[code]["派遣数"]) == figures["dispatched"]
        assert int(by_code[code]["返工数"]) == figures["reopened"]
        assert float(by_code[code]["满意率(%)"]) == round(100 * figures["satisfaction_rate"], 2)
        assert float(by_code[code]["综合得分"]) == figures["score"]
    book = ok_xlsx(chief.call("supervision", "GET", "/v1/supervision/evaluation/2026-03"))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["排名", "部门编码", "部门名称"]
    xlsx_rows = {r[1]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert xlsx_rows[A]["响应数"] == expected(month[A])["responded"]
    assert xlsx_rows[A]["按期处置率(%)"] == round(100 * expected(month[A])["on_time_resolution_rate"], 2)
    for month in ("2026-13", "0000-01", "9999-12"):  # not a month, or outside the calendar's years
        assert chief.call("supervision", "GET", f"/v1/supervision/evaluation/{month}").status_code == 422
    far = chief.call("supervision", "GET", "/v1/supervision/stats/grids", params={"to": "0001-01-01T00:00:00Z"})
    assert far.status_code == 422 and far.json()["error"]["code"] == "window_out_of_range"


def ok_xlsx(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def test_another_streets_dispatcher_sees_none_of_it(projected: RunningService) -> None:
    other = projected.user(sub="sd-x", role=Role.STREET_DISPATCHER, org="WH")
    window = {"from": at(2, 0, 0).isoformat(), "to": at(5, 0, 0).isoformat()}
    items = ok(other.call("supervision", "GET", "/v1/supervision/stats/departments", params=window))["items"]
    assert not [i for i in items if i["code"] in (A, B) and (i["dispatched"] or i["open_now"])]
