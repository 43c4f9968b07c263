"""`make bench` (共建): the lists people open most, with no needs and with --needs needs.

1. Starts the broker and the database, announces the demo directory, starts cobuild, and has the
   units offer eight resources which their communities accept (matching has offers to weigh).
2. Times, over HTTP, p50 and p95 of --repeats calls each: the wish wall (GET /v1/cobuild/wall as
   a unit admin, its paired communities), the community's desk (GET /v1/cobuild/needs?status=...
   as a community worker, for the states a desk opens) and the matching suggestions
   (GET /v1/cobuild/matches as a community worker).
3. Writes --needs needs (default 100,000) straight into cobuild's database in the shape cobuild
   keeps them (the domain's own new need, then each state's fields: summary, deadlines, claimants,
   rating...), with their private part, across every grid, community, category and state: a
   year of them, the open states among the recent ones (STATES_BY_AGE).
   In between, with only the last --recent-days days' needs written (the recent ones: the
   pages are as full as with the year), the same calls: what a page costs to read and render
   over a short history.
4. Times the same calls again and prints the three side by side with the ratios; the goal is
   each p50 with the needs within 1.5x of the empty one.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from gridloop.cobuild.needs import domain
from gridloop.cobuild.needs import store as needs_store
from gridloop.shared.events import Actor, NeedKind, NeedSource, Role
from gridloop.shared.mongo import Doc, connect
from gridloop.shared.worktime import around_the_clock
from gridloop.stack.servers import free_port, start_servers
from gridloop.stack.testing import Bus, RunningService, demo_records, launch
from gridloop.stack.topics import create_topics

DB = "gridloop_cobuild"
GOAL = 1.5
# How needs stand by their age (weights): the open states are the recent ones (the watchdog
# escalates a need unclaimed past its claim deadline), older needs are mostly closed, a few
# escalated or long in service linger.
STATES_BY_AGE: list[tuple[int, dict[str, int]]] = [
    (3, {"submitted": 40, "reviewed": 20, "published": 25, "assigned": 5, "claimed": 5, "rejected": 3, "merged": 2}),
    (
        15,
        {
            "published": 25,
            "claimed": 10,
            "in_service": 25,
            "assigned": 3,
            "delivered": 5,
            "done": 10,
            "rejected": 6,
            "withdrawn": 4,
            "merged": 2,
            "converted": 10,
        },
    ),
    (
        45,
        {
            "in_service": 20,
            "delivered": 10,
            "done": 40,
            "escalated": 5,
            "rejected": 6,
            "withdrawn": 4,
            "merged": 3,
            "converted": 12,
        },
    ),
    (
        366,
        {"done": 70, "escalated": 1, "in_service": 1, "rejected": 8, "withdrawn": 5, "merged": 3, "converted": 12},
    ),
]


def state_at(age_days: float, rng: random.Random) -> str:
    weights = next(w for limit, w in STATES_BY_AGE if age_days < limit)
    return rng.choices(list(weights), weights=list(weights.values()))[0]


SOURCES = {
    Role.RESIDENT: NeedSource.APP,
    Role.GRID_WORKER: NeedSource.VISIT,
    Role.COMMUNITY_WORKER: NeedSource.WISH_WALL,
    Role.STREET_DISPATCHER: NeedSource.HOTLINE,
}
OFFERS = [
    ("ua-hosp", "U-LJ-HOSP", "医护志愿者上门义诊", ["NC-HEALTH", "NC-ELDER"], ["LJ01", "LJ02"]),
    ("ua-hosp", "U-LJ-HOSP", "家庭医生签约服务", ["NC-HEALTH"], ["LJ02"]),
    ("ua-school", "U-LJ-SCHOOL", "青年教师周末课业辅导", ["NC-CHILD"], ["LJ01"]),
    ("ua-school", "U-LJ-SCHOOL", "体育馆周末开放", ["NC-CULTURE"], ["LJ01"]),
    ("ua-power", "U-LJ-POWER", "电力义检与家电义修", ["NC-REPAIR", "NC-ELDER"], ["LJ02", "LJ03"]),
    ("ua-bank", "U-LJ-BANK", "社区微心愿基金", ["NC-ELDER", "NC-CHILD", "NC-ENV"], ["LJ01"]),
    ("ua-tax", "U-WH-TAX", "税务专家进社区", ["NC-LEGAL", "NC-JOB"], ["WH01", "WH02"]),
    ("ua-corp", "U-SL-CORP", "工会志愿者环境整治", ["NC-ENV"], ["SL01", "SL02"]),
]


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    call()  # the first call warms the connection
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def _directory() -> tuple[list[dict[str, Any]], list[str], dict[str, list[str]]]:
    """The demo directory's grids, need categories, and each community's paired units."""
    records = [r for r in demo_records() if r.kind != "snapshot"]
    grids = [r.data | {"code": r.code} for r in records if r.kind == "grid"]
    categories = [r.code for r in records if r.kind == "need_category"]
    paired: dict[str, list[str]] = {}
    for unit in (r for r in records if r.kind == "unit"):
        for community in cast(list[str], unit.data["communities"]):
            paired.setdefault(community, []).append(unit.code)
    return grids, categories, paired


def uuid7_at(at: datetime, rng: random.Random) -> str:
    """A UUIDv7 of the instant `at`, as cobuild's ids are (time-ordered), for a need of the past."""
    ms = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    value = ms << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def need_docs(n: int, *, total: int, now: datetime, rng: random.Random, directory: Any) -> tuple[Doc, Doc]:
    """Need `n` of `total`, submitted evenly over the last year, as cobuild keeps it: the public
    document and the private one."""
    grids, categories, paired = directory
    grid = grids[n % len(grids)]
    community, street = grid["community"], grid["street"]
    at = now - timedelta(days=365) + timedelta(days=365) * (n / total)
    status = state_at((now - at).total_seconds() / 86400, rng)
    role = rng.choice(list(SOURCES))
    org = street if role == Role.STREET_DISPATCHER else community
    submitter = Actor(sub=f"bench-{role.value}-{org.lower()}-{n % 40}", name="基准", role=role, org=org)
    kind = NeedKind.PROJECT_IDEA if n % 25 == 0 else rng.choice([NeedKind.WISH, NeedKind.SERVICE])
    category = categories[rng.randrange(len(categories))]
    limits = domain.Limits()
    submitted = domain.submit(
        number=f"XQ-{domain.need_day(at)}-{n % 10000:04d}",
        kind=kind,
        source=SOURCES[role],
        category_code=category,
        place=domain.Place(grid_code=grid["code"], community_code=community, street_code=street, district_code="QH"),
        now=at,
        limits=limits,
        calendar=around_the_clock(),
    )
    need_id = uuid7_at(at, rng)
    doc = domain.new_need(submitted, need_id=need_id, submitter=submitter, location=None, now=at)
    if status != "submitted":
        doc["summary"] = "居民希望获得上门帮助（基准数据）"
    if status in ("published", "claimed", "in_service", "delivered", "done", "escalated", "assigned"):
        doc["claim_deadline"] = at + timedelta(days=limits.claim_days + 1)
    units = paired.get(community, [])
    if status == "assigned" and units:
        doc["assigned_unit"] = rng.choice(units)
    if status in ("claimed", "in_service", "delivered", "done") and units:
        unit = rng.choice(units)
        group = status in ("claimed", "in_service") and n % 5 == 0
        doc.update(
            claimants=[{"kind": "unit", "code": unit}],
            claimant_codes=[unit],
            group=group,
            contact_deadline=at + timedelta(days=limits.claim_days + limits.contact_days),
        )
        if status != "claimed":
            doc.update(contacted=[unit], deliver_deadline=at + timedelta(days=40))
    if status in ("delivered", "done"):
        doc.update(delivered_at=at + timedelta(days=20), on_time=n % 9 != 0, confirm_by=at + timedelta(days=27))
    if status == "done":
        doc["done_at"] = at + timedelta(days=22)
        if n % 3:
            doc.update(rating=rng.choice(["satisfied", "satisfied", "basically_satisfied", "unsatisfied"]))
            doc["rated_at"] = at + timedelta(days=23)
    if status == "rejected":
        doc["reject_reason"] = "不属于社区共建服务范围"
    if status == "converted":
        doc.update(ticket_id=f"bench-ticket-{n}", ticket_number=f"QH-B-{n:06d}")
    if status == "merged":
        doc["merged_into"] = uuid7_at(at + timedelta(hours=1), rng)
    if status == "escalated":
        doc["overdue"] = ["claim"]
    doc.update(status=status, version=3, updated_at=at + timedelta(days=1))
    private = {
        "_id": need_id,
        "beneficiary": None if kind == NeedKind.PROJECT_IDEA else {"name": "某居民", "phone": "", "address": ""},
        "description": "基准数据：居民反映的需求描述",
        "submitter_sub": submitter.sub,
    }
    return doc, private


