"""A thin wrapper around aiokafka: one producer per service, and consumers that commit only
offsets whose handling is durable, retry, and send what keeps failing to a dead-letter topic."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import ConsumerRecord
from pymongo.errors import PyMongoError

from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import is_transient
from gridloop.shared.settings import ServiceSettings

log = structlog.get_logger()
STOP_WAIT_SECONDS = 2.0
Headers = Sequence[tuple[str, bytes]]
LAG_REPORT_SECONDS = 5.0


def kafka_security(settings: ServiceSettings) -> dict[str, object]:
    options: dict[str, object] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        cafile = settings.kafka_ssl_cafile
        options["ssl_context"] = create_ssl_context(cafile=str(cafile) if cafile else None)
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def make_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    """acks=all always; idempotence where the broker supports it (real Kafka)."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=2,
        request_timeout_ms=15000,
        **kafka_security(settings),
    )


class PermanentFailure(Exception):
    """A message that no retry will fix (malformed, unknown type): straight to dead letters."""


Handle = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]
HandleBatch = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None]]
"""Handles a partition's fetched records together, durably, all or none (one transaction); when
it raises, the consumer handles the same records one at a time with `Handle`, which retries and
dead-letters each on its own."""


class _Committer(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: "EventConsumer") -> None:
        self.owner = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # Handling runs between fetches (the partitions' tasks are awaited before the next getmany),
        # so nothing is in flight here: commit what is done.
        await self.owner.commit(only=revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self.owner._handled.pop(tp, None)  # where the last owner stopped: the consumer's position
        log.info("partitions_assigned", partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))


