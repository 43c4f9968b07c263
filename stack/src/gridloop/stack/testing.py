"""Pytest fixtures for tests that need the real broker and database: they start Tansu and
SecantusDB on free loopback ports, and stop them when the session ends. (The whole stack of the
end-to-end tests is tests/e2e/conftest.py's.)"""

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo.database import Database as MongoDatabase

from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import (
    DIRECTORY_TOPIC,
    TICKETS_TOPIC,
    Actor,
    Envelope,
    Payload,
    Role,
    TicketReported,
    envelope,
)
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, connect, ensure_common_indexes
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Process, Servers, free_port, start_servers, start_service
from gridloop.stack.stack import TEST_ENV
from gridloop.stack.topics import create_topics

T = TypeVar("T")
# A holiday schedule for 2027 as the State Council might publish it (the real one may not be out):
# 元旦 1 January; 春节 5–12 February, with Saturday 30 January and Saturday 20 February worked (调休).
TEST_SCHEDULE_2027: dict[str, Any] = {
    "code": "2027",
    "notice": "测试用2027年部分节假日安排（非正式）",
    "holidays": ["2027-01-01", *(f"2027-02-{d:02d}" for d in range(5, 13))],
    "workdays": ["2027-01-30", "2027-02-20"],
}


def eventually(probe: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.1, what: str = "") -> T:
    """Poll until `probe` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        time.sleep(interval)


class SetClock:
    """A clock that reads what the test set, for handlers run in the test's own process."""

    def __init__(self, now: datetime) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value


async def service_database(servers: Servers, *, producer: str, clock: SetClock) -> Database:
    """A database of its own on the test server, with the indexes a service makes at start."""
    database = Database(
        connect(servers.mongo_uri, timeout_ms=5000), f"{producer}_{new_id()[-8:]}", producer=producer, clock=clock
    )
    await ensure_common_indexes(database.db)
    return database


def outbox_events(rows: list[dict[str, Any]]) -> list[Envelope]:
    """The events a transaction queued, as the relay will publish them."""
    return [Envelope.from_wire(row["value"]) for row in rows if row["topic"] == TICKETS_TOPIC]


