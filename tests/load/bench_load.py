"""`make bench` (load phase): the loop's write paths under concurrent users, on an ephemeral stack.

1. filing: closed-loop clients (default 1, 4, 16, 64) file reports for --duration seconds per
   level, each report at its own point (no two of a category within 50 m, so no duplicate hint)
   with its own Idempotency-Key, by 200 grid workers of eight communities. Beside it, on the same
   SecantusDB and driven by the same clients: a bare FastAPI + uvicorn endpoint
   (tests.load.bare_intake) writing the same report document and an outbox row in one
   transaction, with no auth and no checks.
2. staff: tickets are prepared first, then 32 department agents accept, progress and resolve
   different tickets, 8 street dispatchers assign tickets that no rule routes, and 50 reporters
   verify and rate resolved tickets, all at once; per operation and per service's log.
3. accumulation: one filing at a time in one community, with 0, 10,000 and 100,000 open reports
   of the last 20 days written straight into intake's reports collection there (five categories);
   intake restarts after each top-up, so whatever it keeps in memory is rebuilt as after a deploy.

Phases run in that order (the held reports come last, so they weigh on nothing else) and print
their tables as they finish, each beside the issue's goal. `--phases`, `--levels`, `--held` and
the sizes below make a quick run possible: `--quick` is all of them small.
"""

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.intake.domain import indexed_place
from gridloop.shared.auth import TokenVerifier
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import GeoPoint, Role
from gridloop.shared.mongo import OUTBOX, connect
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Process, free_port, wait_for_port
from gridloop.stack.stack import SERVICES, Stack, StackConfig

Doc = dict[str, Any]

# Five categories a rule routes straight to one department (no assisting one, no evidence required).
ROUTED = {"SJ-0101": "CG", "BJ-0101": "SW", "SJ-0201": "JJ", "SJ-0302": "STHJ", "BJ-0301": "YLLH"}
UNROUTED = "SJ-0701"  # 群租房: no rule matches, it waits in the street's queue for a dispatcher
HELD_COMMUNITY = "LJ01"  # the accumulation phase's community; the other phases file elsewhere
SPACING = 0.0006  # about 58 m east-west, 67 m north-south: beyond the 50 m of a duplicate hint
INTAKE_DB = "gridloop_intake"
BARE_DB = "bench_bare"
RETRY_LINE = "transaction_retry"
UNAVAILABLE_LINE = "dependency_unavailable"

GOAL_RATIO = "goal: intake at 16 clients >= 0.6 x bare"
DOWNSTREAM = ("dispatch", "handling", "feedback", "supervision", "directory")
GOAL_5XX = "goal: 0 answers 5xx up to 64 clients"
GOAL_HELD = "goal: p50 with 100,000 held <= 1.5 x with none"


# ---------------------------------------------------------------- places and people


@dataclass(frozen=True)
class Grid:
    code: str
    community: str
    street: str
    box: tuple[float, float, float, float]  # lon0, lat0, lon1, lat1


def lattice(grid: Grid) -> list[tuple[float, float]]:
    """Points SPACING apart inside the grid, half a step in from its edges, so points of
    neighbouring grids are SPACING apart too and none sits on a border two grids share."""
    lon0, lat0, lon1, lat1 = grid.box
    half = SPACING / 2
    columns = int((lon1 - lon0 - half) / SPACING + 1e-9)
    rows = int((lat1 - lat0 - half) / SPACING + 1e-9)
    return [
        (round(lon0 + half + c * SPACING, 6), round(lat0 + half + r * SPACING, 6))
        for r in range(rows)
        for c in range(columns)
    ]


class Places:
    """Hands out (point, category) pairs never used before: a report at one is never a duplicate."""

    def __init__(self, grids: list[Grid]) -> None:
        self.points: dict[str, list[tuple[float, float]]] = {}
        for grid in grids:
            self.points.setdefault(grid.community, []).extend(lattice(grid))
        self.used: Counter[tuple[str, str]] = Counter()

    def take(self, community: str, category: str) -> dict[str, float]:
        n = self.used[(community, category)]
        points = self.points[community]
        if n >= len(points):
            raise SystemExit(
                f"all {len(points)} points of community {community} for {category} are used: shorten the run"
            )
        self.used[(community, category)] += 1
        lon, lat = points[n]
        return {"lon": lon, "lat": lat}


@dataclass(frozen=True)
class User:
    sub: str
    role: Role
    org: str
    headers: dict[str, str]


def user(sub: str, role: Role, org: str) -> User:
    """A development token, minted as ApiUser mints them."""
    token = TokenVerifier(ServiceSettings()).mint(sub=sub, name=sub, role=role, org=org)
    return User(sub=sub, role=role, org=org, headers={"Authorization": f"Bearer {token}"})


