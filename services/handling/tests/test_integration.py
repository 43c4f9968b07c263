"""Handling against the real broker and database: the inbox and the lead department's actions."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import AwareDatetime, TypeAdapter

from gridloop.shared.events import (
    TICKETS_TOPIC,
    Actor,
    CancelReason,
    Role,
    TicketCancelled,
    TicketDispatched,
    TicketExtensionDecided,
    TicketReopened,
    payload_types,
)
from gridloop.shared.ids import new_id
from gridloop.shared.paging import Cursor
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.settings import DEV_PHOTO_KEY
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, make_event, ok, reported

pytestmark = pytest.mark.integration
WORKER = Actor(sub="gw-h", name="网格员", role=Role.GRID_WORKER, org="LJ01")


@pytest.fixture(scope="module")
def handling(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("handling", servers, service_logs)
    yield service
    service.process.stop()


def _dispatched(
    bus: Bus,
    lead: str,
    assisting: list[str] | None = None,
    accept_in: timedelta = timedelta(hours=1),
    category: str = "SJ-0101",
    now: datetime | None = None,
) -> str:
    ticket_id = new_id()
    now = now or datetime.now(UTC)
    # 消防栓 (BJ-0104): the demo directory asks for photos of the result.
    report = reported(
        ticket_id, reporter=WORKER, address="江边路", category=category, evidence_required=category == "BJ-0104"
    )
    bus.publish_events(
        [
            report,
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department=lead,
                    assisting_departments=assisting or [],
                    accept_deadline=now + accept_in,
                    resolve_deadline=now + timedelta(hours=4),
                    manual=False,
                ),
                ticket_id=ticket_id,
            ),
        ]
    )
    return ticket_id


def _in_inbox(agent, ticket_id: str, **params: str) -> dict[str, object] | None:  # type: ignore[no-untyped-def]
    items = ok(agent.call("handling", "GET", "/v1/work-orders", params=params))["items"]
    return next((i for i in items if i["ticket_id"] == ticket_id), None)


def test_a_dispatched_ticket_reaches_the_lead_and_assisting_inboxes(handling: RunningService, bus: Bus) -> None:
    ticket_id = _dispatched(bus, "CG", ["SCJG"])
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    scjg = handling.user(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")
    jj = handling.user(sub="agent-jj", role=Role.DEPARTMENT_AGENT, org="JJ")
    order = eventually(lambda: _in_inbox(cg, ticket_id), what="order in CG inbox")
    assert (order["role"], order["status"], order["address"]) == ("lead", "dispatched", "江边路")
    assert eventually(lambda: _in_inbox(scjg, ticket_id), what="order in SCJG inbox")["role"] == "assisting"
    assert _in_inbox(jj, ticket_id) is None
    assert jj.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept").status_code == 404
    assert scjg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept").status_code == 403


def test_accept_progress_resolve_each_go_on_the_topic_once(handling: RunningService, bus: Bus) -> None:
    ticket_id = _dispatched(bus, "SW")
    sw = handling.user(sub="agent-sw", role=Role.DEPARTMENT_AGENT, org="SW")
    eventually(lambda: _in_inbox(sw, ticket_id), what="order in SW inbox")
    early = sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已修复"})
    assert early.status_code == 409
    assert ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept"))["status"] == "accepted"
    assert sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept").status_code == 409
    ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/progress", json={"note": "已到场"}))
    assert (
        ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已更换井盖"}))["status"]
        == "resolved"
    )
    bus.wait_for(ticket_id, "ticket.resolved")
    types = [e.event_type for e in bus.events(ticket_id)]
    assert types == ["ticket.reported", "ticket.dispatched", "ticket.accepted", "ticket.progressed", "ticket.resolved"]


def test_a_rejection_needs_a_reason_and_a_cancelled_ticket_cannot_be_accepted(
    handling: RunningService, bus: Bus
) -> None:
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    rejected = _dispatched(bus, "CG")
    eventually(lambda: _in_inbox(cg, rejected), what="order in inbox")
    assert cg.call("handling", "POST", f"/v1/work-orders/{rejected}/reject", json={"reason": ""}).status_code == 422
    ok(cg.call("handling", "POST", f"/v1/work-orders/{rejected}/reject", json={"reason": "不属于城管职责"}))
    [event] = bus.wait_for(rejected, "ticket.rejected")
    assert event.payload.reason == "不属于城管职责"

    cancelled = _dispatched(bus, "CG")
    bus.publish_events([make_event(TicketCancelled(reason=CancelReason.INVALID), ticket_id=cancelled)])
    eventually(lambda: (_in_inbox(cg, cancelled) or {}).get("status") == "cancelled", what="order cancelled")
    refused = cg.call("handling", "POST", f"/v1/work-orders/{cancelled}/accept")
    assert refused.status_code == 409 and refused.json()["error"]["details"]["status"] == "cancelled"


def test_the_inbox_filters_overdue_orders(handling: RunningService, bus: Bus) -> None:
    late = _dispatched(bus, "YLLH", accept_in=timedelta(seconds=-1))
    on_time = _dispatched(bus, "YLLH")
    agent = handling.user(sub="agent-yllh", role=Role.DEPARTMENT_AGENT, org="YLLH")
    eventually(lambda: _in_inbox(agent, on_time), what="orders in inbox")
    assert _in_inbox(agent, late, overdue="true")["overdue"] is True
    assert _in_inbox(agent, on_time, overdue="true") is None
    assert _in_inbox(agent, on_time, overdue="false")["overdue"] is False
    assert _in_inbox(agent, on_time, status="dispatched") is not None
    assert _in_inbox(agent, on_time, status="accepted") is None


def test_an_inbox_filter_that_names_no_state_is_refused(handling: RunningService) -> None:
    agent = handling.user(sub="agent-yllh", role=Role.DEPARTMENT_AGENT, org="YLLH")
    for wrong in ("false", "DISPATCHED", "overdue"):
        refused = agent.call("handling", "GET", "/v1/work-orders", params={"status": wrong})
        assert refused.status_code == 422, wrong
        assert refused.json()["error"]["code"] == "validation_error"


def test_a_joint_ticket_waits_for_every_assisting_part_or_an_override_with_a_reason(
    handling: RunningService, bus: Bus
) -> None:
    ticket_id = _dispatched(bus, "ZJ", ["CG", "SCJG"])
    zj = handling.user(sub="agent-zj", role=Role.DEPARTMENT_AGENT, org="ZJ")
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    scjg = handling.user(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")
    eventually(lambda: _in_inbox(scjg, ticket_id), what="assisting order in SCJG inbox")
    early = cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "已配合拆除"})
    assert early.status_code == 409  # the lead has not taken the ticket on yet
    ok(zj.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept"))
    assert cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "x"}).status_code == 403
    part = ok(cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "已配合拆除"}))
    assert part["status"] == "part_done"
    again = cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "再报一次"})
    assert again.status_code == 409
    waiting = zj.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已拆除"})
    assert waiting.status_code == 409 and "SCJG" in waiting.json()["error"]["message"]
    resolved = ok(
        zj.call(
            "handling",
            "POST",
            f"/v1/work-orders/{ticket_id}/resolve",
            json={"note": "已拆除", "override_reason": "市场监管已现场确认，书面反馈后补"},
        )
    )
    assert resolved["status"] == "resolved"
    [progressed] = bus.wait_for(ticket_id, "ticket.progressed")
    assert progressed.payload.part_done and progressed.payload.department == "CG"
    [done] = bus.wait_for(ticket_id, "ticket.resolved")
    assert done.payload.override_reason.startswith("市场监管")
    late = scjg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "迟到的反馈"})
    assert late.status_code == 409


def test_a_category_that_requires_evidence_is_resolved_only_with_photos(handling: RunningService, bus: Bus) -> None:
    ticket_id = _dispatched(bus, "SW", category="BJ-0104")
    sw = handling.user(sub="agent-sw", role=Role.DEPARTMENT_AGENT, org="SW")
    eventually(lambda: _in_inbox(sw, ticket_id), what="order in SW inbox")
    ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept"))
    bare = sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已修复"})
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "evidence_required"
    assert _in_inbox(sw, ticket_id)["status"] == "accepted"  # the refusal changed nothing
    photo = PhotoSeal(DEV_PHOTO_KEY).seal("photo-after-1", "agent-sw")  # as intake gives it to agent-sw
    body = {"note": "已修复", "photos": [photo]}
    assert ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json=body))["status"] == "resolved"
    [done] = bus.wait_for(ticket_id, "ticket.resolved")
    assert done.payload.photos == [photo]


def _order(user, ticket_id: str):  # type: ignore[no-untyped-def]
    return user.call("handling", "GET", f"/v1/work-orders/{ticket_id}")


def test_one_work_order_is_shown_to_its_own_departments_and_the_supervisor_and_no_one_else(
    handling: RunningService, bus: Bus
) -> None:
    ticket_id = _dispatched(bus, "CG", ["SCJG"])
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    scjg = handling.user(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")
    chief = handling.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    eventually(lambda: _order(scjg, ticket_id).status_code == 200, what="assisting order")
    lead = ok(_order(cg, ticket_id))
    assert (lead["department"], lead["role"], lead["round"], lead["status"]) == ("CG", "lead", 1, "dispatched")
    assert (lead["overdue"], lead["ticket_status"], lead["address"]) == (False, "dispatched", "江边路")
    assert ok(_order(scjg, ticket_id))["role"] == "assisting"
    assert (ok(_order(chief, ticket_id))["department"], ok(_order(chief, ticket_id))["role"]) == ("CG", "lead")
    for outsider in (
        handling.user(sub="agent-jj", role=Role.DEPARTMENT_AGENT, org="JJ"),
        handling.user(sub="sup-wh", role=Role.SUPERVISOR, org="WH"),  # another street's supervisor
    ):
        hidden = _order(outsider, ticket_id)
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert _order(cg, new_id()).status_code == 404
    for role, org in ((Role.GRID_WORKER, "LJ01"), (Role.STREET_DISPATCHER, "LJ"), (Role.ADMIN, "QH")):
        assert _order(handling.user(sub="x", role=role, org=org), ticket_id).status_code == 403

    # 退单 and a second round to another department: each sees its own latest order, the supervisor the new lead.
    ok(cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/reject", json={"reason": "不属于城管职责"}))
    now = datetime.now(UTC)
    redispatch = TicketDispatched(
        round=2,
        lead_department="ZJ",
        accept_deadline=now + timedelta(minutes=-5),
        resolve_deadline=now + timedelta(hours=4),
        manual=True,
    )
    bus.publish_events([make_event(redispatch, ticket_id=ticket_id)])
    zj = handling.user(sub="agent-zj", role=Role.DEPARTMENT_AGENT, org="ZJ")
    second = eventually(
        lambda: (lambda r: r.json() if r.status_code == 200 else None)(_order(zj, ticket_id)), what="round 2"
    )
    assert (second["round"], second["role"], second["overdue"]) == (2, "lead", True)
    assert (ok(_order(chief, ticket_id))["department"], ok(_order(chief, ticket_id))["round"]) == ("ZJ", 2)
    assert (ok(_order(cg, ticket_id))["round"], ok(_order(cg, ticket_id))["status"]) == (1, "rejected")


def test_a_department_that_sent_a_ticket_back_cannot_act_on_it_in_a_later_round(
    handling: RunningService, bus: Bus
) -> None:
    ticket_id = _dispatched(bus, "CG", ["SCJG"])
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    scjg = handling.user(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")
    sw = handling.user(sub="agent-sw", role=Role.DEPARTMENT_AGENT, org="SW")
    eventually(lambda: _order(scjg, ticket_id).status_code == 200, what="assisting order")
    assert ok(_order(cg, ticket_id))["allowed_actions"] == ["accept", "reject"]
    assert ok(_order(scjg, ticket_id))["allowed_actions"] == []  # its part waits for the lead's 接单
    sent_back = ok(
        cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/reject", json={"reason": "不属于城管职责"})
    )
    assert (sent_back["status"], sent_back["allowed_actions"]) == ("rejected", [])
    assert ok(_order(scjg, ticket_id))["status"] == "cancelled"  # the round is over for its helpers too
    bus.wait_for(ticket_id, "ticket.rejected")
    now = datetime.now(UTC)
    again = TicketDispatched(
        round=2,
        lead_department="SW",
        accept_deadline=now + timedelta(hours=1),
        resolve_deadline=now + timedelta(hours=4),
        manual=True,
    )
    bus.publish_events([make_event(again, ticket_id=ticket_id)])
    eventually(lambda: _order(sw, ticket_id).status_code == 200, what="round 2 in SW's inbox")
    sw_before = ok(_order(sw, ticket_id))
    assert (sw_before["round"], sw_before["allowed_actions"]) == (2, ["accept", "reject"])

    later = (now + timedelta(days=9)).isoformat()
    attempts = {
        "accept": None,
        "reject": {"reason": "再退一次"},
        "progress": {"note": "已到场"},
        "extension": {"requested_resolve_deadline": later, "reason": "待料"},
        "resolve": {"note": "已清运"},
    }

    def refused_everything() -> None:
        for action, body in attempts.items():
            refused = cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/{action}", json=body)
            assert refused.status_code in (404, 409), (action, refused.status_code, refused.text)
            assert refused.json()["error"]["code"] == "round_superseded", action
        helper = scjg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "已配合"})
        assert helper.status_code in (404, 409), helper.text
        mine = ok(_order(cg, ticket_id))
        assert (mine["round"], mine["status"], mine["allowed_actions"]) == (1, "rejected", [])

    refused_everything()
    assert ok(_order(sw, ticket_id)) == sw_before  # SW's order unaffected
    ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept"))
    refused_everything()  # nor once SW has taken it on
    taken = ok(_order(sw, ticket_id))
    assert (taken["status"], taken["ticket_status"]) == ("accepted", "accepted")
    assert taken["allowed_actions"] == ["progress", "extension", "resolve"]
    ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/progress", json={"note": "已到场"}))
    bus.wait_for(ticket_id, "ticket.progressed")
    # Handling publishes its events in order: anything CG had done would be on the topic before SW's.
    told = [(e.event_type, getattr(e.payload, "department", None)) for e in bus.events(ticket_id)]
    assert told == [
        ("ticket.reported", None),
        ("ticket.dispatched", None),
        ("ticket.rejected", "CG"),
        ("ticket.dispatched", None),
        ("ticket.accepted", "SW"),
        ("ticket.progressed", "SW"),
    ]


def _pages(agent, **params: str) -> list[list[dict[str, object]]]:  # type: ignore[no-untyped-def]
    pages, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = ok(agent.call("handling", "GET", "/v1/work-orders", params=query))
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


def test_the_inbox_pages_by_the_deadline_owed_next_with_every_order_once(handling: RunningService, bus: Bus) -> None:
    department = f"PG{new_id()[-6:]}"  # a department of its own, so the inbox holds only this test's orders
    agent = handling.user(sub="agent-pg", role=Role.DEPARTMENT_AGENT, org=department)
    now = datetime.now(UTC).replace(microsecond=0)
    accept_in = [timedelta(hours=3), timedelta(hours=-2), timedelta(hours=1), timedelta(hours=-1), timedelta(hours=2)]
    waiting = {_dispatched(bus, department, accept_in=delta, now=now): now + delta for delta in accept_in}
    twins = [_dispatched(bus, department, accept_in=timedelta(minutes=30), now=now) for _ in range(2)]
    taken_on, done = _dispatched(bus, department, now=now), _dispatched(bus, department, now=now)
    eventually(lambda: len(_pages(agent)[0]) == 9, what="nine orders in the inbox")
    for ticket_id in (taken_on, done):
        ok(agent.call("handling", "POST", f"/v1/work-orders/{ticket_id}/accept"))
    ok(agent.call("handling", "POST", f"/v1/work-orders/{done}/resolve", json={"note": "已清运"}))

    owed = {**waiting, **dict.fromkeys(twins, now + timedelta(minutes=30)), taken_on: now + timedelta(hours=4)}
    expected = [t for t, _ in sorted(owed.items(), key=lambda item: (item[1], item[0]))] + [done]
    pages = _pages(agent, limit="2")
    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    shown = [item["ticket_id"] for p in pages for item in p]
    assert shown == expected  # every order once, by the deadline owed: the overdue first, the resolved one last
    flags = {item["ticket_id"]: item["overdue"] for p in pages for item in p}
    assert [t for t in shown if flags[t]] == shown[:2]

    late = [i["ticket_id"] for p in _pages(agent, limit="1", overdue="true") for i in p]
    assert late == shown[:2]
    on_time = [i["ticket_id"] for p in _pages(agent, limit="3", overdue="false") for i in p]
    assert on_time == shown[2:]
    still_to_accept = [i["ticket_id"] for p in _pages(agent, limit="4", status="dispatched") for i in p]
    assert still_to_accept == [t for t in shown if t not in (taken_on, done)]
    both = [i["ticket_id"] for p in _pages(agent, status=["accepted", "resolved"], limit="1") for i in p]  # type: ignore[arg-type]
    assert both == [taken_on, done]
    late_and_waiting = [i["ticket_id"] for p in _pages(agent, status="dispatched", overdue="true") for i in p]
    assert late_and_waiting == shown[:2]


def test_a_cursor_the_inbox_did_not_hand_out_is_refused(handling: RunningService) -> None:
    agent = handling.user(sub="agent-yllh", role=Role.DEPARTMENT_AGENT, org="YLLH")
    # the street queue's kind of cursor: a time and a ticket id, without the owed deadline
    another_list = Cursor(TypeAdapter(tuple[Literal["queue"], AwareDatetime, str])).encode(
        ("queue", datetime.now(UTC), new_id())
    )
    for wrong in ("nonsense", "eyJ4IjoxfQ", "W10", "!!!!", another_list, "x" * 201):
        refused = agent.call("handling", "GET", "/v1/work-orders", params={"cursor": wrong})
        assert refused.status_code == 422, wrong
        code = refused.json()["error"]["code"]
        assert code == ("validation_error" if len(wrong) > 200 else "invalid_cursor"), wrong


def _steps(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["kind"], s["note"], s["reason"]) for s in order["history"]]


def test_a_sent_back_order_lists_its_rejection_and_counts_down_to_nothing(handling: RunningService, bus: Bus) -> None:
    # The accept deadline has passed: before the 退单 the order owed it, after it owes nothing.
    ticket_id = _dispatched(bus, "CG", ["SCJG"], accept_in=timedelta(minutes=-5))
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    scjg = handling.user(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")
    eventually(lambda: _order(scjg, ticket_id).status_code == 200, what="assisting order")
    fresh = ok(_order(cg, ticket_id))
    assert (fresh["deadline_owed"], fresh["overdue"], _steps(fresh)) == ("accept", True, [("dispatched", "", "")])
    sent_back = ok(
        cg.call("handling", "POST", f"/v1/work-orders/{ticket_id}/reject", json={"reason": "不属于城管职责"})
    )
    assert (sent_back["status"], sent_back["deadline_owed"]) == ("rejected", None)
    shown = ok(_order(cg, ticket_id))
    assert _steps(shown) == [("dispatched", "", ""), ("rejected", "", "不属于城管职责")]
    assert (shown["deadline_owed"], shown["overdue"]) == (None, False)
    assert _in_inbox(cg, ticket_id, overdue="true") is None
    helper = ok(_order(scjg, ticket_id))
    assert [s["kind"] for s in helper["history"]] == ["dispatched", "cancelled"]
    assert "退单" in helper["history"][-1]["reason"] and helper["deadline_owed"] is None


def test_an_order_records_every_step_and_owes_the_deadline_of_the_step_it_is_at(
    handling: RunningService, bus: Bus
) -> None:
    ticket_id = _dispatched(bus, "SW")
    sw = handling.user(sub="agent-sw", role=Role.DEPARTMENT_AGENT, org="SW")
    url = f"/v1/work-orders/{ticket_id}"
    eventually(lambda: _in_inbox(sw, ticket_id), what="order in SW inbox")
    assert ok(_order(sw, ticket_id))["deadline_owed"] == "accept"
    taken = ok(sw.call("handling", "POST", f"{url}/accept"))
    assert taken["deadline_owed"] == "resolve"
    ok(sw.call("handling", "POST", f"{url}/progress", json={"note": "已到场"}))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    ok(sw.call("handling", "POST", f"{url}/extension", json={"requested_resolve_deadline": later, "reason": "待料"}))
    decided = TicketExtensionDecided(
        approved=True, resolve_deadline=datetime.now(UTC) + timedelta(days=3), comment="同意"
    )
    bus.publish_events([make_event(decided, ticket_id=ticket_id)])
    eventually(lambda: ok(_order(sw, ticket_id))["extension_pending"] is None, what="the street's decision")
    resolved = ok(sw.call("handling", "POST", f"{url}/resolve", json={"note": "已更换井盖"}))
    assert resolved["deadline_owed"] is None
    back = TicketReopened(department="SW", rework_count=1, comment="井盖仍松动")
    bus.publish_events([make_event(back, ticket_id=ticket_id)])
    eventually(lambda: ok(_order(sw, ticket_id))["status"] == "reopened", what="rework")
    assert ok(_order(sw, ticket_id))["deadline_owed"] == "resolve"
    ok(sw.call("handling", "POST", f"{url}/accept"))
    shown = ok(_order(sw, ticket_id))
    assert _steps(shown) == [
        ("dispatched", "", ""),
        ("accepted", "", ""),
        ("progress", "已到场", ""),
        ("extension_requested", "", "待料"),
        ("extension_decided", "同意", ""),
        ("resolved", "已更换井盖", ""),
        ("reopened", "井盖仍松动", ""),
        ("accepted", "", ""),
    ]
    assert shown["history"][4]["approved"] is True
    assert shown["notes"][0]["note"] == "已到场"  # what the page showed before still comes with the order


def test_webhooks_subscribe_to_the_event_types_the_registry_lists_and_no_other(handling: RunningService) -> None:
    cg = handling.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
    admin = handling.user(sub="admin-qh", role=Role.ADMIN, org="QH")
    listed = [item["event_type"] for item in ok(cg.call("handling", "GET", "/v1/webhooks/event-types"))["items"]]
    tickets = {t for (t, _), payload in payload_types().items() if payload.TOPIC == TICKETS_TOPIC}
    assert listed == sorted(tickets - {"ticket.reported"})
    assert {"ticket.dispatched", "ticket.progressed", "ticket.extension_requested"} <= set(listed)
    grid_worker = handling.user(sub="gw-h", role=Role.GRID_WORKER, org="LJ01")
    assert grid_worker.call("handling", "GET", "/v1/webhooks/event-types").status_code == 403

    ok(admin.call("handling", "PUT", "/v1/webhooks/allow-lists/CG", json={"entries": ["10.20.0.0/16"]}))
    endpoint = {"url": "http://10.20.0.5/hook", "event_types": ["ticket.reported"]}
    refused = cg.call("handling", "POST", "/v1/webhooks/endpoints", json=endpoint)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_event_types"
    created = ok(cg.call("handling", "POST", "/v1/webhooks/endpoints", json={**endpoint, "event_types": listed}), 201)
    assert created["event_types"] == listed
    assert cg.call("handling", "DELETE", f"/v1/webhooks/endpoints/{created['endpoint_id']}").status_code == 204
