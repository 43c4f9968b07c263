"""The batch path against the real database: a partition's events projected together leave the
same ticket records, timeline rows and figures as one transaction per event, count a redelivered
event once, and leave nothing behind when they cannot be taken together."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.shared.events import (
    Actor,
    Envelope,
    Rating,
    Role,
    TicketAccepted,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import PROCESSED, Database
from gridloop.shared.worktime import around_the_clock
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, make_event, reported, service_database
from gridloop.supervision import handlers, store

pytestmark = pytest.mark.integration
T0 = datetime(2032, 7, 5, 9, 0, tzinfo=UTC)
WORKER = Actor(sub="gw-batch", role=Role.GRID_WORKER, org="LJ02")
CALENDAR = around_the_clock()


def _ticket(lead: str, start: datetime, *, rejected_by: str | None = None, rework: bool = False) -> list[Envelope]:
    ticket_id = new_id()
    at = iter(start + timedelta(minutes=7 * m) for m in range(100))
    agent = Actor(sub=f"agent-{lead}", role=Role.DEPARTMENT_AGENT, org=lead)
    events = [reported(ticket_id, reporter=WORKER, grid="LJ02-G1", at=next(at))]
    round_ = 1
    if rejected_by:
        events += [
            make_event(
                TicketDispatched(
                    round=1, lead_department=rejected_by, accept_deadline=start, resolve_deadline=start, manual=False
                ),
                ticket_id=ticket_id,
                at=next(at),
            ),
            make_event(
                TicketRejected(department=rejected_by, round=1, reason="非本部门"), ticket_id=ticket_id, at=next(at)
            ),
        ]
        round_ = 2
    dispatched = TicketDispatched(
        round=round_,
        lead_department=lead,
        accept_deadline=start + timedelta(minutes=30),
        resolve_deadline=start + timedelta(hours=2),
        manual=bool(rejected_by),
    )
    events += [
        make_event(dispatched, ticket_id=ticket_id, at=next(at)),
        make_event(TicketAccepted(department=lead, round=round_), ticket_id=ticket_id, actor=agent, at=next(at)),
        make_event(TicketResolved(department=lead, round=round_, note="已处置"), ticket_id=ticket_id, at=next(at)),
    ]
    if rework:
        events += [
            make_event(
                TicketReopened(department=lead, rework_count=1, comment="未修好"), ticket_id=ticket_id, at=next(at)
            ),
            make_event(TicketAccepted(department=lead, round=round_), ticket_id=ticket_id, actor=agent, at=next(at)),
            make_event(
                TicketResolved(department=lead, round=round_, note="返工完成"), ticket_id=ticket_id, at=next(at)
            ),
        ]
    events.append(make_event(TicketClosed(), ticket_id=ticket_id, at=next(at)))
    events.append(make_event(TicketRated(rating=Rating.BASICALLY_SATISFIED), ticket_id=ticket_id, at=next(at)))
    return events


def _interleaved(*tickets: list[Envelope]) -> list[Envelope]:
    """The events of several tickets as one partition holds them: each ticket's in order."""
    return sorted((e for t in tickets for e in t), key=lambda e: e.occurred_at)


async def _projection(database: Database) -> dict[str, Any]:
    """Everything readers are answered from, without the write stamps."""

    async def documents(collection: str) -> list[dict[str, Any]]:
        found = database.db[collection].find({}, {"updated_at": 0}).sort("_id", 1)
        return [doc async for doc in found]

    tallies = await store.window_tallies(
        database.db, unit="departments", start=T0 - timedelta(hours=1), end=T0 + timedelta(days=1)
    )
    return {
        "tickets": await documents(store.TICKETS),
        "timeline": await documents(store.TIMELINE),
        "hours": await documents(store.HOURS),
        "days": await documents(store.DAYS),
        "indicators": {code: tally.to_doc() for code, tally in tallies.items()},
    }


async def _database(servers: Servers) -> Database:
    database = await service_database(servers, producer="supervision", clock=SetClock(T0 + timedelta(days=1)))
    await store.ensure_indexes(database.db)
    return database


async def test_events_projected_in_batches_leave_what_one_at_a_time_leaves(servers: Servers) -> None:
    events = _interleaved(
        _ticket("CG", T0),
        _ticket("ZJ", T0 + timedelta(minutes=3), rejected_by="CG"),
        _ticket("CG", T0 + timedelta(minutes=5), rework=True),
    )
    one_by_one, batched = await _database(servers), await _database(servers)
    for event in events:

        async def single(uow: Any, event: Envelope = event) -> None:
            await uow.mark_processed("supervision", event.event_id)
            await handlers.project(event, uow, CALENDAR)

        await one_by_one.transaction(single, causation=event)
    metrics = Metrics("supervision")
    cut = len(events) // 2
    first, second = events[:cut], events[cut - 3 :]  # the broker delivers the last three again
    done_first = await batched.transaction(lambda uow: handlers.project_batch(first, uow, CALENDAR, metrics))
    done_second = await batched.transaction(lambda uow: handlers.project_batch(second, uow, CALENDAR, metrics))

    assert done_first == {e.event_id for e in first}
    assert done_second == {e.event_id for e in events[cut:]}  # the three again are not counted twice
    assert await _projection(batched) == await _projection(one_by_one)
    counts = (await _projection(batched))["indicators"]["CG"]["n"]
    assert (counts["dispatched"], counts["rejected"], counts["reopened"], counts["closed"]) == (3, 1, 1, 2)


async def test_a_batch_with_an_event_of_an_unknown_ticket_changes_nothing(servers: Servers) -> None:
    database = await _database(servers)
    known = _ticket("SW", T0)
    stray = _ticket("SW", T0)[1]  # a dispatch of a ticket never reported
    metrics = Metrics("supervision")
    with pytest.raises(LookupError):
        await database.transaction(lambda uow: handlers.project_batch([*known[:3], stray], uow, CALENDAR, metrics))

    assert await database.db[store.TICKETS].count_documents({}) == 0
    assert await database.db[store.TIMELINE].count_documents({}) == 0
    assert await database.db[PROCESSED].count_documents({}) == 0  # so the one-by-one path handles every event
