"""`make bench` (throughput): the highest offered load of reports the whole loop sustains, with one
and with two instances of each consumer service, and CPU seconds per closed ticket beside the
raw floor's per report, on an ephemeral stack.

Sustained: every report offered over --seconds reaches its department's inbox, the inbox's p95
stays under --p95 seconds, and the last arrives within 2 s of the last filing. Offered loads
rise (--rates) until one is not sustained.

A closed ticket: filed, dispatched by a rule, accepted and resolved by the department's agent,
verified on site and rated by the reporter (ticket.closed), through the services' APIs. Its CPU
is every process's of the stack (servers and services) over that work beyond what the idle stack
spends in the same time, divided by the tickets. The floor's is that of tests.load.raw_floor
(this process, the broker and the database) per report, likewise beyond their idle."""

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import uvloop

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack, StackConfig
from tests.load.bench_latency import Inbox, filer, floor_run, offered
from tests.load.bench_load import ROUTED, Bench, busy, cpu_seconds, open_bench, percentile, table, user
from tests.load.raw_floor import RawFloor

CONSUMERS = ("dispatch", "handling", "feedback", "supervision")
INTAKE_DB = "gridloop_intake"


def stack_cpu(bench: Bench) -> float:
    return sum(cpu_seconds(pid) for pid in bench.pids)


async def highest_sustained(
    bench: Bench, inbox: Inbox, rates: list[float], seconds: float, p95_limit: float
) -> tuple[float, list[str]]:
    best, lines = 0.0, []
    for rate in rates:
        count = int(rate * seconds)
        began = time.perf_counter()
        try:
            ms = await offered(rate, count, filer(bench, inbox, []))
        except (TimeoutError, SystemExit) as exc:
            lines.append(f"{rate:g}/s: not sustained ({exc or 'a report took over 60 s'})")
            break
        behind = time.perf_counter() - began - count / rate
        p95 = percentile(ms, 0.95) / 1000
        kept_up = p95 <= p95_limit and behind <= 2.0
        lines.append(f"{rate:g}/s: p95 {p95:.2f} s, last arrival {behind:.1f} s after the last filing")
        await bench.settle()
        if not kept_up:
            break
        best = rate
    return best, lines


async def closed_tickets(bench: Bench, count: int) -> float:
    """CPU seconds of the whole stack per ticket taken from filing to closed."""
    departments = {d: c for c, d in ROUTED.items()}
    agents = {d: user(f"agent-tp-{d.lower()}", Role.DEPARTMENT_AGENT, d) for d in departments}
    await bench.settle()
    idle = await busy(bench.pids, over=3.0)  # what the stack spends doing nothing is not the tickets'
    cpu, began = stack_cpu(bench), time.perf_counter()
    inbox = Inbox(bench)
    watcher = asyncio.create_task(inbox.watch())
    try:
        ids: list[tuple[str, str]] = []
        reporters = {c: user(f"gw-tp-{c.lower()}", Role.GRID_WORKER, c) for c in bench.communities()}
        for n in range(count):
            community = list(reporters)[n % len(reporters)]
            department = list(departments)[n % len(departments)]
            who = reporters[community]
            body = {
                "category_code": departments[department],
                "description": f"吞吐测试上报 {n}",
                "location": bench.places.take(community, departments[department]),
            }
            ticket = (await bench.api.ok(who, "intake", "POST", "/v1/reports", json=body))["ticket_id"]
            ids.append((ticket, department))
            await inbox.expect(ticket)

        async def close(ticket: str, department: str, reporter: str) -> None:
            agent, who = agents[department], reporters[reporter]
            await bench.api.ok(agent, "handling", "POST", f"/v1/work-orders/{ticket}/accept")
            await bench.api.ok(agent, "handling", "POST", f"/v1/work-orders/{ticket}/resolve", json={"note": "已处置"})
            for _ in range(300):  # the verification task is feedback's once the resolve reaches it
                answer = await bench.api.call(
                    who, "feedback", "POST", f"/v1/verifications/{ticket}", json={"passed": True, "comment": "已整改"}
                )
                if answer.status_code < 300:
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"{ticket}: verification not possible after 30 s ({answer.status_code})")
            await bench.api.ok(who, "feedback", "POST", f"/v1/ratings/{ticket}", json={"rating": "satisfied"})

        communities = list(reporters)
        for chunk in range(0, len(ids), 8):
            await asyncio.gather(
                *(
                    close(t, d, communities[(chunk + i) % len(communities)])
                    for i, (t, d) in enumerate(ids[chunk : chunk + 8])
                )
            )
        reports = bench.mongo[INTAKE_DB]["reports"]
        wanted = [t for t, _ in ids]
        closed = {"_id": {"$in": wanted}, "status": "closed"}
        while await reports.count_documents(closed) < len(wanted):  # noqa: ASYNC110 (another process's writes)
            await asyncio.sleep(0.2)
        await bench.settle()
        return (stack_cpu(bench) - cpu - idle * (time.perf_counter() - began)) / count
    finally:
        watcher.cancel()


