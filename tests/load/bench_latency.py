"""`make bench` (latency): report -> department inbox one at a time and at offered loads of 10
and 30 reports/s (open loop: reports are sent on a schedule, whether or not earlier ones are
through, and each is timed from its scheduled moment), beside the raw floor (tests.load.raw_floor)
measured in the same run on the same servers, with the ratios; then where a report's time goes,
stage by stage, from the traces the services export (tracing is on, to a receiver in this process).

A report is in the inbox when its work order is in handling's database: one query every 10 ms
for all reports under way, so watching costs the services nothing."""

import argparse
import asyncio
import itertools
import math
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop

from gridloop.stack.stack import Stack, StackConfig
from gridloop.stack.traces import Span, TraceReceiver
from tests.load.bench_load import ROUTED, Bench, cpu_seconds, grid_workers, open_bench, percentile, report_body, table
from tests.load.raw_floor import RawFloor

HANDLING_DB = "gridloop_handling"
GOAL = "goal: loop p95 at 10 reports/s <= 2 x the floor's p95"
LATE_S = 60.0  # a report not in the inbox by then counts as never (inf)


@dataclass
class Sample:
    trace_id: str
    sent_ns: int  # wall clock, to set beside the spans' times
    ms: float


class Inbox:
    """Watches handling's work orders for the reports under way."""

    def __init__(self, bench: Bench) -> None:
        self.orders = bench.mongo[HANDLING_DB]["work_orders"]
        self.waiting: dict[str, asyncio.Future[float]] = {}

    def expect(self, ticket_id: str) -> asyncio.Future[float]:
        future = asyncio.get_running_loop().create_future()
        self.waiting[ticket_id] = future
        return future

    async def watch(self) -> None:
        while True:
            if self.waiting:
                found = await self.orders.find({"ticket_id": {"$in": list(self.waiting)}}, {"ticket_id": 1}).to_list(
                    None
                )
                now = time.perf_counter()
                for order in found:
                    future = self.waiting.pop(order["ticket_id"], None)
                    if future is not None and not future.done():
                        future.set_result(now)
            await asyncio.sleep(0.01)


async def offered(rate: float | None, count: int, one: Callable[[float], Coroutine[Any, Any, float]]) -> list[float]:
    """`count` runs of `one(started)`: back to back when `rate` is None, else on a schedule of
    `rate` a second; each run's time from its scheduled start, in ms."""
    if rate is None:
        return [await one(time.perf_counter()) for _ in range(count)]
    began = time.perf_counter() + 0.05
    runs: list[asyncio.Task[float]] = []
    for n in range(count):
        due = began + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        runs.append(asyncio.create_task(one(due)))
    return list(await asyncio.gather(*runs))


def filer(
    bench: Bench, inbox: Inbox, samples: list[Sample], retried: dict[int, int] | None = None
) -> Callable[[float], Coroutine[Any, Any, float]]:
    """Files reports as grid workers' phones do; a 503 or 429 is sent again after Retry-After
    (counted in `retried` by status), and its wait is part of the report's time."""
    retried = {} if retried is None else retried
    pools = grid_workers(bench, 200)
    communities = list(pools)
    categories = list(ROUTED)
    numbers = iter(range(10**9))
    url = f"{bench.api.urls['intake']}/v1/reports"

    async def one(started: float) -> float:
        n = next(numbers)
        community = communities[n % len(communities)]
        turn = n // len(communities)
        category = categories[turn % len(categories)]
        pool = pools[community]
        who = pool[turn % len(pool)]
        trace_id = secrets.token_hex(16)
        headers = {
            **who.headers,
            "Idempotency-Key": str(uuid.uuid4()),
            "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
        }
        sent_ns = time.time_ns() - int((time.perf_counter() - started) * 1e9)
        body = report_body(category, bench.places.take(community, category), f"时延测试上报 {community} {turn}")
        response: httpx.Response | None = None
        for _ in range(30):
            try:
                response = await bench.api.http.post(url, json=body, headers=headers)
            except httpx.TransportError:  # a kept-alive connection the server had just closed
                retried[0] = retried.get(0, 0) + 1  # sent again at once, as the app does, same key
                continue
            if response.status_code not in (429, 503):
                break
            # As the app's queue does: send the same filing again later, under the same key.
            retried[response.status_code] = retried.get(response.status_code, 0) + 1
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        if response is None or response.status_code in (429, 503):
            return math.inf  # still refused after 30 tries: the loop did not keep up with this load
        if response.status_code not in (200, 201):  # 200: the replay of a filing the 503 had taken in
            raise SystemExit(f"filing {n} -> {response.status_code}: {response.text[:300]}")
        try:
            arrived = await asyncio.wait_for(inbox.expect(response.json()["ticket_id"]), timeout=LATE_S)
        except TimeoutError:
            return math.inf  # the loop did not keep up with this load
        ms = (arrived - started) * 1000
        samples.append(Sample(trace_id=trace_id, sent_ns=sent_ns, ms=ms))
        return ms

    return one


