"""The whole system on a clock that reads 28 December 2026, 10:00 in the city, with 2027's holiday
schedule not yet published: reports still reach their departments, with provisional (预计)
deadlines, and loading the schedule settles them everywhere."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.events import Role, dead_letter_topic
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack, StackConfig
from gridloop.stack.testing import TEST_SCHEDULE_2027, Bus, eventually

pytestmark = pytest.mark.e2e
CST = ZoneInfo("Asia/Shanghai")


def _near(value: object, expected: datetime) -> bool:
    """Within the minute or two the clock ran on past 10:00 before the report was filed."""
    return timedelta(0) <= datetime.fromisoformat(str(value)) - expected < timedelta(minutes=2)


def _same(a: object, b: object) -> bool:
    return datetime.fromisoformat(str(a)) == datetime.fromisoformat(str(b))


@pytest.fixture(scope="module")
def december(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    env = {
        "GRIDLOOP_WORK_CALENDAR": "china",
        "GRIDLOOP_CLOCK_START": "2026-12-28T10:00:00+08:00",
        "GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2",
        "GRIDLOOP_RECOUNT_INTERVAL_SECONDS": "0.5",
    }
    running = Stack(StackConfig.ephemeral(log_dir=tmp_path_factory.mktemp("december-logs"), env=env))
    running.start()
    assert running.servers is not None
    yield {name: running.url(name) for name in SERVICES} | {"broker": running.servers.kafka_bootstrap}
    running.stop()


def test_a_report_on_28_december_reaches_its_department_and_settles_when_2027_is_published(
    december: dict[str, str],
) -> None:
    worker = ApiUser(urls=december, sub="gw-ny", role=Role.GRID_WORKER, org="LJ01")
    agent = ApiUser(urls=december, sub="agent-ny", role=Role.DEPARTMENT_AGENT, org="STHJ")
    admin = ApiUser(urls=december, sub="admin", role=Role.ADMIN, org="QH")
    supervisor = ApiUser(urls=december, sub="sup-ny", role=Role.SUPERVISOR, org="QH")
    report = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0302", "description": "夜间施工噪声扰民", "grid_code": "LJ01-G1"},
        headers={"Idempotency-Key": "ny-1"},
    )
    ticket_id = report["ticket_id"]
    assert report["ticket_number"] == "QH-20261228-00001"

    def order(provisional: bool) -> dict[str, object] | None:
        items = agent.ok("handling", "GET", "/v1/work-orders")["items"]
        found = next((o for o in items if o["ticket_id"] == ticket_id), None)
        return found if found and found["deadlines_provisional"] is provisional else None

    # 施工扰民 has the default limits: accept in 2 working hours (the clock has run on a few seconds
    # since 10:00 while the stack started, so they end just after the lunch break), resolve in 5
    # working days, which run past 元旦 2027 (Friday 1 January, off by the statutory rule).
    waiting = eventually(lambda: order(True), what="the work order with provisional deadlines")
    assert _near(waiting["accept_deadline"], datetime(2026, 12, 28, 13, 30, tzinfo=CST))
    assert _near(waiting["resolve_deadline"], datetime(2027, 1, 5, 10, tzinfo=CST))

    def reporters_view() -> dict[str, object] | None:
        # intake learns of the dispatch from the same event as handling, in its own time
        found: dict[str, object] = worker.ok("intake", "GET", f"/v1/reports/{ticket_id}")
        return found if found["resolve_deadline"] is not None else None

    mine = eventually(reporters_view, what="the reporter's view with the dispatch's deadlines")
    assert mine["resolve_deadline_provisional"] is True
    assert _same(mine["resolve_deadline"], waiting["resolve_deadline"])
    assert Bus(december["broker"]).read(dead_letter_topic("dispatch")) == []

    admin.ok("directory", "PUT", "/v1/directory/calendars/2027", json=TEST_SCHEDULE_2027)
    settled = eventually(lambda: order(False), what="the provisional mark cleared in the inbox")
    assert _same(settled["resolve_deadline"], waiting["resolve_deadline"])  # 元旦 is off in the schedule too
    assert eventually(
        lambda: worker.ok("intake", "GET", f"/v1/reports/{ticket_id}")["resolve_deadline_provisional"] is False,
        what="the reporter's view settled",
    )

    def timeline() -> list[str] | None:
        events = supervisor.ok("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")["timeline"]
        types = [e["event_type"] for e in events]
        return types if "ticket.deadlines_revised" in types else None

    assert eventually(timeline, what="the revision in the ticket's timeline") == [
        "ticket.reported",
        "ticket.dispatched",
        "ticket.deadlines_revised",
    ]
