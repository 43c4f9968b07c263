"""The floor under the loop for `tests.load.bench_latency`: the same chain of work with no HTTP,
no framework, no rules and no relay, on the stack's own broker and database.

A "report" is a transaction (the report and its outbox row), a publish, a consumer that runs a
transaction (its processed mark, a decision, an outbox row) and publishes again, and a second
consumer that runs a transaction (its processed mark and the work order): the loop's three
transactions and two Kafka hops from filing to inbox, each consumer handling its partitions side
by side as the services do. Its time is what the loop cannot go below on these servers."""

import asyncio
import contextlib
import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import ConsumerRecord
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.ids import new_id
from gridloop.shared.mongo import MAX_IDLE_MS
from gridloop.shared.settings import INBOX_PATH_FETCH_WAIT_MS

Doc = dict[str, Any]
REPORTED, DISPATCHED = "floor.reported", "floor.dispatched"
PARTITIONS = 6

FETCH_WAIT_MS = INBOX_PATH_FETCH_WAIT_MS  # as dispatch's and handling's consumers, which these two stand for


class RawFloor:
    def __init__(self, *, bootstrap: str, mongo_uri: str, db: str = "bench_floor") -> None:
        self.bootstrap = bootstrap
        self.client: AsyncMongoClient[Doc] = AsyncMongoClient(mongo_uri, tz_aware=True, maxIdleTimeMS=MAX_IDLE_MS)
        self.db: AsyncDatabase[Doc] = self.client[db]
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
        self.arrived: dict[str, asyncio.Future[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.consumers: list[AIOKafkaConsumer] = []

    async def start(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(t, PARTITIONS, 1) for t in (REPORTED, DISPATCHED)])
        finally:
            await admin.close()
        await self.producer.start()
        for topic, group, handle in (
            (REPORTED, "floor.dispatch", self._dispatch),
            (DISPATCHED, "floor.handling", self._handle),
        ):
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=self.bootstrap,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=FETCH_WAIT_MS,
                max_poll_records=200,
            )
            await consumer.start()
            self.consumers.append(consumer)
            self.tasks.append(asyncio.create_task(self._consume(consumer, handle)))
        # Both groups own their partitions before the first report, as the services' do.
        for consumer in self.consumers:
            await asyncio.wait_for(self._assigned(consumer), timeout=60)

    @staticmethod
    async def _assigned(consumer: AIOKafkaConsumer) -> None:
        while not consumer.assignment():  # noqa: ASYNC110 (aiokafka offers no event for it)
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for consumer in self.consumers:
            await consumer.stop()
        await self.producer.stop()
        await self.client.drop_database(self.db.name)
        await self.client.close()

    async def _transaction(self, writes: list[tuple[str, Doc]]) -> None:
        async with self.client.start_session() as session, await session.start_transaction():
            for collection, doc in writes:
                await self.db[collection].insert_one(doc, session=session)

    async def _publish(self, topic: str, key: str, value: Doc) -> None:
        await (await self.producer.send(topic, value=json.dumps(value).encode(), key=key.encode()))

    async def _consume(self, consumer: AIOKafkaConsumer, handle: Any) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=300, max_records=200)

            async def partition(records: list[ConsumerRecord[bytes, bytes]]) -> None:
                for record in records:
                    await handle(json.loads(record.value or b"{}"))

            await asyncio.gather(*(partition(r) for r in batches.values()))
            if batches:
                await consumer.commit()

    async def _dispatch(self, event: Doc) -> None:
        ticket = event["ticket_id"]
        await self._transaction(
            [
                ("processed", {"_id": f"dispatch:{ticket}"}),
                ("decisions", {"_id": ticket, "department": "CG"}),
                ("outbox", {"_id": new_id(), "key": ticket, "status": "pending"}),
            ]
        )
        await self._publish(DISPATCHED, ticket, event)

    async def _handle(self, event: Doc) -> None:
        ticket = event["ticket_id"]
        await self._transaction(
            [("processed", {"_id": f"handling:{ticket}"}), ("work_orders", {"_id": ticket, "department": "CG"})]
        )
        arrived = self.arrived.pop(ticket, None)
        if arrived is not None and not arrived.done():
            arrived.set_result(time.perf_counter())

    async def report(self, started: float) -> float:
        """One report through the floor; its seconds from `started` (perf_counter) to the work order."""
        ticket = new_id()
        arrived = asyncio.get_running_loop().create_future()
        self.arrived[ticket] = arrived
        await self._transaction(
            [
                ("reports", {"_id": ticket, "description": "基准"}),
                ("outbox", {"_id": new_id(), "key": ticket, "status": "pending"}),
            ]
        )
        await self._publish(REPORTED, ticket, {"ticket_id": ticket})
        done: float = await asyncio.wait_for(arrived, timeout=30)
        return done - started
