"""Working minutes across the new year against the real database: counted by the statutory rule
while 2027's holiday schedule is not published, and counted again when it is."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import Actor, Role, TicketAccepted, TicketDispatched
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database
from gridloop.shared.refdata import RefData
from gridloop.stack.servers import Servers
from gridloop.stack.testing import TEST_SCHEDULE_2027, SetClock, demo_records, make_event, reported, service_database
from gridloop.supervision import handlers, kpi, store

pytestmark = pytest.mark.integration
CST = ZoneInfo("Asia/Shanghai")
WORKER = Actor(sub="gw-cal", name="网格员", role=Role.GRID_WORKER, org="LJ01")
WINDOW = (datetime(2026, 12, 1, tzinfo=CST), datetime(2027, 3, 1, tzinfo=CST))


async def _accept_minutes(database: Database) -> dict[str, int]:
    tallies = await store.window_tallies(database.db, unit="departments", start=WINDOW[0], end=WINDOW[1])
    return {value: n for value, n in tallies["STHJ"].minutes["accept"].items() if n}


async def test_a_ticket_handled_across_new_year_is_counted_again_when_the_schedule_arrives(servers: Servers) -> None:
    clock = SetClock(datetime(2027, 2, 1, 10, tzinfo=CST))
    database = await service_database(servers, producer="supervision", clock=clock)
    refdata = RefData(database.db)
    await store.ensure_indexes(database.db)
    for record in demo_records():
        await refdata.apply(record)
    calendars = refdata.calendars("china")
    ticket_id = new_id()
    dispatched_at = datetime(2026, 12, 31, 16, tzinfo=CST)
    events = [
        reported(ticket_id, reporter=WORKER, category="SJ-0302", at=datetime(2026, 12, 31, 15, tzinfo=CST)),
        make_event(
            TicketDispatched(
                round=1,
                lead_department="STHJ",
                accept_deadline=datetime(2027, 1, 4, 9, tzinfo=CST),
                resolve_deadline=datetime(2027, 1, 8, 16, tzinfo=CST),
                manual=False,
                provisional=True,
            ),
            ticket_id=ticket_id,
            at=dispatched_at,
        ),
        make_event(
            TicketAccepted(department="STHJ", round=1), ticket_id=ticket_id, at=datetime(2027, 2, 1, 10, tzinfo=CST)
        ),
    ]
    for event in events:
        calendar = await calendars()
        await database.transaction(lambda uow, e=event, c=calendar: handlers.project(e, uow, c))

    # By hand: 31 December 16:00–17:30 (90); January's 20 working days by the statutory rule, 元旦
    # off (20 x 450); 1 February 08:30–10:00 (90).
    assert await _accept_minutes(database) == {"9180": 1}
    assert await handlers.recount_durations(database=database, calendars=calendars) == 0

    await refdata.apply(DirectoryRecord(kind="calendar", code="2027", revision=1, data=TEST_SCHEDULE_2027))
    assert await handlers.recount_durations(database=database, calendars=calendars) == 1
    # The published schedule works Saturday 30 January: one more day of 450 minutes.
    assert await _accept_minutes(database) == {"9630": 1}
    assert await handlers.recount_durations(database=database, calendars=calendars) == 0
    [row] = [r for r in await store.timeline(database.db, ticket_id) if r["event_type"] == "ticket.accepted"]
    assert row["minutes_basis"] == ["2026@r1", "2027@r1"]
    assert kpi.indicators(kpi.Tally.from_doc(row["tally"]))["accept_minutes_median"] == 9630