async def floor_cpu(bench: Bench, floor: RawFloor, count: int) -> float:
    assert bench.stack.servers is not None
    servers = [bench.stack.servers.database.proc.pid, bench.stack.servers.broker.proc.pid]
    idle = await busy(servers, over=3.0)
    before, began = sum(cpu_seconds(p) for p in servers) + time.process_time(), time.perf_counter()
    await offered(None, count, floor_run(floor))
    spent = sum(cpu_seconds(p) for p in servers) + time.process_time() - before
    return (spent - idle * (time.perf_counter() - began)) / count


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rates", default="10,20,30,45,60,80")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--p95", type=float, default=2.0, help="seconds")
    parser.add_argument("--closed", type=int, default=40, help="tickets taken to closed for the CPU figure")
    return parser.parse_args()


async def run(stack: Stack, log_dir: Path, args: argparse.Namespace) -> None:
    bench = await open_bench(stack, log_dir)
    rates = [float(r) for r in args.rates.split(",")]
    assert stack.servers is not None
    floor = RawFloor(bootstrap=stack.servers.kafka_bootstrap, mongo_uri=stack.servers.mongo_uri)
    await floor.start()
    rows = []
    try:
        floor_per_report = await floor_cpu(bench, floor, 100)
        for instances in (1, 2):
            if instances == 2:
                added = [stack.start_extra_instance(name, 2) for name in CONSUMERS]
                await asyncio.to_thread(stack.wait_ready, added)
                await asyncio.sleep(15)  # the groups rebalance over both instances
                await bench.settle()
            inbox = Inbox(bench)
            watcher = asyncio.create_task(inbox.watch())
            try:
                best, lines = await highest_sustained(bench, inbox, rates, args.seconds, args.p95)
            finally:
                watcher.cancel()
            per_ticket = await closed_tickets(bench, args.closed)
            rows.append(
                [
                    f"{instances}",
                    f"{best:g}" if best else f"< {rates[0]:g}",
                    f"{per_ticket:.2f}",
                    f"{per_ticket / floor_per_report:.0f}",
                ]
            )
            for line in lines:
                print(f"  [{instances} instance(s)] {line}", flush=True)
    finally:
        await floor.stop()
    table(
        "Throughput through the whole loop; CPU per closed ticket beside the floor's per report",
        ["instances of each consumer", "sustained reports/s", "CPU s per closed ticket", "x floor"],
        rows,
        [
            f"floor: {floor_per_report * 1000:.1f} ms CPU per report"
            " (3 transactions, 2 hops; this process, the broker, the database)",
            f"sustained: all {args.seconds:g} s of reports in the inbox, p95 <= {args.p95:g} s,"
            " the last at most 2 s late",
            "2 cores: a second instance adds partitions' parallelism, not cores",
        ],
    )


def main() -> None:
    args = parse()
    with tempfile.TemporaryDirectory() as logs:
        stack = Stack(StackConfig.ephemeral(log_dir=Path(logs)))
        stack.start()
        try:
            uvloop.run(run(stack, Path(logs), args))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