class Bus:
    """Test-side access to the real broker: publish events and records, read a topic from the start."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap

    def publish(self, topic: str, items: list[tuple[str, bytes, list[tuple[str, bytes]]]]) -> None:
        async def go() -> None:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
            await producer.start()
            try:
                for key, value, headers in items:
                    await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
            finally:
                await producer.stop()

        asyncio.run(go())

    def publish_events(self, events: list[Envelope]) -> None:
        """Each event on its payload's topic (tickets, or the 共建 loop's needs), keyed by its record, in order."""
        by_topic: dict[str, list[tuple[str, bytes, list[tuple[str, bytes]]]]] = {}
        for e in events:
            by_topic.setdefault(e.payload.TOPIC, []).append((e.ticket_id, e.to_wire(), e.headers()))
        for topic, items in by_topic.items():
            self.publish(topic, items)

    def publish_records(self, records: list[DirectoryRecord]) -> None:
        self.publish(DIRECTORY_TOPIC, [(r.key, r.model_dump_json().encode(), []) for r in records])

    def read(self, topic: str) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
        """Every message now on `topic`, from the beginning, without joining a group."""

        async def go() -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
            await consumer.start()
            try:
                partitions: set[int] = set()
                for _ in range(50):  # a new client may not have the topic's metadata yet
                    await consumer.topics()
                    partitions = consumer.partitions_for_topic(topic) or set()
                    if partitions:
                        break
                    await asyncio.sleep(0.1)
                tps = [TopicPartition(topic, p) for p in partitions]
                consumer.assign(tps)
                ends = await consumer.end_offsets(tps)
                starts = await consumer.beginning_offsets(tps)
                for tp in tps:
                    consumer.seek(tp, starts[tp])
                seen = {tp: starts[tp] for tp in tps}
                out = []
                while [tp for tp in tps if seen[tp] < ends[tp]]:
                    batch = await consumer.getmany(timeout_ms=500)
                    for tp, records in batch.items():
                        out += [(r.key, r.value, list(r.headers or ())) for r in records]
                        if records:
                            seen[tp] = records[-1].offset + 1
                return out
            finally:
                await consumer.stop()

        return asyncio.run(go())

    def events(self, ticket_id: str | None = None) -> list[Envelope]:
        parsed = [Envelope.from_wire(v) for _, v, _ in self.read(TICKETS_TOPIC) if v is not None]
        return [e for e in parsed if ticket_id is None or e.ticket_id == ticket_id]

    def wait_for(self, ticket_id: str, event_type: str, *, count: int = 1, timeout: float = 20.0) -> list[Envelope]:
        def probe() -> list[Envelope] | None:
            found = [e for e in self.events(ticket_id) if e.event_type == event_type]
            return found if len(found) >= count else None

        return eventually(probe, timeout=timeout, interval=0.3, what=f"{count} x {event_type} of {ticket_id}")


def make_event(payload: Payload, *, ticket_id: str, actor: Actor | None = None, at: datetime | None = None) -> Envelope:
    """An event as another service would have published it."""
    return envelope(
        payload,
        event_id=new_id(),
        ticket_id=ticket_id,
        producer="test",
        actor=actor or Actor(sub="test", role=Role.SYSTEM),
        occurred_at=at or datetime.now(UTC),
        correlation_id=new_id(),
    )


def reported(
    ticket_id: str,
    *,
    reporter: Actor,
    category: str = "SJ-0101",
    category_name: str = "暴露垃圾",
    grid: str = "LJ01-G1",
    address: str = "",
    at: datetime | None = None,
    evidence_required: bool = False,
    possible_duplicates: list[str] | None = None,
) -> Envelope:
    """A ticket.reported as intake would have published it, in a grid of the demo district."""
    payload = TicketReported(
        ticket_number=f"QH-T-{ticket_id[-5:]}",
        category_code=category,
        category_name=category_name,
        description="测试上报",
        location=None,
        address=address,
        grid_code=grid,
        community_code=grid[:4],
        street_code=grid[:2],
        district_code="QH",
        evidence_required=evidence_required,
        possible_duplicates=possible_duplicates or [],
    )
    return make_event(payload, ticket_id=ticket_id, actor=reporter, at=at)


def demo_records() -> list[DirectoryRecord]:
    """The demo directory as the directory service announces it, ending with the snapshot marker."""
    from gridloop.directory.handlers import demo_seed

    records = [DirectoryRecord(kind=k.value, code=c, revision=1, data=d) for k, c, d in demo_seed()]
    return [*records, DirectoryRecord(kind="snapshot", code="directory", revision=1, data={"records": len(records)})]


def member_registration(
    member_id: str,
    sub: str,
    *,
    status: str = "active",
    party_member: bool = True,
    unit_code: str | None = None,
    community: str = "LJ01",
    street: str = "LJ",
    grid: str | None = "LJ01-G1",
    at: datetime | None = None,
    **more: Any,
) -> dict[str, Any]:
    """A registration (个人报到) as cobuild's members area keeps it in `members`: confirmed and placed
    in `grid` at `at` (now) unless `status` and `more` (any field) say otherwise. For tests that put
    members in directly; the name and the like are member_private's (`register_member`)."""
    when = at or datetime.now(UTC)
    return {
        "_id": member_id,
        "sub": sub,
        # unique while the registration is current; an ended one has none
        "current_sub": None if status in ("inactive", "transferred") else sub,
        "status": status,
        "party_member": party_member,
        "unit_code": unit_code,
        "community_code": community,
        "street_code": street,
        "district_code": "QH",
        "grid_code": grid,
        "squad": None,
        "skills": [],
        "service_types": [],
        "availability": "",
        "channel": "online",
        "registered_at": when,
        "reported_at": when,
        "placed_at": when,
        "last_return_at": when,  # placing counts as the first return
        "lapsed_reason": None,
        "erased": False,
        "version": 1,
        **more,
    }


