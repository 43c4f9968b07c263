"""`make bench` (second part): supervision's indicator queries at city scale, and the replay rate
of a rebuild.

1. Folds --tickets closed-loop tickets (default 1,000,000; a year of them over 10 departments,
   4 streets, 16 communities and 64 grids; a tenth reworked, a twentieth sent back once, the last
   few hundred still open) through the projection's own rules into ticket records and hour and day
   buckets in SecantusDB, and writes the raw timeline rows of the last --raw-days days beside them.
2. Starts the supervision service on that database and times every stats query over HTTP
   (departments, streets, communities, grids × last 7 days, last 30 days, last calendar month,
   plus the ranking and the evaluation sheet): p50 and p95 over --repeats calls each.
3. Runs the last-7-days queries again as a plain aggregation over the raw timeline rows of the
   same database, for the ratio.
4. Publishes --replay-tickets tickets' events to the broker and rebuilds a fresh projection from
   the beginning of the topic: events per second.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from gridloop.shared.events import (
    TICKETS_TOPIC,
    Actor,
    Envelope,
    Payload,
    Rating,
    Role,
    TicketAccepted,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
    envelope,
)
from gridloop.shared.mongo import Doc, connect
from gridloop.shared.worktime import around_the_clock
from gridloop.stack.servers import Servers, free_port, start_servers
from gridloop.stack.testing import RunningService, launch
from gridloop.stack.topics import create_topics
from gridloop.supervision import store
from gridloop.supervision.app import SupervisionSettings
from gridloop.supervision.rebuild import Replay, rebuild

DEPARTMENTS = ["CG", "SW", "JJ", "STHJ", "YLLH", "ZJ", "GA", "JT", "SC", "MZ"]
STREETS = ["S1", "S2", "S3", "S4"]
RATINGS = [Rating.SATISFIED] * 7 + [Rating.BASICALLY_SATISFIED] * 2 + [Rating.UNSATISFIED]
WORKER = Actor(sub="gw-bench", role=Role.GRID_WORKER, org="S1-C1")
AGENT = Actor(sub="agent-bench", role=Role.DEPARTMENT_AGENT, org="CG")


def _events(
    n: int, total: int, start: datetime, span: timedelta, rng: random.Random, open_from: int
) -> Iterator[Envelope]:
    """Ticket n's events; reports spread evenly over the span."""
    ticket_id = f"bench-{n:08d}"
    t = start + span * (n / total)
    street = STREETS[n % 4]
    community = f"{street}-C{n // 4 % 4 + 1}"
    grid = f"{community}-G{n // 16 % 4 + 1}"
    lead = DEPARTMENTS[rng.randrange(10)]
    seq = 0

    def event(payload: Payload, at: datetime, actor: Actor = WORKER) -> Envelope:
        nonlocal seq
        seq += 1
        return envelope(
            payload,
            event_id=f"{ticket_id}-{seq}",
            ticket_id=ticket_id,
            producer="bench",
            actor=actor,
            occurred_at=at,
            correlation_id=ticket_id,
        )

    def minutes(low: int, high: int) -> timedelta:
        return timedelta(minutes=rng.randint(low, high))

    yield event(
        TicketReported(
            ticket_number=f"B-{n}",
            category_code="SJ-0101",
            category_name="暴露垃圾",
            description="基准",
            location=None,
            address="",
            grid_code=grid,
            community_code=community,
            street_code=street,
            district_code="QH",
        ),
        t,
    )
    round_ = 1
    if n % 20 == 0:
        t += minutes(1, 5)
        wrong = DEPARTMENTS[(DEPARTMENTS.index(lead) + 1) % 10]
        yield event(
            TicketDispatched(
                round=1,
                lead_department=wrong,
                accept_deadline=t + timedelta(hours=1),
                resolve_deadline=t + timedelta(days=2),
                manual=False,
            ),
            t,
        )
        t += minutes(5, 60)
        yield event(TicketRejected(department=wrong, round=1, reason="非本部门职责"), t, AGENT)
        round_ = 2
    t += minutes(1, 5)
    dispatched_at = t
    yield event(
        TicketDispatched(
            round=round_,
            lead_department=lead,
            accept_deadline=t + timedelta(hours=1),
            resolve_deadline=t + timedelta(days=2),
            manual=round_ == 2,
        ),
        t,
    )
    if n >= open_from:
        return  # still waiting for the department
    t += minutes(5, 90)
    yield event(TicketAccepted(department=lead, round=round_), t, AGENT)
    t = max(t, dispatched_at) + minutes(30, 4000)
    yield event(TicketResolved(department=lead, round=round_, note="已处置"), t, AGENT)
    if n % 10 == 3:
        t += minutes(30, 600)
        yield event(TicketReopened(department=lead, rework_count=1), t)
        t += minutes(5, 60)
        yield event(TicketAccepted(department=lead, round=round_), t, AGENT)
        t += minutes(60, 1500)
        yield event(TicketResolved(department=lead, round=round_, note="返工完成"), t, AGENT)
    t += minutes(10, 1000)
    yield event(TicketClosed(), t)
    t += minutes(1, 60)
    yield event(TicketRated(rating=RATINGS[rng.randrange(10)]), t)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def load(db_uri: str, db_name: str, tickets: int, now: datetime, raw_days: int) -> tuple[int, int]:
    """Fold and write `tickets` tickets; return (events folded, raw timeline rows written)."""
    start = now - timedelta(days=365)
    rng = random.Random(7)
    client = connect(db_uri, timeout_ms=10_000)
    db = client[db_name]
    buckets: dict[tuple[str, str], dict[str, Any]] = {}
    events = rows = 0
    raw_from = now - timedelta(days=raw_days)
    chunk = 50_000
    first = True
    for offset in range(0, tickets, chunk):
        replay = Replay(calendar=around_the_clock(), rows_from=raw_from, buckets=buckets)
        for n in range(offset, min(tickets, offset + chunk)):
            for event in _events(
                n, tickets, start, timedelta(days=365) - timedelta(hours=12), rng, open_from=tickets - 500
            ):
                replay.add(event)
        events += replay.events
        if first:
            for collection in (store.TICKETS, store.HOURS, store.DAYS, store.TIMELINE):
                await db[collection].delete_many({})
            first = False
        stamped = datetime.now(UTC)
        await _insert(db[store.TICKETS], [{**t, "updated_at": stamped} for t in replay.tickets.values()])
        recent = replay.rows
        await _insert(db[store.TIMELINE], recent)
        rows += len(recent)
        print(f"  loaded {min(tickets, offset + chunk):>9,} tickets, {events:>10,} events", flush=True)
    final = Replay(calendar=around_the_clock(), buckets=buckets)
    for collection in (store.HOURS, store.DAYS):
        stamped = datetime.now(UTC)
        await _insert(db[collection], [{**b, "updated_at": stamped} for b in final.bucket_documents(collection)])
    await store.ensure_indexes(db)
    await db[store.TIMELINE].create_index([("occurred_at", 1)])
    await client.close()
    return events, rows


