"""`gridloop-supervision-rebuild`: rebuild supervision's read models — ticket records and the
hour and day buckets, and with `--timeline` the timeline rows too — by replaying the tickets topic
from its first event up to its end; and the 共建 records (needs, offers, projects, solved
hotspots) by replaying the needs topic likewise, and the 双报到 records (units' reports and
headcounts, members, posts, service records, points) by replaying the volunteering topic. Events
past the supervision consumer group's last commit get their processed marks, so the service skips
them when it resumes instead of counting them twice.

Stop every supervision instance first: the command cannot tell a live consumer from a stopped
one on every broker (the embedded one keeps a stopped member listed), so it relies on the operator.
Start the service again afterwards and it carries on after the replay's end. The replay folds events in
memory with the same rules the live projection applies one event at a time (domain.project), and
writes in large batches, which is what makes it fast."""

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from gridloop.shared.bus import kafka_security
from gridloop.shared.events import (
    NEEDS_TOPIC,
    TICKETS_TOPIC,
    VOLUNTEERING_TOPIC,
    Envelope,
    MalformedEvent,
    TaskFlagged,
    UnknownEventType,
)
from gridloop.shared.mongo import PROCESSED, Doc, connect, processed_key
from gridloop.shared.refdata import RefData
from gridloop.shared.worktime import WorkCalendar
from gridloop.supervision import admission_flags, domain, handlers, kpi, store
from gridloop.supervision.app import SupervisionSettings, needs_group, volunteering_group
from gridloop.supervision.cobuild import rebuild as cobuild
from gridloop.supervision.volunteering import rebuild as volunteering

log = structlog.get_logger()
BATCH = 2000
DUPLICATE_KEY = 11000


@dataclass
class Replay:
    """The read models folded in memory, event by event, in topic order within each ticket."""

    calendar: WorkCalendar
    rows_from: datetime | None = None  # keep the timeline rows of events from then on (None: none)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    events: int = 0
    skipped: int = 0

    def add(self, event: Envelope) -> None:
        if event.event_id in self.seen or event.event_type not in handlers.PROJECTED:
            return
        before = self.tickets.get(event.ticket_id)
        if (event.event_type == "ticket.reported") == (before is not None):
            self.skipped += 1  # a second report of one ticket, or an event for no known ticket
            return
        self.seen.add(event.event_id)
        self.events += 1
        step = domain.project(before, event, self.calendar)
        self.tickets[event.ticket_id] = {**step.ticket, "version": 0 if before is None else before["version"] + 1}
        if self.rows_from is not None and event.occurred_at >= self.rows_from:
            self.rows.append(step.row())
        units = kpi.unit_codes(step.place)
        at = event.occurred_at
        for collection, start in ((store.HOURS, kpi.hour_start(at)), (store.DAYS, kpi.day_start(at))):
            key = (collection, store.bucket_id(step.place["street_code"], start))
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = {
                    "street_code": step.place["street_code"],
                    "district_code": step.place["district_code"],
                    "at": start,
                    "units": {},
                }
            for unit, code in units.items():
                bucket["units"].setdefault(unit, {}).setdefault(code, kpi.Tally()).add(step.tally)

    def bucket_documents(self, collection: str) -> list[Doc]:
        return [
            {
                "_id": bucket_id,
                **{k: v for k, v in bucket.items() if k != "units"},
                "units": {u: {c: t.to_doc() for c, t in codes.items()} for u, codes in bucket["units"].items()},
            }
            for (name, bucket_id), bucket in self.buckets.items()
            if name == collection
        ]


async def write(db: AsyncDatabase[Doc], replay: Replay) -> None:
    """Replace the ticket records and buckets; add or refresh timeline rows, never deleting one."""
    for collection in (store.TICKETS, store.HOURS, store.DAYS):
        await db[collection].delete_many({})
    now = datetime.now(UTC)
    documents = {
        store.TICKETS: [{**t, "updated_at": now} for t in replay.tickets.values()],
        store.HOURS: [{**b, "updated_at": now} for b in replay.bucket_documents(store.HOURS)],
        store.DAYS: [{**b, "updated_at": now} for b in replay.bucket_documents(store.DAYS)],
    }
    for collection, docs in documents.items():
        for i in range(0, len(docs), BATCH):
            await db[collection].insert_many(docs[i : i + BATCH], ordered=False)
    for i in range(0, len(replay.rows), BATCH):
        batch = replay.rows[i : i + BATCH]
        await db[store.TIMELINE].bulk_write(
            [ReplaceOne({"_id": r["_id"]}, r, upsert=True) for r in batch], ordered=False
        )
    await store.ensure_indexes(db)


async def read_topic(
    settings: SupervisionSettings, ends: dict[TopicPartition, int]
) -> AsyncIterator[tuple[TopicPartition, int, Envelope]]:
    """Every event on the topic of `ends` from the beginning until the topic is drained: at least
    up to `ends`, then until a few fetches in a row come back empty (some brokers report a batch's
    base offset as the end, so the end offsets alone are not trusted to mark the last event)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        **kafka_security(settings),
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        empty = 0
        while empty < 3:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            if not batches:
                reached = all([await consumer.position(tp) >= end for tp, end in ends.items()])
                empty = empty + 1 if reached else 0
                continue
            empty = 0
            for tp, records in batches.items():
                for record in records:
                    try:
                        yield tp, record.offset, Envelope.from_wire(record.value or b"")
                    except (MalformedEvent, UnknownEventType):
                        continue  # the live consumer sent these to its dead-letter topic
    finally:
        await consumer.stop()


async def topic_ends(settings: SupervisionSettings, topic: str = TICKETS_TOPIC) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, **kafka_security(settings))
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(topic) or set()
        return dict(await consumer.end_offsets([TopicPartition(topic, p) for p in partitions]))
    finally:
        await consumer.stop()


async def committed_offsets(
    settings: SupervisionSettings, partitions: list[TopicPartition], group: str | None = None
) -> dict[TopicPartition, int]:
    """Where the supervision consumer group (or `group`) will resume (0 where it has never committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group or settings.service_name,
        enable_auto_commit=False,
        **kafka_security(settings),
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) or 0 for tp in partitions}
    finally:
        await consumer.stop()