def service_record(
    record_id: str,
    member_id: str,
    *,
    minutes: int,
    day: datetime,
    community: str = "LJ01",
    organizer: tuple[str, str] = ("community", "LJ01"),
    status: str = "approved",
    **more: Any,
) -> dict[str, Any]:
    """An approved check-in record (过程纪实) of `minutes` on `day`, as cobuild's activities area keeps
    it in `records`, in an activity of its own (one record per activity and member); `more` sets or
    adds any field (unit_code, rating, post_id…). For tests that put service in directly."""
    return {
        "_id": record_id,
        "activity_id": f"A-{record_id}",
        "activity_title": "服务活动",
        "member_id": member_id,
        "unit_code": None,
        "community_code": community,
        "grid_code": f"{community}-G1",
        "method": "checkin",
        "checkin_at": day,
        "checkout_at": day,
        "starts_at": day,
        "ends_at": day,
        "minutes_claimed": minutes,
        "minutes": minutes if status == "approved" else None,
        "status": status,
        "rating": None,
        "service_date": day,
        "organizer_kind": organizer[0],
        "organizer_code": organizer[1],
        "approved_by": "cw",
        "approved_at": day if status == "approved" else None,
        "post_id": None,
        **more,
    }


def register_member(
    db: "MongoDatabase[dict[str, Any]]",
    sub: str,
    *,
    member_id: str | None = None,
    name: str | None = None,
    **fields: Any,
) -> str:
    """`sub`'s registration in cobuild's database `db`, put in as `member_registration` makes it (id
    `member_id`, else M-<sub>; `fields` go to it) when the person has none, and `name` in
    member_private (when given, and that has none); the id of the registration that stands."""
    registration = member_registration(member_id or f"M-{sub}", sub, **fields)
    db["members"].update_one(
        {"sub": sub}, {"$setOnInsert": {k: v for k, v in registration.items() if k != "sub"}}, upsert=True
    )
    found = db["members"].find_one({"sub": sub})
    assert found is not None
    if name is not None:
        private = {"name": name, "phone": "", "id_hash": "", "id_tail": ""}
        db["member_private"].update_one({"_id": found["_id"]}, {"$setOnInsert": private}, upsert=True)
    return str(found["_id"])


class RunningService:
    def __init__(self, name: str, process: Process) -> None:
        self.name = name
        self.process = process
        self.url = f"http://127.0.0.1:{process.port}"

    def user(self, *, sub: str, role: Role, org: str) -> ApiUser:
        return ApiUser(urls={self.name: self.url}, sub=sub, role=role, org=org)


def launch(
    name: str, servers: Servers, log_dir: Path, env: dict[str, str] | None = None, timeout: float = 60.0
) -> RunningService:
    """Start one service as its own process against the test servers and wait until it is ready."""
    port = free_port()
    process = start_service(
        name,
        port=port,
        log_dir=log_dir,
        env={
            "GRIDLOOP_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
            "GRIDLOOP_MONGO_URI": servers.mongo_uri,
            "GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2",
            **TEST_ENV,
            **(env or {}),
        },
    )
    service = RunningService(name, process)

    def ready() -> bool:
        if process.proc.poll() is not None:
            raise AssertionError(f"{name} exited; see {process.log_path}")
        try:
            return httpx.get(f"{service.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(ready, timeout=timeout, interval=0.2, what=f"{name} ready")
    return service


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    log_dir = tmp_path_factory.mktemp("servers")
    running = start_servers(broker_port=free_port(), db_port=free_port(), storage=":memory:", log_dir=log_dir)
    try:
        asyncio.run(create_topics(running.kafka_bootstrap))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def bus(servers: Servers) -> Bus:
    return Bus(servers.kafka_bootstrap)


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()
