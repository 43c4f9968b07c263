"""自动结案 against the real database, on a clock the test sets: a resolved ticket nobody verifies
closes by itself after the time allowed, once, marked as such, and its reporter is told."""

from datetime import UTC, datetime, timedelta

import pytest

from gridloop.feedback import handlers, store
from gridloop.shared.events import Actor, Role, TicketAccepted, TicketDispatched, TicketResolved
from gridloop.shared.ids import new_id
from gridloop.shared.lifecycle import TransitionNotAllowed
from gridloop.shared.messagebus import handle_event
from gridloop.shared.mongo import OUTBOX
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.settings import DEV_PHOTO_KEY
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, make_event, outbox_events, reported, service_database

pytestmark = pytest.mark.integration
AGENT = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
REPORTER = Actor(sub="gw-auto", role=Role.GRID_WORKER, org="LJ01")
ALLOWED = timedelta(hours=72)


async def test_a_ticket_nobody_verifies_closes_by_itself_once_marked_as_such(servers: Servers) -> None:
    start = datetime(2026, 12, 30, 9, tzinfo=UTC)
    clock = SetClock(start)
    database = await service_database(servers, producer="feedback", clock=clock)
    await store.ensure_indexes(database.db)
    ticket_id = new_id()
    resolved_at = start + timedelta(hours=2)
    events = [
        reported(ticket_id, reporter=REPORTER, at=start),
        make_event(
            TicketDispatched(
                round=1,
                lead_department="CG",
                accept_deadline=start + timedelta(hours=1),
                resolve_deadline=start + timedelta(hours=4),
                manual=False,
            ),
            ticket_id=ticket_id,
            at=start,
        ),
        make_event(TicketAccepted(department="CG", round=1), ticket_id=ticket_id, actor=AGENT, at=start),
        make_event(
            TicketResolved(department="CG", round=1, note="已清运"), ticket_id=ticket_id, actor=AGENT, at=resolved_at
        ),
    ]
    for event in events:
        clock.value = event.occurred_at
        assert await handle_event(database=database, routes=handlers.ROUTES, event=event)

    # across the new year: resolved on 30 December, the 72 hours run out on 2 January
    clock.value = resolved_at + ALLOWED - timedelta(minutes=1)
    assert await handlers.auto_close(database=database, after=ALLOWED) == 0
    clock.value = resolved_at + ALLOWED + timedelta(seconds=1)
    assert await handlers.auto_close(database=database, after=ALLOWED) == 1
    assert await handlers.auto_close(database=database, after=ALLOWED) == 0  # once

    [closed] = outbox_events(await database.db[OUTBOX].find({"key": ticket_id}).to_list(None))
    assert closed.event_type == "ticket.closed" and closed.payload.auto and closed.actor.role == Role.SYSTEM
    with pytest.raises(TransitionNotAllowed):  # closed: nothing left to verify
        await handlers.verify(
            database=database,
            seal=PhotoSeal(DEV_PHOTO_KEY),
            ticket_id=ticket_id,
            actor=REPORTER,
            passed=False,
            comment="",
            photos=[],
        )
    told = await handlers.notifications(database=database, recipient=REPORTER, unread=None, limit=50)
    assert any("自动结案" in n["text"] for n in told["items"] if n["ticket_id"] == ticket_id)
