"""Deadlines against the real database, on a clock the test sets: lapses and escalation announced
once each; a year whose holiday schedule is not published never stops dispatch, and its schedule
moves open deadlines."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridloop.dispatch import consumers, jobs, store
from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import Actor, DeadlineKind, Envelope, Role, TicketReported
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import OUTBOX, Database
from gridloop.shared.refdata import RefData
from gridloop.stack.servers import Servers
from gridloop.stack.testing import (
    TEST_SCHEDULE_2027,
    SetClock,
    demo_records,
    outbox_events,
    reported,
    service_database,
)

pytestmark = pytest.mark.integration
CST = ZoneInfo("Asia/Shanghai")
WORKER = Actor(sub="gw-cal", name="网格员", role=Role.GRID_WORKER, org="LJ01")
# 施工扰民 with a long resolve limit, so its deadline reaches past 春节 2027
LONG_LIMITS = {
    "code": "SJ-0302",
    "accept": {"within": 2, "unit": "working_hours"},
    "resolve": {"within": 25, "unit": "working_days"},
}


async def _dispatch_database(
    servers: Servers, clock: SetClock, extra: tuple[DirectoryRecord, ...] = ()
) -> tuple[Database, RefData]:
    """Dispatch's database on the test's clock, with the demo directory (and `extra`) applied."""
    database = await service_database(servers, producer="dispatch", clock=clock)
    refdata = RefData(database.db)
    await store.ensure_indexes(database.db)
    await refdata.ensure_indexes()
    for record in [*demo_records(), *extra]:
        await refdata.apply(record)
    return database, refdata


async def _dispatch_at(database: Database, refdata: RefData, event: Envelope, calendar: str = "china") -> None:
    assert isinstance(event.payload, TicketReported)
    reported = event.payload
    calendars = refdata.calendars(calendar)
    await database.transaction(
        lambda uow: consumers.on_reported(reported, event, uow, refdata=refdata, calendars=calendars), causation=event
    )


async def _events(database: Database, ticket_id: str) -> list[Envelope]:
    rows = await database.db[OUTBOX].find({"key": ticket_id}).sort("_id", 1).to_list(None)
    return outbox_events(rows)


async def test_a_schedule_published_later_moves_open_deadlines_and_the_watchdog_follows(servers: Servers) -> None:
    clock = SetClock(datetime(2026, 12, 28, 10, tzinfo=CST))
    database, refdata = await _dispatch_database(
        servers, clock, (DirectoryRecord(kind="sla", code="SJ-0302", revision=99, data=LONG_LIMITS),)
    )
    calendars = refdata.calendars("china")

    ticket_id = new_id()
    await _dispatch_at(database, refdata, reported(ticket_id, reporter=WORKER, category="SJ-0302", at=clock.value))
    [dispatched] = await _events(database, ticket_id)
    assert dispatched.event_type == "ticket.dispatched" and dispatched.payload.lead_department == "STHJ"
    # 2027 by the statutory rule: 元旦 on Friday 1 January; the 25th working day is Tuesday 2 February
    assert dispatched.payload.resolve_deadline == datetime(2027, 2, 2, 10, tzinfo=CST)
    assert dispatched.payload.provisional
    assert await jobs.revise_deadlines(database=database, calendars=calendars) == 0  # nothing new yet

    await refdata.apply(DirectoryRecord(kind="calendar", code="2027", revision=1, data=TEST_SCHEDULE_2027))
    clock.value = datetime(2027, 1, 4, 9, tzinfo=CST)
    assert await jobs.revise_deadlines(database=database, calendars=calendars) == 1
    assert await jobs.revise_deadlines(database=database, calendars=calendars) == 0  # counted once
    _, revised = await _events(database, ticket_id)
    assert revised.event_type == "ticket.deadlines_revised"
    # Saturday 30 January is worked in the published schedule: the deadline comes a day sooner
    assert revised.payload.resolve_deadline == datetime(2027, 2, 1, 10, tzinfo=CST)
    assert revised.payload.accept_deadline == dispatched.payload.accept_deadline
    assert not revised.payload.provisional and revised.causation_id is None

    clock.value = datetime(2027, 2, 1, 12, tzinfo=CST)  # past the new deadline, before the old one
    await jobs.watch_deadlines(database=database)
    overdue = [e for e in await _events(database, ticket_id) if e.event_type == "ticket.overdue"]
    assert {(e.payload.kind.value, e.payload.deadline) for e in overdue} == {
        ("accept", dispatched.payload.accept_deadline),
        ("resolve", datetime(2027, 2, 1, 10, tzinfo=CST)),
    }


async def test_lapsed_deadlines_are_announced_once_and_the_district_is_called_in(servers: Servers) -> None:
    start = datetime(2026, 11, 23, 10, tzinfo=CST)
    clock = SetClock(start)
    database, refdata = await _dispatch_database(servers, clock)
    ticket_id = new_id()
    event = reported(ticket_id, reporter=WORKER, category="SJ-0101", at=start)  # 暴露垃圾: 1 h to accept, 4 to fix
    await _dispatch_at(database, refdata, event, "always_open")

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    passes = []
    for clock.value in (at(0.5), at(1.01), at(1.02), at(4.01), at(6.01), at(6.02), at(30)):
        passes.append(await jobs.watch_deadlines(database=database))
    # accept lapses after 1 h, resolve after 4 h, the district is called in 2 h later (half the time allowed)
    assert passes == [0, 1, 0, 1, 1, 0, 0]
    lapses = [e for e in await _events(database, ticket_id) if e.event_type != "ticket.dispatched"]
    assert [(e.event_type, getattr(e.payload, "kind", None)) for e in lapses] == [
        ("ticket.overdue", DeadlineKind.ACCEPT),
        ("ticket.overdue", DeadlineKind.RESOLVE),
        ("ticket.escalated", None),
    ]
    assert {e.actor.sub for e in lapses} == {"sla-watchdog"} and lapses[2].payload.level == "district"


async def test_a_new_lapse_is_announced_however_many_announced_ones_are_still_open(servers: Servers) -> None:
    start = datetime(2026, 11, 24, 10, tzinfo=CST)
    clock = SetClock(start)
    database, refdata = await _dispatch_database(servers, clock)

    async def dispatch_one() -> str:
        ticket_id = new_id()
        event = reported(ticket_id, reporter=WORKER, category="SJ-0101", at=clock.value)  # 1 h to accept
        await _dispatch_at(database, refdata, event, "always_open")
        return ticket_id

    early = [await dispatch_one() for _ in range(6)]
    clock.value = start + timedelta(hours=1.5)
    assert await jobs.watch_deadlines(database=database, limit=4) == 4  # a page at a time
    assert await jobs.watch_deadlines(database=database, limit=4) == 2
    late = await dispatch_one()
    clock.value = start + timedelta(hours=2.6)  # the late one's acceptance lapses; the six stay open, announced
    assert await jobs.watch_deadlines(database=database, limit=4) == 1
    assert await jobs.watch_deadlines(database=database, limit=4) == 0
    for ticket_id in [*early, late]:
        kinds = [e.payload.kind for e in await _events(database, ticket_id) if e.event_type == "ticket.overdue"]
        assert kinds == [DeadlineKind.ACCEPT], ticket_id