async def _insert(collection: AsyncCollection[Doc], docs: list[Doc], batch: int = 2000) -> None:
    for i in range(0, len(docs), batch):
        try:
            await collection.insert_many(docs[i : i + batch], ordered=False)
        except BulkWriteError as exc:  # a batch sent again after a slow answer: its documents are in
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise RuntimeError(f"insert failed: {exc.details.get('writeErrors', [])[:1]}") from None


async def load(mongo_uri: str, numbers: range, *, total: int, now: datetime) -> dict[str, int]:
    """Write needs `numbers` of `total` and their private parts; return how many of each state."""
    rng = random.Random(36 + numbers.start)
    directory = _directory()
    client = connect(mongo_uri, timeout_ms=60_000)
    db = client[DB]
    counts: dict[str, int] = {}
    chunk = 20_000
    for offset in range(numbers.start, numbers.stop, chunk):
        docs, privates = [], []
        for n in range(offset, min(numbers.stop, offset + chunk)):
            doc, private = need_docs(n, total=total, now=now, rng=rng, directory=directory)
            counts[doc["status"]] = counts.get(doc["status"], 0) + 1
            docs.append(doc)
            privates.append(private)
        await _insert(db[needs_store.NEEDS], docs)
        await _insert(db[needs_store.NEED_PRIVATE], privates)
        print(f"  wrote {min(numbers.stop, offset + chunk) - numbers.start:>8,} needs", flush=True)
    await client.close()
    return counts


