"""Supervision projects every ticket event, all in the consumer's transaction: the timeline row
(who did what, when), the ticket's record, and the event's tally in its hour and day buckets."""

from datetime import timedelta
from functools import partial

from gridloop.shared.events import Envelope, Payload, payload_types
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars
from gridloop.shared.worktime import WorkCalendar
from gridloop.supervision import domain, kpi, store
from gridloop.supervision.readmodel import ReadModel


async def project(event: Envelope, uow: UnitOfWork, calendar: WorkCalendar, metrics: Metrics | None = None) -> None:
    if event.event_type == "ticket.reported":
        before = None
    else:
        before = await store.get_ticket(uow.db, event.ticket_id, session=uow.session)
        if before is None:
            raise LookupError(f"{event.event_type} for unknown ticket {event.ticket_id}")
        if metrics is not None:
            for stage, department, seconds in domain.stage_durations(before, event):
                histogram = metrics.stage_seconds.labels(stage, department)
                uow.after_commit(partial(histogram.observe, seconds))
    step = domain.project(before, event, calendar)
    if before is None:
        await uow.db[store.TICKETS].insert_one({**step.ticket, "updated_at": uow.now}, session=uow.session)
    else:
        await update_versioned(uow, store.TICKETS, before, step.changes)
    await uow.db[store.TIMELINE].insert_one(step.row(), session=uow.session)
    await store.add_to_buckets(uow, step.event.occurred_at, step.place, step.tally)


PROJECTED = frozenset(event_type for event_type, _ in payload_types())
"""Every lifecycle event: the timeline shows each, and the fold decides what each adds up to."""


def routing(calendars: Calendars, metrics: Metrics | None = None) -> Routes:
    async def projected(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
        await project(event, uow, await calendars(), metrics)

    return routes(*(on(payload, projected) for payload in payload_types().values()))


async def recount_durations(*, database: Database, calendars: Calendars, limit: int = 200) -> int:
    """Durations counted by the statutory rule (or on an amended year's earlier schedule) are
    counted again once the year's schedule is loaded; their buckets follow in the same transaction."""
    calendar = await calendars()
    stale = calendar.stale_bases()
    if not stale:
        return 0
    recounted = 0
    for row in await store.rows_counted_on(database.db, bases=stale, limit=limit):

        async def work(uow: UnitOfWork, row: Doc = row) -> int:
            result = domain.recount(row, calendar)
            if not await store.replace_row_tally(uow, row, tally=result.tally, basis=result.basis):
                return 0
            await store.add_to_buckets(uow, row["occurred_at"], row, result.difference)
            return 1

        recounted += await database.transaction(work)
    return recounted


async def refresh_gauges(database: Database, metrics: Metrics, weights: kpi.ScoreWeights, model: ReadModel) -> None:
    """Open and overdue tickets per lead department, and each department's rates and score over
    the last 30 days, for the gauges the command-centre dashboard reads."""
    now = database.clock.now()
    everywhere: Doc = {}
    backlog = await model.backlog(database.db, unit="departments", scope=everywhere, now=now)
    for department, (open_, overdue) in backlog.items():
        metrics.open_tickets.labels(department).set(open_)
        metrics.overdue_tickets.labels(department).set(overdue)
    tallies = await model.window_tallies(
        database.db, unit="departments", start=now - timedelta(days=30), end=now, scope=everywhere, now=now
    )
    for department, tally in tallies.items():
        figures = kpi.indicators(tally, weights)
        for name in GAUGED:
            if figures[name] is not None:
                metrics.department_indicator.labels(department, name).set(figures[name])


GAUGED = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_resolution_rate", "score")
