"""A consumer that falls behind takes each partition's backlog in shared transactions, with the
same outcome as one event at a time: every event applied once, in its ticket's order, what it
emits caused by it; a redelivered backlog changes nothing; an event no handler can take is
dead-lettered on its own while the rest of its batch is applied."""

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from gridloop.shared.bus import EventConsumer
from gridloop.shared.clock import SystemClock
from gridloop.shared.events import Actor, Envelope, Role, TicketProgressed, TicketReported
from gridloop.shared.ids import new_id
from gridloop.shared.messagebus import batch_event_handler, event_handler, on, routes
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import OUTBOX, Database, UnitOfWork, ensure_collections, ensure_common_indexes
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, make_event, reported

pytestmark = pytest.mark.integration
AGENT = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
STEPS = 6


class Commits(CommandListener):
    def __init__(self) -> None:
        self.count = 0

    def started(self, event: CommandStartedEvent) -> None:
        self.count += event.command_name == "commitTransaction"

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def test_a_backlog_is_applied_in_shared_transactions_once_and_in_order(servers: Servers) -> None:
    topic = f"gridloop.test.batches.{new_id()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=servers.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    commits = Commits()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        servers.mongo_uri, tz_aware=True, event_listeners=[commits]
    )
    database = Database(client, f"batches_{new_id()[-8:]}", producer="batch-test", clock=SystemClock())
    await ensure_common_indexes(database.db)
    await ensure_collections(database.db, "steps")

    async def opened(payload: TicketReported, event: Envelope, uow: UnitOfWork) -> None:
        await uow.db["steps"].insert_one({"_id": event.ticket_id, "notes": []}, session=uow.session)

    async def progressed(payload: TicketProgressed, event: Envelope, uow: UnitOfWork) -> None:
        if payload.note == "无法处理":
            raise ValueError("a step no handler can take")
        doc = await uow.db["steps"].find_one({"_id": event.ticket_id}, session=uow.session)
        assert doc is not None  # the ticket's report, applied earlier in the same transaction
        await uow.db["steps"].update_one(
            {"_id": event.ticket_id}, {"$push": {"notes": payload.note}}, session=uow.session
        )
        await uow.enqueue(
            topic=f"{topic}.out", key=event.ticket_id, value=event.event_id.encode(), headers=[], event_type="test"
        )

    table = routes(on(TicketReported, opened), on(TicketProgressed, progressed))
    tickets = [new_id() for _ in range(4)]
    events: list[Envelope] = []
    for ticket in tickets:
        events.append(reported(ticket, reporter=Actor(sub="gw-1", role=Role.GRID_WORKER, org="LJ01")))
        events += [
            make_event(TicketProgressed(department="CG", note=f"第{n}步"), ticket_id=ticket, actor=AGENT)
            for n in range(STEPS)
        ]
    poison = make_event(TicketProgressed(department="CG", note="无法处理"), ticket_id=tickets[0], actor=AGENT)
    events.insert(3, poison)
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka_bootstrap)
    await producer.start()
    # The whole backlog is there before the consumer starts: the poisoned ticket's events on one
    # partition (which falls back to one at a time), the three others' on the other.
    for event in events:
        partition = 0 if event.ticket_id == tickets[0] else 1
        await producer.send_and_wait(topic, value=event.to_wire(), key=event.ticket_id.encode(), partition=partition)

    async def consume(group: str, dead_letters: int) -> None:
        settings = ServiceSettings(
            service_name="batch-test",
            kafka_bootstrap=servers.kafka_bootstrap,
            consumer_max_attempts=2,
            consumer_session_timeout_ms=4000,  # joins its group in 2 s (the stack's test setting)
        )
        metrics = Metrics("batch-test")
        consumer = EventConsumer(
            settings=settings,
            group_id=group,
            topics=[topic],
            handle=event_handler(database=database, routes=table, metrics=metrics, group=group),
            handle_batch=batch_event_handler(database=database, routes=table, metrics=metrics, group=group),
            producer=producer,
            metrics=metrics,
            dead_letter_topic=f"{topic}.dlq",
            batch_records=50,
        )
        task = asyncio.create_task(consumer.run())
        try:
            async with asyncio.timeout(60):
                while len(await asyncio.to_thread(Bus(servers.kafka_bootstrap).read, f"{topic}.dlq")) < dead_letters:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                while sum(1 for _ in await database.db["steps"].find().to_list(None)) < len(tickets):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.0)  # and whatever the consumer still had in hand
        finally:
            consumer.stop()
            await task

    try:
        await consume(f"batch-test-{new_id()}", dead_letters=1)
        steps = {d["_id"]: d["notes"] for d in await database.db["steps"].find().to_list(None)}
        assert steps == {t: [f"第{n}步" for n in range(STEPS)] for t in tickets}  # each once, in order
        # Many events to a commit: one each only on the poisoned partition (7), a few for the 21 others.
        assert commits.count <= STEPS + 1 + 3
        emitted = await database.db[OUTBOX].find().to_list(None)
        good = [e for e in events if e.event_type == "ticket.progressed" and e is not poison]
        assert sorted(r["value"].decode() for r in emitted) == sorted(e.event_id for e in good)
        dead = await asyncio.to_thread(Bus(servers.kafka_bootstrap).read, f"{topic}.dlq")
        assert [value for _, value, _ in dead] == [poison.to_wire()]

        # The same backlog again (a new group reads it from the start, up to the poison's second
        # dead letter): every event is found handled.
        await consume(f"batch-test-{new_id()}", dead_letters=2)
        again = {d["_id"]: d["notes"] for d in await database.db["steps"].find().to_list(None)}
        assert again == steps
        assert await database.db[OUTBOX].count_documents({}) == len(good)
    finally:
        await producer.stop()
        await client.close()