class EventConsumer:
    """Consumes topics in a group; each record is handled to durability before its offset counts."""

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        group_id: str,
        topics: list[str],
        handle: Handle,
        producer: AIOKafkaProducer,
        metrics: Metrics,
        dead_letter_topic: str,
        handle_batch: HandleBatch | None = None,
        batch_records: int = 200,
        fetch_wait_ms: int | None = None,
    ) -> None:
        self.settings = settings
        # How long the broker may hold this consumer's empty fetch (default: consumer_fetch_wait_ms)
        self.fetch_wait_ms = settings.consumer_fetch_wait_ms if fetch_wait_ms is None else fetch_wait_ms
        self.group_id = group_id
        self.topics = topics
        self.handle = handle
        self.handle_batch = handle_batch
        self.batch_records = batch_records  # at most this many records to a `handle_batch` call
        self.producer = producer
        self.metrics = metrics
        self.dead_letter_topic = dead_letter_topic
        self._consumer: AIOKafkaConsumer | None = None
        self._done: dict[TopicPartition, int] = {}  # handled, not yet committed
        self._handled: dict[TopicPartition, int] = {}  # the next offset to handle, for the lag gauge
        self._stopping = asyncio.Event()
        self._lag_reported_at = 0.0
        self.connected = False

    def _build(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=self.group_id,
            client_id=f"{self.settings.service_name}-{self.group_id}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_wait_ms,
            max_poll_records=200,
            group_instance_id=self.settings.consumer_instance_id or None,
            session_timeout_ms=self.settings.consumer_session_timeout_ms,
            # at least three heartbeats inside the session, and not more than one a second
            heartbeat_interval_ms=min(1000, self.settings.consumer_session_timeout_ms // 3),
            **kafka_security(self.settings),
        )

    async def commit(self, only: set[TopicPartition] | None = None) -> None:
        if self._consumer is None:
            return
        offsets = {tp: off for tp, off in self._done.items() if only is None or tp in only}
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
            for tp in offsets:
                if self._done.get(tp) == offsets[tp]:
                    del self._done[tp]
        except CommitFailedError:
            # The group moved on; whoever owns the partition now re-reads from the last commit,
            # and idempotent handlers make the repeat harmless.
            self.metrics.commit_failures.labels(self.metrics.service, self.group_id).inc()
            log.warning("commit_failed", group=self.group_id)
            self._done.clear()

    async def run(self) -> None:
        """Consume until stopped; on a broker failure, rebuild the consumer from the last commit."""
        while not self._stopping.is_set():
            self._consumer = self._build()
            try:
                await self._consumer.start()
                self._consumer.subscribe(self.topics, listener=_Committer(self))
                self.connected = True
                await self._loop(self._consumer)
            except (KafkaError, OSError, PyMongoError) as exc:
                log.warning("consumer_restart", group=self.group_id, error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                self.connected = False
                self._done.clear()
                try:
                    # Leaving the group waits for a join in progress; a stopping service does not.
                    await asyncio.wait_for(self._consumer.stop(), timeout=STOP_WAIT_SECONDS)
                except (KafkaError, OSError, TimeoutError) as exc:  # best effort on a dead broker
                    log.warning("consumer_stop_failed", error=repr(exc))

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        at_once = asyncio.Semaphore(max(1, self.settings.consumer_partition_concurrency))
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=300, max_records=200)
            # Partitions side by side, each in its own order (one ticket's events share a partition):
            # one partition's slow record or retry no longer holds up the others.
            outcomes = await asyncio.gather(
                *(self._partition(tp, records, at_once) for tp, records in batches.items() if records),
                return_exceptions=True,
            )
            await self.commit()  # what each partition finished, before any failure rebuilds the consumer
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            if time.monotonic() - self._lag_reported_at > LAG_REPORT_SECONDS:
                await self._report_lag(consumer)
        await self.commit()

    async def _partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]], at_once: asyncio.Semaphore
    ) -> None:
        async with at_once:
            for start in range(0, len(records), self.batch_records):
                chunk = records[start : start + self.batch_records]
                self._handled[tp] = chunk[0].offset
                if await self._process_batch(chunk):
                    self._done[tp] = self._handled[tp] = chunk[-1].offset + 1
                    continue
                for record in chunk:
                    if self._stopping.is_set():
                        return
                    if not await self._process(record):
                        return
                    self._done[tp] = self._handled[tp] = record.offset + 1

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        """How far behind the broker this group is, for the consumer-lag gauge and its alert."""
        self._lag_reported_at = time.monotonic()
        lag = 0
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            # From what is handled, not what was fetched: a record waiting in a retry is still behind.
            lag += max(0, high - self._handled.get(tp, await consumer.position(tp)))
        self.metrics.consumer_lag.labels(self.metrics.service, self.group_id).set(lag)

    async def _process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> bool:
        """Handle a partition's records at once when the service can; False leaves them to `_process`
        (also a single record: alone it goes the per-event way, as when the loop is quiet)."""
        if self.handle_batch is None or len(records) < 2 or self._stopping.is_set():
            return False
        try:
            await self.handle_batch(records)
            return True
        except Exception as exc:
            log.warning("batch_handled_one_by_one", group=self.group_id, records=len(records), error=repr(exc))
            return False

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Handle one record to an end (done or dead-lettered); False when stopped before that."""
        attempt = 0
        delay = 0.1
        while True:
            attempt += 1
            try:
                await self.handle(record)
                return True
            except PermanentFailure as exc:
                await self._dead_letter(record, exc, attempt)
                return True
            except Exception as exc:
                if is_transient(exc):
                    # The database is away: wait for it rather than dead-letter a good message.
                    log.warning("handler_infrastructure_retry", attempt=attempt, error=repr(exc))
                elif attempt >= self.settings.consumer_max_attempts:
                    await self._dead_letter(record, exc, attempt)
                    return True
                else:
                    log.warning("handler_retry", attempt=attempt, error=repr(exc))
                if self._stopping.is_set():
                    return False
                if self._consumer is not None and time.monotonic() - self._lag_reported_at > LAG_REPORT_SECONDS:
                    with contextlib.suppress(KafkaError):  # the gauge must not restart the consumer
                        await self._report_lag(self._consumer)  # a consumer stuck on a record is behind
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: Exception, attempts: int) -> None:
        headers = [
            *(record.headers or ()),
            ("dlq_error", f"{type(exc).__name__}: {exc}"[:2000].encode()),
            ("dlq_attempts", str(attempts).encode()),
            ("dlq_source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
            ("dlq_group", self.group_id.encode()),
            ("dlq_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(self.dead_letter_topic, value=record.value, key=record.key, headers=headers)
        self.metrics.dead_letters.labels(self.metrics.service, self.group_id).inc()
        log.error(
            "dead_lettered",
            group=self.group_id,
            source=f"{record.topic}:{record.partition}:{record.offset}",
            error=str(exc),
            attempts=attempts,
        )

    def stop(self) -> None:
        self._stopping.set()


async def broker_reachable(producer: AIOKafkaProducer, within_s: float = 2.0) -> bool:
    """Whether the broker answers a metadata request now."""
    try:
        async with asyncio.timeout(within_s):
            return await producer.client.fetch_all_metadata() is not None
    except (KafkaError, OSError, TimeoutError):
        return False
