"""Supervision projects every ticket event, all in the consumer's transaction: the timeline row
(who did what, when), the ticket's record, and the event's tally in its hour and day buckets.
Readers' questions (a ticket's timeline, the indicators, the ranking, the evaluation sheet, the
overdue list) are answered here too, within the reader's scope; the routing table is at the end."""

from datetime import timedelta
from functools import partial
from typing import Any, Literal

from pydantic import AwareDatetime, TypeAdapter

from gridloop.shared.access import in_scope
from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.events import Actor, Envelope, Payload, payload_types
from gridloop.shared.lifecycle import owed_deadline
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import PROCESSED, Database, Doc, UnitOfWork, processed_key, update_versioned
from gridloop.shared.paging import Cursor, page
from gridloop.shared.refdata import Calendars, RefData
from gridloop.shared.worktime import WorkCalendar
from gridloop.supervision import admission_flags, domain, kpi, store
from gridloop.supervision import evaluation as sheets
from gridloop.supervision.readmodel import ReadModel


class UnknownTicket(LookupError):
    """No such ticket, or not one the reader may see."""


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


async def project_batch(events: list[Envelope], uow: UnitOfWork, calendar: WorkCalendar, metrics: Metrics) -> set[str]:
    """Project a partition's fetched events in one transaction with their processed marks, by
    the rules `project` applies one at a time: eight round trips for the whole batch instead of
    seven per event. Returns the ids of the events that were new (the others were handled
    before). Anything `project` would refuse (an event of an unknown ticket, a second report)
    fails the whole batch, and the consumer then takes its events one by one."""
    marks = {processed_key(uow.producer, e.event_id): e for e in events}
    seen = uow.db[PROCESSED].find({"_id": {"$in": list(marks)}}, {"_id": 1}, session=uow.session)
    done = {d["_id"] async for d in seen}
    new_marks = [key for key in marks if key not in done]
    if not new_marks:
        return set()
    await uow.db[PROCESSED].insert_many([{"_id": key, "at": uow.now} for key in new_marks], session=uow.session)
    fresh = [marks[key] for key in new_marks]
    read = await store.get_tickets(uow.db, sorted({e.ticket_id for e in fresh}), session=uow.session)
    held: dict[str, Doc] = dict(read)
    changes: dict[str, Doc] = {}
    rows: list[Doc] = []
    buckets: dict[tuple[str, str], Doc] = {}
    for event in fresh:
        before = held.get(event.ticket_id)
        if (event.event_type == "ticket.reported") == (before is not None):
            known = "a known" if before else "an unknown"
            raise LookupError(f"{event.event_type} for {known} ticket {event.ticket_id}")
        if before is not None:
            for stage, department, seconds in domain.stage_durations(before, event):
                uow.after_commit(partial(metrics.stage_seconds.labels(stage, department).observe, seconds))
        step = domain.project(before, event, calendar)
        version = 0 if before is None else before["version"] + 1
        held[event.ticket_id] = {**step.ticket, "version": version}
        changes.setdefault(event.ticket_id, {}).update(step.changes, version=version)
        rows.append(step.row())
        store.merge_increments(buckets, store.bucket_increments(step.event.occurred_at, step.place, step.tally))
    await store.write_tickets(
        uow,
        new=[held[t] for t in changes if t not in read],
        changed=[(read[t], changes[t]) for t in changes if t in read],
    )
    await uow.db[store.TIMELINE].insert_many(rows, session=uow.session)
    await store.write_buckets(uow, buckets)
    return {e.event_id for e in fresh}


PROJECTED = frozenset(event_type for event_type, _ in payload_types())
"""Every lifecycle event: the timeline shows each, and the fold decides what each adds up to."""


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


