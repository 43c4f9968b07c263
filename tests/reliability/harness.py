"""Fault injection on the embedded stack: many reports go round the loop while services are
killed, the broker and the database are frozen, and a second instance of a service dies.
Afterwards every acknowledged report must be closed and rated exactly once, supervision and
cobuild's ticket facts must match the ground truth, and no dead letters may be left."""

import asyncio
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from gridloop.cobuild.needs.store import TICKET_FACTS
from gridloop.shared.events import (
    DIRECTORY_TOPIC,
    NEEDS_TOPIC,
    TICKETS_TOPIC,
    VOLUNTEERING_TOPIC,
    Envelope,
    Role,
    TicketRated,
)
from gridloop.shared.mongo import Doc, connect
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack
from gridloop.stack.testing import Bus
from gridloop.stack.topics import CONSUMER_GROUPS

CATEGORIES = {
    "SJ-0101": "CG",
    "BJ-0101": "SW",
    "SJ-0201": "JJ",
    "SJ-0302": "STHJ",
    "BJ-0301": "YLLH",
    "SJ-0301": "ZJ",
    "SJ-0501": "SCJG",
    "BJ-0105": "GD",
}
ASSISTING = {"SJ-0301": "CG"}  # 违法建设: 城管 assists 住建 and reports its part before 住建 resolves
COMMUNITIES = ["LJ01", "LJ02", "LJ03", "WH01", "WH02", "WH03", "SL01", "SL02", "SL03"]
RATINGS = ["satisfied", "basically_satisfied", "unsatisfied"]
RETRYABLE = (httpx.HTTPError, OSError)
# Recovery is measured end to end: a new report must reach an inbox, behind whatever backlog the
# fault left, so under the long form's load this is minutes rather than seconds.
PROBE_DEADLINE_S = 900
IDLE_S = 1.5  # how long a person with nothing to do waits before looking at their list again
# How long the check waits for every consumer group to reach the end of its topics once the
# people have stopped; a projection that keeps up needs seconds, one that fell behind fails here.
CATCH_UP_S = 600.0
RATE_WINDOW_S = 10.0  # the loop's peak rate is the busiest window of this length
COBUILD_DB = "gridloop_cobuild"  # cobuild's database: gridloop_<service name>, as the stack leaves it
# What cobuild's ticket facts say of a ticket after each of its events (the others leave it as it was).
FACT_STATUS = {
    "ticket.reported": "reported",
    "ticket.closed": "closed",
    "ticket.reopened": "reopened",
    "ticket.rejected": "pending_dispatch",
    "ticket.cancelled": "cancelled",
}


@dataclass
class Plan:
    """What the simulated users will do with one report: the ground truth the checks compare with."""

    n: int
    community: str
    category: str
    lead: str
    rework: bool
    rating: str
    ticket_id: str | None = None
    rated: bool = False


@dataclass
class Fault:
    name: str
    at: float
    recovered_s: float | None = None


@dataclass
class Outcome:
    acked: int
    lost: list[str]
    duplicated: list[str]
    dead_letters: int
    stats_mismatch: dict[str, object]
    faults: list[Fault]
    seconds: float
    refused: int = 0
    consumer_lag: dict[str, int] = field(default_factory=dict)  # groups still behind when the check gave up
    cobuild_mismatch: dict[str, tuple[object, object]] = field(default_factory=dict)  # see facts_mismatch
    notes: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = [
            "",
            "fault                                    at (s)   recovered in (s)",
            "---------------------------------------  -------  ----------------",
        ]
        lines += [
            f"{f.name:<39}  {f.at:>7.1f}  {'-' if f.recovered_s is None else f'{f.recovered_s:.1f}':>16}"
            for f in self.faults
        ]
        lines += [
            "",
            f"faults injected      {len(self.faults)}",
            f"reports acknowledged {self.acked}",
            f"reports refused      {self.refused}",
            f"lost                 {len(self.lost)}",
            f"duplicated effects   {len(self.duplicated)}",
            f"dead letters left    {self.dead_letters}",
            f"supervision mismatch {len(self.stats_mismatch)}",
            f"cobuild mismatch     {len(self.cobuild_mismatch)}",
            f"groups behind        {len(self.consumer_lag)}",
            f"total seconds        {self.seconds:.0f}",
        ]
        shown = [
            f"  {key}: got {got!r}, expected {want!r}" for key, (got, want) in list(self.cobuild_mismatch.items())[:10]
        ]
        return "\n".join(lines + shown + self.notes)


