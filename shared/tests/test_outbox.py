"""The outbox relay against the real broker and database: a row the broker refuses holds back
only its own ticket's later rows, never another ticket's."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gridloop.shared.bus import make_producer
from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import OUTBOX, UnitOfWork
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
