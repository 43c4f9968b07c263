"""`make run`'s stack forgets nothing across a restart: the broker keeps its topics, committed
offsets and dead letters in SeaweedFS beside SecantusDB's files. A report filed while dispatch
is down reaches its department once after the broker and its object store are SIGKILLed and the
rest stops as Ctrl-C stops it; the supervision rebuild then equals the live read model.

One stack is started twice on one data folder (each start ~15-30 s), so the checks share a
module fixture and run in file order."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from gridloop.shared.events import DIRECTORY_TOPIC, TICKETS_TOPIC, Role, dead_letter_topic
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack, StackConfig
from gridloop.stack.testing import Bus, eventually, ok
from tests.background import stopping

pytestmark = pytest.mark.reliability
GROUPS = ["dispatch", "handling", "supervision"]
ENV = {"GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2"}
DEAD_LETTERS = dead_letter_topic("dispatch.directory")


@dataclass
class Life:
    """One data folder and what the test saw in it before each restart."""

    config: StackConfig
    stack: Stack
    offsets: dict[str, dict[TopicPartition, int]] = field(default_factory=dict)
    letters: int = 0
    crashed_report: str = ""
    starts: list[float] = field(default_factory=list)

    def start(self, *, check: Any = None, env: dict[str, str] | None = None) -> None:
        """A new launcher on the same folder and ports; `check` runs between the servers and the
        services; `env` adds to the services' settings for this start only."""
        started = time.monotonic()
        self.stack = Stack(replace(self.config, env={**self.config.env, **(env or {})}))
        self.stack.start_servers()
        if check:
            check(self)
        self.stack.start_services()
        self.starts.append(time.monotonic() - started)

    @property
    def bootstrap(self) -> str:
        assert self.stack.servers is not None
        return self.stack.servers.kafka_bootstrap

    @property
    def bus(self) -> Bus:
        return Bus(self.bootstrap)

    def user(self, role: Role, org: str, sub: str) -> ApiUser:
        return ApiUser(urls={n: self.stack.url(n) for n in SERVICES}, sub=sub, role=role, org=org)


def _file(life: Life, text: str) -> str:
    worker = life.user(Role.GRID_WORKER, "LJ01", "gw-durable")
    body = {"category_code": "SJ-0302", "description": text, "grid_code": "LJ01-G1"}  # 施工扰民 -> 生态环境
    return str(ok(worker.call("intake", "POST", "/v1/reports", json=body), 201)["ticket_id"])


def _in_inbox(life: Life, ticket_id: str) -> int:
    """How many times the ticket shows in 生态环境's inbox."""
    agent = life.user(Role.DEPARTMENT_AGENT, "STHJ", "agent-durable")
    items = ok(agent.call("handling", "GET", "/v1/work-orders", params={"limit": 100}))["items"]
    return sum(1 for item in items if item["ticket_id"] == ticket_id)


def _arrives_once(life: Life, ticket_id: str) -> None:
    eventually(lambda: _in_inbox(life, ticket_id), timeout=60, what=f"{ticket_id} in 生态环境's inbox")
    dispatched = [e for e in life.bus.events(ticket_id) if e.event_type == "ticket.dispatched"]
    assert len(dispatched) == 1 and _in_inbox(life, ticket_id) == 1


def _filed_while_dispatch_is_down(life: Life, text: str) -> str:
    """Dispatch stopped, a report filed and published by intake's relay: it waits on the topic."""
    life.stack.services["dispatch"].stop()
    ticket_id = _file(life, text)
    life.bus.wait_for(ticket_id, "ticket.reported")
    return ticket_id


def _committed(bootstrap: str) -> dict[str, dict[TopicPartition, int]]:
    """Each group's committed offsets on the tickets topic, asked as its own consumers ask (no join)."""

    async def go() -> dict[str, dict[TopicPartition, int]]:
        found = {}
        for group in GROUPS:
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                tps = [
                    TopicPartition(TICKETS_TOPIC, p) for p in sorted(consumer.partitions_for_topic(TICKETS_TOPIC) or ())
                ]
                if not tps:
                    await consumer.topics()
                    tps = [
                        TopicPartition(TICKETS_TOPIC, p)
                        for p in sorted(consumer.partitions_for_topic(TICKETS_TOPIC) or ())
                    ]
                offsets = {tp: await consumer.committed(tp) for tp in tps}
                found[group] = {tp: offset for tp, offset in offsets.items() if offset is not None}
            finally:
                await consumer.stop()
        return found

    return asyncio.run(go())