class Simulation:
    """Grid workers file reports; departments accept and resolve; reporters verify and rate. Every
    call tolerates outages: retried on the next pass, with the same Idempotency-Key for reports."""

    def __init__(self, stack: Stack, reports: int) -> None:
        self.stack = stack
        self.urls = {name: stack.url(name) for name in SERVICES}
        self.plans = [
            Plan(
                n=n,
                community=COMMUNITIES[n % 9],
                category=(cat := list(CATEGORIES)[n % 8]),
                lead=CATEGORIES[cat],
                rework=n % 10 == 3,
                rating=RATINGS[n % 3],
            )
            for n in range(reports)
        ]
        self.by_ticket: dict[str, Plan] = {}
        self.refused = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def _user(self, sub: str, role: Role, org: str) -> ApiUser:
        user = ApiUser(urls=self.urls, sub=sub, role=role, org=org)
        user.http.timeout = httpx.Timeout(10.0)
        return user

    def file(self, plans: list[Plan], deadline_s: float = 120.0) -> None:
        workers = {c: self._user(f"gw-{c}", Role.GRID_WORKER, c) for c in COMMUNITIES}
        for plan in plans:
            body = {
                "category_code": plan.category,
                "description": f"可靠性测试 {plan.n}",
                "grid_code": f"{plan.community}-G1",
            }
            give_up = time.monotonic() + deadline_s
            while time.monotonic() < give_up:
                try:
                    response = workers[plan.community].call(
                        "intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": f"rel-{plan.n}"}
                    )
                except RETRYABLE:
                    time.sleep(0.3)
                    continue
                if response.status_code in (200, 201):
                    with self.lock:
                        plan.ticket_id = response.json()["ticket_id"]
                        self.by_ticket[plan.ticket_id] = plan
                    break
                if response.status_code < 500:
                    self.refused += 1
                    break
                time.sleep(0.3)

    def run_users(self) -> None:
        """Every department agent and every grid worker works their own list in their own thread,
        as people do, until told to stop."""
        people = [
            threading.Thread(target=self._agent, args=(d,), name=f"agent-{d}", daemon=True)
            for d in sorted(set(CATEGORIES.values()))
        ] + [threading.Thread(target=self._worker, args=(c,), name=f"gw-{c}", daemon=True) for c in COMMUNITIES]
        for person in people:
            person.start()
        for person in people:
            person.join()

    def _agent(self, department: str) -> None:
        agent = self._user(f"agent-{department}", Role.DEPARTMENT_AGENT, department)
        while not self.stop.is_set():
            acted = self._act(
                agent,
                "handling",
                "/v1/work-orders",
                {"status": ["dispatched", "reopened"]},
                lambda o: f"/v1/work-orders/{o['ticket_id']}/accept",
                lambda o: None,
            )
            acted += self._act(
                agent,
                "handling",
                "/v1/work-orders",
                {"status": "dispatched"},
                lambda o: f"/v1/work-orders/{o['ticket_id']}/part",
                lambda o: {"note": "已配合"},
                role="assisting",  # refused (409) until the lead accepts; tried again on the next pass
            )
            acted += self._act(
                agent,
                "handling",
                "/v1/work-orders",
                {"status": "accepted"},
                lambda o: f"/v1/work-orders/{o['ticket_id']}/resolve",
                lambda o: {"note": "已处置"},
            )
            if not acted:
                self.stop.wait(IDLE_S)

    def _worker(self, community: str) -> None:
        worker = self._user(f"gw-{community}", Role.GRID_WORKER, community)
        while not self.stop.is_set():
            acted = self._act(
                worker,
                "feedback",
                "/v1/verifications",
                {"status": "pending"},
                lambda v: f"/v1/verifications/{v['ticket_id']}",
                self._verdict,
            )
            acted += self._act(
                worker,
                "feedback",
                "/v1/verifications",
                {"status": "passed", "rated": "false"},
                lambda v: f"/v1/ratings/{v['ticket_id']}",
                self._rating,
                on_done=self._rated,
            )
            if not acted:
                self._look_at_rated(worker)
                self.stop.wait(IDLE_S)

    def _look_at_rated(self, worker: ApiUser) -> None:
        """A rating whose answer was lost (a timeout while a server was away) may still have been
        taken: it leaves the list of tickets to rate, and the worker finds it among the rated."""
        # The most a page holds: the long form rates about 220 reports per community.
        try:
            listing = worker.call("feedback", "GET", "/v1/verifications", params={"rated": "true", "limit": 500})
        except RETRYABLE:
            return
        if listing.status_code == 200:
            for item in listing.json()["items"]:
                self._rated(item, 200)

    def _verdict(self, task: dict[str, object]) -> dict[str, object] | None:
        plan = self.by_ticket.get(str(task["ticket_id"]))
        if plan is None:
            return None
        return {"passed": not (plan.rework and task["reworks"] == 0), "comment": "现场核查"}

    def _rating(self, task: dict[str, object]) -> dict[str, object] | None:
        plan = self.by_ticket.get(str(task["ticket_id"]))
        return {"rating": plan.rating} if plan else None

    def _rated(self, task: dict[str, object], status: int) -> None:
        plan = self.by_ticket.get(str(task["ticket_id"]))
        if plan and (status == 200 or status == 409):
            plan.rated = True

    def _act(
        self,
        user: ApiUser,
        service: str,
        path: str,
        params: dict[str, object],
        target: Callable[[dict[str, object]], str],
        body: Callable[[dict[str, object]], object],
        on_done: Callable[[dict[str, object], int], None] | None = None,
        role: str = "lead",
    ) -> int:
        try:
            listing = user.call(service, "GET", path, params={**params, "limit": 200})
            if listing.status_code != 200:
                return 0
            acted = 0
            for item in listing.json()["items"]:
                if item.get("role", "lead") != role or item["ticket_id"] not in self.by_ticket:
                    continue  # the other role's orders, and recovery probes, which are not part of the plan
                payload = body(item)
                response = user.call(service, "POST", target(item), json=payload)
                if on_done:
                    on_done(item, response.status_code)
                acted += response.status_code == 200
            return acted
        except RETRYABLE:
            return 0

    def rated_count(self) -> int:
        with self.lock:
            return sum(p.rated for p in self.by_ticket.values())

    def all_rated(self) -> bool:
        with self.lock:
            return all(p.rated for p in self.by_ticket.values())


