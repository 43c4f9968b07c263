"""Handling against the real broker and database: the inbox and the lead department's actions."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridloop.shared.events import Actor, CancelReason, Role, TicketCancelled, TicketDispatched
from gridloop.shared.ids import new_id
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
) -> str:
    ticket_id = new_id()
    now = datetime.now(UTC)
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
    body = {"note": "已修复", "photos": ["photo-after-1"]}
    assert ok(sw.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json=body))["status"] == "resolved"
    [done] = bus.wait_for(ticket_id, "ticket.resolved")
    assert done.payload.photos == ["photo-after-1"]