async def refresh_gauges(database: Database, metrics: Metrics, weights: ScoreWeights, model: ReadModel) -> None:
    """Open and overdue tickets per lead department, and each department's rates and score over
    the last 30 days, for the gauges the command-centre dashboard reads."""
    now = database.clock.now()
    backlog = await model.backlog(database.db, unit="departments", reader=None, now=now)
    for department, (open_, overdue) in backlog.items():
        metrics.open_tickets.labels(department).set(open_)
        metrics.overdue_tickets.labels(department).set(overdue)
    tallies = await model.window_tallies(
        database.db, unit="departments", start=now - timedelta(days=30), end=now, reader=None, now=now
    )
    for department, tally in tallies.items():
        figures = kpi.indicators(tally, weights)
        for name in GAUGED:
            if figures[name] is not None:
                metrics.department_indicator.labels(department, name).set(figures[name])


GAUGED = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_resolution_rate", "score")


# Readers' questions ----------------------------------------------------------------------


def record_view(doc: Doc) -> dict[str, Any]:
    """A ticket record as readers see it: keyed by ticket_id, without the concurrency version."""
    return {"ticket_id": doc["_id"], **{k: v for k, v in doc.items() if k not in ("_id", "version")}}


def window_echo(window: kpi.Window) -> dict[str, Any]:
    """The window an answer covers, and what its bounds are compared with."""
    return {"from": window[0], "to": window[1], "timestamp": "occurred_at", "time_zone": str(kpi.ZONE)}


async def ticket_timeline(*, database: Database, reader: Actor, ticket_id: str) -> dict[str, Any]:
    """A ticket's record and every event of it in order; out of scope it does not exist."""
    doc = await store.get_ticket(database.db, ticket_id)
    if doc is None or not in_scope(reader, doc, store.TICKET_RECORD):
        raise UnknownTicket(ticket_id)
    events = await store.timeline(database.db, ticket_id)
    return {
        "ticket": record_view(doc),
        "timeline": [
            {
                "event_id": e["_id"],
                "event_type": e["event_type"],
                "occurred_at": e["occurred_at"],
                "actor": e["actor"],
                "department": e["department"],
                "correlation_id": e["correlation_id"],
                "payload": e["payload"],
            }
            for e in events
        ],
    }


async def unit_names(refdata: RefData, unit: kpi.Unit) -> dict[str, str]:
    """Each unit's name as the directory last announced it, in one read per request (not one per
    unit); a unit the directory does not know is shown by its code."""
    return {
        str(r["code"]): str(r["name"])
        for r in await refdata.all(kpi.DIRECTORY_KINDS[unit])
        if r.get("code") and r.get("name")
    }


async def indicators(
    *,
    database: Database,
    model: ReadModel,
    reader: Actor,
    unit: kpi.Unit,
    window: kpi.Window,
    weights: ScoreWeights,
    names: dict[str, str],
) -> list[dict[str, Any]]:
    """Every unit's indicators in the window, counting only tickets in the reader's scope, with
    its name; units with open tickets but nothing in the window are listed too."""
    now = database.clock.now()
    db = database.db
    tallies = await model.window_tallies(db, unit=unit.value, start=window[0], end=window[1], reader=reader, now=now)
    backlog = await model.backlog(db, unit=unit.value, reader=reader, now=now)
    items = []
    for code in sorted(tallies.keys() | backlog.keys()):
        open_now, overdue_now = backlog.get(code, (0, 0))
        items.append(
            {
                "code": code,
                "name": names.get(code, code),
                **kpi.indicators(tallies.get(code, kpi.Tally()), weights),
                "open_now": open_now,
                "overdue_now": overdue_now,
            }
        )
    return items


async def stats(
    *,
    database: Database,
    refdata: RefData,
    model: ReadModel,
    reader: Actor,
    unit: kpi.Unit,
    window: kpi.Window,
    weights: ScoreWeights,
    code: str | None = None,
) -> dict[str, Any]:
    """Every unit's figures in the window (or the one unit named), echoing the window they cover."""
    items = await indicators(
        database=database,
        model=model,
        reader=reader,
        unit=unit,
        window=window,
        weights=weights,
        names=await unit_names(refdata, unit),
    )
    if code is not None:
        items = [item for item in items if item["code"] == code]
    return {"unit": unit.value, "window": window_echo(window), "items": items}