def wait_ready(stack: Stack, names: list[str], timeout: float = 120.0) -> None:
    stack.wait_ready(names, timeout=timeout)


def probe_recovery(stack: Stack, started: float) -> float:
    """Seconds from the fault's end until every service is ready and a new report reaches an inbox."""
    wait_ready(stack, [n for n in stack.services if stack.services[n].proc.poll() is None])
    urls = {name: stack.url(name) for name in SERVICES}
    worker = ApiUser(urls=urls, sub="gw-probe", role=Role.GRID_WORKER, org="LJ01")
    agent = ApiUser(urls=urls, sub="agent-probe", role=Role.DEPARTMENT_AGENT, org="YLLH")
    key = f"probe-{time.time_ns()}"
    deadline = time.monotonic() + PROBE_DEADLINE_S
    ticket_id = None
    while ticket_id is None and time.monotonic() < deadline:
        try:
            response = worker.call(
                "intake",
                "POST",
                "/v1/reports",
                headers={"Idempotency-Key": key},
                json={"category_code": "BJ-0302", "description": "恢复探针", "grid_code": "LJ01-G2"},
            )
            if response.status_code in (200, 201):
                ticket_id = response.json()["ticket_id"]
        except RETRYABLE:
            time.sleep(0.2)
    while time.monotonic() < deadline:
        try:
            items = agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
            if any(i["ticket_id"] == ticket_id for i in items):
                return time.monotonic() - started
        except (AssertionError, *RETRYABLE):
            pass
        time.sleep(0.1)
    lags = {group: {p: n for p, n in parts.items() if n} for group, parts in consumer_lag(stack).items()}
    raise AssertionError(
        f"a new report did not reach an inbox within {PROBE_DEADLINE_S} s of the fault; filed: {ticket_id};"
        f" messages left per group and partition (a partition no live member holds keeps its lag): "
        f"{ {g: p for g, p in lags.items() if p} }"
    )