async def _insert(collection: AsyncCollection[Doc], docs: list[Doc], batch: int = 2000) -> None:
    """Insert in batches; a batch the driver sends again after a slow answer finds its documents
    already there, which is fine (duplicate keys are the only errors let through)."""
    for i in range(0, len(docs), batch):
        try:
            await collection.insert_many(docs[i : i + batch], ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise RuntimeError(f"insert failed: {exc.details.get('writeErrors', [])[:1]}") from None


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


async def publish(bootstrap: str, tickets: int, now: datetime) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1_048_576)
    await producer.start()
    sent = 0
    try:
        rng = random.Random(11)
        for n in range(tickets):
            for event in _events(n, tickets, now - timedelta(days=30), timedelta(days=27), rng, open_from=tickets - 50):
                await producer.send(TICKETS_TOPIC, event.to_wire(), key=event.ticket_id.encode())
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--raw-days", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--replay-tickets", type=int, default=20_000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        servers = start_servers(
            broker_port=free_port(), db_port=free_port(), storage=Path(scratch) / "db", log_dir=None
        )
        try:
            asyncio.run(create_topics(servers.kafka_bootstrap))
            started = time.perf_counter()
            events, rows = asyncio.run(
                load(servers.mongo_uri, "gridloop_supervision", args.tickets, now, args.raw_days)
            )
            print(
                f"loaded {args.tickets:,} tickets ({events:,} events folded, {rows:,} raw timeline rows of the "
                f"last {args.raw_days} days) in {time.perf_counter() - started:.0f} s"
            )
            service = launch(
                "supervision", servers, Path(scratch), env={"GRIDLOOP_WORK_CALENDAR": "always_open"}, timeout=300
            )
            try:
                _queries(service, servers.mongo_uri, now, args.repeats, args.raw_days)
            finally:
                service.process.stop()
            if args.replay_tickets:
                _replay(servers, args.replay_tickets, now)
        finally:
            servers.stop()


