"""The street desk and the departments through HTTP: extensions asked, approved, denied, and
refused when decided twice."""

from datetime import datetime, timedelta

import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e


def test_an_extension_is_approved_once_and_the_inbox_shows_the_new_deadline(urls: dict[str, str]) -> None:
    worker = ApiUser(urls=urls, sub="gw-ext", role=Role.GRID_WORKER, org="WH01")
    agent = ApiUser(urls=urls, sub="agent-ext", role=Role.DEPARTMENT_AGENT, org="SW")
    desk = ApiUser(urls=urls, sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")
    other_desk = ApiUser(urls=urls, sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    report = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "BJ-0102", "description": "污水井盖破损，需更换整套井座", "grid_code": "WH01-G2"},
    )
    ticket_id = report["ticket_id"]

    def order() -> dict[str, object] | None:
        items = agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
        return next((o for o in items if o["ticket_id"] == ticket_id), None)

    eventually(order, what="work order in the inbox")
    early = agent.call(
        "handling",
        "POST",
        f"/v1/work-orders/{ticket_id}/extension",
        json={
            "requested_resolve_deadline": (datetime.now().astimezone() + timedelta(days=3)).isoformat(),
            "reason": "配件",
        },
    )
    assert early.status_code == 409  # not accepted yet
    agent.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    current = datetime.fromisoformat(str(order()["resolve_deadline"]))
    until = current + timedelta(days=2)
    agent.ok(
        "handling",
        "POST",
        f"/v1/work-orders/{ticket_id}/extension",
        json={"requested_resolve_deadline": until.isoformat(), "reason": "需要定制井座，供货两天"},
    )
    again = agent.call(
        "handling",
        "POST",
        f"/v1/work-orders/{ticket_id}/extension",
        json={"requested_resolve_deadline": (until + timedelta(days=1)).isoformat(), "reason": "再延"},
    )
    assert again.status_code == 422

    assert (
        other_desk.call(
            "dispatch", "POST", f"/v1/dispatch/extensions/{ticket_id}/decide", json={"approved": True}
        ).status_code
        == 404
    )

    def decided() -> dict[str, object] | None:
        response = desk.call(
            "dispatch",
            "POST",
            f"/v1/dispatch/extensions/{ticket_id}/decide",
            json={"approved": True, "comment": "同意延期"},
        )
        return response.json() if response.status_code == 200 else None

    decision = eventually(decided, what="the request reaches the street desk")
    assert datetime.fromisoformat(decision["resolve_deadline"]) == until
    twice = desk.call("dispatch", "POST", f"/v1/dispatch/extensions/{ticket_id}/decide", json={"approved": False})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "no_pending_extension"
    eventually(
        lambda: datetime.fromisoformat(str(order()["resolve_deadline"])) == until,
        what="the inbox shows the new deadline",
    )

    # a second request, denied: the deadline stays
    agent.ok(
        "handling",
        "POST",
        f"/v1/work-orders/{ticket_id}/extension",
        json={"requested_resolve_deadline": (until + timedelta(days=5)).isoformat(), "reason": "再申请五天"},
    )
    denial = eventually(
        lambda: (lambda r: r.json() if r.status_code == 200 else None)(
            desk.call(
                "dispatch",
                "POST",
                f"/v1/dispatch/extensions/{ticket_id}/decide",
                json={"approved": False, "comment": "理由不充分"},
            )
        ),
        what="second request decided",
    )
    assert not denial["approved"] and datetime.fromisoformat(denial["resolve_deadline"]) == until
    eventually(lambda: order()["extension_pending"] is None, what="the denial reaches the inbox")
    assert datetime.fromisoformat(str(order()["resolve_deadline"])) == until
