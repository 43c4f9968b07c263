"""Supervision against the real broker and database: timelines, counts, idempotency, dead letters."""

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridloop.shared.events import (
    Actor,
    Envelope,
    GeoPoint,
    Rating,
    Role,
    TicketAccepted,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketRejected,
    TicketResolved,
    dead_letter_topic,
)
from gridloop.shared.ids import new_id
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok, reported

pytestmark = pytest.mark.integration
# A window of its own, so events other tests put on the shared topic do not count here.
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
AGENT = {d: Actor(sub=f"agent-{d}", role=Role.DEPARTMENT_AGENT, org=d) for d in ("CG", "ZJ")}


@pytest.fixture(scope="module")
def supervision(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("supervision", servers, service_logs)
    yield service
    service.process.stop()


def _loop(ticket_id: str, *, lead: str, start: datetime, rating: Rating, rejected_by: str | None = None) -> list:  # type: ignore[type-arg]
    at = iter(start + timedelta(minutes=m) for m in range(100))
    events = [
        reported(ticket_id, reporter=Actor(sub="gw-s", role=Role.GRID_WORKER, org="LJ02"), grid="LJ02-G1", at=next(at))
    ]
    round_ = 1
    if rejected_by:
        events += [
            make_event(
                TicketDispatched(
                    round=1, lead_department=rejected_by, accept_deadline=start, resolve_deadline=start, manual=False
                ),
                ticket_id=ticket_id,
                at=next(at),
            ),
            make_event(
                TicketRejected(department=rejected_by, round=1, reason="非本部门"),
                ticket_id=ticket_id,
                actor=AGENT[rejected_by],
                at=next(at),
            ),
        ]
        round_ = 2
    events += [
        make_event(
            TicketDispatched(
                round=round_,
                lead_department=lead,
                accept_deadline=start + timedelta(hours=1),
                resolve_deadline=start + timedelta(hours=4),
                manual=bool(rejected_by),
            ),
            ticket_id=ticket_id,
            at=next(at),
        ),
        make_event(TicketAccepted(department=lead, round=round_), ticket_id=ticket_id, actor=AGENT[lead], at=next(at)),
        make_event(
            TicketResolved(department=lead, round=round_, note="好了"),
            ticket_id=ticket_id,
            actor=AGENT[lead],
            at=next(at),
        ),
        make_event(TicketClosed(), ticket_id=ticket_id, at=next(at)),
        make_event(TicketRated(rating=rating), ticket_id=ticket_id, at=next(at)),
    ]
    return events


def test_the_timeline_shows_who_did_what_and_a_redelivered_event_counts_once(
    supervision: RunningService, bus: Bus
) -> None:
    first, second = new_id(), new_id()
    events_a = _loop(first, lead="CG", start=T0, rating=Rating.SATISFIED)
    events_b = _loop(second, lead="ZJ", start=T0 + timedelta(hours=1), rating=Rating.UNSATISFIED, rejected_by="CG")
    bus.publish_events(events_a + events_b)
    bus.publish_events(events_a[2:4])  # the broker delivers some events again
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")

    def rated() -> dict[str, object] | None:
        response = chief.call("supervision", "GET", f"/v1/supervision/tickets/{second}")
        body = response.json() if response.status_code == 200 else {}
        return body if body.get("ticket", {}).get("rating") else None

    view = eventually(rated, what="second ticket rated")
    assert [e["event_type"] for e in view["timeline"]][:3] == [
        "ticket.reported",
        "ticket.dispatched",
        "ticket.rejected",
    ]
    assert view["timeline"][2]["actor"]["sub"] == "agent-CG"
    assert view["ticket"]["status"] == "closed" and view["ticket"]["rejections"] == 1
    # the first ticket's events sit on another partition: wait for its rating too
    eventually(
        lambda: (lambda r: r.status_code == 200 and r.json()["ticket"]["rating"])(
            chief.call("supervision", "GET", f"/v1/supervision/tickets/{first}")
        ),
        what="first ticket rated",
    )
    timeline_a = ok(chief.call("supervision", "GET", f"/v1/supervision/tickets/{first}"))["timeline"]
    assert len(timeline_a) == len(events_a)
    stats = ok(
        chief.call(
            "supervision",
            "GET",
            "/v1/supervision/stats/departments",
            params={"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()},
        )
    )
    by_dept = {item["code"]: item for item in stats["items"]}
    assert stats["window"]["from"].startswith("2030-03-04T09:00")
    assert (by_dept["CG"]["dispatched"], by_dept["CG"]["rejected"], by_dept["CG"]["accepted"]) == (2, 1, 1)
    assert (by_dept["CG"]["closed"], by_dept["CG"]["satisfied"], by_dept["CG"]["satisfaction_rate"]) == (1, 1, 1.0)
    assert (by_dept["ZJ"]["dispatched_manual"], by_dept["ZJ"]["unsatisfied"]) == (1, 1)
    streets = ok(
        chief.call(
            "supervision",
            "GET",
            "/v1/supervision/stats/streets",
            params={"from": T0.isoformat(), "to": (T0 + timedelta(days=1)).isoformat()},
        )
    )
    # streets with open tickets from other tests are listed too, with nothing in this window
    assert {i["code"]: i["reported"] for i in streets["items"] if i["reported"]} == {"LJ": 2}
    empty = ok(
        chief.call(
            "supervision",
            "GET",
            "/v1/supervision/stats/grids",
            params={"from": (T0 - timedelta(days=2)).isoformat(), "to": T0.isoformat()},
        )
    )
    assert not [i for i in empty["items"] if i["reported"] or i["dispatched"]]  # open tickets list, idle


def test_a_malformed_message_goes_to_dead_letters_and_the_projection_keeps_going(
    supervision: RunningService, bus: Bus
) -> None:
    later_version = make_event(TicketClosed(), ticket_id=new_id()).to_wire().replace(b'"version":1', b'"version":7')
    bus.publish(
        "gridloop.tickets.v1",
        [
            ("junk", b"{not an event", []),
            ("junk", b'{"event_type": "ticket.teleported", "version": 1}', []),
            ("v7", later_version, []),
        ],
    )
    ticket_id = new_id()
    bus.publish_events(_loop(ticket_id, lead="CG", start=T0 + timedelta(days=3), rating=Rating.SATISFIED)[:2])
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    eventually(
        lambda: chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}").status_code == 200,
        what="later ticket projected",
    )

    def dead_letter_errors() -> list[str] | None:
        errors = [dict(h)["dlq_error"].decode() for _, _, h in bus.read(dead_letter_topic("supervision"))]
        return errors if len(errors) >= 3 else None

    errors = eventually(dead_letter_errors, what="three dead letters", timeout=30)
    assert any("not an event envelope" in e for e in errors)
    assert any("unknown event ticket.teleported" in e for e in errors)
    assert any("unknown event ticket.closed v7" in e for e in errors)


def test_the_lag_gauge_reads_zero_once_a_burst_is_projected(supervision: RunningService, bus: Bus) -> None:
    tickets = [new_id() for _ in range(20)]
    start = T0 + timedelta(days=4)
    bus.publish_events([e for t in tickets for e in _loop(t, lead="CG", start=start, rating=Rating.SATISFIED)])
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    for ticket_id in tickets:
        eventually(
            lambda t=ticket_id: chief.call("supervision", "GET", f"/v1/supervision/tickets/{t}").status_code == 200,
            what="burst projected",
        )

    def lag() -> str | None:
        metrics = httpx.get(f"{supervision.url}/metrics", timeout=5).text
        line = re.search(r'^gridloop_consumer_lag\{group="supervision",service="supervision"\} (\S+)$', metrics, re.M)
        return line.group(1) if line and float(line.group(1)) == 0 else None

    assert eventually(lag, timeout=30, interval=0.5, what="the supervision group's lag gauge at 0") == "0.0"


def test_an_inverted_window_is_refused(supervision: RunningService) -> None:
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    response = chief.call(
        "supervision",
        "GET",
        "/v1/supervision/stats/departments",
        params={"from": T0.isoformat(), "to": (T0 - timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 422


def test_turnaround_is_timed_once_per_step_even_when_the_event_comes_again(
    supervision: RunningService, bus: Bus
) -> None:
    # A department code of its own: other tests' events on this broker time other departments.
    ticket_id, start = new_id(), T0 + timedelta(days=3)
    agent = Actor(sub="agent-m", role=Role.DEPARTMENT_AGENT, org="TEST-M")
    accepted = make_event(
        TicketAccepted(department="TEST-M", round=1), ticket_id=ticket_id, actor=agent, at=start + timedelta(minutes=1)
    )
    bus.publish_events(
        [
            reported(
                ticket_id, reporter=Actor(sub="gw-m", role=Role.GRID_WORKER, org="LJ02"), grid="LJ02-G1", at=start
            ),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department="TEST-M",
                    accept_deadline=start + timedelta(hours=1),
                    resolve_deadline=start + timedelta(hours=4),
                    manual=False,
                ),
                ticket_id=ticket_id,
                at=start,
            ),
            accepted,
            accepted,  # the broker delivers the acceptance again
            make_event(
                TicketResolved(department="TEST-M", round=1, note="好了"),
                ticket_id=ticket_id,
                actor=agent,
                at=start + timedelta(minutes=30),
            ),
        ]
    )
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    eventually(
        lambda: (lambda r: r.status_code == 200 and r.json()["ticket"]["status"] == "resolved")(
            chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")
        ),
        what="the ticket resolved in supervision",
    )
    metrics = httpx.get(f"{supervision.url}/metrics").text

    def sample(kind: str, stage: str) -> str | None:
        found = re.search(
            rf'gridloop_ticket_stage_seconds_{kind}\{{department="TEST-M",stage="{stage}"\}} ([0-9.]+)', metrics
        )
        return found.group(1) if found else None

    assert (sample("count", "dispatch_to_accept"), sample("sum", "dispatch_to_accept")) == ("1.0", "60.0")
    assert (sample("count", "dispatch_to_resolve"), sample("sum", "dispatch_to_resolve")) == ("1.0", "1800.0")


def test_the_evaluation_sheet_names_departments_as_the_directory_announces_them(
    supervision: RunningService, bus: Bus
) -> None:
    # A month of its own; 水务 (SW) is in the demo directory, TEST-NN in no directory at all.
    start = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)
    bus.publish_records(demo_records())
    events = []
    for lead in ("SW", "TEST-NN"):
        ticket_id = new_id()
        events += [
            reported(
                ticket_id, reporter=Actor(sub="gw-n", role=Role.GRID_WORKER, org="LJ02"), grid="LJ02-G1", at=start
            ),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department=lead,
                    accept_deadline=start + timedelta(hours=1),
                    resolve_deadline=start + timedelta(hours=4),
                    manual=False,
                ),
                ticket_id=ticket_id,
                at=start,
            ),
        ]
    bus.publish_events(events)
    chief = supervision.user(sub="sup", role=Role.SUPERVISOR, org="QH")

    def sheet() -> dict[str, dict[str, str]] | None:
        response = chief.call("supervision", "GET", "/v1/supervision/evaluation/2030-06", params={"format": "csv"})
        rows = {r["部门编码"]: r for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}
        # the two tickets sit on different partitions, so either dispatch may be counted first
        counted = all(rows.get(code, {}).get("派遣数") == "1" for code in ("SW", "TEST-NN"))
        named = rows.get("SW", {}).get("部门名称") == "区水务局"
        return rows if counted and named else None

    rows = eventually(sheet, what="both dispatches counted in the sheet, SW under its name")
    assert rows["TEST-NN"]["部门名称"] == "TEST-NN"  # the directory has no such department
    window = {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()}
    stats = ok(chief.call("supervision", "GET", "/v1/supervision/stats/departments", params=window))
    # departments with open tickets from other tests are listed too, with nothing in this window
    named = {i["code"]: i["name"] for i in stats["items"] if i["dispatched"]}
    assert named == {"SW": "区水务局", "TEST-NN": "TEST-NN"}
    # one department's figures, selected by the service (the console's department page)
    one = ok(chief.call("supervision", "GET", "/v1/supervision/stats/departments", params={**window, "code": "SW"}))
    assert [(i["code"], i["dispatched"]) for i in one["items"]] == [("SW", 1)]
    nobody = ok(chief.call("supervision", "GET", "/v1/supervision/stats/departments", params={**window, "code": "ZZ"}))
    assert nobody["items"] == []


