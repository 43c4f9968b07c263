"""The outbox relay: publishes rows written by business transactions, removes them only after
the broker acknowledged them, and retries rows left unpublished (after a crash or an outage)."""

import asyncio
import contextlib
from datetime import datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import OUTBOX, Database, Doc
from gridloop.shared.tracing import context_from_kafka, span, with_trace

log = structlog.get_logger()
LEASES = "leases"
MAX_RETRY_PAUSE_S = 300.0


class OutboxRelay:
    """One relay per service instance. A lease makes one instance the publisher at a time, so
    rows of one ticket are published in the order they were written and never twice at once."""

    def __init__(
        self,
        *,
        database: Database,
        producer: AIOKafkaProducer,
        metrics: Metrics,
        poll_seconds: float,
        lease_seconds: float,
        batch_size: int = 200,
    ) -> None:
        self.database = database
        self.producer = producer
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self.batch_size = batch_size
        self.owner = new_id()
        self._lease_until: datetime | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _hold_lease(self) -> bool:
        """Take or renew the lease; while more than half of it is left, holding it costs no write."""
        now = self.database.clock.now()
        if self._lease_until is not None and self._lease_until - now > timedelta(seconds=self.lease_seconds / 2):
            return True
        self._lease_until = None
        db = self.database.db
        try:
            lease = await db[LEASES].find_one_and_update(
                {"_id": "outbox-relay", "$or": [{"owner": self.owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": self.owner, "until": now + timedelta(seconds=self.lease_seconds)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False  # another instance holds it
        if lease is None or lease["owner"] != self.owner:
            return False
        self._lease_until = lease["until"]
        return True

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows the broker acknowledged.

        Rows of one key (one ticket) go out one at a time in write order, so a row the broker
        refuses holds back only its own ticket's later rows: it waits to be retried, with a
        growing pause, while every other ticket's rows go on."""
        outbox = self.database.db[OUTBOX]
        # An idle poll is one indexed read; the lease (a write) is taken only when there is work.
        rows = await outbox.find({"status": "pending"}).sort("_id", 1).to_list(self.batch_size)
        if not rows:
            self.metrics.outbox_backlog.labels(self.metrics.service).set(0)
            return 0
        if not await self._hold_lease():
            return 0
        now = self.database.clock.now()
        # A key's pausing row is its oldest, so it is in the batch whenever any of its later rows is.
        waiting = {row["key"] for row in rows if row.get("retry_after") is not None and row["retry_after"] > now}
        queues: dict[str, list[Doc]] = {}
        for row in rows:
            if row["key"] not in waiting:
                queues.setdefault(row["key"], []).append(row)
        sent: list[Doc] = []
        while queues:
            heads = [queue.pop(0) for queue in queues.values()]
            outcomes = await asyncio.gather(*(self._send(row) for row in heads), return_exceptions=True)
            for row, outcome in zip(heads, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    queues.pop(row["key"])  # its later rows wait behind it
                    await self._postpone(row, outcome, now)
                else:
                    sent.append(row)
            queues = {key: queue for key, queue in queues.items() if queue}
        # Acknowledged rows leave the outbox: it stays as small as what is in flight, so a poll
        # stays cheap however long the service has run. The topic is the record of what was sent.
        if sent:
            await outbox.delete_many({"_id": {"$in": [row["_id"] for row in sent]}})
        for row in sent:
            self.metrics.events_published.labels(self.metrics.service, row["event_type"]).inc()
        full = len(rows) == self.batch_size
        backlog = await outbox.count_documents({"status": "pending"}) if full or waiting else 0
        self.metrics.outbox_backlog.labels(self.metrics.service).set(backlog)
        return len(sent)

    async def _send(self, row: Doc) -> None:
        headers = [(k, v) for k, v in row["headers"]]
        waited = (self.database.clock.now() - row["created_at"]).total_seconds()
        with span(
            f"publish {row['topic']}",
            kind=SpanKind.PRODUCER,
            context=context_from_kafka(headers),  # the trace of the request or event that wrote the row
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": row["topic"],
                "messaging.kafka.message.key": row["key"],
                "gridloop.event_type": row["event_type"],
                "gridloop.outbox.waited_ms": round(waited * 1000, 1),
            },
        ):
            delivery = await self.producer.send(
                row["topic"], value=row["value"], key=row["key"].encode(), headers=with_trace(headers)
            )
            await delivery

    async def _postpone(self, row: Doc, error: BaseException, now: datetime) -> None:
        """A refused row is tried again later, each time after a longer pause (up to 5 minutes)."""
        if not isinstance(error, (KafkaError, OSError)):
            raise error
        attempts = row.get("attempts", 0) + 1
        pause = timedelta(seconds=min(self.poll_seconds * 2**attempts, MAX_RETRY_PAUSE_S))
        log.warning(
            "outbox_row_refused", key=row["key"], event_type=row["event_type"], attempts=attempts, error=repr(error)
        )
        await self.database.db[OUTBOX].update_one(
            {"_id": row["_id"]},
            {"$set": {"attempts": attempts, "retry_after": now + pause, "last_error": repr(error)[:500]}},
        )

    async def run(self) -> None:
        delay = self.poll_seconds
        while not self._stopping.is_set():
            try:
                published = await self.publish_pending()
                delay = self.poll_seconds
            except (KafkaError, PyMongoError, OSError) as exc:
                log.warning("outbox_publish_failed", error=repr(exc))
                published = 0
                delay = min(delay * 2, 5.0)
            if published:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
        await self._release()

    async def _release(self) -> None:
        self._lease_until = None
        with contextlib.suppress(PyMongoError):
            await self.database.db[LEASES].update_one(
                {"_id": "outbox-relay", "owner": self.owner}, {"$set": {"until": self.database.clock.now()}}
            )
