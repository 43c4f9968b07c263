"""Webhooks into a department's own system, end to end: the admin allows the department's
receiver, the department registers it, every delivery verifies with the `standardwebhooks`
library, a receiver that is down for a while gets every delivery once it is back (none lost,
duplicates recognisable by webhook-id), a replay sends the same ids again, and after a secret
rotation both secrets verify for a day. The department's system then accepts a ticket through
the API with its own service account. Nothing else is reachable: an address outside the
department's allow-list, and loopback, link-local, metadata, multicast addresses and the stack's
own services even when listed, are refused and never stored; and the admin cannot subscribe in
a department's name."""

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import free_port
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e
WANTED = [
    "ticket.dispatched", "ticket.accepted", "ticket.reopened", "ticket.closed", "ticket.overdue",
    "ticket.extension_decided",
]  # fmt: skip


class Receiver:
    """A department system's webhook receiver on 127.0.0.1 that can be taken down and brought back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def verified(self, secret: str, since: int = 0) -> dict[str, dict[str, Any]]:
        """Every delivery from the `since`-th on, verified with the library (it raises on any that
        does not verify); by webhook-id, so duplicates collapse."""
        hook = Webhook(secret)
        return {headers["webhook-id"]: hook.verify(body, headers) for headers, body in self.received[since:]}

    def tickets(self, secret: str, event_type: str, since: int = 0) -> set[str]:
        return {m["data"]["ticket_id"] for m in self.verified(secret, since).values() if m["type"] == event_type}


def _file(worker: ApiUser, n: int) -> str:
    body = {"category_code": "SJ-0101", "description": f"网络钩子测试 {n}", "grid_code": "LJ02-G1"}
    return str(
        worker.ok("intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": f"hook-{n}"})["ticket_id"]
    )


def _admin(urls: dict[str, str]) -> ApiUser:
    return ApiUser(urls=urls, sub="admin-hooks", role=Role.ADMIN, org="QH")


def _allow(urls: dict[str, str], department: str, entries: list[str]) -> dict[str, Any]:
    allowed: dict[str, Any] = _admin(urls).ok(
        "handling", "PUT", f"/v1/webhooks/allow-lists/{department}", json={"entries": entries}
    )
    return allowed


def test_a_department_system_gets_every_delivery_verified_once_it_is_back(urls: dict[str, str]) -> None:
    receiver = Receiver(free_port())
    receiver.start()
    _allow(urls, "CG", [f"127.0.0.1:{receiver.port}"])
    agent = ApiUser(urls=urls, sub="agent-cg-hooks", role=Role.DEPARTMENT_AGENT, org="CG")
    registered = agent.ok(
        "handling",
        "POST",
        "/v1/webhooks/endpoints",
        json={
            "url": f"http://127.0.0.1:{receiver.port}/gridloop",
            "event_types": WANTED,
            "description": "城管业务系统",
        },
    )
    secret, endpoint = registered["secret"], registered["endpoint_id"]
    assert secret.startswith("whsec_") and registered["department"] == "CG"
    started = datetime.now(UTC)
    worker = ApiUser(urls=urls, sub="gw-lj02-hooks", role=Role.GRID_WORKER, org="LJ02")

    first = _file(worker, 1)
    eventually(lambda: first in receiver.tickets(secret, "ticket.dispatched"), what="the first dispatch delivered")

    # The department's system is down while two more tickets are dispatched to it
    receiver.stop()
    while_down = [_file(worker, 2), _file(worker, 3)]

    def failing() -> bool:
        log = agent.ok("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}/deliveries")["items"]
        waiting = [d for d in log if d["ticket_id"] in while_down and d["status"] == "pending" and d["attempts"] >= 2]
        # The endpoint's count follows each attempt's own record, so it is read with them
        failures = agent.ok("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}")["failures_in_row"]
        return len(waiting) == 2 and failures >= 4

    eventually(failing, what="deliveries failing, retried and counted on the endpoint while the receiver is down")
    receiver.start()
    eventually(
        lambda: set(while_down) <= receiver.tickets(secret, "ticket.dispatched"),
        what="every delivery once the receiver is back",
    )
    log = agent.ok("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}/deliveries")["items"]
    retried = [d for d in log if d["ticket_id"] in while_down]
    assert all(d["status"] == "delivered" and d["attempts"] >= 3 for d in retried), retried
    assert any(a["status_code"] is None and a["error"] for d in retried for a in d["log"])
    assert agent.ok("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}")["failures_in_row"] == 0

    # A replay sends the same deliveries again under the same ids: the receiver sees duplicates it can drop
    before = len(receiver.received)
    ids = set(receiver.verified(secret))
    queued = agent.ok(
        "handling", "POST", f"/v1/webhooks/endpoints/{endpoint}/replay", json={"since": started.isoformat()}
    )
    assert queued["queued"] == 3
    eventually(lambda: len(receiver.received) >= before + 3, what="the replayed deliveries")
    assert set(receiver.verified(secret)) == ids  # nothing new: every replayed webhook-id was seen before
    assert len(receiver.received) > len(ids)

    # After a rotation deliveries carry both signatures: the new secret verifies, the old still does
    rotated = agent.ok("handling", "POST", f"/v1/webhooks/endpoints/{endpoint}/rotate-secret")
    assert rotated["secret"] != secret
    since_rotation = len(receiver.received)
    after_rotation = _file(worker, 4)
    eventually(
        lambda: after_rotation in receiver.tickets(rotated["secret"], "ticket.dispatched", since_rotation),
        what="a delivery signed with the new secret",
    )
    assert after_rotation in receiver.tickets(secret, "ticket.dispatched", since_rotation)

    # The department's own system answers through the API with a service account of its department
    system = ApiUser(urls=urls, sub="svc-cg-business-system", role=Role.DEPARTMENT_AGENT, org="CG", name="城管业务系统")
    system.ok("handling", "POST", f"/v1/work-orders/{first}/accept")
    # ... and hears of it like of every other event it chose (an agent's accept in the console alike)
    eventually(lambda: first in receiver.tickets(secret, "ticket.accepted"), what="the accept delivered")
    other = ApiUser(urls=urls, sub="svc-jj-business-system", role=Role.DEPARTMENT_AGENT, org="JJ")
    assert other.call("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}").status_code == 404
    assert agent.call("handling", "DELETE", f"/v1/webhooks/endpoints/{endpoint}").status_code == 204
    assert agent.call("handling", "DELETE", f"/v1/webhooks/endpoints/{endpoint}").status_code == 204  # idempotent
    assert agent.call("handling", "GET", f"/v1/webhooks/endpoints/{endpoint}").status_code == 404
    receiver.stop()


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_an_endpoint_goes_only_where_the_admin_allowed_and_never_inward(urls: dict[str, str], stack: Stack) -> None:
    agent = ApiUser(urls=urls, sub="agent-sw-hooks", role=Role.DEPARTMENT_AGENT, org="SW")
    allowed, elsewhere = free_port(), free_port()

    def register(url: str) -> Any:
        return agent.call(
            "handling", "POST", "/v1/webhooks/endpoints", json={"url": url, "event_types": ["ticket.escalated"]}
        )

    def stored() -> list[str]:
        return [e["url"] for e in agent.ok("handling", "GET", "/v1/webhooks/endpoints")["items"]]

    # Nothing allowed yet: nowhere to point
    assert agent.ok("handling", "GET", "/v1/webhooks/allow-lists/SW")["entries"] == []
    refused = register(f"http://127.0.0.1:{allowed}/hook")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "destination_not_allowed"
    assert "允许范围" in refused.json()["error"]["message"]

    # The admin keeps the list; an agent reads its own department's only, and cannot change it
    admin = _admin(urls)
    bad = admin.call("handling", "PUT", "/v1/webhooks/allow-lists/SW", json={"entries": ["169.254.169.254"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "destination_refused"
    bad = admin.call("handling", "PUT", "/v1/webhooks/allow-lists/SW", json={"entries": ["http://x/"]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_destination"
    kept = _allow(urls, "SW", [f"127.0.0.1:{allowed}", "Hooks.SW.example."])
    assert kept["entries"] == [f"127.0.0.1:{allowed}", "hooks.sw.example"] and kept["updated_by"] == "admin-hooks"
    assert agent.call("handling", "PUT", "/v1/webhooks/allow-lists/SW", json={"entries": []}).status_code == 403
    assert agent.call("handling", "GET", "/v1/webhooks/allow-lists/CG").status_code == 404
    assert [a["department"] for a in agent.ok("handling", "GET", "/v1/webhooks/allow-lists")["items"]] == ["SW"]

    # Inside the list: registered; outside it (another port, a name that does not resolve): refused
    created = register(f"http://127.0.0.1:{allowed}/hook")
    assert created.status_code == 201, created.text
    endpoint = created.json()["endpoint_id"]
    outside = register(f"http://127.0.0.1:{elsewhere}/hook")
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "destination_not_allowed"
    assert register("http://hooks.sw.example/").json()["error"]["code"] == "destination_unresolved"

    # Listed or not, never: loopback's and the stack's own services, link-local and metadata,
    # unspecified, multicast (the embedded stack allows loopback receivers, but not on its own ports)
    _allow(urls, "SW", [f"127.0.0.1:{allowed}", "127.0.0.0/8", "::1", "localhost", "0.0.0.0/0", "::/0"])
    inward = [
        f"http://127.0.0.1:{_port(urls['directory'])}/v1/directory/tree",
        f"http://127.0.0.1:{_port(urls['handling'])}/v1/webhooks/endpoints",
        f"http://localhost:{stack.config.db_port}/",
        f"http://[::1]:{stack.config.broker_port}/",
        f"http://127.0.0.1:{stack.config.gateway_port}/",
        f"http://127.0.0.2:{_port(urls['web'])}/",
        "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/latest/meta-data/",
        "http://[fe80::1]/", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0/", "http://224.0.0.1/",
        "http://2852039166/",  # 169.254.169.254 written as one number
    ]  # fmt: skip
    for url in inward:
        answer = register(url)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "destination_refused", (url, answer.text)
    moved = agent.call(
        "handling", "PATCH", f"/v1/webhooks/endpoints/{endpoint}", json={"url": "http://169.254.169.254/"}
    )
    assert moved.status_code == 422
    assert stored() == [f"http://127.0.0.1:{allowed}/hook"]  # nothing refused was kept
    assert agent.call("handling", "DELETE", f"/v1/webhooks/endpoints/{endpoint}").status_code == 204


def test_the_admin_cannot_subscribe_in_a_departments_name_but_can_stop_an_endpoint(urls: dict[str, str]) -> None:
    port = free_port()
    _allow(urls, "YLLH", [f"127.0.0.1:{port}"])
    admin = _admin(urls)
    body = {"url": f"http://127.0.0.1:{port}/hook", "event_types": ["ticket.escalated"], "department": "YLLH"}
    refused = admin.call("handling", "POST", "/v1/webhooks/endpoints", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "department_only"
    agent = ApiUser(urls=urls, sub="agent-yllh-hooks", role=Role.DEPARTMENT_AGENT, org="YLLH")
    assert agent.ok("handling", "GET", "/v1/webhooks/endpoints")["items"] == []  # nothing was made for it
    created = agent.ok("handling", "POST", "/v1/webhooks/endpoints", json=body)
    endpoint = f"/v1/webhooks/endpoints/{created['endpoint_id']}"
    assert created["actions"] == ["change", "delete", "disable", "replay", "rotate_secret"]

    # The admin sees it, with what it may do; pointing it elsewhere, its events, its secret and replays are not its own
    seen = admin.ok("handling", "GET", endpoint)
    assert seen["department"] == "YLLH" and seen["actions"] == ["delete", "disable"]
    for method, path, json in [
        ("PATCH", endpoint, {"url": f"http://127.0.0.1:{port}/elsewhere"}),
        ("PATCH", endpoint, {"event_types": ["ticket.dispatched"]}),
        ("POST", f"{endpoint}/rotate-secret", None),
        ("POST", f"{endpoint}/replay", {"since": "2026-01-01T00:00:00+08:00"}),
    ]:
        answer = admin.call("handling", method, path, json=json)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "department_only", (method, path)
    assert agent.ok("handling", "GET", endpoint)["url"] == body["url"]

    # ... but it may switch it off (the department switches it on again) and delete it
    assert admin.ok("handling", "PATCH", endpoint, json={"enabled": False})["enabled"] is False
    assert admin.call("handling", "PATCH", endpoint, json={"enabled": True}).status_code == 403
    assert agent.ok("handling", "PATCH", endpoint, json={"enabled": True})["enabled"] is True
    assert admin.call("handling", "DELETE", endpoint).status_code == 204
    assert agent.call("handling", "GET", endpoint).status_code == 404
