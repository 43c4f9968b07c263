"""The webhook sender against the real database and real HTTP receivers, on a set clock across
the new year: a receiver that never answers is tried again with doubling waits, the delivery is
never dropped, the endpoint is switched off after repeated failure with the reason, and its
backlog goes out once it is switched on again and the receiver answers. A destination is judged
again at each delivery, after resolving its name: a name that turns to a refused address is not
contacted, an allowed one is reached at the very address that was judged, and a redirect is not
followed. Then the pure rules: which destinations an allow-list lets through, which never."""

import itertools
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from standardwebhooks import Webhook

from gridloop.handling.app import HandlingSettings
from gridloop.handling.webhooks import commands, consumers, domain, jobs, outbound, store
from gridloop.handling.webhooks.domain import Destination, OutboundPolicy, RetryPolicy
from gridloop.handling.webhooks.outbound import Outbound
from gridloop.shared import leases
from gridloop.shared.api.handling import EndpointWithSecret
from gridloop.shared.events import TICKETS_TOPIC, Actor, Role, TicketDispatched, envelope, payload_types
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database
from gridloop.stack.servers import Servers, free_port
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
NEW_YEARS_EVE = datetime(2026, 12, 31, 15, 59, 50, tzinfo=UTC)  # 23:59:50 in the city
ADMIN = Actor(sub="admin-1", role=Role.ADMIN, org="QH")
AGENT = Actor(sub="agent-cg-1", role=Role.DEPARTMENT_AGENT, org="CG")
POLICY = RetryPolicy(
    first=timedelta(seconds=5), longest=timedelta(seconds=20), disable_after=4, disable_span=timedelta(seconds=30)
)


def _dispatched(ticket_id: str, at: datetime) -> Any:
    payload = TicketDispatched(round=1, lead_department="CG", accept_deadline=at, resolve_deadline=at, manual=False)
    return envelope(
        payload, event_id=f"ev-{ticket_id}", ticket_id=ticket_id, producer="dispatch", actor=ADMIN, occurred_at=at,
        correlation_id="c",
    )  # fmt: skip


def _way_out(names: dict[str, list[str]], *, allow_loopback: bool, own: tuple[Destination, ...] = ()) -> Outbound:
    """The service's own resolver, with the test's answers for its names (changed as it goes)."""

    async def resolve(host: str, port: int) -> list[domain.IPAddress]:
        return [ip_address(a) for a in names.get(host, [])]

    return Outbound(policy=OutboundPolicy(own=own, allow_loopback=allow_loopback), resolve=resolve)


class Receiver:
    """A department's system on 127.0.0.1: what it got, with the Host header it was sent; it
    answers each POST with `status` (and `location`, for a redirect)."""

    def __init__(self, status: int = 204, location: str = "") -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        got = self.got

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the connection open for the next request, as servers do

            def do_POST(self) -> None:
                got.append(
                    (
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(int(self.headers["content-length"])),
                    )
                )
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


async def _database(servers: Servers, clock: SetClock, allow: list[str]) -> Database:
    """Handling's webhook collections, with CG's allow-list as the admin set it."""
    database = await service_database(servers, producer="handling", clock=clock)
    await store.ensure_indexes(database.db)
    await store.put_allow_list(database.db, "CG", allow, clock.now(), ADMIN.sub)
    return database


async def _queue_one(database: Database, way_out: Outbound, url: str, ticket_id: str) -> EndpointWithSecret:
    """A CG endpoint registered at `url` (judged as at registration), and one delivery due for it."""
    endpoint = await commands.register(
        database=database, outbound=way_out, user=AGENT, department=None, url=url,
        event_types=["ticket.dispatched"], description="",
    )  # fmt: skip
    event = _dispatched(ticket_id, NEW_YEARS_EVE)
    await database.transaction(lambda uow: consumers.queue_deliveries(event.payload, event, uow))
    return endpoint


