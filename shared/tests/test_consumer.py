"""The consumer against the real broker: partitions are handled side by side, each in its own
order, so a slow or retried record holds up only its own partition; with concurrency 1 they take
turns. Every record is handled and committed once."""

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from gridloop.shared.bus import EventConsumer
from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers

pytestmark = pytest.mark.integration
PARTITIONS = 3
PER_PARTITION = 4
HANDLING_S = 0.15


async def _run(servers: Servers, concurrency: int) -> list[tuple[int, int, float, float]]:
    topic, group = f"gridloop.test.consumer.{new_id()}", f"test-consumer-{new_id()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap)
    await producer.start()
    for n in range(PER_PARTITION):
        for partition in range(PARTITIONS):
            await producer.send_and_wait(topic, value=f"{partition}:{n}".encode(), partition=partition)
    seen: list[tuple[int, int, float, float]] = []  # partition, sequence, started, ended
    all_handled = asyncio.Event()

    async def handle(record: ConsumerRecord[bytes, bytes]) -> None:
        started = time.monotonic()
        await asyncio.sleep(HANDLING_S)  # a handler's database round trips
        partition, sequence = (int(x) for x in (record.value or b"").decode().split(":"))
        seen.append((partition, sequence, started, time.monotonic()))
        if len(seen) == PARTITIONS * PER_PARTITION:
            all_handled.set()

    settings = ServiceSettings(
        service_name="consumer-test",
        kafka_bootstrap=servers.kafka_bootstrap,
        consumer_partition_concurrency=concurrency,
        consumer_session_timeout_ms=4000,  # joins its group in 2 s (the stack's test setting)
    )
    consumer = EventConsumer(
        settings=settings,
        group_id=group,
        topics=[topic],
        handle=handle,
        producer=producer,
        metrics=Metrics("consumer-test"),
        dead_letter_topic=f"{topic}.dlq",
    )
    task = asyncio.create_task(consumer.run())
    try:
        async with asyncio.timeout(60):
            await all_handled.wait()
    finally:
        consumer.stop()
        await task
        await producer.stop()
    return seen


def _overlaps(seen: list[tuple[int, int, float, float]]) -> int:
    """The most handlers running at one moment."""
    edges = sorted([(s, 1) for _, _, s, _ in seen] + [(e, -1) for _, _, _, e in seen])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


async def test_partitions_are_handled_side_by_side_each_in_its_own_order(servers: Servers) -> None:
    # The two consumers (topics and groups of their own) run at the same time: each waits about
    # five seconds for the broker to let it join its group, and they need not wait in turn.
    seen, one_at_a_time = await asyncio.gather(_run(servers, concurrency=PARTITIONS), _run(servers, concurrency=1))
    assert len(seen) == PARTITIONS * PER_PARTITION  # each record once
    for partition in range(PARTITIONS):
        assert [n for p, n, _, _ in seen if p == partition] == list(range(PER_PARTITION))
    assert _overlaps(seen) >= 2

    assert _overlaps(one_at_a_time) == 1
    for partition in range(PARTITIONS):
        assert [n for p, n, _, _ in one_at_a_time if p == partition] == list(range(PER_PARTITION))