def _placed(event: Envelope, lon: float, lat: float) -> Envelope:
    """A report as filed with a GPS point."""
    payload = event.payload.model_copy(update={"location": GeoPoint(lon=lon, lat=lat)})
    return event.model_copy(update={"payload": payload})


def _dispatch(ticket_id: str, *, accept_in: timedelta, now: datetime) -> Envelope:
    return make_event(
        TicketDispatched(
            round=1,
            lead_department="CG",
            accept_deadline=now + accept_in,
            resolve_deadline=now + timedelta(hours=4),
            manual=False,
        ),
        ticket_id=ticket_id,
    )


def test_the_map_counts_open_tickets_per_grid_and_places_them_within_the_readers_scope(
    supervision: RunningService, bus: Bus
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    worker = Actor(sub="gw-map", role=Role.GRID_WORKER, org="MQ01")
    late, waiting, fresh, unplaced, closed, next_grid, next_street = (new_id() for _ in range(7))
    agent = AGENT["CG"]
    events = [
        _placed(reported(late, reporter=worker, grid="MQ01-G1"), 120.101, 30.201),
        _dispatch(late, accept_in=timedelta(hours=-1), now=now),
        _placed(reported(waiting, reporter=worker, grid="MQ01-G1"), 120.102, 30.202),
        _dispatch(waiting, accept_in=timedelta(hours=1), now=now),
        _placed(reported(fresh, reporter=worker, grid="MQ01-G1"), 120.103, 30.203),
        reported(unplaced, reporter=worker, grid="MQ01-G1"),  # filed by grid code only: counted, not placed
        _placed(reported(closed, reporter=worker, grid="MQ01-G1"), 120.104, 30.204),
        _dispatch(closed, accept_in=timedelta(hours=1), now=now),
        make_event(TicketAccepted(department="CG", round=1), ticket_id=closed, actor=agent),
        make_event(TicketResolved(department="CG", round=1, note="好了"), ticket_id=closed, actor=agent),
        make_event(TicketClosed(), ticket_id=closed),
        _placed(reported(next_grid, reporter=worker, grid="MQ01-G2"), 120.111, 30.201),
        _dispatch(next_grid, accept_in=timedelta(minutes=-30), now=now),
        _placed(reported(next_street, reporter=worker, grid="MR01-G1"), 120.121, 30.201),
    ]
    bus.publish_events(events)
    chief = supervision.user(sub="sup-mq", role=Role.SUPERVISOR, org="MQ")  # a street's supervisor

    def shown(user, **params: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return ok(user.call("supervision", "GET", "/v1/supervision/map", params=params))  # type: ignore[no-any-return]

    grids = [
        {"grid_code": "MQ01-G1", "open": 4, "overdue": 1},
        {"grid_code": "MQ01-G2", "open": 1, "overdue": 1},
    ]
    eventually(lambda: shown(chief)["grids"] == grids, what="MQ's open tickets on the map")
    view = shown(chief)
    # the overdue first (longest overdue leading), then by the deadline owed; a ticket owing no step last
    assert [p["ticket_id"] for p in view["points"]] == [late, next_grid, waiting, fresh]
    assert view["points"][0] == {
        "ticket_id": late,
        "ticket_number": f"QH-T-{late[-5:]}",
        "status": "dispatched",
        "overdue": True,
        "category_name": "暴露垃圾",
        "grid_code": "MQ01-G1",
        "lon": 120.101,
        "lat": 30.201,
    }
    assert view["truncated"] is False
    drilled = shown(chief, grid="MQ01-G2")
    assert ([p["ticket_id"] for p in drilled["points"]], drilled["grids"]) == ([next_grid], grids)
    first_two = shown(chief, limit="2")
    assert ([p["ticket_id"] for p in first_two["points"]], first_two["truncated"]) == ([late, next_grid], True)
    assert shown(chief, grid="MR01-G1")["points"] == []  # another street's grid shows nothing

    desk = supervision.user(sub="sd-mr", role=Role.STREET_DISPATCHER, org="MR")
    other = shown(desk)
    assert other["grids"] == [{"grid_code": "MR01-G1", "open": 1, "overdue": 0}]
    assert [p["ticket_id"] for p in other["points"]] == [next_street]
    district = shown(supervision.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH"), limit="2000")
    assert {late, waiting, fresh, next_grid, next_street} <= {p["ticket_id"] for p in district["points"]}
    assert closed not in {p["ticket_id"] for p in district["points"]}
    away = shown(supervision.user(sub="sup-wh", role=Role.SUPERVISOR, org="WH"), limit="2000")
    assert not {p["grid_code"] for p in away["points"]} & {"MQ01-G1", "MQ01-G2", "MR01-G1"}
    for role, org in ((Role.GRID_WORKER, "MQ01"), (Role.DEPARTMENT_AGENT, "CG"), (Role.ADMIN, "QH")):
        user = supervision.user(sub="x", role=role, org=org)
        assert user.call("supervision", "GET", "/v1/supervision/map").status_code == 403
    for wrong in ("0", "2001", "many"):
        assert chief.call("supervision", "GET", "/v1/supervision/map", params={"limit": wrong}).status_code == 422
    record = ok(chief.call("supervision", "GET", f"/v1/supervision/tickets/{late}"))["ticket"]
    assert record["location"] == {"lon": 120.101, "lat": 30.201}


def _overdue_pages(user: ApiUser, **params: str) -> list[list[dict[str, Any]]]:
    """Every page of the overdue list, following next_cursor to the end."""
    pages: list[list[dict[str, Any]]] = []
    after: dict[str, str] = {}
    while True:
        answer = ok(user.call("supervision", "GET", "/v1/supervision/overdue", params={**params, **after}))
        pages.append(answer["items"])
        if answer["next_cursor"] is None:
            return pages
        after = {"cursor": answer["next_cursor"]}
        assert len(pages) < 20, "paging does not end"


def test_a_departments_overdue_list_holds_all_its_overdue_tickets_and_only_them_page_by_page(
    supervision: RunningService, bus: Bus
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    worker = Actor(sub="gw-nt", role=Role.GRID_WORKER, org="NT01")
    late_cg = [new_id() for _ in range(5)]  # past the accept deadline, 1 to 5 hours ago
    late_zj = [new_id() for _ in range(2)]
    fixing, on_time = new_id(), new_id()  # CG: accepted and past the resolve deadline; CG: not yet due
    events: list[Envelope] = []
    for hours, ticket_id in enumerate(late_cg + late_zj, start=1):
        lead = "CG" if ticket_id in late_cg else "ZJ"
        events += [
            reported(ticket_id, reporter=worker, grid="NT01-G1"),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department=lead,
                    accept_deadline=now - timedelta(hours=hours),
                    resolve_deadline=now + timedelta(days=1),
                    manual=False,
                ),
                ticket_id=ticket_id,
            ),
        ]
    for ticket_id, resolve_in in ((fixing, timedelta(minutes=-150)), (on_time, timedelta(hours=3))):
        events += [
            reported(ticket_id, reporter=worker, grid="NT01-G1"),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department="CG",
                    accept_deadline=now + timedelta(hours=1),
                    resolve_deadline=now + resolve_in,
                    manual=False,
                ),
                ticket_id=ticket_id,
            ),
            make_event(TicketAccepted(department="CG", round=1), ticket_id=ticket_id, actor=AGENT["CG"]),
        ]
    bus.publish_events(events)
    desk = supervision.user(sub="sd-nt", role=Role.STREET_DISPATCHER, org="NT")

    def all_late() -> list[str] | None:
        answer = ok(desk.call("supervision", "GET", "/v1/supervision/overdue"))
        late = [t["ticket_id"] for t in answer["items"]]
        return late if len(late) == 8 else None

    everything = eventually(all_late, what="the street's eight overdue tickets")
    assert set(everything) == {*late_cg, *late_zj, fixing}
    # CG's, longest overdue first (5 h late on acceptance ... 1 h), the resolve deadline 2.5 h ago among them
    cg_order = [late_cg[4], late_cg[3], late_cg[2], fixing, late_cg[1], late_cg[0]]
    pages = _overdue_pages(desk, department="CG", limit="2")
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [t["ticket_id"] for p in pages for t in p] == cg_order
    assert {t["lead_department"] for p in pages for t in p} == {"CG"}
    assert on_time not in {t["ticket_id"] for p in pages for t in p}
    assert [t["ticket_id"] for p in _overdue_pages(desk, department="ZJ") for t in p] == [late_zj[1], late_zj[0]]
    assert _overdue_pages(desk, department="JJ") == [[]]

    # the district's supervisor pages through every street's CG tickets: this street's all there, no other department's
    chief = supervision.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    district = [t for p in _overdue_pages(chief, department="CG", limit="3") for t in p]
    assert {t["lead_department"] for t in district} == {"CG"}
    assert [t["ticket_id"] for t in district if t["street_code"] == "NT"] == cg_order
    elsewhere = supervision.user(sub="sd-mq", role=Role.STREET_DISPATCHER, org="MQ")
    assert not {t["ticket_id"] for p in _overdue_pages(elsewhere, department="CG") for t in p} & set(cg_order)
    refused = desk.call("supervision", "GET", "/v1/supervision/overdue", params={"cursor": "not-a-cursor"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid_cursor")