async def test_a_failing_receiver_is_retried_with_backoff_then_switched_off_and_nothing_is_lost(
    servers: Servers,
) -> None:
    clock = SetClock(NEW_YEARS_EVE)
    port = free_port()
    database = await _database(servers, clock, [f"127.0.0.1:{port}"])
    way_out = _way_out({}, allow_loopback=True)
    endpoint = await _queue_one(database, way_out, f"http://127.0.0.1:{port}/hook", "t-new-year")
    event = _dispatched("t-new-year", NEW_YEARS_EVE)
    attempts_at: list[datetime] = []
    metrics = Metrics("handling")
    async with outbound.sender_client(2.0) as client:
        for _ in range(6):  # nothing listens on the port: every attempt fails
            [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
            clock.value = delivery["next_attempt_at"]
            attempts_at.append(clock.value)
            passed = await jobs.deliver_due(
                database=database, client=client, outbound=way_out, policy=POLICY, metrics=metrics
            )
            assert passed == 0
        [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
        assert delivery["status"] == "pending" and delivery["attempts"] == 4  # then switched off: no more tries
        waits = [(b - a).total_seconds() for a, b in itertools.pairwise(attempts_at[:4])]
        assert waits == [5.0, 10.0, 20.0]  # doubling, then no longer than the longest wait
        after = await store.endpoint(database.db, endpoint.endpoint_id)
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
            await commands.change_endpoint(
                database=database,
                outbound=way_out,
                user=AGENT,
                endpoint_id=endpoint.endpoint_id,
                enabled=True,
                url=None,
                event_types=None,
            )
            [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
            clock.value = delivery["next_attempt_at"]
            assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 1
        finally:
            server.shutdown()
            server.server_close()
    [(headers, body)] = got
    message = Webhook(endpoint.secret).verify(body, headers)
    assert message["type"] == "ticket.dispatched" and message["data"]["ticket_id"] == "t-new-year"
    assert headers["webhook-id"] == domain.webhook_id(endpoint.endpoint_id, event.event_id)
    [delivered] = await store.deliveries(database.db, endpoint.endpoint_id, "delivered", 10)
    assert delivered["attempts"] == 5


def test_backoff_doubles_up_to_the_longest_wait_and_a_short_outage_never_switches_off() -> None:
    now = NEW_YEARS_EVE
    assert [POLICY.next_attempt(n, now) - now for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (5, 10, 20, 20)]
    assert not POLICY.disables(100, now - timedelta(seconds=29), now)  # many failures, but a short outage
    assert POLICY.disables(4, now - timedelta(seconds=30), now)


async def test_a_name_that_turns_to_a_refused_address_at_delivery_is_not_contacted(
    servers: Servers, receiver: Receiver
) -> None:
    """DNS rebinding: registered while its name pointed into the intranet, then the name answers
    with the loopback address, where an internal service (here: the receiver) listens."""
    clock = SetClock(NEW_YEARS_EVE)
    database = await _database(servers, clock, ["10.20.0.0/16"])
    names = {"hooks.cg.test": ["10.20.0.5"]}
    way_out = _way_out(names, allow_loopback=False)
    endpoint = await _queue_one(database, way_out, f"http://hooks.cg.test:{receiver.port}/hook", "t-rebind")
    names["hooks.cg.test"] = ["10.20.0.5", "127.0.0.1"]
    metrics = Metrics("handling")
    async with outbound.sender_client(2.0) as client:
        passed = await jobs.deliver_due(
            database=database, client=client, outbound=way_out, policy=POLICY, metrics=metrics
        )
    assert passed == 0 and receiver.got == []
    [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    # The log says only that it was not sent: no address, no port, no error of an internal service
    assert [(a["status_code"], a["error"]) for a in delivery["log"]] == [(None, domain.NOT_SENT["destination_refused"])]
    counted = metrics.registry.get_sample_value
    labels = {"service": "handling", "channel": "webhook"}
    assert counted("gridloop_webhook_deliveries_total", {**labels, "outcome": "refused"}) == 1
    assert counted("gridloop_webhook_deliveries_total", {**labels, "outcome": "failed"}) is None


async def test_the_stacks_own_services_are_not_contacted_even_where_loopback_is_allowed(
    servers: Servers, receiver: Receiver
) -> None:
    """Development and tests allow loopback receivers; a name that resolves to one of the stack's
    own ports (here the receiver stands for it) is still refused at delivery."""
    clock = SetClock(NEW_YEARS_EVE)
    database = await _database(servers, clock, ["hooks.cg.test"])
    names = {"hooks.cg.test": ["127.0.0.1"]}
    own = outbound.own_services(
        service_urls=[f"http://127.0.0.1:{receiver.port}"], kafka_bootstrap="", mongo_uri="", otel_endpoint="",
        listening=("127.0.0.1", free_port()), refused=[],
    )  # fmt: skip
    registering = _way_out(names, allow_loopback=True)
    endpoint = await _queue_one(database, registering, f"http://hooks.cg.test:{receiver.port}/hook", "t-own")
    async with outbound.sender_client(2.0) as client:
        way_out = _way_out(names, allow_loopback=True, own=own)
        assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 0
    assert receiver.got == []
    [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
    assert delivery["last_error"] == domain.NOT_SENT["destination_refused"]


async def test_a_delivery_goes_to_the_address_that_was_judged_under_its_own_name(
    servers: Servers, receiver: Receiver
) -> None:
    """`hooks.cg.test` has no DNS record: only the judged address, pinned, can have reached the
    receiver, and the receiver still sees the name it was registered under."""
    clock = SetClock(NEW_YEARS_EVE)
    database = await _database(servers, clock, ["hooks.cg.test"])
    way_out = _way_out({"hooks.cg.test": ["127.0.0.1"]}, allow_loopback=True)
    endpoint = await _queue_one(database, way_out, f"http://hooks.cg.test:{receiver.port}/hook", "t-pinned")
    async with outbound.sender_client(2.0) as client:
        assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 1
    [(headers, body)] = receiver.got
    assert headers["host"] == f"hooks.cg.test:{receiver.port}"
    assert Webhook(endpoint.secret).verify(body, headers)["data"]["ticket_id"] == "t-pinned"


async def test_a_delivery_held_by_a_sender_whose_clock_ran_fast_goes_out_on_the_next_pass(
    servers: Servers, receiver: Receiver
) -> None:
    """One sender died mid-attempt with its claim written 10 minutes ahead of the server's clock;
    another's clock, three weeks fast, set a retry time the true clock would wait three weeks for.
    Neither holds its delivery back; a live claim still does."""
    now = datetime.now(UTC)
    database = await _database(servers, SetClock(now), ["hooks.cg.test"])
    way_out = _way_out({"hooks.cg.test": ["127.0.0.1"]}, allow_loopback=True)
    endpoint = await _queue_one(database, way_out, f"http://hooks.cg.test:{receiver.port}/hook", "t-claimed")
    for ticket in ("t-later", "t-live"):
        event = _dispatched(ticket, now)
        await database.transaction(lambda uow, event=event: consumers.queue_deliveries(event.payload, event, uow))
    server_now = await leases.server_now(database.db)
    held = {
        "t-claimed": {"claimed_until": server_now + timedelta(minutes=10)},
        "t-later": {"next_attempt_at": now + timedelta(weeks=3)},
        "t-live": {"claimed_until": server_now + timedelta(seconds=30)},
    }
    for ticket, changes in held.items():
        await database.db[store.DELIVERIES].update_one({"ticket_id": ticket}, {"$set": changes})
    async with outbound.sender_client(2.0) as client:
        assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 2
    sent = sorted(Webhook(endpoint.secret).verify(body, headers)["data"]["ticket_id"] for headers, body in receiver.got)
    assert sent == ["t-claimed", "t-later"]  # another sender is trying t-live now


def _certificate(name: str, folder: Any) -> tuple[str, str]:
    """A self-signed certificate for `name` (and its key), as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1)).not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / f"{name}.pem", folder / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


async def test_over_https_the_pinned_address_is_asked_for_the_name_and_its_certificate_checked(
    servers: Servers, receiver: Receiver, tmp_path: Any
) -> None:
    """The receiver serves TLS for `hooks.cg.test` on 127.0.0.1: a delivery reaches it by the
    judged address with the name in SNI, and one for another name on the same address is not
    accepted with that certificate, not even after a connection for the first name was made."""
    cert, key = _certificate("hooks.cg.test", tmp_path)
    asked_for: list[str | None] = []
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    served.sni_callback = lambda _sock, name, _ctx: asked_for.append(name)  # type: ignore[assignment,misc,return-value]
    receiver.server.socket = served.wrap_socket(receiver.server.socket, server_side=True)
    clock = SetClock(NEW_YEARS_EVE)
    database = await _database(servers, clock, ["hooks.cg.test", "other.cg.test"])
    way_out = _way_out({"hooks.cg.test": ["127.0.0.1"], "other.cg.test": ["127.0.0.1"]}, allow_loopback=True)
    trusting = outbound.sender_transport(verify=ssl.create_default_context(cafile=cert))
    async with httpx.AsyncClient(transport=trusting, follow_redirects=False, timeout=2.0) as client:
        await _queue_one(database, way_out, f"https://hooks.cg.test:{receiver.port}/hook", "t-tls")
        assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 1
        other = await _queue_one(database, way_out, f"https://other.cg.test:{receiver.port}/hook", "t-tls-other")
        assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 1
    assert [h["host"] for h, _ in receiver.got] == [f"hooks.cg.test:{receiver.port}"] * 2
    assert set(asked_for) == {"hooks.cg.test", "other.cg.test"}
    [refused] = await store.deliveries(database.db, other.endpoint_id, None, 10)
    assert refused["status"] == "pending" and refused["last_error"] == domain.NO_CONNECTION  # not its certificate


async def test_a_redirect_is_not_followed_and_counts_as_a_failed_delivery(servers: Servers, receiver: Receiver) -> None:
    """The first receiver answers 307 towards the second, itself allowed: still not followed."""
    redirecting = Receiver(status=307, location=f"http://127.0.0.1:{receiver.port}/elsewhere")
    try:
        clock = SetClock(NEW_YEARS_EVE)
        database = await _database(servers, clock, ["127.0.0.1"])
        way_out = _way_out({}, allow_loopback=True)
        endpoint = await _queue_one(database, way_out, f"http://127.0.0.1:{redirecting.port}/hook", "t-redirect")
        async with outbound.sender_client(2.0) as client:
            assert await jobs.deliver_due(database=database, client=client, outbound=way_out, policy=POLICY) == 0
    finally:
        redirecting.close()
    assert len(redirecting.got) == 1 and receiver.got == []
    [delivery] = await store.deliveries(database.db, endpoint.endpoint_id, None, 10)
    assert delivery["status"] == "pending" and delivery["last_error"] == "HTTP 307"


async def test_what_is_refused_at_registration_is_never_stored(servers: Servers) -> None:
    clock = SetClock(NEW_YEARS_EVE)
    database = await _database(servers, clock, ["0.0.0.0/0", "::/0", "*.cg.test"])
    way_out = _way_out({"hooks.cg.test": ["10.20.0.5"], "meta.cg.test": ["169.254.169.254"]}, allow_loopback=False)
    refused = [
        "http://127.0.0.1:8006/v1/directory/tree", "http://localhost:27017/", "http://[::1]:9092/",
        "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8003/",
        "http://meta.cg.test/", "http://[fe80::1]/", "http://224.0.0.1/", "http://100.100.100.200/",
    ]  # fmt: skip
    for url in refused:
        with pytest.raises(domain.EndpointRefused) as caught:
            await _queue_one(database, way_out, url, "t-none")
        assert caught.value.code == "destination_refused", url
    with pytest.raises(domain.EndpointRefused) as unresolved:
        await _queue_one(database, way_out, "http://nowhere.cg.test/", "t-none")
    assert unresolved.value.code == "destination_unresolved"
    assert await store.endpoints(database.db, {}) == []
    await _queue_one(database, way_out, "https://hooks.cg.test/hook", "t-ok")
    assert [e["url"] for e in await store.endpoints(database.db, {})] == ["https://hooks.cg.test/hook"]


# ---- the rules, without servers -----------------------------------------------------------------------

STACK = outbound.own_services(
    service_urls=["http://127.0.0.1:8006", "http://127.0.0.1:8003"], kafka_bootstrap="127.0.0.1:9092",
    mongo_uri="mongodb://127.0.0.1:27017/?directConnection=true", otel_endpoint="", listening=("127.0.0.1", 8003),
    refused=["172.18.0.0/16"],
)  # fmt: skip
PRODUCTION = OutboundPolicy(own=STACK)
DEVELOPMENT = OutboundPolicy(own=STACK, allow_loopback=True)
EVERYWHERE = domain.parse_allow_list(["0.0.0.0/0", "::/0", "localhost", "*.localhost"])


def _judge(url_host: str, port: int, addresses: list[str], allow: list[Destination], policy: OutboundPolicy) -> str:
    found = [ip_address(a) for a in addresses]
    return domain.judge(host=url_host, port=port, addresses=found, allow_list=allow, policy=policy).code or "allowed"


@pytest.mark.parametrize(
    ("host", "addresses"),
    [
        ("127.0.0.1", ["127.0.0.1"]), ("127.8.9.10", ["127.8.9.10"]), ("::1", ["::1"]), ("localhost", []),
        ("app.localhost", []), ("169.254.169.254", ["169.254.169.254"]), ("169.254.0.23", ["169.254.0.23"]),
        ("100.100.100.200", ["100.100.100.200"]), ("fd00:ec2::254", ["fd00:ec2::254"]), ("fe80::1", ["fe80::1"]),
        ("0.0.0.0", ["0.0.0.0"]), ("::", ["::"]), ("224.0.0.251", ["224.0.0.251"]), ("ff02::1", ["ff02::1"]),
        ("255.255.255.255", ["255.255.255.255"]), ("::ffff:127.0.0.1", ["::ffff:127.0.0.1"]),
        ("64:ff9b::a9fe:a9fe", ["64:ff9b::a9fe:a9fe"]), ("hooks.example.cn", ["10.1.2.3", "127.0.0.1"]),
        ("172.18.0.4", ["172.18.0.4"]),
    ],
)  # fmt: skip
def test_loopback_link_local_metadata_multicast_and_the_stack_are_refused_even_when_listed(
    host: str, addresses: list[str]
) -> None:
    assert _judge(host, 80, addresses, EVERYWHERE, PRODUCTION) == "destination_refused"


def test_where_loopback_is_allowed_the_stacks_own_ports_are_not_on_any_loopback_address() -> None:
    assert _judge("127.0.0.1", 5000, ["127.0.0.1"], EVERYWHERE, DEVELOPMENT) == "allowed"
    assert _judge("localhost", 5000, ["127.0.0.1", "::1"], EVERYWHERE, DEVELOPMENT) == "allowed"
    for host, port in [("127.0.0.1", 8006), ("127.0.0.2", 27017), ("::1", 9092), ("localhost", 8003)]:
        assert _judge(host, port, ["127.0.0.1"] if host == "localhost" else [host], EVERYWHERE, DEVELOPMENT) == (
            "destination_refused"
        ), (host, port)
    assert _judge("169.254.169.254", 80, ["169.254.169.254"], EVERYWHERE, DEVELOPMENT) == "destination_refused"


def test_an_allow_list_admits_its_names_networks_and_ports_and_nothing_else() -> None:
    allow = domain.parse_allow_list(["hooks.cg.gov.cn", "*.sw.gov.cn:8443", "10.12.0.0/16", "10.30.1.2:9000"])
    assert _judge("hooks.cg.gov.cn", 443, ["10.99.0.1"], allow, PRODUCTION) == "allowed"  # the admin named it
    assert _judge("a.sw.gov.cn", 8443, ["10.99.0.2"], allow, PRODUCTION) == "allowed"
    assert _judge("a.sw.gov.cn", 443, ["10.99.0.2"], allow, PRODUCTION) == "destination_not_allowed"
    assert _judge("sw.gov.cn", 8443, ["10.99.0.2"], allow, PRODUCTION) == "destination_not_allowed"
    assert _judge("evilsw.gov.cn", 8443, ["10.99.0.2"], allow, PRODUCTION) == "destination_not_allowed"
    assert _judge("10.12.200.1", 80, ["10.12.200.1"], allow, PRODUCTION) == "allowed"
    assert _judge("intra.example", 80, ["10.12.0.9", "10.12.1.9"], allow, PRODUCTION) == "allowed"  # by its addresses
    assert _judge("intra.example", 80, ["10.12.0.9", "10.13.0.9"], allow, PRODUCTION) == "destination_not_allowed"
    assert _judge("10.30.1.2", 9000, ["10.30.1.2"], allow, PRODUCTION) == "allowed"
    assert _judge("10.30.1.2", 9001, ["10.30.1.2"], allow, PRODUCTION) == "destination_not_allowed"
    assert _judge("hooks.cg.gov.cn", 443, [], allow, PRODUCTION) == "destination_unresolved"
    assert _judge("10.12.0.1", 80, ["10.12.0.1"], [], PRODUCTION) == "destination_not_allowed"  # none kept: nowhere


def test_allow_list_entries_are_read_in_one_form_and_bad_or_always_refused_ones_are_named() -> None:
    read = domain.parse_allow_list(
        ["Hooks.CG.gov.cn.", "10.12.3.4/16", "[FD00:12::7]:443", "例子.中国:8080", "hooks.cg.gov.cn", "10.1.2.3:80"]
    )
    assert [str(e) for e in read] == [
        "hooks.cg.gov.cn", "10.12.0.0/16", "[fd00:12::7]:443", "xn--fsqu00a.xn--fiqs8s:8080", "10.1.2.3:80",
    ]  # fmt: skip
    bad_ones = ["http://hooks.cg.gov.cn/", "hooks cg", "hooks:0", "hooks:70000", "hooks:²", "2130706433", "-a.b",
                "10.0.0.0/33", "a" * 64 + ".cn", "[fd00::1]x", "hooks:"]  # fmt: skip
    for bad in bad_ones:
        with pytest.raises(domain.InvalidDestination) as caught:
            domain.parse_destination(bad)
        assert bad in caught.value.message
    refused = domain.parse_allow_list(["169.254.169.254", "127.0.0.0/8", "localhost", "172.18.3.0/24", "10.0.0.0/8"])
    problem = domain.allow_list_problem(refused, PRODUCTION)
    assert "169.254.169.254、127.0.0.0/8、localhost、172.18.3.0/24" in problem and "10.0.0.0/8" not in problem
    assert "127.0.0.0/8" not in domain.allow_list_problem(refused, DEVELOPMENT)


def test_a_department_does_everything_to_its_endpoints_and_the_admin_only_switches_off_or_deletes() -> None:
    assert domain.actions_now(own_department=True, enabled=True) == [
        "change", "delete", "disable", "replay", "rotate_secret",
    ]  # fmt: skip
    assert domain.actions_now(own_department=False, enabled=True) == ["delete", "disable"]
    assert domain.actions_now(own_department=False, enabled=False) == ["delete"]


async def test_a_name_no_entry_could_admit_is_refused_without_being_resolved() -> None:
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[domain.IPAddress]:
        asked.append(host)
        return [ip_address("10.12.0.9")]

    way_out = Outbound(policy=PRODUCTION, resolve=resolve)
    names_only = domain.parse_allow_list(["hooks.cg.gov.cn", "10.12.0.0/16:443"])
    assert (await way_out.screen("http://intra.example/", names_only)).verdict == domain.NOT_ALLOWED
    assert asked == []  # registering is no way to learn what a name resolves to
    assert (await way_out.screen("https://intra.example/", names_only)).verdict.allowed
    assert asked == ["intra.example"]


def test_loopback_receivers_are_for_development_and_tests_only() -> None:
    with pytest.raises(ValidationError, match="GRIDLOOP_WEBHOOK_ALLOW_LOOPBACK"):
        HandlingSettings.model_validate({"environment": "production", "webhook_allow_loopback": True})
    settings = HandlingSettings.model_validate(
        {"service_urls": {"intake": "http://intake:8001"}, "webhook_refused_destinations": ["172.18.0.0/16"]}
    )
    policy = settings.outbound().policy
    assert policy.allow_loopback is False and {"intake:8001", "172.18.0.0/16"} <= {str(d) for d in policy.own}


def test_the_event_types_one_may_subscribe_to_come_from_the_event_registry() -> None:
    # the tickets topic's events; the 共建 loop's (need.*, offer.*, project.*) are no department's
    registered = {t for (t, _), payload in payload_types().items() if payload.TOPIC == TICKETS_TOPIC}
    assert "need.claimed" in {t for t, _ in payload_types()} and "need.claimed" not in domain.subscribable()
    assert domain.subscribable() == sorted(registered - {"ticket.reported"})  # a report concerns no department yet
    assert domain.unsubscribable(["ticket.dispatched", "ticket.reported", "ticket.typo"]) == [
        "ticket.reported",
        "ticket.typo",
    ]