class Api:
    """The stack's services over one async HTTP client, speaking as whoever is given."""

    def __init__(self, urls: dict[str, str], http: httpx.AsyncClient) -> None:
        self.urls = urls
        self.http = http

    async def call(self, who: User, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**who.headers, **kwargs.pop("headers", {})}
        return await self.http.request(method, f"{self.urls[service]}{path}", headers=headers, **kwargs)

    async def ok(self, who: User, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.call(who, service, method, path, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} as {who.sub} -> {response.status_code}: {response.text[:300]}")
        return response.json()


def new_http(connections: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=60, limits=limits)


def report_body(category: str, point: dict[str, float], text: str) -> Doc:
    return {"category_code": category, "description": text, "location": point}


# ---------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Tally:
    """What a set of timed requests answered: latencies (seconds) and status codes (0: no answer)."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu: float = 0.0  # this process's CPU seconds meanwhile: the clients' own cost
    answers: Counter[str] = field(default_factory=Counter)  # what the answers that were not 2xx said

    def add(self, latency: float, status: int, error: str = "") -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1
        if not 200 <= status < 300:
            self.answers[f"{status or 'no answer'} {error}".strip()] += 1

    def other_answers(self) -> str:
        return ", ".join(f"{what} x{n}" for what, n in self.answers.most_common())

    @property
    def done(self) -> int:
        return sum(n for code, n in self.statuses.items() if 200 <= code < 300)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    @property
    def unavailable(self) -> int:
        return self.statuses[503]

    @property
    def refused(self) -> int:
        return sum(n for code, n in self.statuses.items() if 300 <= code < 500)

    @property
    def unanswered(self) -> int:
        return self.statuses[0]

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


async def timed(tally: Tally, request: Awaitable[httpx.Response]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError as exc:
        tally.add(time.perf_counter() - started, 0, type(exc).__name__)
        return None
    latency = time.perf_counter() - started
    error = ""
    if not response.is_success:
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            error = str(response.json()["error"]["code"])
    tally.add(latency, response.status_code, error)
    return response


def table(title: str, header: list[str], rows: list[list[str]], notes: list[str]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  " + "  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    for note in notes:
        print(f"  {note}")
    sys.stdout.flush()


class LogMarks:
    """Counts lines of given kinds that the services' logs gained since the mark was set."""

    def __init__(self, log_dir: Path, names: list[str]) -> None:
        self.paths = {name: log_dir / f"{name}.log" for name in names}
        self.offsets = {name: self._size(path) for name, path in self.paths.items()}

    @staticmethod
    def _size(path: Path) -> int:
        return path.stat().st_size if path.exists() else 0

    def count(self, name: str, marker: str) -> int:
        path = self.paths[name]
        if not path.exists():
            return 0
        with path.open("rb") as log:
            log.seek(self.offsets[name])
            return sum(1 for line in log if marker.encode() in line)


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process has used (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def busy(pids: list[int], over: float = 2.0) -> float:
    """Cores the processes use together, on average over the next `over` seconds."""
    before = sum(cpu_seconds(p) for p in pids)
    await asyncio.sleep(over)
    return (sum(cpu_seconds(p) for p in pids) - before) / over


async def settle(pids: list[int], *, below: float, longest: float = 45.0) -> float:
    """Wait until the servers and services are back to `below` cores (the events the last level set
    off are worked through), so one measurement does not pay for the last; returns seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < longest and await busy(pids) > below:
        pass
    return time.monotonic() - started


# ---------------------------------------------------------------- the bench


@dataclass
class Bench:
    stack: Stack
    log_dir: Path
    api: Api
    mongo: AsyncMongoClient[Doc]
    grids: list[Grid]
    places: Places
    categories: dict[str, Doc]
    districts: dict[str, str]  # street -> district
    rng: random.Random = field(default_factory=lambda: random.Random(20))
    bare: Process | None = None
    idle: float = 0.0  # cores the stack uses doing nothing (pollers, watchdogs)

    @property
    def processes(self) -> dict[str, int]:
        """The servers' and services' process ids by name (and the bare intake's, when running)."""
        assert self.stack.servers is not None
        found = {"database": self.stack.servers.database.proc.pid, "broker": self.stack.servers.broker.proc.pid}
        found |= {name: process.proc.pid for name, process in self.stack.services.items()}
        return found | ({"bare intake": self.bare.proc.pid} if self.bare else {})

    @property
    def pids(self) -> list[int]:
        return list(self.processes.values())

    def communities(self, *, held: bool = False) -> list[str]:
        found = sorted({g.community for g in self.grids})
        return [HELD_COMMUNITY] if held else [c for c in found if c != HELD_COMMUNITY]

    def street_of(self, community: str) -> str:
        return next(g.street for g in self.grids if g.community == community)

    async def settle(self) -> float:
        return await settle(self.pids, below=self.idle + 0.1)


async def open_bench(stack: Stack, log_dir: Path) -> Bench:
    urls = {name: stack.url(name) for name in SERVICES}
    api = Api(urls, new_http(256))
    admin = user("bench-admin", Role.ADMIN, "")
    grids = []
    for item in (await api.ok(admin, "directory", "GET", "/v1/directory/grids"))["items"]:
        record = item.get("data", item)
        ring = record["geometry"]["coordinates"][0]
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        grids.append(
            Grid(record["code"], record["community"], record["street"], (min(lons), min(lats), max(lons), max(lats)))
        )
    categories = {
        r.get("data", r)["code"]: r.get("data", r)
        for r in (await api.ok(admin, "directory", "GET", "/v1/directory/categories"))["items"]
    }
    streets = (await api.ok(admin, "directory", "GET", "/v1/directory/streets"))["items"]
    districts = {r.get("data", r)["code"]: r.get("data", r)["district"] for r in streets}
    assert stack.servers is not None
    mongo = connect(stack.servers.mongo_uri, timeout_ms=10_000)
    bench = Bench(
        stack=stack,
        log_dir=log_dir,
        api=api,
        mongo=mongo,
        grids=grids,
        places=Places(grids),
        categories=categories,
        districts=districts,
    )
    await asyncio.sleep(3)
    bench.idle = await busy(bench.pids, over=5.0)
    print(f"the idle stack uses {bench.idle:.2f} cores", flush=True)
    return bench


# ---------------------------------------------------------------- 1. concurrent filing


async def copy_indexes(source: AsyncDatabase[Doc], target: AsyncDatabase[Doc], collections: list[str]) -> None:
    """The bare endpoint's collections get intake's indexes as they are at the time of the run."""
    for name in collections:
        async for index in await source[name].list_indexes():
            if index["name"] == "_id_":
                continue
            options = {k: v for k, v in index.items() if k not in ("v", "key", "ns")}
            await target[name].create_index(list(index["key"].items()), **options)


def spawn_bare(*, mongo_uri: str, log_path: Path) -> Process:
    """tests.load.bare_intake in a process of its own, as each service runs in one."""
    port = free_port()
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.load.bare_intake",
                "--port",
                str(port),
                "--mongo-uri",
                mongo_uri,
                "--db",
                BARE_DB,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
    wait_for_port(port, proc=proc)
    return Process(name="bare", proc=proc, port=port, log_path=log_path)


async def start_bare(bench: Bench) -> str:
    assert bench.stack.servers is not None
    await copy_indexes(bench.mongo[INTAKE_DB], bench.mongo[BARE_DB], ["reports", OUTBOX])
    mongo_uri, log_path = bench.stack.servers.mongo_uri, bench.log_dir / "bare.log"
    bench.bare = await asyncio.to_thread(spawn_bare, mongo_uri=mongo_uri, log_path=log_path)
    return f"http://127.0.0.1:{bench.bare.port}"


async def closed_loop(
    clients: int, duration: float, send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
) -> Tally:
    """`clients` loops, each sending its next request when the last is answered, for `duration`;
    requests under way at the end are waited for and counted."""
    tally = Tally()
    numbers = iter(range(10**9))
    async with new_http(clients) as http:
        started, cpu = time.perf_counter(), time.process_time()
        deadline = started + duration

        async def client() -> None:
            while time.perf_counter() < deadline:
                await timed(tally, send(http, next(numbers)))

        await asyncio.gather(*(client() for _ in range(clients)))
        tally.elapsed = time.perf_counter() - started
        tally.cpu = time.process_time() - cpu
    return tally


def grid_workers(bench: Bench, total: int) -> dict[str, list[User]]:
    communities = bench.communities()
    return {
        c: [user(f"gw-load-{c.lower()}-{i:02d}", Role.GRID_WORKER, c) for i in range(-(-total // len(communities)))]
        for c in communities
    }


async def phase_filing(bench: Bench, *, levels: list[int], duration: float, workers: int) -> None:
    bare_url = await start_bare(bench)
    pools = grid_workers(bench, workers)
    communities = list(pools)
    categories = list(ROUTED)
    intake_url = bench.api.urls["intake"]

    def filing(n: int) -> tuple[User, Doc]:
        community = communities[n % len(communities)]
        turn = n // len(communities)
        category = categories[turn % len(categories)]
        point = bench.places.take(community, category)
        pool = pools[community]
        return pool[turn % len(pool)], report_body(category, point, f"负载测试上报 {community} {turn}")

    async def to_intake(http: httpx.AsyncClient, n: int) -> httpx.Response:
        who, body = filing(n)
        headers = {**who.headers, "Idempotency-Key": str(uuid.uuid4())}
        return await http.post(f"{intake_url}/v1/reports", json=body, headers=headers)

    async def to_bare(http: httpx.AsyncClient, n: int) -> httpx.Response:
        point = {"lon": 120.3 + n % 1000 * 1e-4, "lat": 30.3}  # the bare endpoint checks nothing
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        body = report_body(categories[n % len(categories)], point, f"负载测试上报 bare {n}")
        return await http.post(f"{bare_url}/v1/reports", json=body, headers=headers)

    rows: list[list[str]] = []
    notes: list[str] = []
    results: dict[int, tuple[Tally, Tally]] = {}
    try:
        for clients in levels:
            bare = await closed_loop(clients, duration, to_bare)
            await bench.settle()
            marks = LogMarks(bench.log_dir, ["intake"])
            intake = await closed_loop(clients, duration, to_intake)
            retries, unavailable = marks.count("intake", RETRY_LINE), marks.count("intake", UNAVAILABLE_LINE)
            waited = await bench.settle()
            # The same filings with the rest of the loop frozen: what intake costs on its own, apart
            # from the work each filing sets off downstream on the same database.
            frozen = [p for name, p in bench.stack.services.items() if name in DOWNSTREAM]
            for process in frozen:
                process.pause()
            try:
                alone = await closed_loop(clients, duration, to_intake)
            finally:
                for process in frozen:
                    process.resume()
            waited += await bench.settle()
            results[clients] = (intake, bare)
            rows.append(
                [
                    str(clients),
                    f"{intake.rate:.1f}",
                    f"{intake.ms(0.5):.0f} / {intake.ms(0.95):.0f}",
                    f"{intake.server_errors} of {intake.total}",
                    str(intake.unavailable),
                    str(intake.refused + intake.unanswered),
                    str(retries),
                    str(unavailable),
                    f"{bare.rate:.1f}",
                    f"{bare.ms(0.5):.0f} / {bare.ms(0.95):.0f}",
                    str(bare.server_errors),
                    f"{intake.rate / bare.rate:.2f}" if bare.rate else "-",
                    f"{alone.rate:.1f} ({alone.rate / bare.rate:.2f})" if bare.rate else f"{alone.rate:.1f}",
                    f"{intake.cpu / intake.elapsed:.0%} / {bare.cpu / bare.elapsed:.0%}",
                ]
            )
            print(f"  [filing] {clients} clients done; the loop settled in {waited:.0f} s", flush=True)
    finally:
        if bench.bare:
            bench.bare.stop()
    bare_log = bench.log_dir / "bare.log"
    bare_retry_lines = sum(1 for line in bare_log.open("rb") if RETRY_LINE.encode() in line) if bare_log.exists() else 0
    for clients, (intake, bare) in results.items():
        if intake.answers or bare.answers:
            notes.append(
                f"{clients} clients, answers other than 2xx: intake {intake.other_answers() or '-'};"
                f" bare {bare.other_answers() or '-'}"
            )
    if 16 in results:
        intake16, bare16 = results[16]
        ratio = intake16.rate / bare16.rate if bare16.rate else 0.0
        notes.append(f"{GOAL_RATIO}: {ratio:.2f} -> {'met' if ratio >= 0.6 else 'NOT met'}")
    errors = sum(t.server_errors for t, _ in results.values())
    notes.append(f"{GOAL_5XX}: {errors} -> {'met' if errors == 0 else 'NOT met'} (up to {max(results)} clients)")
    notes.append(
        f"{duration:.0f} s per level and endpoint, closed loop; latency over every answer; filings/s counts 201s;"
        f" bare endpoint's transaction retries over the phase: {bare_retry_lines}"
    )
    notes.append("4xx/none: answers 3xx-4xx and requests with no answer (timeout, reset); bench cpu: this process")
    notes.append(
        "alone: the same filings with dispatch, handling, feedback, supervision and directory frozen (SIGSTOP):"
        " intake's own cost, without the downstream work each filing sets off on the same database"
    )
    table(
        "1. Concurrent filing: intake POST /v1/reports beside a bare transaction on the same SecantusDB",
        [
            "clients",
            "intake/s",
            "p50 / p95 ms",
            "5xx",
            "503",
            "4xx/none",
            "txn retries",
            "unavailable",
            "bare/s",
            "bare p50 / p95",
            "bare 5xx",
            "ratio",
            "alone/s (ratio)",
            "bench cpu",
        ],
        rows,
        notes,
    )


# ---------------------------------------------------------------- 2. staff write paths


@dataclass
class Ticket:
    id: str
    reporter: User
    department: str = ""


async def file_all(bench: Bench, jobs: list[tuple[User, Doc]], *, concurrency: int = 8) -> list[str]:
    """File reports for preparation (not timed), a few at once; a refused or failed one stops the bench."""
    ids: list[str] = [""] * len(jobs)
    queue = list(enumerate(jobs))

    async def worker() -> None:
        while queue:
            n, (who, body) = queue.pop()
            for attempt in range(5):
                response = await bench.api.call(
                    who, "intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": f"prep-{n}"}
                )
                if response.status_code < 300:
                    ids[n] = response.json()["ticket_id"]
                    break
                if response.status_code != 503 or attempt == 4:
                    raise RuntimeError(f"preparing: filing -> {response.status_code}: {response.text[:300]}")
                await asyncio.sleep(1)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


async def eventually(what: str, probe: Callable[[], Awaitable[bool]], within: float = 180.0) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"preparing: gave up waiting for {what} after {within:.0f} s")
        await asyncio.sleep(1.0)


async def inbox_ids(bench: Bench, department: str, status: str = "dispatched") -> set[str]:
    """The tickets whose work order waits in the department's inbox in `status`, every page."""
    clerk = user(f"agent-prep-{department.lower()}", Role.DEPARTMENT_AGENT, department)
    found: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": status, "limit": 500, **({"cursor": cursor} if cursor else {})}
        page = await bench.api.ok(clerk, "handling", "GET", "/v1/work-orders", params=params)
        found |= {item["ticket_id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def in_inboxes(bench: Bench, tickets: list[Ticket]) -> bool:
    """Whether each ticket's work order reached its department's inbox."""
    for department in {t.department for t in tickets}:
        if not {t.id for t in tickets if t.department == department} <= await inbox_ids(bench, department):
            return False
    return True


async def queued_ids(bench: Bench, desk: User) -> set[str]:
    found: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500, "reason": "no_rule", **({"cursor": cursor} if cursor else {})}
        page = await bench.api.ok(desk, "dispatch", "GET", "/v1/dispatch/queue", params=params)
        found |= {item["ticket_id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            return found


async def pending_verifications(bench: Bench, reporter: User) -> set[str]:
    params = {"status": "pending", "limit": 500}
    page = await bench.api.ok(reporter, "feedback", "GET", "/v1/verifications", params=params)
    return {item["ticket_id"] for item in page["items"]}


async def phase_staff(
    bench: Bench,
    *,
    agents: int,
    per_agent: int,
    dispatchers: int,
    per_dispatcher: int,
    reporters: int,
    per_reporter: int,
) -> None:
    started = time.monotonic()
    communities = bench.communities()
    people = [user(f"gw-staff-{i:02d}", Role.GRID_WORKER, communities[i % len(communities)]) for i in range(reporters)]
    departments = list(ROUTED.values())
    category_of = {d: c for c, d in ROUTED.items()}
    agent_users = [
        user(f"agent-load-{i:02d}", Role.DEPARTMENT_AGENT, departments[i % len(departments)]) for i in range(agents)
    ]
    streets = sorted({g.street for g in bench.grids if g.community != HELD_COMMUNITY})
    desks = [user(f"desk-load-{i}", Role.STREET_DISPATCHER, streets[i % len(streets)]) for i in range(dispatchers)]

    def body(who: User, category: str, text: str) -> Doc:
        return report_body(category, bench.places.take(who.org, category), text)

    # Work orders for the agents: each agent's tickets are of its department's category.
    for_agents: list[tuple[User, list[Ticket]]] = []
    jobs: list[tuple[User, Doc]] = []
    n = 0
    for agent in agent_users:
        own = []
        for _ in range(per_agent):
            reporter = people[n % len(people)]
            jobs.append((reporter, body(reporter, category_of[agent.org], f"员工路径 接单 {n}")))
            own.append(Ticket("", reporter, agent.org))
            n += 1
        for_agents.append((agent, own))
    # Tickets for the desks: of no rule's category, in the desk's street.
    for_desks: list[tuple[User, list[Ticket]]] = []
    for desk in desks:
        own = []
        local = [p for p in people if bench.street_of(p.org) == desk.org]
        for i in range(per_dispatcher):
            reporter = local[i % len(local)]
            jobs.append((reporter, body(reporter, UNROUTED, f"员工路径 派遣 {n}")))
            own.append(Ticket("", reporter))
            n += 1
        for_desks.append((desk, own))
    # Resolved tickets for the reporters to verify and rate.
    for_reporters: list[tuple[User, list[Ticket]]] = []
    for i, reporter in enumerate(people):
        own = []
        for _ in range(per_reporter):
            department = departments[(i + n) % len(departments)]
            jobs.append((reporter, body(reporter, category_of[department], f"员工路径 核查 {n}")))
            own.append(Ticket("", reporter, department))
            n += 1
        for_reporters.append((reporter, own))

    ids = iter(await file_all(bench, jobs))
    print(f"  [staff] {len(jobs)} tickets filed in {time.monotonic() - started:.0f} s", flush=True)
    everything = [t for _, own in for_agents + for_desks + for_reporters for t in own]
    for ticket in everything:
        ticket.id = next(ids)
    agents_tickets = [t for _, own in for_agents for t in own]
    reporters_tickets = [t for _, own in for_reporters for t in own]
    await eventually("work orders in the inboxes", lambda: in_inboxes(bench, agents_tickets + reporters_tickets))
    wanted: dict[str, set[str]] = {desk.org: set() for desk in desks}
    for desk, own in for_desks:
        wanted[desk.org] |= {t.id for t in own}

    async def all_queued() -> bool:
        for street, ids_ in wanted.items():
            if not ids_ <= await queued_ids(bench, user(f"desk-prep-{street}", Role.STREET_DISPATCHER, street)):
                return False
        return True

    await eventually("tickets in the street queues", all_queued)

    async def prepare_resolved(ticket: Ticket) -> None:
        clerk = user(f"agent-prep-{ticket.department.lower()}", Role.DEPARTMENT_AGENT, ticket.department)
        await bench.api.ok(clerk, "handling", "POST", f"/v1/work-orders/{ticket.id}/accept")
        await bench.api.ok(clerk, "handling", "POST", f"/v1/work-orders/{ticket.id}/resolve", json={"note": "已处置"})

    for chunk in range(0, len(reporters_tickets), 8):
        await asyncio.gather(*(prepare_resolved(t) for t in reporters_tickets[chunk : chunk + 8]))

    async def all_pending() -> bool:
        for reporter, own in for_reporters:
            if not {t.id for t in own} <= await pending_verifications(bench, reporter):
                return False
        return True

    await eventually("verification tasks", all_pending)
    prepared = time.monotonic() - started
    print(f"  [staff] prepared in {prepared:.0f} s", flush=True)
    await bench.settle()

    # The three paths at once.
    tallies: dict[str, Tally] = {op: Tally() for op in ("accept", "progress", "resolve", "assign", "verify", "rate")}
    spans: dict[str, float] = {}

    async def agent_path(agent: User, own: list[Ticket]) -> None:
        for t in own:
            path = f"/v1/work-orders/{t.id}"
            await timed(tallies["accept"], bench.api.call(agent, "handling", "POST", f"{path}/accept"))
            note = {"note": "已到场处置，正在清理"}
            await timed(tallies["progress"], bench.api.call(agent, "handling", "POST", f"{path}/progress", json=note))
            done = {"note": "已处置完毕", "photos": []}
            await timed(tallies["resolve"], bench.api.call(agent, "handling", "POST", f"{path}/resolve", json=done))

    async def desk_path(desk: User, own: list[Ticket]) -> None:
        for t in own:
            lead = {"lead_department": "CG", "assisting_departments": []}
            path = f"/v1/dispatch/tickets/{t.id}/assign"
            await timed(tallies["assign"], bench.api.call(desk, "dispatch", "POST", path, json=lead))

    async def reporter_path(reporter: User, own: list[Ticket]) -> None:
        for t in own:
            verdict = {"passed": True, "comment": "现场核查已整改"}
            path = f"/v1/verifications/{t.id}"
            await timed(tallies["verify"], bench.api.call(reporter, "feedback", "POST", path, json=verdict))
            rating = {"rating": "satisfied", "comment": ""}
            path = f"/v1/ratings/{t.id}"
            await timed(tallies["rate"], bench.api.call(reporter, "feedback", "POST", path, json=rating))

    async def path(name: str, runs: list[Awaitable[None]]) -> None:
        begun = time.perf_counter()
        await asyncio.gather(*runs)
        spans[name] = time.perf_counter() - begun

    marks = LogMarks(bench.log_dir, SERVICES)
    begun = time.perf_counter()
    await asyncio.gather(
        path("agents", [agent_path(a, own) for a, own in for_agents]),
        path("dispatchers", [desk_path(d, own) for d, own in for_desks]),
        path("reporters", [reporter_path(r, own) for r, own in for_reporters]),
    )
    phase = time.perf_counter() - begun
    await bench.settle()
    retries = {name: marks.count(name, RETRY_LINE) for name in SERVICES}

    groups = {
        "agents": (f"{agents} agents", ["accept", "progress", "resolve"]),
        "dispatchers": (f"{dispatchers} dispatchers", ["assign"]),
        "reporters": (f"{reporters} reporters", ["verify", "rate"]),
    }
    rows = []
    for name, (who, ops) in groups.items():
        for op in ops:
            t = tallies[op]
            rows.append(
                [
                    who,
                    op,
                    str(t.total),
                    f"{t.done / spans[name]:.1f}",
                    f"{t.ms(0.5):.0f} / {t.ms(0.95):.0f}",
                    str(t.server_errors),
                    str(t.refused + t.unanswered),
                ]
            )
        every = [tallies[op] for op in ops]
        done = sum(t.done for t in every)
        rows.append([who, "path", str(sum(t.total for t in every)), f"{done / spans[name]:.1f}", "", "", ""])
    errors = sum(t.server_errors for t in tallies.values())
    answers = [f"{op}: {t.other_answers()}" for op, t in tallies.items() if t.answers]
    table(
        "2. Staff write paths at once: agents accept, progress, resolve; desks assign; reporters verify, rate",
        ["who", "operation", "count", "ops/s", "p50 / p95 ms", "5xx", "4xx/none"],
        rows,
        [
            "transaction_retry lines during the phase: "
            + ", ".join(f"{name} {count}" for name, count in retries.items()),
            f"goal: no 5xx -> {errors} {'met' if errors == 0 else 'NOT met'}; the paths ran {phase:.1f} s together"
            f" (ops/s over each path's own span); prepared in {prepared:.0f} s",
            *(["answers other than 2xx: " + "; ".join(answers)] if answers else []),
        ],
    )


# ---------------------------------------------------------------- 3. cost as reports accumulate

HELD_STATUSES = ["dispatched"] * 8 + ["accepted"] * 7 + ["pending_dispatch"] * 2 + ["resolved"] * 2 + ["reopened"]


def id_at(at: datetime, rng: random.Random) -> str:
    """A UUIDv7 of the given time, as new_id() would have made then: ids sort by creation."""
    ms = int(at.timestamp() * 1000)
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def held_report(
    n: int,
    *,
    at: datetime,
    point: tuple[float, float],
    grid: Grid,
    category: Doc,
    district: str,
    status: str,
    rng: random.Random,
) -> Doc:
    """One open report as intake's file_report stores it (handlers.file_report, domain.build_report):
    the payload of ticket.reported, its point, status, reporter and times. Follow that shape here."""
    lon, lat = point
    return {
        "_id": id_at(at, rng),
        "ticket_number": f"{district}-{at.astimezone(CITY_ZONE):%Y%m%d}-H{n:06d}",  # never one intake gives out
        "category_code": category["code"],
        "category_name": category["name"],
        "description": f"积存的上报 {n}",
        "location": {"lon": lon, "lat": lat},
        "address": "",
        "grid_code": grid.code,
        "community_code": grid.community,
        "street_code": grid.street,
        "district_code": district,
        "photos": [],
        "priority": "normal",
        "evidence_required": bool(category.get("evidence_required", False)),
        "possible_duplicates": [],
        # the point as GeoJSON and the key the duplicate hint finds the report by
        **indexed_place(category["code"], GeoPoint(lon=lon, lat=lat), at),
        "status": status,
        "reporter": {"sub": f"gw-held-{n % 40:02d}", "name": "", "role": "grid_worker", "org": grid.community},
        "created_at": at,
        "updated_at": at,
        "history": [{"event_type": "ticket.reported", "status": "reported", "at": at}],
        # set when the ticket is dispatched (set_deadline and the lead, on ticket.dispatched)
        **(
            {
                "resolve_deadline": at + timedelta(days=5),
                "resolve_deadline_provisional": False,
                "lead_department": ROUTED[category["code"]],
            }
            if status not in ("reported", "pending_dispatch")
            else {}
        ),
    }


async def top_up(bench: Bench, *, have: int, want: int, now: datetime, batch: int = 2000) -> float:
    """Write held reports have..want straight into intake's reports collection; returns seconds taken."""
    grids = [g for g in bench.grids if g.community == HELD_COMMUNITY]
    district = bench.districts[grids[0].street]
    categories = [bench.categories[c] for c in ROUTED]
    reports = bench.mongo[INTAKE_DB]["reports"]
    rng = bench.rng
    started = time.perf_counter()
    for start in range(have, want, batch):
        docs = []
        for n in range(start, min(want, start + batch)):
            grid = grids[rng.randrange(len(grids))]
            lon0, lat0, lon1, lat1 = grid.box
            point = (round(rng.uniform(lon0, lon1), 6), round(rng.uniform(lat0, lat1), 6))
            at = now - timedelta(days=20) * rng.random()
            category = categories[n % len(categories)]
            status = HELD_STATUSES[rng.randrange(len(HELD_STATUSES))]
            docs.append(
                held_report(
                    n, at=at, point=point, grid=grid, category=category, district=district, status=status, rng=rng
                )
            )
        await reports.insert_many(docs, ordered=False)
        if (start - have) // batch % 10 == 9:
            print(f"  [accumulation] {start + batch - have:,} of {want - have:,} written", flush=True)
    return time.perf_counter() - started


def key_paths(doc: Doc, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in doc.items():
        paths.add(prefix + key)
        if isinstance(value, dict) and key not in ("point",):
            paths |= key_paths(value, f"{prefix}{key}.")
    return paths


async def shape_check(bench: Bench, sample: int = 200) -> list[str]:
    """Where the held reports differ from what intake really stores and indexes now."""
    reports = bench.mongo[INTAKE_DB]["reports"]
    held_numbers = {"$regex": "-H[0-9]+$"}
    real, held = set(), set()
    async for doc in reports.find({"ticket_number": {"$not": held_numbers}}).limit(sample):
        real |= key_paths(doc)
    async for doc in reports.find({"ticket_number": held_numbers}).limit(sample):
        held |= key_paths(doc)
    if not real or not held:
        return []
    notes = []
    if missing := real - held:
        notes.append(f"CHECK held_report(): real reports have fields it does not write: {sorted(missing)}")
    indexed = set()
    async for index in await reports.list_indexes():
        indexed |= set(index["key"])
    if unfilled := indexed - held - {"_id"}:
        notes.append(f"CHECK held_report(): indexed fields it does not write: {sorted(unfilled)}")
    return notes


async def restart_intake(bench: Bench) -> None:
    bench.stack.services["intake"].stop()
    await asyncio.to_thread(bench.stack.start_service, "intake")
    await asyncio.to_thread(bench.stack.wait_ready, ["intake"])


async def phase_accumulation(bench: Bench, *, held: list[int], filings: int, budget: float, restart: bool) -> None:
    workers = [user(f"gw-held-load-{i}", Role.GRID_WORKER, HELD_COMMUNITY) for i in range(10)]
    categories = list(ROUTED)
    now = datetime.now(UTC)
    turn = iter(range(10**9))

    async def one(tally: Tally | None) -> None:
        n = next(turn)
        category = categories[n % len(categories)]
        body = report_body(category, bench.places.take(HELD_COMMUNITY, category), f"积存测试上报 {n}")
        who = workers[n % len(workers)]
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        request = bench.api.call(who, "intake", "POST", "/v1/reports", json=body, headers=headers)
        if tally is None:
            await request
        else:
            await timed(tally, request)

    rows: list[list[str]] = []
    notes: list[str] = []
    have = 0
    base = float("nan")
    p50_at: dict[int, float] = {}
    for want in held:
        await bench.settle()
        took = await top_up(bench, have=have, want=want, now=now) if want > have else 0.0
        topped = want - have
        have = max(have, want)
        if restart:
            await restart_intake(bench)
        await bench.settle()
        for _ in range(3):  # warm-up: the first filings after a start fill caches and pools
            await one(None)
        tally = Tally()
        started = time.perf_counter()
        while tally.total < filings and (time.perf_counter() - started < budget or tally.total < 5):
            await one(tally)
        tally.elapsed = time.perf_counter() - started
        p50 = tally.ms(0.5)
        if want == 0:
            base = p50
        p50_at[want] = p50
        rows.append(
            [
                f"{want:,}",
                f"{tally.total}",
                f"{tally.ms(0.5):.0f} / {tally.ms(0.95):.0f}",
                f"{p50 / base:.2f}" if base == base else "-",
                str(tally.server_errors),
                f"{topped:,} in {took:.0f} s ({topped / took:,.0f}/s)" if took else "-",
            ]
        )
        if tally.answers:
            notes.append(f"{want:,} held, answers other than 2xx: {tally.other_answers()}")
        print(f"  [accumulation] {' | '.join(rows[-1])} ({tally.elapsed:.0f} s of filings)", flush=True)
        if want > 0 and not notes:
            notes.extend(await shape_check(bench))
    biggest = max(held)
    if 0 in p50_at and biggest > 0:
        ratio = p50_at[biggest] / p50_at[0]
        goal = GOAL_HELD if biggest == 100_000 else f"{GOAL_HELD} (here: {biggest:,} held)"
        notes.append(f"{goal}: {ratio:.2f} -> {'met' if ratio <= 1.5 else 'NOT met'}")
    notes.append(
        f"one filing at a time in {HELD_COMMUNITY}, up to {filings} per level or {budget:.0f} s (at least 5),"
        f" after 3 untimed; held: open reports of the last 20 days, five categories"
        + ("; intake restarted after each top-up" if restart else "")
    )
    table(
        f"3. A filing's cost as reports accumulate in intake (community {HELD_COMMUNITY})",
        ["held", "filings", "p50 / p95 ms", "p50 ratio", "5xx", "topped up"],
        rows,
        notes,
    )


# ---------------------------------------------------------------- main


def parse() -> argparse.Namespace:
    def numbers(text: str) -> list[int]:
        return [int(v.replace("_", "")) for v in text.split(",") if v]

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", default="filing,staff,accumulation", help="comma-separated, run in this order")
    parser.add_argument("--levels", type=numbers, default=[1, 4, 16, 64], help="client counts of the filing phase")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per level and endpoint")
    parser.add_argument("--workers", type=int, default=200, help="grid workers filing in the filing phase")
    parser.add_argument("--held", type=numbers, default=[0, 10_000, 100_000], help="reports held, in rising order")
    parser.add_argument("--filings", type=int, default=50, help="filings timed per held level")
    parser.add_argument("--budget", type=float, default=45.0, help="seconds of filings per held level at most")
    parser.add_argument("--no-restart", action="store_true", help="keep intake running across top-ups")
    parser.add_argument("--agents", type=int, default=32)
    parser.add_argument("--per-agent", type=int, default=6, help="tickets each agent accepts, progresses, resolves")
    parser.add_argument("--dispatchers", type=int, default=8)
    parser.add_argument("--per-dispatcher", type=int, default=8, help="tickets each dispatcher assigns")
    parser.add_argument("--reporters", type=int, default=50)
    parser.add_argument("--per-reporter", type=int, default=2, help="tickets each reporter verifies and rates")
    parser.add_argument("--quick", action="store_true", help="small sizes everywhere: a run of about two minutes")
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this folder")
    args = parser.parse_args()
    if args.quick:
        args.levels, args.duration, args.workers = [1, 4], 3.0, 20
        args.held, args.filings, args.budget = [0, 2_000], 10, 20.0
        args.per_agent = args.per_dispatcher = args.per_reporter = 1
    return args


async def run(stack: Stack, log_dir: Path, args: argparse.Namespace, phases: list[str]) -> None:
    bench = await open_bench(stack, log_dir)
    timings: list[str] = []
    try:
        for name in phases:
            started = time.monotonic()
            if name == "filing":
                await phase_filing(bench, levels=args.levels, duration=args.duration, workers=args.workers)
            elif name == "staff":
                await phase_staff(
                    bench,
                    agents=args.agents,
                    per_agent=args.per_agent,
                    dispatchers=args.dispatchers,
                    per_dispatcher=args.per_dispatcher,
                    reporters=args.reporters,
                    per_reporter=args.per_reporter,
                )
            elif name == "accumulation":
                await phase_accumulation(
                    bench, held=args.held, filings=args.filings, budget=args.budget, restart=not args.no_restart
                )
            timings.append(f"{name} {time.monotonic() - started:.0f} s")
    finally:
        await bench.api.http.aclose()
        await bench.mongo.close()
    print(f"\nphases took: {', '.join(timings)}")


def main() -> None:
    args = parse()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - {"filing", "staff", "accumulation"}
    if unknown:
        raise SystemExit(f"unknown phases: {sorted(unknown)}")
    with contextlib.ExitStack() as cleanup:
        log_dir = args.logs or Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
        started = time.monotonic()
        stack = Stack(StackConfig.ephemeral(log_dir=log_dir))
        stack.start()
        print(f"stack up in {time.monotonic() - started:.0f} s (logs: {log_dir}); {os.cpu_count()} cores", flush=True)
        try:
            uvloop.run(run(stack, log_dir, args, phases))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