async def ranking(
    *,
    database: Database,
    refdata: RefData,
    model: ReadModel,
    reader: Actor,
    unit: kpi.Unit,
    window: kpi.Window,
    evaluation: kpi.Evaluation,
    min_volume: int | None,
) -> dict[str, Any]:
    """The units ranked by composite score, with the 红榜 and 黑榜 (the minimum volume is the
    service's unless the reader asks for another)."""
    volume = min_volume or evaluation.min_volume
    items = await indicators(
        database=database,
        model=model,
        reader=reader,
        unit=unit,
        window=window,
        weights=evaluation.weights,
        names=await unit_names(refdata, unit),
    )
    return {
        "unit": unit.value,
        "window": window_echo(window),
        "weights": evaluation.weights.model_dump(),
        "min_volume": volume,
        **kpi.ranking(items, min_volume=volume, board_size=evaluation.board_size),
    }


async def evaluation_sheet(
    *,
    database: Database,
    refdata: RefData,
    model: ReadModel,
    reader: Actor,
    evaluation: kpi.Evaluation,
    month: str,
    sheet_format: sheets.SheetFormat,
) -> sheets.Sheet:
    """The month's departments, ranked ones first, named as the directory names them."""
    names = await unit_names(refdata, kpi.Unit.DEPARTMENTS)
    items = await indicators(
        database=database,
        model=model,
        reader=reader,
        unit=kpi.Unit.DEPARTMENTS,
        window=kpi.month_window(month),
        weights=evaluation.weights,
        names=names,
    )
    flags = await admission_flags.counts(database.db, month=month, reader=reader)
    items = admission_flags.with_flags(items, flags, names=names, weights=evaluation.weights)
    rows = kpi.standings(items, min_volume=evaluation.min_volume)
    return sheets.render(month, rows, names=names, sheet_format=sheet_format)


OverdueKey = tuple[Literal["overdue"], AwareDatetime, str]
OVERDUE_CURSOR = Cursor(TypeAdapter(OverdueKey))
"""An overdue page ends at a ticket: the deadline it owes, and its id."""


def _overdue_cursor(record: Doc) -> str:
    due = owed_deadline(record)
    assert due is not None, "an overdue ticket owes a deadline"
    return OVERDUE_CURSOR.encode(("overdue", due, record["_id"]))


async def overdue(
    *, database: Database, reader: Actor, limit: int, department: str | None = None, cursor: str | None = None
) -> dict[str, Any]:
    """A page of the open tickets in the reader's scope past the deadline of the step owed (of
    those `department` leads, when named), longest overdue first; InvalidCursor for a cursor this
    listing did not hand out."""
    after = OVERDUE_CURSOR.decode(cursor)[1:] if cursor else None
    found = await store.overdue(
        database.db, now=database.clock.now(), limit=limit + 1, reader=reader, department=department, after=after
    )
    docs, next_cursor = page(found, limit=limit, key=_overdue_cursor)
    return {"items": [record_view(d) for d in docs], "next_cursor": next_cursor}


async def command_map(
    *, database: Database, model: ReadModel, reader: Actor, grid: str | None, limit: int
) -> dict[str, Any]:
    """The map of the open tickets in the reader's scope, from the records held in memory."""
    now = database.clock.now()
    records = await model.open_records(database.db, reader=reader, now=now)
    return domain.command_map(records, now=now, grid=grid, limit=limit)


# Routing ---------------------------------------------------------------------------------


def routing(calendars: Calendars, metrics: Metrics | None = None) -> Routes:
    async def projected(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
        await project(event, uow, await calendars(), metrics)

    return routes(*(on(payload, projected) for payload in payload_types().values()))