async def mark_processed(db: AsyncDatabase[Doc], consumer: str, event_ids: list[str]) -> None:
    """Mark the replayed events the service has not committed past, so that when it resumes from
    its last commit it skips them instead of counting them a second time."""
    now = datetime.now(UTC)
    for i in range(0, len(event_ids), BATCH):
        marks = [{"_id": processed_key(consumer, e), "at": now} for e in event_ids[i : i + BATCH]]
        try:
            await db[PROCESSED].insert_many(marks, ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise


@dataclass(frozen=True)
class Report:
    events: int
    tickets: int
    skipped: int
    seconds: float
    cobuild_events: int = 0  # of the needs topic
    cobuild_records: int = 0  # needs, offers and projects
    volunteering_events: int = 0  # of the volunteering topic
    volunteering_records: int = 0  # members, posts and service records

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(settings: SupervisionSettings, *, timeline: bool = False) -> Report:
    started = time.perf_counter()
    ends = await topic_ends(settings)
    resume = await committed_offsets(settings, list(ends))
    client = connect(settings.mongo_uri, timeout_ms=settings.mongo_timeout_ms)
    try:
        db = client[settings.mongo_db]
        # The holiday schedules supervision last read from the directory topic.
        calendar = await RefData(db).working_calendar(settings.work_calendar)
        replay = Replay(calendar=calendar, rows_from=datetime.min.replace(tzinfo=UTC) if timeline else None)
        unconsumed: list[str] = []
        async for tp, offset, event in read_topic(settings, ends):
            replay.add(event)
            if offset >= resume[tp]:
                unconsumed.append(event.event_id)
        await write(db, replay)
        await mark_processed(db, settings.service_name, unconsumed)
        cobuild_replay = await rebuild_cobuild(settings, db)
        volunteering_replay = await rebuild_volunteering(settings, db)
    finally:
        await client.close()
    report = Report(
        replay.events,
        len(replay.tickets),
        replay.skipped + cobuild_replay.skipped,
        time.perf_counter() - started,
        cobuild_events=cobuild_replay.events,
        cobuild_records=cobuild_replay.count,
        volunteering_events=volunteering_replay.events,
        volunteering_records=volunteering_replay.count,
    )
    log.info(
        "supervision_rebuilt",
        events=report.events,
        tickets=report.tickets,
        cobuild_events=report.cobuild_events,
        volunteering_events=report.volunteering_events,
        seconds=round(report.seconds, 1),
    )
    return report


async def rebuild_cobuild(settings: SupervisionSettings, db: AsyncDatabase[Doc]) -> cobuild.Replay:
    """The 共建 records from the needs topic; events past the needs consumer group's last commit
    get their processed marks, as the tickets topic's do."""
    ends = await topic_ends(settings, NEEDS_TOPIC)
    replay = cobuild.Replay()
    if not ends:  # a deployment that has never had the needs topic
        return replay
    resume = await committed_offsets(settings, list(ends), group=needs_group(settings))
    unconsumed: list[str] = []
    async for tp, offset, event in read_topic(settings, ends):
        replay.add(event)
        if offset >= resume[tp]:
            unconsumed.append(event.event_id)
    await cobuild.write(db, replay)
    await mark_processed(db, settings.service_name, unconsumed)
    return replay


async def rebuild_volunteering(settings: SupervisionSettings, db: AsyncDatabase[Doc]) -> volunteering.Replay:
    """The 双报到 records from the volunteering topic; events past the volunteering consumer
    group's last commit get their processed marks, as the other topics' do."""
    ends = await topic_ends(settings, VOLUNTEERING_TOPIC)
    replay = volunteering.Replay()
    if not ends:  # a deployment that has never had the volunteering topic
        return replay
    resume = await committed_offsets(settings, list(ends), group=volunteering_group(settings))
    unconsumed: list[str] = []
    flags: list[Envelope] = []  # 未准入事项, for the monthly department sheet
    async for tp, offset, event in read_topic(settings, ends):
        replay.add(event)
        if isinstance(event.payload, TaskFlagged):
            flags.append(event)
        if offset >= resume[tp]:
            unconsumed.append(event.event_id)
    await volunteering.write(db, replay)
    await admission_flags.replay(db, flags)
    await mark_processed(db, settings.service_name, unconsumed)
    return replay


def main() -> None:
    parser = argparse.ArgumentParser(prog="gridloop-supervision-rebuild", description=__doc__.splitlines()[0])
    parser.add_argument("--timeline", action="store_true", help="also write every timeline row again")
    args = parser.parse_args()
    report = asyncio.run(rebuild(SupervisionSettings(), timeline=args.timeline))
    print(
        f"replayed {report.events} events of {report.tickets} tickets and {report.cobuild_events} events of "
        f"{report.cobuild_records} needs, offers and projects and {report.volunteering_events} events of "
        f"{report.volunteering_records} members, posts and service records in {report.seconds:.1f} s "
        f"({report.rate:.0f} events/s); {report.skipped} skipped"
    )


if __name__ == "__main__":
    main()
