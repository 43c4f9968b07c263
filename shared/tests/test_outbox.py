"""The outbox relay against the real broker and database: a commit's rows are published from
memory at once, without a read of the outbox; a row the broker refuses holds back only its own
ticket's later rows, never another ticket's."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from gridloop.shared.bus import make_producer
from gridloop.shared.clock import SystemClock
from gridloop.shared.ids import new_id
from gridloop.shared.leases import Lease, server_now
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import OUTBOX, Database, UnitOfWork, ensure_common_indexes
from gridloop.shared.outbox import LEASES, OutboxRelay
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, SetClock, service_database

pytestmark = pytest.mark.integration
TOPIC = "gridloop.test.outbox"  # a topic of its own: other tests read every message of the tickets topic


async def _create_topic(bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()


async def test_a_refused_row_holds_back_only_its_own_ticket(servers: Servers) -> None:
    clock = SetClock(datetime(2026, 12, 1, 2, tzinfo=UTC))
    database = await service_database(servers, producer="relay-test", clock=clock)
    producer = make_producer(ServiceSettings(service_name="relay-test", kafka_bootstrap=servers.kafka_bootstrap))
    await _create_topic(servers.kafka_bootstrap)
    await producer.start()
    relay = OutboxRelay(
        database=database, producer=producer, metrics=Metrics("relay-test"), poll_seconds=0.5, lease_seconds=5
    )
    stuck, other = f"stuck-{new_id()}", f"other-{new_id()}"
    rows = [(stuck, b"x" * 2_000_000, "a"), (stuck, b"after the refused one", "b"), (other, b"unrelated", "c")]

    async def write(uow: UnitOfWork) -> None:
        for key, value, row_id in rows:
            await uow.enqueue(
                topic=TOPIC, key=key, value=value, headers=[], event_type="test", row_id=f"{stuck}-{row_id}"
            )

    try:
        await database.transaction(write)
        assert await relay.publish_pending() == 1  # the broker refuses a 2 MB message; the others wait or go
        published = await asyncio.to_thread(Bus(servers.kafka_bootstrap).read, TOPIC)
        on_topic = {(k or b"").decode(): v for k, v, _ in published}
        assert on_topic.get(other) == b"unrelated" and stuck not in on_topic
        left = await database.db[OUTBOX].find({"key": stuck}).sort("_id", 1).to_list(None)
        assert [(r["_id"][-1], r.get("attempts")) for r in left] == [("a", 1), ("b", None)]
        assert "MessageSizeTooLarge" in left[0]["last_error"]

        assert await relay.publish_pending() == 0  # not retried before its pause is over
        clock.value += timedelta(seconds=2)
        assert await relay.publish_pending() == 0
        assert (await database.db[OUTBOX].find_one({"_id": f"{stuck}-a"}) or {})["attempts"] == 2
        assert await database.db[OUTBOX].count_documents({"key": stuck}) == 2  # still in order, none skipped
    finally:
        await producer.stop()


class OutboxReads(CommandListener):
    """Counts the reads of the outbox a client sends."""

    def __init__(self) -> None:
        self.finds = 0

    def started(self, event: CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command.get("find") == OUTBOX:
            self.finds += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def _until(probe: Callable[[], Awaitable[bool]], within: float = 10.0) -> float:
    began = time.monotonic()
    while not await probe():
        assert time.monotonic() - began < within, "not within the time"
        await asyncio.sleep(0.05)
    return time.monotonic() - began


async def test_a_commit_is_published_from_memory_at_once_without_reading_the_outbox(servers: Servers) -> None:
    reads = OutboxReads()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.mongo_uri, tz_aware=True, event_listeners=[reads]
    )
    relays: list[OutboxRelay] = []
    database = Database(
        client,
        f"relay_fast_{new_id()[-8:]}",
        producer="relay-fast",
        clock=SystemClock(),
        on_commit=lambda rows: relays[0].wake(rows),
    )
    await ensure_common_indexes(database.db)
    producer = make_producer(ServiceSettings(service_name="relay-fast", kafka_bootstrap=servers.kafka_bootstrap))
    with contextlib.suppress(TopicAlreadyExistsError):
        await _create_topic(servers.kafka_bootstrap)
    await producer.start()
    # A poll only every minute: whatever arrives sooner was published from memory.
    relays.append(
        OutboxRelay(
            database=database, producer=producer, metrics=Metrics("relay-fast"), poll_seconds=60, lease_seconds=5
        )
    )
    running = asyncio.create_task(relays[0].run())
    bus = Bus(servers.kafka_bootstrap)
    ticket, stuck, other = f"fast-{new_id()}", f"stuck-{new_id()}", f"other-{new_id()}"

    def writes(*rows: tuple[str, bytes]) -> Callable[[UnitOfWork], Awaitable[None]]:
        async def write(uow: UnitOfWork) -> None:
            for key, value in rows:
                await uow.enqueue(topic=TOPIC, key=key, value=value, headers=[], event_type="test")

        return write

    async def on_topic(key: str) -> list[bytes]:
        return [v or b"" for k, v, _ in await asyncio.to_thread(bus.read, TOPIC) if (k or b"").decode() == key]

    try:
        await _until(lambda: _polled(reads))  # the first poll, at start, finds it empty
        polled = reads.finds
        await database.transaction(writes((ticket, b"first")))
        await database.transaction(writes((ticket, b"second"), (ticket, b"third")))
        await _until(lambda: _has(on_topic(ticket), 3), within=5)
        assert await on_topic(ticket) == [b"first", b"second", b"third"]  # in the order written
        assert reads.finds == polled  # no read of the outbox between the commits and their publish
        assert await database.db[OUTBOX].count_documents({"key": ticket}) == 0

        # A row the broker refuses holds its ticket's later rows back, in the outbox, for the poll.
        await database.transaction(writes((stuck, b"x" * 2_000_000)))
        await _until(lambda: _row_postponed(database, stuck))
        await database.transaction(writes((stuck, b"after the refused one"), (other, b"unrelated")))
        await _until(lambda: _has(on_topic(other), 1))
        assert await on_topic(stuck) == []
        assert await database.db[OUTBOX].count_documents({"key": stuck}) == 2
    finally:
        relays[0].stop()
        await running
        await producer.stop()
        await client.close()


async def _polled(reads: OutboxReads) -> bool:
    return reads.finds >= 1


async def _has(found: Awaitable[list[bytes]], count: int) -> bool:
    return len(await found) >= count


async def _row_postponed(database: Database, key: str) -> bool:
    row = await database.db[OUTBOX].find_one({"key": key})
    return row is not None and row.get("attempts", 0) >= 1


async def _relay_on(database: Database, producer: AIOKafkaProducer, *, lease_seconds: float = 2) -> OutboxRelay:
    return OutboxRelay(
        database=database,
        producer=producer,
        metrics=Metrics("relay-test"),
        poll_seconds=0.2,
        lease_seconds=lease_seconds,
    )


async def _write_one(database: Database, key: str, value: bytes) -> None:
    async def write(uow: UnitOfWork) -> None:
        await uow.enqueue(topic=TOPIC, key=key, value=value, headers=[], event_type="test")

    await database.transaction(write)


@pytest.mark.parametrize("ahead", [timedelta(minutes=10), timedelta(weeks=3)], ids=["10 minutes", "3 weeks"])
async def test_a_lease_left_far_ahead_by_a_killed_relay_does_not_stop_the_next(
    servers: Servers, ahead: timedelta
) -> None:
    """A relay whose clock ran fast died holding the lease: its `until` lies `ahead` of the true time."""
    database = await service_database(servers, producer="relay-skew", clock=SetClock(datetime.now(UTC)))
    producer = make_producer(ServiceSettings(service_name="relay-skew", kafka_bootstrap=servers.kafka_bootstrap))
    with contextlib.suppress(TopicAlreadyExistsError):
        await _create_topic(servers.kafka_bootstrap)
    await producer.start()
    key = f"after-the-crash-{new_id()}"
    try:
        await database.db[LEASES].insert_one(
            {"_id": "outbox-relay", "owner": "killed", "until": await server_now(database.db) + ahead}
        )
        await _write_one(database, key, b"filed after the restart")
        assert await (await _relay_on(database, producer)).publish_pending() == 1
        assert await database.db[OUTBOX].count_documents({"key": key}) == 0
    finally:
        await producer.stop()


async def test_a_relay_killed_under_a_fast_clock_holds_the_next_for_its_lease_only(servers: Servers) -> None:
    """The relay with a clock 10 minutes fast publishes, then dies without releasing its lease; the
    next one, on the true clock, publishes once the lease's own length has passed."""
    fast = SetClock(datetime.now(UTC) + timedelta(minutes=10))
    database = await service_database(servers, producer="relay-skew", clock=fast)
    producer = make_producer(ServiceSettings(service_name="relay-skew", kafka_bootstrap=servers.kafka_bootstrap))
    with contextlib.suppress(TopicAlreadyExistsError):
        await _create_topic(servers.kafka_bootstrap)
    await producer.start()
    before, after = f"before-{new_id()}", f"after-{new_id()}"
    try:
        await _write_one(database, before, b"filed under the fast clock")
        assert await (await _relay_on(database, producer)).publish_pending() == 1  # it now holds the lease
        database.clock = SetClock(datetime.now(UTC))  # the restart, on the true clock
        await _write_one(database, after, b"filed after the restart")
        successor = await _relay_on(database, producer)
        waited = await _until(lambda: _published(successor), within=6)
        assert waited < 4  # the 2 s lease and a poll, not the 10 minutes of skew
    finally:
        await producer.stop()