def floor_run(floor: RawFloor) -> Callable[[float], Coroutine[Any, Any, float]]:
    async def one(started: float) -> float:
        return await floor.report(started) * 1000

    return one


# ---------------------------------------------------------------- where the time goes

STAGES = [
    "to intake",
    "intake before its transaction",
    "intake transaction",
    "intake relay wait",
    "publish ticket.reported",
    "broker -> dispatch",
    "dispatch before its transaction",
    "dispatch transaction",
    "dispatch relay wait",
    "publish ticket.dispatched",
    "broker -> handling",
    "handling handler",
    "seen in the inbox",
]


def stages(sample: Sample, spans: list[Span]) -> dict[str, float] | None:
    """One report's stages in ms from its trace; None while any of its spans is missing."""
    by_id = {s.span_id: s for s in spans}

    def find(service: str, kind: str, event: str | None = None) -> Span | None:
        for s in spans:
            if (
                s.service == service
                and s.kind == kind
                and (event is None or s.attributes.get("gridloop.event_type") == event)
                and s.attributes.get("gridloop.outcome", "handled") == "handled"
            ):
                return s
        return None

    server = find("intake", "server")
    reported = find("intake", "producer", "ticket.reported")
    dispatch = find("dispatch", "consumer", "ticket.reported")
    dispatched = find("dispatch", "producer", "ticket.dispatched")
    handling = find("handling", "consumer", "ticket.dispatched")
    if not (server and reported and dispatch and dispatched and handling):
        return None
    # Each publish's parent is the transaction that wrote its outbox row.
    intake_tx, dispatch_tx = by_id.get(reported.parent_id), by_id.get(dispatched.parent_id)
    if intake_tx is None or dispatch_tx is None:
        return None
    points = [
        sample.sent_ns,
        server.start_ns,
        intake_tx.start_ns,
        intake_tx.end_ns,  # the relay is woken by the commit, while the answer goes back
        reported.start_ns,
        reported.end_ns,
        dispatch.start_ns,
        dispatch_tx.start_ns,
        dispatch_tx.end_ns,
        dispatched.start_ns,
        dispatched.end_ns,
        handling.start_ns,
        handling.end_ns,
        sample.sent_ns + sample.ms * 1e6,
    ]
    return dict(zip(STAGES, ((b - a) / 1e6 for a, b in itertools.pairwise(points)), strict=True))


def spread(values: list[float]) -> str:
    """p50 / p95 (the p95s of the stages do not add up to the whole's: each report is slow somewhere else)."""
    return f"{percentile(values, 0.5):.1f} / {percentile(values, 0.95):.1f}"


async def breakdown(receiver: TraceReceiver, runs: dict[str, list[Sample]]) -> None:
    await asyncio.sleep(3)  # the services export every 0.5 s
    spans_by_trace: dict[str, list[Span]] = {}
    for s in receiver.spans():
        spans_by_trace.setdefault(s.trace_id, []).append(s)
    header = ["stage (p50 / p95 ms)", *runs]
    columns = {}
    for name, samples in runs.items():
        found = [st for st in (stages(s, spans_by_trace.get(s.trace_id, [])) for s in samples) if st is not None]
        columns[name] = (found, len(samples))
    rows = []
    for stage in STAGES:
        rows.append([stage, *(spread([st[stage] for st in found]) for found, _ in columns.values())])
    rows.append(["whole (client)", *(spread([s.ms for s in samples]) for samples in runs.values())])
    notes = [f"{name}: {len(found)} of {total} reports' traces complete" for name, (found, total) in columns.items()]
    notes.append(
        "to intake: client to intake's first span (connection, uvicorn); the relay waits are from commit to publish"
    )
    table("Where a report's time goes (from its trace)", header, rows, notes)


