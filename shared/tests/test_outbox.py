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
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from gridloop.shared.bus import make_producer
from gridloop.shared.clock import SystemClock
from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import OUTBOX, Database, UnitOfWork, ensure_common_indexes
from gridloop.shared.outbox import OutboxRelay
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
