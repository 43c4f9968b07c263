"""The webhook sender against the real database, on a set clock across the new year: a receiver
that never answers is tried again with doubling waits, the delivery is never dropped, the
endpoint is switched off after repeated failure with the reason, and its backlog goes out once
it is switched on again and the receiver answers."""

import itertools
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from gridloop.handling.webhooks import domain, handlers, store
from gridloop.handling.webhooks.domain import RetryPolicy
from gridloop.shared.events import Actor, Role, TicketDispatched, envelope
from gridloop.shared.metrics import Metrics
from gridloop.stack.servers import Servers, free_port
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 59, 50, tzinfo=UTC)  # 23:59:50 in the city
ADMIN = Actor(sub="admin-1", role=Role.ADMIN, org="QH")
POLICY = RetryPolicy(
    first=timedelta(seconds=5), longest=timedelta(seconds=20), disable_after=4, disable_span=timedelta(seconds=30)
)


def _dispatched(ticket_id: str, at: datetime) -> Any:
    payload = TicketDispatched(round=1, lead_department="CG", accept_deadline=at, resolve_deadline=at, manual=False)
    return envelope(
        payload, event_id=f"ev-{ticket_id}", ticket_id=ticket_id, producer="dispatch", actor=ADMIN, occurred_at=at,
        correlation_id="c",
    )  # fmt: skip


async def test_a_failing_receiver_is_retried_with_backoff_then_switched_off_and_nothing_is_lost(
    servers: Servers,
) -> None:
    clock = SetClock(NEW_YEARS_EVE)
    database = await service_database(servers, producer="handling", clock=clock)
    await store.ensure_indexes(database.db)
    port = free_port()
    endpoint = await handlers.register(
        database=database,
        user=ADMIN,
        department="CG",
        url=f"http://127.0.0.1:{port}/hook",
        event_types=["ticket.dispatched"],
        description="",
    )
    event = _dispatched("t-new-year", NEW_YEARS_EVE)
    await database.transaction(lambda uow: handlers.queue_deliveries(event.payload, event, uow))
    attempts_at: list[datetime] = []
    metrics = Metrics("handling")
    async with httpx.AsyncClient(timeout=2.0) as client:
        for _ in range(6):  # nothing listens on the port: every attempt fails
            [delivery] = await store.deliveries(database.db, endpoint["endpoint_id"], None, 10)
            clock.value = delivery["next_attempt_at"]
            attempts_at.append(clock.value)
            assert await handlers.deliver_due(database=database, client=client, policy=POLICY, metrics=metrics) == 0
        [delivery] = await store.deliveries(database.db, endpoint["endpoint_id"], None, 10)
        assert delivery["status"] == "pending" and delivery["attempts"] == 4  # then switched off: no more tries
        waits = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts_at[:4])]
        assert waits == [5.0, 10.0, 20.0]  # doubling, then no longer than the longest wait
        after = await store.endpoint(database.db, endpoint["endpoint_id"])
        # 4 failures in a row over 35 s (at least 30): switched off, and the agent reads why
        assert after is not None and after["enabled"] is False and "连续 4 次投递失败" in after["disabled_reason"]
        counted = metrics.registry.get_sample_value
        assert (
            counted(
                "gridloop_webhook_deliveries_total", {"service": "handling", "channel": "webhook", "outcome": "failed"}
            )
            == 4
        )
        assert counted("gridloop_webhook_endpoints_disabled_total", {"service": "handling", "department": "CG"}) == 1

        # Still queued, not lost: switched on again with the receiver up, it arrives, signed
        got: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                got.append((dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            await handlers.change_endpoint(
                database=database,
                user=ADMIN,
                endpoint_id=endpoint["endpoint_id"],
                enabled=True,
                url=None,
                event_types=None,
            )
            [delivery] = await store.deliveries(database.db, endpoint["endpoint_id"], None, 10)
            clock.value = delivery["next_attempt_at"]
            assert await handlers.deliver_due(database=database, client=client, policy=POLICY) == 1
        finally:
            server.shutdown()
            server.server_close()
    [(headers, body)] = got
    message = Webhook(endpoint["secret"]).verify(body, headers)
    assert message["type"] == "ticket.dispatched" and message["data"]["ticket_id"] == "t-new-year"
    assert headers["webhook-id"] == domain.webhook_id(endpoint["endpoint_id"], event.event_id)
    [delivered] = await store.deliveries(database.db, endpoint["endpoint_id"], "delivered", 10)
    assert delivered["attempts"] == 5


def test_backoff_doubles_up_to_the_longest_wait_and_a_short_outage_never_switches_off() -> None:
    now = NEW_YEARS_EVE
    assert [POLICY.next_attempt(n, now) - now for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (5, 10, 20, 20)]
    assert not POLICY.disables(100, now - timedelta(seconds=29), now)  # many failures, but a short outage
    assert POLICY.disables(4, now - timedelta(seconds=30), now)