def _offer(service: RunningService, now: datetime) -> None:
    """The units' eight offers, each accepted by its communities."""
    for sub, unit, title, categories, communities in OFFERS:
        admin = service.user(sub=sub, role=Role.UNIT_ADMIN, org=unit)
        offer = admin.ok(
            service.name,
            "POST",
            "/v1/cobuild/offers",
            json={
                "kind": "service",
                "title": title,
                "category_codes": categories,
                "capacity": 20,
                "community_codes": communities,
                "available_from": (now - timedelta(days=1)).isoformat(),
                "available_until": (now + timedelta(days=365)).isoformat(),
            },
        )
        for community in communities:
            worker = service.user(sub=f"cw-{community.lower()}", role=Role.COMMUNITY_WORKER, org=community)
            worker.ok(service.name, "POST", f"/v1/cobuild/offers/{offer['id']}/accept", json={})


def measure(service: RunningService, repeats: int) -> dict[str, tuple[float, float, int]]:
    """Each list's p50 and p95 (ms) over `repeats` calls, and how many items it answered."""
    unit = service.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
    worker = service.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    calls: dict[str, Callable[[], Any]] = {
        "wall (unit admin, 2 communities)": partial(unit.ok, service.name, "GET", "/v1/cobuild/wall"),
        "wall ?kind=wish": partial(unit.ok, service.name, "GET", "/v1/cobuild/wall", params={"kind": "wish"}),
    }
    for status in ("submitted", "published", "in_service", "done"):
        calls[f"desk needs?status={status}"] = partial(
            worker.ok, service.name, "GET", "/v1/cobuild/needs", params={"status": status}
        )
    calls["desk needs (all states)"] = partial(worker.ok, service.name, "GET", "/v1/cobuild/needs")
    calls["matches (community worker)"] = partial(worker.ok, service.name, "GET", "/v1/cobuild/matches")
    results = {}
    for label, call in calls.items():
        answer = call()
        size = len(answer["matches"]) + len(answer["unmatched"]) if "matches" in answer else len(answer["items"])
        p50, p95 = timed(call, repeats)
        results[label] = (p50, p95, size)
        print(f"  {label:<36}{p50:>8.1f}{p95:>8.1f}{size:>7}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--needs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--recent-days", type=int, default=20, help="the short history measured in between")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as scratch:
        servers = start_servers(
            broker_port=free_port(), db_port=free_port(), storage=Path(scratch) / "db", log_dir=None
        )
        try:
            asyncio.run(create_topics(servers.kafka_bootstrap))
            Bus(servers.kafka_bootstrap).publish_records(demo_records())
            service = launch("cobuild", servers, Path(scratch), timeout=120)
            try:
                _offer(service, now)
                print(f"\ncobuild lists with no needs, {args.repeats} calls each (ms)")
                print(f"  {'list':<36}{'p50':>8}{'p95':>8}{'items':>7}")
                empty = measure(service, args.repeats)
                recent = max(1, args.needs * args.recent_days // 365)
                asyncio.run(load(servers.mongo_uri, range(args.needs - recent, args.needs), total=args.needs, now=now))
                print(f"\ncobuild lists with the last {args.recent_days} days' {recent:,} needs only (full pages)")
                print(f"  {'list':<36}{'p50':>8}{'p95':>8}{'items':>7}")
                small = measure(service, args.repeats)
                started = time.perf_counter()
                counts = asyncio.run(load(servers.mongo_uri, range(args.needs - recent), total=args.needs, now=now))
                print(f"wrote the year's {args.needs - recent:,} older needs in {time.perf_counter() - started:.0f} s")
                print(
                    f"  (of these: {', '.join(f'{k} {v:,}' for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))})"
                )
                print(f"\ncobuild lists with {args.needs:,} needs, {args.repeats} calls each (ms)")
                print(f"  {'list':<36}{'p50':>8}{'p95':>8}{'items':>7}")
                full = measure(service, args.repeats)
            finally:
                service.process.stop()
        finally:
            servers.stop()
    print(
        f"\nside by side (p50 ms; goal: with {args.needs:,} needs within {GOAL}x of none; 'recent': the last "
        f"{args.recent_days} days' needs only, the same full pages over a short history)"
    )
    print(f"  {'list':<36}{'none':>7}{'recent':>8}{'full':>7}{'p95':>7}{'full/none':>10}{'full/recent':>12}")
    missed = []
    for label, (p50, _, _) in empty.items():
        s50 = small[label][0]
        f50, f95, _ = full[label]
        ratio = f50 / p50
        if ratio > GOAL:
            missed.append(label)
        flag = " !" if ratio > GOAL else ""
        print(f"  {label:<36}{p50:>7.1f}{s50:>8.1f}{f50:>7.1f}{f95:>7.1f}{ratio:>9.2f}x{f50 / s50:>11.2f}x{flag}")
    print("  all within the goal" if not missed else f"  over the goal (full/none): {', '.join(missed)}")


if __name__ == "__main__":
    main()
