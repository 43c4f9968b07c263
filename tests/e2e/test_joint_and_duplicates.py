"""街道呼、部门应 through HTTP on the whole system: a whistle to a lead and two assisting
departments, a hotline report checked by the community's grid worker, and a duplicate merged into
the original whose closing its reporter hears of."""

from typing import Any

import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e


def _queued(desk: ApiUser, ticket_id: str) -> dict[str, Any] | None:
    return next(
        (i for i in desk.ok("dispatch", "GET", "/v1/dispatch/queue")["items"] if i["ticket_id"] == ticket_id), None
    )


def _order(agent: ApiUser, ticket_id: str) -> dict[str, Any] | None:
    items = agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
    return next((o for o in items if o["ticket_id"] == ticket_id), None)


def _pending_check(worker: ApiUser, ticket_id: str) -> dict[str, Any] | None:
    items = worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
    return next((v for v in items if v["ticket_id"] == ticket_id), None)


def test_a_hotline_report_whistled_to_a_lead_and_two_assisting_departments(urls: dict[str, str]) -> None:
    desk = ApiUser(urls=urls, sub="sd-sl-e2e", role=Role.STREET_DISPATCHER, org="SL")
    grid_worker = ApiUser(urls=urls, sub="gw-sl02-e2e", role=Role.GRID_WORKER, org="SL02")
    zj, cg, scjg = (
        ApiUser(urls=urls, sub=f"agent-{d}-e2e", role=Role.DEPARTMENT_AGENT, org=d) for d in ("ZJ", "CG", "SCJG")
    )
    # A resident calls 12345 about a flat let to too many people; the street desk registers it.
    report = desk.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0701", "description": "热线来电：疑似群租房，楼道堆物", "grid_code": "SL02-G1"},
    )
    ticket_id = report["ticket_id"]
    assert eventually(lambda: _queued(desk, ticket_id), what="the queue")["queue_reason"] == "no_rule"
    desk.ok(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{ticket_id}/assign",
        json={"lead_department": "ZJ", "assisting_departments": ["CG", "SCJG"]},
    )
    for agent, role in ((zj, "lead"), (cg, "assisting"), (scjg, "assisting")):
        assert eventually(lambda a=agent: _order(a, ticket_id), what=f"{agent.org} order")["role"] == role
    zj.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    cg.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "楼道堆物已清理"})
    blocked = zj.call("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已整改"})
    assert blocked.status_code == 409 and "SCJG" in blocked.json()["error"]["message"]
    scjg.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/part", json={"note": "无证经营已查处"})
    zj.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已整改，恢复正常居住"})
    # The desk is not a grid worker: the community's grid worker checks on site, not the desk.
    assert desk.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True}).status_code == 403
    eventually(lambda: _pending_check(grid_worker, ticket_id), what="the grid worker's verification task")
    grid_worker.ok("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True, "comment": "已核实"})
    eventually(lambda: desk.ok("intake", "GET", f"/v1/reports/{ticket_id}")["status"] == "closed", what="closure")
    told = desk.ok("feedback", "GET", "/v1/notifications")["items"]
    assert next(n["text"] for n in told if n["ticket_id"] == ticket_id).endswith("已结案")  # newest first


def test_a_duplicate_is_flagged_merged_and_its_reporter_hears_when_the_original_closes(urls: dict[str, str]) -> None:
    desk = ApiUser(urls=urls, sub="sd-wh-e2e", role=Role.STREET_DISPATCHER, org="WH")
    sw = ApiUser(urls=urls, sub="agent-sw-dup", role=Role.DEPARTMENT_AGENT, org="SW")
    spot = {"lon": 120.1234, "lat": 30.2345}
    community = desk.ok("directory", "GET", "/v1/directory/grids/locate", params=spot)["community"]
    first = ApiUser(urls=urls, sub="gw-dup-a", role=Role.GRID_WORKER, org=community)
    second = ApiUser(urls=urls, sub="gw-dup-b", role=Role.GRID_WORKER, org=community)
    original = first.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "BJ-0102", "description": "污水井盖缺失", "location": spot},
    )
    near = {"lon": spot["lon"], "lat": spot["lat"] + 0.0002}  # 22 m away
    duplicate = second.ok(
        "intake", "POST", "/v1/reports", json={"category_code": "BJ-0102", "description": "井盖没了", "location": near}
    )
    assert duplicate["possible_duplicates"] == [original["ticket_id"]]
    held = eventually(lambda: _queued(desk, duplicate["ticket_id"]), what="the flagged report in the queue")
    assert held["queue_reason"] == "possible_duplicate"
    desk.ok(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{duplicate['ticket_id']}/cancel",
        json={"reason": "duplicate", "duplicate_of": original["ticket_id"], "comment": "同一井盖"},
    )
    eventually(lambda: _order(sw, original["ticket_id"]), what="the original in 水务's inbox")
    sw.ok("handling", "POST", f"/v1/work-orders/{original['ticket_id']}/accept")
    sw.ok("handling", "POST", f"/v1/work-orders/{original['ticket_id']}/resolve", json={"note": "已补装井盖"})
    eventually(lambda: _pending_check(first, original["ticket_id"]), what="verification task")
    first.ok("feedback", "POST", f"/v1/verifications/{original['ticket_id']}", json={"passed": True})

    def told() -> list[str]:
        return [n["text"] for n in second.ok("feedback", "GET", "/v1/notifications")["items"]]

    texts = eventually(lambda: told() if len(told()) == 2 else None, what="the duplicate's reporter told twice")
    assert texts[0] == f"与您上报的问题 {duplicate['ticket_number']} 合并处理的工单 {original['ticket_number']} 已结案"
    assert "已合并" in texts[1]
    assert second.ok("intake", "GET", f"/v1/reports/{duplicate['ticket_id']}")["duplicate_of"] == original["ticket_id"]


def test_a_desk_cannot_merge_its_ticket_into_another_streets(urls: dict[str, str]) -> None:
    wh, lj = (ApiUser(urls=urls, sub=f"sd-{s}-merge", role=Role.STREET_DISPATCHER, org=s) for s in ("WH", "LJ"))
    body = {"category_code": "SJ-0701", "description": "楼道堆物，疑似群租"}
    ours = wh.ok("intake", "POST", "/v1/reports", json={**body, "grid_code": "WH01-G1"})
    theirs = lj.ok("intake", "POST", "/v1/reports", json={**body, "grid_code": "LJ01-G1"})
    eventually(lambda: _queued(wh, ours["ticket_id"]), what="ours in 望湖's queue")
    eventually(lambda: _queued(lj, theirs["ticket_id"]), what="theirs in 临江's queue")
    refused = wh.call(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{ours['ticket_id']}/cancel",
        json={"reason": "duplicate", "duplicate_of": theirs["ticket_id"]},
    )
    assert refused.status_code == 422, refused.text
    assert "不存在" in refused.json()["error"]["message"]
    assert _queued(wh, ours["ticket_id"]) is not None and _queued(lj, theirs["ticket_id"]) is not None
    assert wh.ok("intake", "GET", f"/v1/reports/{ours['ticket_id']}")["status"] == "reported"
