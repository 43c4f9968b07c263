"""The outbox relay: publishes rows written by business transactions, removes them only after
the broker acknowledged them, and retries rows left unpublished (after a crash or an outage).

A commit hands the relay the rows it wrote, and the relay publishes them from memory at once:
no read of the outbox stands between a commit and its publish. A poll of the outbox every
`poll_seconds` publishes whatever memory did not: rows of another instance, of a crash, and rows
waiting to be retried. While the poll finds such a backlog, or a key has a row waiting, new rows
of those keys wait for the poll too, so one ticket's rows still go out in the order written."""

import asyncio
import contextlib
import time
from datetime import datetime, timedelta

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from opentelemetry.trace import SpanKind
from pymongo.errors import PyMongoError

from gridloop.shared.clock import as_utc
from gridloop.shared.ids import new_id
from gridloop.shared.leases import Lease
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
        self.lease = Lease(database.db, collection=LEASES, name="outbox-relay", owner=self.owner, seconds=lease_seconds)
        self._oldest: tuple[str, float] | None = None  # the oldest pending row's id, and when it was first seen
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._fresh: list[Doc] = []  # committed rows handed over by their transaction
        self._poll_now = True
        self._next_poll = 0.0
        self._backlog = True  # until a poll has found the outbox empty, memory defers to it
        self._held_back: set[str] = set()  # keys with a row waiting to be retried

    def wake(self, rows: list[Doc] | None = None) -> None:
        """A commit's rows, to publish from memory; without rows, poll the outbox now."""
        if rows:
            self._fresh.extend(rows)
        else:
            self._poll_now = True
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def publish_fresh(self) -> int:
        """Publish the rows commits handed over, without reading the outbox; returns how many
        the broker acknowledged. Only the lease holder does: another instance's rows are left
        to the holder's poll, as are rows of a key that has older rows in the outbox."""
        rows, self._fresh = self._fresh, []
        if not rows or self._backlog or not await self.lease.hold():
            return 0
        rows = [row for row in rows if row["key"] not in self._held_back]
        return len(await self._publish(rows, self.database.clock.now()))

    async def publish_pending(self) -> int:
        """Publish one batch read from the outbox; returns how many rows the broker acknowledged."""
        outbox = self.database.db[OUTBOX]
        # An idle poll is one indexed read; the lease (a write) is taken only when there is work.
        rows = await outbox.find({"status": "pending"}).sort("_id", 1).to_list(self.batch_size)
        self._observe_oldest(rows[0] if rows else None)
        if not rows:
            self._backlog = False
            self._held_back = set()
            self.metrics.outbox_backlog.labels(self.metrics.service).set(0)
            return 0
        self._backlog = True
        if not await self.lease.hold():
            return 0
        now = self.database.clock.now()
        # A key's pausing row is its oldest, so it is in the batch whenever any of its later rows is.
        waiting = {row["key"] for row in rows if _pausing(row, now)}
        self._held_back = set(waiting)
        sent = await self._publish([row for row in rows if row["key"] not in waiting], now)
        published = {row["_id"] for row in sent}
        self._fresh = [row for row in self._fresh if row["_id"] not in published]  # handed over meanwhile
        full = len(rows) == self.batch_size
        backlog = await outbox.count_documents({"status": "pending"}) if full or self._held_back else 0
        # Every row the batch held was sent or is held back with its key; a full batch may have left more.
        self._backlog = full
        self.metrics.outbox_backlog.labels(self.metrics.service).set(backlog)
        return len(sent)

    def _observe_oldest(self, oldest: Doc | None) -> None:
        """The age of the oldest row still unpublished, counted from when this instance first saw it
        (not from its `created_at`, written by whichever clock the writer had)."""
        if oldest is None:
            self._oldest = None
        elif self._oldest is None or self._oldest[0] != oldest["_id"]:
            self._oldest = (oldest["_id"], time.monotonic())
        self.metrics.outbox_oldest_age.labels(self.metrics.service).set(self.oldest_age())

    def oldest_age(self) -> float:
        """Seconds the oldest unpublished row the last poll found has been waiting; 0 when none."""
        return time.monotonic() - self._oldest[1] if self._oldest else 0.0

    async def _publish(self, rows: list[Doc], now: datetime) -> list[Doc]:
        """Send `rows` and remove those the broker acknowledged from the outbox.

        Rows of one key (one ticket) go out one at a time in write order, so a row the broker
        refuses holds back only its own ticket's later rows: it waits to be retried, with a
        growing pause, while every other ticket's rows go on."""
        queues: dict[str, list[Doc]] = {}
        for row in rows:
            queues.setdefault(row["key"], []).append(row)
        sent: list[Doc] = []
        while queues:
            heads = [queue.pop(0) for queue in queues.values()]
            outcomes = await asyncio.gather(*(self._send(row) for row in heads), return_exceptions=True)
            for row, outcome in zip(heads, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    queues.pop(row["key"])  # its later rows wait behind it
                    self._held_back.add(row["key"])
                    await self._postpone(row, outcome, now)
                else:
                    sent.append(row)
            queues = {key: queue for key, queue in queues.items() if queue}
        # Acknowledged rows leave the outbox: it stays as small as what is in flight, so a poll
        # stays cheap however long the service has run. The topic is the record of what was sent.
        if sent:
            await self.database.db[OUTBOX].delete_many({"_id": {"$in": [row["_id"] for row in sent]}})
        for row in sent:
            self.metrics.events_published.labels(self.metrics.service, row["event_type"]).inc()
        return sent

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
            self._wake.clear()
            try:
                await self.publish_fresh()
                if self._poll_now or time.monotonic() >= self._next_poll:
                    self._poll_now = False
                    # A poll that published something polls again at once: more may be waiting.
                    self._poll_now = await self.publish_pending() > 0
                    self._next_poll = time.monotonic() + self.poll_seconds
                delay = self.poll_seconds
            except (KafkaError, PyMongoError, OSError) as exc:
                log.warning("outbox_publish_failed", error=repr(exc))
                self._backlog = True  # what memory held may be unsent: the poll finds it
                self._next_poll = time.monotonic() + delay
                delay = min(delay * 2, 5.0)
            if self._poll_now or self._fresh:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, self._next_poll - time.monotonic()))
        await self._release()

    async def _release(self) -> None:
        with contextlib.suppress(PyMongoError):
            await self.lease.release()


def _pausing(row: Doc, now: datetime) -> bool:
    """A refused row waits out its pause; a pause further ahead than the longest one was set under a
    clock that ran fast, and is over."""
    retry_after = row.get("retry_after")
    return retry_after is not None and now < as_utc(retry_after) <= now + timedelta(seconds=MAX_RETRY_PAUSE_S)
