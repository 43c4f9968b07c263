"""What a filing keeps and where it may be filed: a hotline caller's name and number, taken down by
the street desk, stay with that desk (the ticket travels to the department, supervision and
Open311 without them); a report that names its grid has its point inside that grid."""

from typing import Any

import httpx
import pytest

from gridloop.shared.events import TICKETS_TOPIC, Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import Stack
from gridloop.stack.testing import Bus, eventually

pytestmark = pytest.mark.e2e
PHONE = "13912345678"
CALLER = f"李女士 {PHONE}"


def _order(agent: ApiUser, ticket_id: str) -> dict[str, Any] | None:
    items = agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
    return next((o for o in items if o["ticket_id"] == ticket_id), None)


def test_a_callers_contact_is_read_by_the_street_desk_alone(stack: Stack, urls: dict[str, str]) -> None:
    desk = ApiUser(urls=urls, sub="sd-lj-caller", role=Role.STREET_DISPATCHER, org="LJ")
    report = desk.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={
            "category_code": "SJ-0701",
            "description": "楼道堆物，疑似群租（12345热线）",
            "grid_code": "LJ01-G2",
            "caller": CALLER,
        },
    )
    ticket_id = report["ticket_id"]
    assert report["caller"] == CALLER
    assert desk.ok("intake", "GET", f"/v1/reports/{ticket_id}")["caller"] == CALLER

    # The community's grid worker and the command centre read the report, without the caller.
    worker = ApiUser(urls=urls, sub="gw-lj01-caller", role=Role.GRID_WORKER, org="LJ01")
    chief = ApiUser(urls=urls, sub="sup-caller", role=Role.SUPERVISOR, org="QH")
    for reader in (worker, chief):
        read = reader.call("intake", "GET", f"/v1/reports/{ticket_id}")
        assert read.status_code == 200 and read.json()["caller"] is None and PHONE not in read.text
    # A grid worker cannot file one: they would never see it again.
    refused = worker.call(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0701", "description": "楼道堆物", "grid_code": "LJ01-G2", "caller": CALLER},
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "caller_not_allowed"

    eventually(
        lambda: any(i["ticket_id"] == ticket_id for i in desk.ok("dispatch", "GET", "/v1/dispatch/queue")["items"]),
        what="the report in 临江's queue",
    )
    desk.ok("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "ZJ"})
    agent = ApiUser(urls=urls, sub="agent-zj-caller", role=Role.DEPARTMENT_AGENT, org="ZJ")
    order = eventually(lambda: _order(agent, ticket_id), what="the work order in 住建's inbox")
    assert order["description"] == "楼道堆物，疑似群租（12345热线）" and PHONE not in str(order)

    def timeline() -> str | None:
        answer = chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")
        return answer.text if answer.status_code == 200 and "ticket.dispatched" in answer.text else None

    assert PHONE not in eventually(timeline, what="the timeline up to the dispatch")

    admin = ApiUser(urls=urls, sub="admin-caller", role=Role.ADMIN, org="QH")
    key = admin.ok("intake", "POST", "/v1/open311-clients", json={"name": "市民随手拍", "area": ["LJ"]})["api_key"]
    number = report["ticket_number"]
    read311 = httpx.get(f"{urls['intake']}/open311/v2/requests/{number}.json", params={"api_key": key})
    assert read311.status_code == 200 and read311.json()[0]["service_request_id"] == number
    assert PHONE not in read311.text

    assert stack.servers is not None
    events = [v for k, v, _ in Bus(stack.servers.kafka_bootstrap).read(TICKETS_TOPIC) if k == ticket_id.encode()]
    assert len(events) >= 2 and all(v is not None and PHONE.encode() not in v for v in events)


def test_a_report_whose_point_lies_outside_the_grid_it_names_is_refused_and_nothing_is_filed(
    urls: dict[str, str],
) -> None:
    worker = ApiUser(urls=urls, sub="gw-lj01-grid-point", role=Role.GRID_WORKER, org="LJ01")
    body = {"category_code": "SJ-0101", "description": "垃圾堆积", "grid_code": "LJ01-G2"}
    in_g1 = {"lon": 120.105, "lat": 30.205}
    refused = worker.call("intake", "POST", "/v1/reports", json={**body, "location": in_g1})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "point_outside_grid" and "LJ01-G2" in error["message"] and "网格" in error["message"]
    assert worker.ok("intake", "GET", "/v1/reports", params={"mine": "true"})["items"] == []
    inside = worker.ok("intake", "POST", "/v1/reports", json={**body, "location": {"lon": 120.115, "lat": 30.205}})
    assert inside["grid_code"] == "LJ01-G2"