def _kept(life: Life) -> None:
    """Before any consumer runs again: every group's committed offsets and the dead letter are there."""
    now = _committed(life.bootstrap)
    # At or past what was committed before the stop (a group may have committed once more after it was read).
    for group, before in life.offsets.items():
        assert set(now[group]) == set(before) and all(now[group][tp] >= offset for tp, offset in before.items()), group
    assert len(life.bus.read(DEAD_LETTERS)) == life.letters


@pytest.fixture(scope="module")
def life(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    config = StackConfig.durable(tmp_path_factory.mktemp("durable"), env=ENV)
    life = Life(config=config, stack=Stack(config))
    life.start()
    yield life
    stopping(request.config).stop(life.stack.stop)


def test_a_report_filed_before_the_broker_and_its_store_are_killed_reaches_its_department_once(life: Life) -> None:
    """The servers that hold the log die (SIGKILL of the broker and of the object store), then the
    rest stops as Ctrl-C stops it; one restart, and nothing is lost or done twice."""
    _arrives_once(life, _file(life, "重启前正常上报"))
    life.bus.publish(DIRECTORY_TOPIC, [("grid:poison", b"not a record", [])])  # every reader dead-letters it
    life.letters = len(eventually(lambda: life.bus.read(DEAD_LETTERS), what="a dead letter"))
    life.crashed_report = _filed_while_dispatch_is_down(life, "断电前上报，调度未处理")
    life.offsets = eventually(
        lambda: (lambda o: o if all(o.values()) else None)(_committed(life.bootstrap)),
        what="committed offsets",
    )
    assert life.stack.servers is not None and life.stack.servers.store is not None
    life.stack.servers.broker.kill()
    life.stack.servers.store.kill()
    life.stack.stop()  # what Ctrl-C in `make run` does, with the broker and its store already gone
    # This machine's clock now runs 10 minutes fast, until the power loss below.
    life.start(check=_kept, env={"GRIDLOOP_CLOCK_START": (datetime.now(UTC) + timedelta(minutes=10)).isoformat()})
    _arrives_once(life, life.crashed_report)


def _power_loss(life: Life) -> None:
    """Every service and server of the stack SIGKILLed at once: no lease released, nothing drained.
    (The gateway, which keeps no state, stops as it would: a SIGKILL of nginx's master would leave
    its workers holding the port on this machine, which a real power loss does not.)"""
    assert life.stack.servers is not None
    if life.stack.gateway:
        life.stack.gateway.stop()
    for process in [*life.stack.services.values(), life.stack.servers.broker, life.stack.servers.database]:
        process.kill()
    if life.stack.servers.store is not None:
        life.stack.servers.store.kill()


def test_the_supervision_rebuild_after_restarts_equals_the_live_read_model(life: Life) -> None:
    chief = life.user(Role.SUPERVISOR, "QH", "sup-durable")
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}

    def departments() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = ok(
            chief.call("supervision", "GET", "/v1/supervision/stats/departments", params=window)
        )["items"]
        return items

    def timeline(ticket_id: str) -> list[str]:
        found = ok(chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}"))
        return [row["event_type"] for row in found["timeline"]]

    eventually(
        lambda: "ticket.dispatched" in timeline(life.crashed_report), what="the last report's dispatch projected"
    )
    live = departments()
    life.stack.services["supervision"].stop()
    rebuilt = subprocess.run(
        [str(Path(sys.executable).parent / "gridloop-supervision-rebuild"), "--timeline"],
        env={**life.stack.service_env, "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "replayed" in rebuilt.stdout
    life.stack.start_service("supervision")
    life.stack.wait_ready(["supervision"])
    assert departments() == live
    assert timeline(life.crashed_report).count("ticket.dispatched") == 1


def test_after_a_power_loss_under_a_fast_clock_a_report_reaches_its_department_within_seconds(life: Life) -> None:
    """The stack ran with a clock 10 minutes fast and holds every relay's lease when the power goes;
    it comes back on the true clock. No lease written under the fast clock holds an outbox back."""
    _arrives_once(life, _file(life, "时钟快十分钟时上报"))
    _power_loss(life)
    life.start()
    began = time.monotonic()
    filed = _file(life, "断电重启、时钟校正后上报")
    eventually(lambda: _in_inbox(life, filed), timeout=10, what=f"{filed} in 生态环境's inbox within 10 s")
    assert time.monotonic() - began < 10