def bootstrap(stack: Stack) -> str:
    """The broker's address of a started stack."""
    assert stack.servers is not None, "the stack has not started its servers"
    return stack.servers.kafka_bootstrap


def group_topic(group: str) -> str:
    """The topic whose lag counts for a consumer group: `<service>.directory` groups the directory,
    `<service>.cobuild` groups the 共建 loop's needs (supervision's 共建 figures), `<service>.volunteering`
    groups the volunteering topic (supervision's 双报到 figures), the rest tickets (intake's group
    also reads gridloop.needs.v1, which has no events in these runs)."""
    if group.endswith(".directory"):
        return DIRECTORY_TOPIC
    if group.endswith(".volunteering"):
        return VOLUNTEERING_TOPIC
    return NEEDS_TOPIC if group.endswith(".cobuild") else TICKETS_TOPIC


async def _consumer_lag(bootstrap: str, wanted: list[str]) -> dict[str, dict[int, int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        known = {group for group, *_ in await admin.list_consumer_groups()}
    finally:
        await admin.close()
    # Every service reads the tickets topic; only some read the directory (handling and feedback
    # do not) or the needs, and the broker knows those groups that run.
    groups = [g for g in wanted if group_topic(g) == TICKETS_TOPIC or g in known]
    # The end of a partition is taken from a fetch's high watermark: the embedded broker answers
    # ListOffsets with the last batch's base offset, short of the end when a batch holds several
    # records, which would show a group as caught up while records are still waiting.
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        tps: list[TopicPartition] = []
        for topic in {group_topic(g) for g in groups}:
            for _ in range(50):
                await reader.topics()
                partitions = reader.partitions_for_topic(topic) or set()
                if partitions:
                    break
                await asyncio.sleep(0.1)
            tps += [TopicPartition(topic, p) for p in sorted(partitions)]
        reader.assign(tps)
        listed = await reader.end_offsets(tps)
        for tp in tps:
            reader.seek(tp, max(0, listed[tp] - 1))
        give_up = time.monotonic() + 10
        while any(reader.highwater(tp) is None for tp in tps) and time.monotonic() < give_up:
            await reader.getmany(timeout_ms=200)
        ends = {tp: reader.highwater(tp) or listed[tp] for tp in tps}
    finally:
        await reader.stop()
    lags: dict[str, dict[int, int]] = {}
    for group in groups:
        committed_reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await committed_reader.start()
        try:
            mine = [tp for tp in tps if tp.topic == group_topic(group)]
            lags[group] = {tp.partition: ends[tp] - (await committed_reader.committed(tp) or 0) for tp in mine}
        finally:
            await committed_reader.stop()
    return lags


def consumer_lag(stack: Stack, groups: list[str] = CONSUMER_GROUPS) -> dict[str, dict[int, int]]:
    """Each running group's lag per partition, as the broker holds it: the partition's end less
    the group's committed offset (what it has durably handled), for every partition of its topic."""
    return asyncio.run(_consumer_lag(bootstrap(stack), groups))


def behind(lags: dict[str, dict[int, int]]) -> dict[str, int]:
    """The groups not yet at the end of their topics, with how many messages they have left."""
    return {group: sum(p.values()) for group, p in lags.items() if any(p.values())}


@dataclass
class CatchUp:
    """How the consumers stood when the people stopped, and how long they took to finish."""

    at_stop: dict[str, int]
    left: dict[str, int]  # empty once every group reached the end
    seconds: float


def consumers_caught_up(stack: Stack, *, timeout_s: float = CATCH_UP_S) -> CatchUp:
    """Wait until every consumer group has committed the end of every partition it reads (lag
    zero on the broker), or `timeout_s` passes: then `left` says how far behind each group was."""
    started = time.monotonic()
    left = at_stop = behind(consumer_lag(stack))
    while left and time.monotonic() - started < timeout_s:
        time.sleep(0.5)
        left = behind(consumer_lag(stack))
    return CatchUp(at_stop=at_stop, left=left, seconds=time.monotonic() - started)


def peak_rate(events: list[Envelope], window_s: float = RATE_WINDOW_S) -> float:
    """The loop's busiest rate in events/s: most events that occurred within one window."""
    times = sorted(e.occurred_at.timestamp() for e in events)
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window_s:
            first += 1
        most = max(most, last - first + 1)
    return most / window_s


def check(
    stack: Stack, sim: Simulation, faults: list[Fault], started_at: datetime, seconds: float, caught_up: CatchUp
) -> Outcome:
    bus = Bus(bootstrap(stack))
    events: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    published = [Envelope.from_wire(value) for _, value, _ in bus.read(TICKETS_TOPIC) if value is not None]
    for event in published:
        kind = event.event_type
        round_ = getattr(event.payload, "round", None)
        events[event.ticket_id][f"{kind}#{round_}" if kind == "ticket.dispatched" else kind].add(event.event_id)
    lost, duplicated = [], []
    truth: dict[str, Counter[str]] = defaultdict(Counter)
    for ticket_id, plan in sim.by_ticket.items():
        seen = events.get(ticket_id, {})
        if not seen.get("ticket.closed") or not seen.get("ticket.rated"):
            lost.append(ticket_id)
        expected = {
            "ticket.dispatched#1": 1,
            "ticket.accepted": 2 if plan.rework else 1,
            "ticket.resolved": 2 if plan.rework else 1,
            "ticket.reopened": 1 if plan.rework else 0,
            "ticket.closed": 1,
            "ticket.rated": 1,
            "ticket.reported": 1,
            "ticket.progressed": 1 if plan.category in ASSISTING else 0,  # the assisting part, once
        }
        if any(len(seen.get(k, ())) > n for k, n in expected.items()) or len(seen) > len(expected):
            duplicated.append(ticket_id)
        t = truth[plan.lead]
        t["dispatched"] += 1
        t["accepted"] += expected["ticket.accepted"]
        t["resolved"] += expected["ticket.resolved"]
        t["reopened"] += expected["ticket.reopened"]
        t["closed"] += 1
        t["rated"] += 1
        t[plan.rating] += 1
    dead = sum(len(bus.read(f"gridloop.dlq.{group}")) for group in CONSUMER_GROUPS)
    chief = ApiUser(urls={n: stack.url(n) for n in SERVICES}, sub="sup", role=Role.SUPERVISOR, org="QH")
    window = {
        "from": (started_at - timedelta(seconds=1)).isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
    }
    stats = {
        i["code"]: i
        for i in chief.ok("supervision", "GET", "/v1/supervision/stats/departments", params=window)["items"]
    }
    mismatch: dict[str, object] = {}
    for dept, counts in truth.items():
        got = stats.get(dept, {})
        for name, value in counts.items():
            # probes (园林绿化 BJ-0302) are not in the plan; they are never accepted, so they only add dispatches
            if name == "dispatched" and dept == "YLLH":
                continue
            if got.get(name) != value:
                mismatch[f"{dept}.{name}"] = (got.get(name), value)
    unprojected = missing_from_timelines(chief, sim, events)
    if unprojected:
        mismatch["timeline.missing"] = unprojected
    cobuild = facts_mismatch(expected_facts(sim.by_ticket, published), ticket_facts(stack))
    return Outcome(
        acked=len(sim.by_ticket),
        lost=lost,
        duplicated=duplicated,
        dead_letters=dead,
        stats_mismatch=mismatch,
        faults=faults,
        seconds=seconds,
        refused=sim.refused,
        consumer_lag=caught_up.left,
        cobuild_mismatch=cobuild,
        notes=[
            "",
            f"loop peak rate       {peak_rate(published):.1f} events/s (busiest {RATE_WINDOW_S:.0f} s)",
            f"lag when users stop  {fmt_lag(caught_up.at_stop)}",
            f"lag zero after       {'never' if caught_up.left else f'{caught_up.seconds:.1f} s'}",
        ],
    )


@dataclass(frozen=True)
class ExpectedFact:
    """What cobuild's ticket facts must say of one ticket once every group has caught up."""

    status: str
    reworks: int  # its ticket.reopened events
    send_backs: int  # its ticket.rejected events
    rating: str | None = None


def expected_facts(plans: Mapping[str, Plan], published: list[Envelope]) -> dict[str, ExpectedFact]:
    """Every ticket reported on the topic (the plan's and the recovery probes), as cobuild must hold
    it: the status its last event leaves, and one rework or send-back per ticket.reopened or
    ticket.rejected on the topic (an event the relay published twice, with one event id, is one).
    For the plan's tickets the ground truth decides the status and the rating: closed, as planned."""
    seen: set[str] = set()
    reported: list[str] = []
    status: dict[str, str] = {}
    reworks: Counter[str] = Counter()
    send_backs: Counter[str] = Counter()
    ratings: dict[str, str] = {}
    for event in published:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        ticket_id, kind = event.ticket_id, event.event_type
        if kind == "ticket.reported":
            reported.append(ticket_id)
        status[ticket_id] = FACT_STATUS.get(kind, status.get(ticket_id, "reported"))
        reworks[ticket_id] += kind == "ticket.reopened"
        send_backs[ticket_id] += kind == "ticket.rejected"
        if isinstance(event.payload, TicketRated):
            ratings[ticket_id] = event.payload.rating.value
    expected = {
        t: ExpectedFact(status=status[t], reworks=reworks[t], send_backs=send_backs[t], rating=ratings.get(t))
        for t in reported
    }
    for ticket_id, plan in plans.items():
        expected[ticket_id] = ExpectedFact(
            status="closed", reworks=reworks[ticket_id], send_backs=send_backs[ticket_id], rating=plan.rating
        )
    return expected


def facts_mismatch(
    expected: dict[str, ExpectedFact], facts: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[object, object]]:
    """Where cobuild's ticket facts differ from what is expected, as `<ticket>.<field>: (held,
    expected)`: a ticket it does not hold (`fact`: None) or holds more than once (`copies`), one it
    holds that was never reported (`fact`: None expected), a status, closure, rating, or a rework
    or send-back count that is not the number of such events (an event applied twice doubles it)."""
    copies = Counter(str(fact["_id"]) for fact in facts)
    held = {str(fact["_id"]): fact for fact in facts}
    mismatch: dict[str, tuple[object, object]] = {}
    for ticket_id, want in expected.items():
        fact = held.get(ticket_id)
        if fact is None:
            mismatch[f"{ticket_id}.fact"] = (None, "held")
            continue
        if copies[ticket_id] > 1:
            mismatch[f"{ticket_id}.copies"] = (copies[ticket_id], 1)
        got = {
            "status": fact.get("status"),
            "closed_at": "set" if fact.get("closed_at") is not None else None,
            "reworks": fact.get("reworks"),
            "send_backs": fact.get("send_backs"),
            "rating": fact.get("rating"),
        }
        wanted = {
            "status": want.status,
            "closed_at": "set" if want.status == "closed" else None,
            "reworks": want.reworks,
            "send_backs": want.send_backs,
            "rating": want.rating,
        }
        mismatch.update(
            {f"{ticket_id}.{name}": (got[name], value) for name, value in wanted.items() if got[name] != value}
        )
    for ticket_id in sorted(held.keys() - expected.keys()):
        mismatch[f"{ticket_id}.fact"] = ("held", None)
    return mismatch


def ticket_facts(stack: Stack) -> list[Doc]:
    """Cobuild's `ticket_facts`, read straight from its database."""
    assert stack.servers is not None, "the stack has not started its servers"
    return asyncio.run(_ticket_facts(stack.servers.mongo_uri))


async def _ticket_facts(uri: str) -> list[Doc]:
    client = connect(uri, timeout_ms=10_000)
    try:
        fields = {"status": 1, "closed_at": 1, "reworks": 1, "send_backs": 1, "rating": 1}
        return await client[COBUILD_DB][TICKET_FACTS].find({}, fields).to_list(None)
    finally:
        await client.close()


def fmt_lag(lags: dict[str, int]) -> str:
    return ", ".join(f"{group} {n}" for group, n in sorted(lags.items())) or "0 in every group"


def missing_from_timelines(chief: ApiUser, sim: Simulation, events: dict[str, dict[str, set[str]]]) -> int:
    """Events on the topic that the ticket's supervision timeline does not show (0: none lost)."""
    missing = 0
    for ticket_id in sim.by_ticket:
        on_topic = set().union(*events.get(ticket_id, {}).values())
        response = chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")
        shown = {e["event_id"] for e in response.json()["timeline"]} if response.status_code == 200 else set()
        missing += len(on_topic - shown)
    return missing