async def _published(relay: OutboxRelay) -> bool:
    await asyncio.sleep(0.2)
    return await relay.publish_pending() > 0


async def test_a_stuck_outbox_shows_in_the_age_gauge_however_few_rows_wait(servers: Servers) -> None:
    """Another instance holds the lease and publishes nothing: the row's age grows where the
    on-call person looks, while the backlog count (one row) would never raise an alarm."""
    database = await service_database(servers, producer="relay-stuck", clock=SetClock(datetime.now(UTC)))
    producer = make_producer(ServiceSettings(service_name="relay-stuck", kafka_bootstrap=servers.kafka_bootstrap))
    await producer.start()
    holder = Lease(database.db, collection=LEASES, name="outbox-relay", owner="alive-but-stuck", seconds=2)
    relay = await _relay_on(database, producer)
    try:
        await _write_one(database, f"stuck-{new_id()}", b"waits")
        for _ in range(4):
            assert await holder.hold()  # renewed as a live instance renews it
            assert await relay.publish_pending() == 0
            await asyncio.sleep(0.5)
        assert relay.oldest_age() >= 1.5
        gauge = relay.metrics.registry.get_sample_value("gridloop_outbox_oldest_age_seconds", {"service": "relay-test"})
        assert gauge is not None and gauge >= 1.5
        await holder.release()
        assert await relay.publish_pending() == 1
        assert await relay.publish_pending() == 0
        assert relay.oldest_age() == 0
    finally:
        await producer.stop()
