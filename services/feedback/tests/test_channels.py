"""Reporters' notifications out through the city's gateway, against the real database on a set
clock past midnight: while the gateway is down they wait and are tried again, once it is back
each arrives signed (verified with `standardwebhooks`), and a day-old one is not sent."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from gridloop.feedback import domain, handlers, store
from gridloop.feedback.channels import WebhookGateway
from gridloop.shared import leases
from gridloop.shared.events import Actor, Role, TicketClosed, envelope
from gridloop.shared.mongo import UnitOfWork
from gridloop.shared.webhooks import new_secret
from gridloop.stack.servers import Servers, free_port
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
MIDNIGHT = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 00:00 on New Year's Day in the city
WORKER = Actor(sub="gw-lj01", role=Role.GRID_WORKER, org="LJ01")


async def _notified(uow: UnitOfWork, n: int, at: datetime) -> None:
    event = envelope(
        TicketClosed(), event_id=f"ev-{n}", ticket_id=f"t-{n}", producer="feedback", actor=WORKER, occurred_at=at,
        correlation_id="c",
    )  # fmt: skip
    doc = {"_id": f"t-{n}", "ticket_number": f"QH-20270101-0000{n}"}
    await handlers.notify(uow, WORKER.sub, doc, event, f"您上报的 QH-20270101-0000{n} 已办结")


def _gateway(port: int, got: list[tuple[dict[str, str], bytes]]) -> ThreadingHTTPServer:
    """The city's notification gateway on `port`: it keeps what it is sent and answers 202."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append((dict(self.headers.items()), self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def test_notifications_wait_for_the_gateway_and_arrive_signed_once_it_is_back(servers: Servers) -> None:
    clock = SetClock(MIDNIGHT)
    database = await service_database(servers, producer="feedback", clock=clock)
    await store.ensure_indexes(database.db)
    stale = MIDNIGHT - domain.OUTGOING_MAX_AGE - timedelta(minutes=1)
    await database.transaction(lambda uow: _notified(uow, 0, stale))  # yesterday's: stays in the app only
    for n in (1, 2):
        await database.transaction(lambda uow, n=n: _notified(uow, n, MIDNIGHT))
    port, secret = free_port(), new_secret()
    async with httpx.AsyncClient(timeout=2.0) as client:
        gateway = WebhookGateway(url=f"http://127.0.0.1:{port}/notify", secret=secret, client=client)
        assert await handlers.send_notifications(database=database, channel=gateway) == 0  # nobody listens yet
        waiting = await database.db[store.NOTIFICATIONS].find({"outgoing": "pending"}).to_list(None)
        assert len(waiting) == 2 and all(w["outgoing_attempts"] == 1 and w["outgoing_error"] for w in waiting)
        assert all(w["outgoing_next_at"] == MIDNIGHT + timedelta(seconds=5) for w in waiting)

        got: list[tuple[dict[str, str], bytes]] = []
        server = _gateway(port, got)
        try:
            assert await handlers.send_notifications(database=database, channel=gateway) == 0  # not due yet
            clock.value = MIDNIGHT + timedelta(seconds=5)
            assert await handlers.send_notifications(database=database, channel=gateway) == 2
            assert await handlers.send_notifications(database=database, channel=gateway) == 0  # sent once
        finally:
            server.shutdown()
            server.server_close()
    messages = [Webhook(secret).verify(body, headers) for headers, body in got]
    assert sorted(m["data"]["ticket_number"] for m in messages) == ["QH-20270101-00001", "QH-20270101-00002"]
    assert all(m["data"]["recipient"] == "gw-lj01" and m["data"]["text"].endswith("已办结") for m in messages)
    states = {d["ticket_id"]: d["outgoing"] async for d in database.db[store.NOTIFICATIONS].find()}
    assert states == {"t-0": "expired", "t-1": "sent", "t-2": "sent"}
    # the app still shows all three
    assert len(await store.notifications(database.db, recipient="gw-lj01", unread=True, limit=10)) == 3


async def test_a_notification_held_by_a_sender_whose_clock_ran_fast_goes_out_on_the_next_pass(servers: Servers) -> None:
    """One sender died mid-try with its claim written 10 minutes ahead of the server's clock;
    another's clock, three weeks fast, set a retry time the true clock would wait three weeks for.
    Neither holds the notification back; a live claim still does."""
    now = datetime.now(UTC)
    database = await service_database(servers, producer="feedback", clock=SetClock(now))
    await store.ensure_indexes(database.db)
    for n in (1, 2, 3):
        await database.transaction(lambda uow, n=n: _notified(uow, n, now))
    server_now = await leases.server_now(database.db)
    notes = database.db[store.NOTIFICATIONS]
    await notes.update_one(
        {"ticket_id": "t-1"}, {"$set": {"outgoing_claimed_until": server_now + timedelta(minutes=10)}}
    )
    await notes.update_one({"ticket_id": "t-2"}, {"$set": {"outgoing_next_at": now + timedelta(weeks=3)}})
    await notes.update_one(
        {"ticket_id": "t-3"}, {"$set": {"outgoing_claimed_until": server_now + timedelta(seconds=30)}}
    )
    port, secret = free_port(), new_secret()
    got: list[tuple[dict[str, str], bytes]] = []
    server = _gateway(port, got)
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            gateway = WebhookGateway(url=f"http://127.0.0.1:{port}/notify", secret=secret, client=client)
            assert await handlers.send_notifications(database=database, channel=gateway) == 2
    finally:
        server.shutdown()
        server.server_close()
    sent = sorted(Webhook(secret).verify(body, headers)["data"]["ticket_number"] for headers, body in got)
    assert sent == ["QH-20270101-00001", "QH-20270101-00002"]
    states = {d["ticket_id"]: d["outgoing"] async for d in notes.find()}
    assert states == {"t-1": "sent", "t-2": "sent", "t-3": "pending"}  # another sender is trying t-3 now
