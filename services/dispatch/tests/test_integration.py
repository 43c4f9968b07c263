"""Dispatch against the real broker and database: routing, the street queue, 退单 and 吹哨."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridloop.shared.events import (
    Actor,
    Role,
    TicketAccepted,
    TicketExtensionRequested,
    TicketRejected,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok, reported

pytestmark = pytest.mark.integration
WORKER = Actor(sub="gw-d", name="网格员", role=Role.GRID_WORKER, org="LJ01")


@pytest.fixture(scope="module")
def dispatch(servers: Servers, bus: Bus, service_logs: Path) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("dispatch", servers, service_logs)
    yield service
    service.process.stop()


def _report(bus: Bus, category: str, grid: str = "LJ01-G1", possible_duplicates: list[str] | None = None) -> str:
    ticket_id = new_id()
    bus.publish_events(
        [
            reported(
                ticket_id,
                reporter=WORKER,
                category=category,
                category_name="测试",
                grid=grid,
                possible_duplicates=possible_duplicates,
            )
        ]
    )
    return ticket_id


def test_components_go_to_their_owner_and_events_to_the_street_team_that_serves_the_place(
    dispatch: RunningService, bus: Bus
) -> None:
    # 乱贴乱画 (an event): 临江's own team in 临江; 松林 has no team, so the district's 城管 (owner rule).
    in_lj, in_sl = _report(bus, "SJ-0203", grid="LJ02-G1"), _report(bus, "SJ-0203", grid="SL01-G1")
    # 人行道板 (a component): 住建 owns it, even where 临江's team has an area rule.
    tiles_in_lj = _report(bus, "BJ-0204", grid="LJ01-G2")
    leads = [bus.wait_for(t, "ticket.dispatched")[0].payload.lead_department for t in (in_lj, in_sl, tiles_in_lj)]
    assert leads == ["ZF-LJ", "CG", "ZJ"]


def test_a_possible_duplicate_waits_for_the_street_which_merges_it_into_the_open_original(
    dispatch: RunningService, bus: Bus
) -> None:
    original = _report(bus, "SJ-0102")
    bus.wait_for(original, "ticket.dispatched")
    duplicate = _report(bus, "SJ-0102", possible_duplicates=[original])
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")

    def queued() -> dict[str, object] | None:
        items = ok(desk.call("dispatch", "GET", "/v1/dispatch/queue"))["items"]
        return next((i for i in items if i["ticket_id"] == duplicate), None)

    item = eventually(queued, what="the possible duplicate in the street queue")
    assert (item["queue_reason"], item["possible_duplicates"]) == ("possible_duplicate", [original])
    assert not [e for e in bus.events(duplicate) if e.event_type == "ticket.dispatched"]
    closed_one = _report(bus, "SJ-0102")
    bus.wait_for(closed_one, "ticket.dispatched")
    ok(desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{closed_one}/cancel", json={"reason": "invalid"}))
    into_cancelled = desk.call(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{duplicate}/cancel",
        json={"reason": "duplicate", "duplicate_of": closed_one},
    )
    assert into_cancelled.status_code == 422 and queued() is not None  # refused, still waiting
    merge = {"reason": "duplicate", "duplicate_of": original, "comment": "同一处污物"}
    ok(desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{duplicate}/cancel", json=merge))
    [cancelled] = bus.wait_for(duplicate, "ticket.cancelled")
    assert cancelled.payload.duplicate_of == original
    assert eventually(lambda: queued() is None, what="the merged report leaving the queue")


def test_a_report_with_a_rule_goes_to_its_department_with_deadlines(dispatch: RunningService, bus: Bus) -> None:
    ticket_id = _report(bus, "SJ-0101")
    [dispatched] = bus.wait_for(ticket_id, "ticket.dispatched")
    [reported] = bus.events(ticket_id)[:1]
    assert dispatched.payload.lead_department == "CG"
    assert not dispatched.payload.manual
    # 暴露垃圾: accept within 1 hour, resolve within 4 (demo time limits)
    assert dispatched.payload.accept_deadline - dispatched.occurred_at == timedelta(hours=1)
    assert dispatched.payload.resolve_deadline - dispatched.occurred_at == timedelta(hours=4)
    assert dispatched.correlation_id == reported.correlation_id
    assert dispatched.causation_id == reported.event_id


def test_the_street_rule_adds_market_regulation_to_street_vending_in_wanghu(dispatch: RunningService, bus: Bus) -> None:
    ticket_id = _report(bus, "SJ-0202", grid="WH01-G1")
    [dispatched] = bus.wait_for(ticket_id, "ticket.dispatched")
    assert (dispatched.payload.lead_department, dispatched.payload.assisting_departments) == ("CG", ["SCJG"])


def test_unmatched_reports_wait_in_their_streets_queue_until_assigned(dispatch: RunningService, bus: Bus) -> None:
    ticket_id = _report(bus, "SJ-0701")
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    other_street = dispatch.user(sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")

    def queued() -> dict[str, object] | None:
        items = ok(desk.call("dispatch", "GET", "/v1/dispatch/queue"))["items"]
        return next((i for i in items if i["ticket_id"] == ticket_id), None)

    assert eventually(queued, what="ticket in queue")["queue_reason"] == "no_rule"
    assert all(
        i["ticket_id"] != ticket_id for i in ok(other_street.call("dispatch", "GET", "/v1/dispatch/queue"))["items"]
    )
    assert (
        other_street.call(
            "dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "ZJ"}
        ).status_code
        == 404
    )
    unknown = desk.call(
        "dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "NOPE"}
    )
    assert unknown.status_code == 422
    ok(
        desk.call(
            "dispatch",
            "POST",
            f"/v1/dispatch/tickets/{ticket_id}/assign",
            json={"lead_department": "ZJ", "assisting_departments": ["CG", "STHJ"]},
        )
    )
    [dispatched] = bus.wait_for(ticket_id, "ticket.dispatched")
    assert dispatched.payload.manual and dispatched.actor.sub == "sd-lj"
    assert dispatched.payload.assisting_departments == ["CG", "STHJ"]
    assert queued() is None
    again = desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "ZJ"})
    assert again.status_code == 409


def test_one_ticket_of_the_queue_reads_as_the_queue_lists_it_and_only_for_those_whose_queue_it_is_in(
    dispatch: RunningService, bus: Bus
) -> None:
    ticket_id = _report(bus, "SJ-0701", grid="LJ02-G1")
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")

    def listed() -> dict[str, object] | None:
        items = ok(desk.call("dispatch", "GET", "/v1/dispatch/queue", params={"limit": "500"}))["items"]
        return next((i for i in items if i["ticket_id"] == ticket_id), None)

    item = eventually(listed, what="the ticket in 临江's queue")
    path = f"/v1/dispatch/queue/{ticket_id}"
    assert ok(desk.call("dispatch", "GET", path)) == item
    assert ok(dispatch.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH").call("dispatch", "GET", path)) == item

    def refused(user, path: str = path) -> int:  # type: ignore[no-untyped-def]
        answer = user.call("dispatch", "GET", path)
        if answer.status_code == 404:
            assert answer.json()["error"]["code"] == "not_queued"
        return int(answer.status_code)

    assert refused(dispatch.user(sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")) == 404  # another street's
    assert refused(dispatch.user(sub="sup-wh", role=Role.SUPERVISOR, org="WH")) == 404
    for role, org in ((Role.GRID_WORKER, "LJ01"), (Role.DEPARTMENT_AGENT, "ZJ"), (Role.ADMIN, "QH")):
        assert refused(dispatch.user(sub="x", role=role, org=org)) == 403, role
    assert refused(desk, f"/v1/dispatch/queue/{new_id()}") == 404
    ok(desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "ZJ"}))
    assert refused(desk) == 404  # dispatched: it waits no more


def test_the_desk_cannot_dispatch_by_hand_to_a_department_that_does_not_serve_the_street(
    dispatch: RunningService, bus: Bus
) -> None:
    ticket_id = _report(bus, "SJ-0701", grid="LJ01-G2")
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    path = f"/v1/dispatch/queue/{ticket_id}"

    def waiting() -> dict[str, object] | None:
        answer = desk.call("dispatch", "GET", path)
        return answer.json() if answer.status_code == 200 else None

    before = eventually(waiting, what="the ticket in 临江's queue")
    assign = f"/v1/dispatch/tickets/{ticket_id}/assign"
    # 望湖's own team, as the lead or as a helper, for a ticket in 临江
    for body in ({"lead_department": "ZF-WH"}, {"lead_department": "CG", "assisting_departments": ["ZF-WH"]}):
        answer = desk.call("dispatch", "POST", assign, json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"] == {
            "code": "department_not_serving",
            "message": "该部门不负责本街道 (department does not serve this street)",
            "details": {"departments": ["ZF-WH"]},
        }
    assert ok(desk.call("dispatch", "GET", path)) == before  # still waiting, as it was
    ok(desk.call("dispatch", "POST", assign, json={"lead_department": "ZF-LJ", "assisting_departments": ["CG"]}))
    [dispatched] = bus.wait_for(ticket_id, "ticket.dispatched")
    assert (dispatched.payload.round, dispatched.payload.lead_department) == (1, "ZF-LJ")
    assert [e.event_type for e in bus.events(ticket_id)] == ["ticket.reported", "ticket.dispatched"]


def test_a_ticket_sent_back_returns_to_the_queue_with_the_reason_and_is_redispatched(
    dispatch: RunningService, bus: Bus
) -> None:
    ticket_id = _report(bus, "BJ-0201")
    [first] = bus.wait_for(ticket_id, "ticket.dispatched")
    bus.publish_events(
        [
            make_event(
                TicketRejected(department="CG", round=1, reason="路灯归供电公司管理"),
                ticket_id=ticket_id,
                actor=Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG"),
            )
        ]
    )
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")

    def queued() -> dict[str, object] | None:
        items = ok(desk.call("dispatch", "GET", "/v1/dispatch/queue"))["items"]
        return next((i for i in items if i["ticket_id"] == ticket_id), None)

    entry = eventually(queued, what="rejected ticket back in queue")
    assert entry["queue_reason"] == "rejected"
    assert entry["rejections"][0]["reason"] == "路灯归供电公司管理"
    ok(desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "GD"}))
    dispatches = bus.wait_for(ticket_id, "ticket.dispatched", count=2)
    assert [d.payload.round for d in dispatches] == [first.payload.round, 2]
    assert dispatches[1].payload.lead_department == "GD"


def test_the_street_cancels_a_duplicate_and_nothing_more_can_happen_to_it(dispatch: RunningService, bus: Bus) -> None:
    original = _report(bus, "SJ-0101")
    duplicate = _report(bus, "SJ-0101")
    bus.wait_for(duplicate, "ticket.dispatched")
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    ok(
        desk.call(
            "dispatch",
            "POST",
            f"/v1/dispatch/tickets/{duplicate}/cancel",
            json={"reason": "duplicate", "duplicate_of": original},
        )
    )
    [cancelled] = bus.wait_for(duplicate, "ticket.cancelled")
    assert cancelled.payload.duplicate_of == original
    twice = desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{duplicate}/cancel", json={"reason": "invalid"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "invalid_state"
    worker = dispatch.user(sub="gw-d", role=Role.GRID_WORKER, org="LJ01")
    assert worker.call("dispatch", "GET", "/v1/dispatch/queue").status_code == 403


def test_the_street_turns_a_report_into_a_residents_need_and_only_the_street_may(
    dispatch: RunningService, bus: Bus
) -> None:
    ticket_id = _report(bus, "SJ-0101", grid="LJ02-G1")
    bus.wait_for(ticket_id, "ticket.dispatched")
    body = {"reason": "converted_to_need", "comment": "独居老人家中杂物需清理，非部门职责，转社区需求"}
    other_street = dispatch.user(sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")
    assert (
        other_street.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/cancel", json=body).status_code == 404
    )
    worker = dispatch.user(sub="cw-lj02", role=Role.COMMUNITY_WORKER, org="LJ02")
    assert worker.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/cancel", json=body).status_code == 403
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    merged = desk.call(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{ticket_id}/cancel",
        json={**body, "duplicate_of": _report(bus, "SJ-0101")},
    )
    assert merged.status_code == 422 and merged.json()["error"]["code"] == "invalid_cancellation"
    assert bus.events(ticket_id)[-1].event_type == "ticket.dispatched"  # refused: nothing changed

    answer = ok(desk.call("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/cancel", json=body))

    assert answer["status"] == "cancelled" and answer["reason"] == "converted_to_need"
    [cancelled] = bus.wait_for(ticket_id, "ticket.cancelled")
    assert cancelled.payload.reason == "converted_to_need" and cancelled.payload.comment == body["comment"]
    assert cancelled.payload.duplicate_of is None and cancelled.actor.sub == "sd-lj"


def test_the_third_rejection_sends_the_ticket_to_the_district(dispatch: RunningService, bus: Bus) -> None:
    ticket_id = _report(bus, "SJ-0102")
    desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    bus.wait_for(ticket_id, "ticket.dispatched")
    for round_, (department, next_department) in enumerate([("CG", "JJ"), ("JJ", "ZJ"), ("ZJ", None)], start=1):
        bus.publish_events(
            [
                make_event(
                    TicketRejected(department=department, round=round_, reason="非本部门职责"), ticket_id=ticket_id
                )
            ]
        )
        if next_department:

            def queued(round_: int = round_) -> bool:
                items = ok(desk.call("dispatch", "GET", "/v1/dispatch/queue"))["items"]
                return any(i["ticket_id"] == ticket_id and len(i["rejections"]) == round_ for i in items)

            eventually(queued, what=f"rejection {round_} back in the queue")
            ok(
                desk.call(
                    "dispatch",
                    "POST",
                    f"/v1/dispatch/tickets/{ticket_id}/assign",
                    json={"lead_department": next_department},
                )
            )
            bus.wait_for(ticket_id, "ticket.dispatched", count=round_ + 1)
    [escalated] = bus.wait_for(ticket_id, "ticket.escalated")
    assert escalated.payload.level == "district" and "3" in escalated.payload.reason


def _queued_report(bus: Bus, category: str, grid: str, at: datetime, duplicates: list[str] | None = None) -> str:
    ticket_id = new_id()
    event = reported(
        ticket_id,
        reporter=WORKER,
        category=category,
        category_name="测试",
        grid=grid,
        at=at,
        possible_duplicates=duplicates,
    )
    bus.publish_events([event])
    return ticket_id


def _pages(user, **params: str) -> list[list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        body = ok(
            user.call(
                "dispatch", "GET", "/v1/dispatch/queue", params={**params, **({"cursor": cursor} if cursor else {})}
            )
        )
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "paging does not end"


def _ids(pages: list[list[dict[str, Any]]]) -> list[str]:
    return [item["ticket_id"] for page in pages for item in page]


def test_the_queue_pages_oldest_first_with_every_ticket_once_and_filters_by_reason(
    dispatch: RunningService, bus: Bus
) -> None:
    t = datetime.now(UTC).replace(microsecond=0)
    # 派遣队列 of a street of its own (PQ): three kinds of waiting, two tickets queued in the same second
    sent_back = _queued_report(bus, "SJ-0101", "PQ01-G1", t - timedelta(minutes=60))
    bus.wait_for(sent_back, "ticket.dispatched")
    first, second = (_queued_report(bus, "SJ-0701", "PQ01-G1", t - timedelta(minutes=m)) for m in (50, 40))
    same_second = [_queued_report(bus, "SJ-0701", "PQ01-G2", t - timedelta(minutes=30)) for _ in range(2)]
    duplicate = _queued_report(bus, "SJ-0101", "PQ01-G1", t - timedelta(minutes=45), duplicates=[sent_back])
    rejection = TicketRejected(department="CG", round=1, reason="不属本部门职责")
    bus.publish_events([make_event(rejection, ticket_id=sent_back, at=t - timedelta(minutes=20))])
    desk = dispatch.user(sub="sd-pq", role=Role.STREET_DISPATCHER, org="PQ")
    eventually(lambda: len(_ids(_pages(desk))) == 6, what="six tickets in the PQ queue")

    expected = [first, duplicate, second, *sorted(same_second), sent_back]
    pages = _pages(desk, limit="2")
    assert [len(p) for p in pages] == [2, 2, 2]
    assert _ids(pages) == expected
    reasons = {i["ticket_id"]: i["queue_reason"] for p in pages for i in p}
    assert (reasons[duplicate], reasons[sent_back]) == ("possible_duplicate", "rejected")

    assert _ids(_pages(desk, reason="no_rule", limit="3")) == [first, second, *sorted(same_second)]
    assert _ids(_pages(desk, reason="rejected")) == [sent_back]
    assert _ids(_pages(desk, reason="possible_duplicate")) == [duplicate]
    for wrong in ("other", "NO_RULE", ""):
        refused = desk.call("dispatch", "GET", "/v1/dispatch/queue", params={"reason": wrong})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error", wrong
    for wrong in ("nonsense", "W10", "eyJxIjoxfQ"):
        refused = desk.call("dispatch", "GET", "/v1/dispatch/queue", params={"cursor": wrong})
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_cursor", wrong

    other_desk = dispatch.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    assert not set(_ids(_pages(other_desk, limit="50"))) & set(expected)
    district = _ids(_pages(dispatch.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH"), limit="7"))
    assert len(district) == len(set(district)) and [i for i in district if i in expected] == expected


def _asking(bus: Bus, grid: str, asked_at: datetime, *, resolved: bool = False) -> tuple[str, datetime]:
    """A ticket its department took on and asked more time for; returns it and the day asked for."""
    ticket_id = _queued_report(bus, "SJ-0101", grid, asked_at - timedelta(minutes=5))
    bus.wait_for(ticket_id, "ticket.dispatched")
    until = asked_at + timedelta(days=2)
    agent = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    events = [
        make_event(TicketAccepted(department="CG", round=1), ticket_id=ticket_id, actor=agent, at=asked_at),
        make_event(
            TicketExtensionRequested(department="CG", requested_resolve_deadline=until, reason="等待配件"),
            ticket_id=ticket_id,
            actor=agent,
            at=asked_at,
        ),
    ]
    if resolved:
        events.append(make_event(TicketResolved(department="CG", round=1, note="已处置"), ticket_id=ticket_id))
    bus.publish_events(events)
    return ticket_id, until


def test_pending_extensions_wait_in_their_streets_list_oldest_first_until_decided(
    dispatch: RunningService, bus: Bus
) -> None:
    t = datetime.now(UTC).replace(microsecond=0)
    later, until = _asking(bus, "PX01-G1", t - timedelta(minutes=10))
    earlier, _ = _asking(bus, "PX01-G2", t - timedelta(minutes=20))
    elsewhere, _ = _asking(bus, "PY01-G1", t - timedelta(minutes=15))
    moot, _ = _asking(bus, "PX01-G1", t - timedelta(minutes=30), resolved=True)  # resolved while waiting
    desk = dispatch.user(sub="sd-px", role=Role.STREET_DISPATCHER, org="PX")

    def listed(user) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
        return ok(user.call("dispatch", "GET", "/v1/dispatch/extensions"))["items"]

    eventually(lambda: len(listed(desk)) == 2, what="two requests waiting in PX")
    bus.wait_for(moot, "ticket.resolved")
    items = listed(desk)
    assert [i["ticket_id"] for i in items] == [earlier, later]
    [dispatched] = [e for e in bus.events(later) if e.event_type == "ticket.dispatched"]
    item = items[1]
    assert (item["department"], item["reason"], item["category_name"], item["street_code"]) == (
        "CG",
        "等待配件",
        "测试",
        "PX",
    )
    assert item["ticket_number"] == f"QH-T-{later[-5:]}"
    assert datetime.fromisoformat(item["requested_resolve_deadline"]) == until
    current = datetime.fromisoformat(item["resolve_deadline"])  # the database keeps milliseconds
    assert abs(current - dispatched.payload.resolve_deadline) < timedelta(milliseconds=1)
    assert datetime.fromisoformat(item["requested_at"]) == t - timedelta(minutes=10)

    chief = dispatch.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    mine = [i["ticket_id"] for i in listed(chief) if i["ticket_id"] in (later, earlier, elsewhere, moot)]
    assert mine == [earlier, elsewhere, later]
    assert elsewhere in [
        i["ticket_id"] for i in listed(dispatch.user(sub="sd-py", role=Role.STREET_DISPATCHER, org="PY"))
    ]
    assert [i["ticket_id"] for i in listed(dispatch.user(sub="sup-px", role=Role.SUPERVISOR, org="PX"))] == [
        earlier,
        later,
    ]
    for role, org in ((Role.GRID_WORKER, "PX01"), (Role.DEPARTMENT_AGENT, "CG"), (Role.ADMIN, "QH")):
        user = dispatch.user(sub="x", role=role, org=org)
        assert user.call("dispatch", "GET", "/v1/dispatch/extensions").status_code == 403

    ok(desk.call("dispatch", "POST", f"/v1/dispatch/extensions/{later}/decide", json={"approved": True}))
    assert [i["ticket_id"] for i in listed(desk)] == [earlier]