def _queries(service: RunningService, mongo_uri: str, now: datetime, repeats: int, raw_days: int) -> None:
    chief = service.user(sub="sup-bench", role=Role.SUPERVISOR, org="QH")
    first_of_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = ((first_of_month - timedelta(days=1)).replace(day=1), first_of_month)
    windows = {
        "last 7 days": (now - timedelta(days=7), now),
        "last 30 days": (now - timedelta(days=30), now),
        "last month": last_month,
    }
    print(f"\nstats queries over HTTP, {repeats} calls each (ms)")
    print(f"  {'query':<42}{'p50':>8}{'p95':>8}")
    worst = 0.0
    for unit in ("departments", "streets", "communities", "grids"):
        for label, (a, b) in windows.items():
            params = {"from": a.isoformat(), "to": b.isoformat()}
            p50, p95 = timed(
                partial(chief.ok, "supervision", "GET", f"/v1/supervision/stats/{unit}", params=params), repeats
            )
            worst = max(worst, p95)
            print(f"  stats/{unit:<12} {label:<23}{p50:>8.0f}{p95:>8.0f}")
    month = last_month[0].strftime("%Y-%m")
    for label, call in {
        "ranking/departments last 30 days": lambda: chief.ok(
            "supervision",
            "GET",
            "/v1/supervision/ranking/departments",
            params={"from": windows["last 30 days"][0].isoformat(), "to": now.isoformat()},
        ),
        f"evaluation/{month} xlsx": lambda: chief.call("supervision", "GET", f"/v1/supervision/evaluation/{month}"),
    }.items():
        p50, p95 = timed(call, repeats)
        worst = max(worst, p95)
        print(f"  {label:<42}{p50:>8.0f}{p95:>8.0f}")
    print(f"  worst p95 {worst:.0f} ms")
    a, b = windows["last 7 days"]
    raw_from = max(a, now - timedelta(days=raw_days))
    calls = min(repeats, 5)
    print(f"\nsame last-{raw_days}-days tallies in-process: buckets vs every raw timeline row (ms, median of {calls})")
    asyncio.run(_raw_versus_buckets(mongo_uri, raw_from, b, calls))


async def _raw_versus_buckets(mongo_uri: str, start: datetime, end: datetime, repeats: int) -> None:
    client = connect(mongo_uri, timeout_ms=60_000)
    db = client["gridloop_supervision"]
    for unit in ("departments", "grids"):
        bucket_ms, raw_ms = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            fast = await store.window_tallies(db, unit=unit, start=start, end=end)
            bucket_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            slow = await store.raw_tallies(db, unit=unit, start=start, end=end)
            raw_ms.append((time.perf_counter() - t) * 1000)
        same = {c: x.counts for c, x in fast.items()} == {c: x.counts for c, x in slow.items()}
        b50, r50 = statistics.median(bucket_ms), statistics.median(raw_ms)
        print(f"  {unit:<12} buckets {b50:>7.0f}   raw {r50:>8.0f}   ratio {r50 / b50:>6.0f}x   same counts: {same}")
    await client.close()


def _replay(servers: Servers, tickets: int, now: datetime) -> None:
    sent = asyncio.run(publish(servers.kafka_bootstrap, tickets, now))
    for timeline in (False, True):
        settings = SupervisionSettings(
            kafka_bootstrap=servers.kafka_bootstrap,
            mongo_uri=servers.mongo_uri,
            mongo_db=f"bench_rebuild_{int(timeline)}",
            work_calendar="always_open",
        )
        report = asyncio.run(rebuild(settings, timeline=timeline))
        what = "with timeline rows" if timeline else "records and buckets"
        print(
            f"\nrebuild from the start of the topic ({what}): {report.events:,} of {sent:,} events, "
            f"{report.tickets:,} tickets in {report.seconds:.1f} s = {report.rate:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
