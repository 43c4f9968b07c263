"""What dispatch does on its own, every few seconds: count deadlines again on a new holiday
schedule, then announce the deadlines that passed (超期) and the tickets that go to the district (升级)."""

from gridloop.dispatch import domain, store
from gridloop.shared.lifecycle import ACTIVE_STATES
from gridloop.shared.mongo import ConcurrentChange, Database, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars


async def watch_deadlines(*, database: Database, limit: int = 200) -> int:
    """超期 and 升级: announce deadlines that passed since the last look, once each."""
    now = database.clock.now()
    emitted = 0
    for candidate in await store.past_deadline(database.db, now=now, limit=limit):

        async def work(uow: UnitOfWork, ticket_id: str = candidate["_id"]) -> int:
            doc = await store.get(uow.db, ticket_id, session=uow.session)
            if doc is None:
                return 0
            findings = domain.watchdog_findings(doc, now=uow.now)
            if not findings:
                return 0
            await update_versioned(uow, store.TICKETS, doc, domain.watchdog_marks(doc, findings))
            for payload in findings:
                await uow.emit(payload, ticket_id=ticket_id, actor=domain.WATCHDOG_ACTOR)
            return len(findings)

        try:
            emitted += await database.transaction(work)
        except ConcurrentChange:
            continue  # another instance or an event got there first; the next look decides again
    return emitted


async def revise_deadlines(*, database: Database, calendars: Calendars, limit: int = 200) -> int:
    """When a year's holiday schedule arrives or changes, the open tickets whose deadlines were
    counted on what it replaces are counted again; each change is announced as that ticket's next
    event, so every service sees it in order with the ticket's others."""
    calendar = await calendars()
    stale = calendar.stale_bases()
    if not stale:
        return 0
    revised = 0
    for candidate in await store.counted_on(database.db, bases=stale, limit=limit):

        async def work(uow: UnitOfWork, ticket_id: str = candidate["_id"]) -> int:
            doc = await store.get(uow.db, ticket_id, session=uow.session)
            if doc is None or doc["status"] not in ACTIVE_STATES or not set(doc["calendar_basis"]) & set(stale):
                return 0
            event, changes = domain.revise_deadlines(doc, calendar=calendar, now=uow.now)
            await update_versioned(uow, store.TICKETS, doc, changes)
            if event is None:
                return 0
            await uow.emit(event, ticket_id=ticket_id, actor=domain.CALENDAR_ACTOR)
            return 1

        try:
            revised += await database.transaction(work)
        except ConcurrentChange:
            continue  # the ticket moved on meanwhile; the next pass looks again
    return revised