# ---------------------------------------------------------------- run


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", type=int, default=60, help="reports one at a time")
    parser.add_argument("--rates", default="10,30", help="offered loads, reports/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each offered load runs")
    return parser.parse_args()


async def run(stack: Stack, log_dir: Path, receiver: TraceReceiver, args: argparse.Namespace) -> None:
    bench = await open_bench(stack, log_dir)
    inbox = Inbox(bench)
    watcher = asyncio.create_task(inbox.watch())
    assert stack.servers is not None
    floor = RawFloor(bootstrap=stack.servers.kafka_bootstrap, mongo_uri=stack.servers.mongo_uri)
    await floor.start()
    try:
        await offered(None, 10, floor_run(floor))  # warm both before timing
        await offered(None, 10, filer(bench, inbox, []))
        loads: list[tuple[str, float | None, int]] = [("one at a time", None, args.one)]
        loads += [(f"{r:g}/s", r, int(r * args.seconds)) for r in (float(x) for x in args.rates.split(","))]
        rows, traced, cores = [], {}, {}
        for name, rate, count in loads:
            floor_ms = await offered(rate, count, floor_run(floor))
            await bench.settle()
            samples: list[Sample] = []
            retried: dict[int, int] = {}
            processes = bench.processes
            before, began = {n: cpu_seconds(pid) for n, pid in processes.items()}, time.monotonic()
            loop_ms = await offered(rate, count, filer(bench, inbox, samples, retried))
            took = time.monotonic() - began
            cores[name] = {n: (cpu_seconds(pid) - before[n]) / took for n, pid in processes.items()}
            traced[name] = samples
            await bench.settle()
            late = sum(1 for ms in loop_ms if math.isinf(ms))
            lp50, lp95 = percentile(loop_ms, 0.5), percentile(loop_ms, 0.95)
            fp50, fp95 = percentile(floor_ms, 0.5), percentile(floor_ms, 0.95)
            rows.append(
                [
                    name,
                    str(count),
                    f"{lp50:.0f} / {lp95:.0f} ms",
                    f"{fp50:.0f} / {fp95:.0f} ms",
                    f"{lp50 / fp50:.1f}",
                    f"{lp95 / fp95:.1f}",
                    ", ".join(f"{n} x {code or 'no answer'}" for code, n in sorted(retried.items())) or "none",
                    str(late),
                ]
            )
            print(f"  [{name}] loop {lp50:.0f} / {lp95:.0f} ms, floor {fp50:.0f} / {fp95:.0f} ms", flush=True)
        table(
            "Report -> department inbox beside the raw floor (same run, same servers)",
            [
                "offered",
                "reports",
                "loop p50 / p95",
                "floor p50 / p95",
                "p50 ratio",
                "p95 ratio",
                "sent again",
                f"not in {LATE_S:.0f} s",
            ],
            rows,
            [GOAL, "floor: 3 transactions and 2 Kafka hops, no HTTP, no framework, no relay (tests/load/raw_floor.py)"],
        )
        await breakdown(receiver, traced)
        names = list(next(iter(cores.values())))
        table(
            "CPU while the loop's reports were under way (cores; 2 on this machine)",
            ["process", *cores],
            [[n, *(f"{c[n]:.2f}" for c in cores.values())] for n in names]
            + [["all", *(f"{sum(c.values()):.2f}" for c in cores.values())]],
            ["the bench's own process (clients, watcher) not counted"],
        )
    finally:
        watcher.cancel()
        await floor.stop()


def main() -> None:
    args = parse()
    receiver = TraceReceiver().start()
    with tempfile.TemporaryDirectory() as logs:
        log_dir = Path(logs)
        env = {"GRIDLOOP_OTEL_ENDPOINT": receiver.url, "GRIDLOOP_OTEL_EXPORT_DELAY_MS": "500"}
        stack = Stack(StackConfig.ephemeral(log_dir=log_dir, env=env))
        stack.start()
        try:
            uvloop.run(run(stack, log_dir, receiver, args))
        finally:
            stack.stop()
            receiver.stop()


if __name__ == "__main__":
    main()
