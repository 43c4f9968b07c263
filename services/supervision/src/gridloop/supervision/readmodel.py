"""The indicator read model held in memory by each supervision instance, kept current by reading
only what changed since the last look.

Every bucket document and ticket record carries `updated_at`, stamped in the transaction that
changes it. A query first reads the documents stamped since the previous look (less a margin for
transactions that commit after they stamp), then answers from memory; periods not yet held are
loaded once, in whole days or months. So a month's figures cost a handful of small reads instead
of a hundred bucket documents, and the open-ticket counts cost none of the tickets themselves."""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields, in_scope
from gridloop.shared.clock import as_utc
from gridloop.shared.events import Actor
from gridloop.shared.lifecycle import is_overdue
from gridloop.shared.mongo import Doc
from gridloop.supervision import kpi, store

# A transaction stamps `updated_at` when it starts and may commit up to the database's transaction
# lifetime (60 s) later; each look re-reads that much before the previous one.
SYNC_MARGIN = timedelta(seconds=90)
# Figures may be this old: queries arriving together share one look at what changed.
FRESHNESS = timedelta(seconds=1)
TICKET_FIELDS = sorted(
    {
        "status",
        "accept_deadline",
        "resolve_deadline",
        "ticket_number",  # the map's points: what a marker shows, and where
        "category_name",
        "location",
        *store.TICKET_FIELDS.values(),
        *store.scope_paths(store.TICKET_RECORD),
    }
)


def visible(reader: Actor | None, doc: Doc, fields: Fields) -> bool:
    """Whether a document held in memory is in the reader's scope (shared.access, the rule the
    database queries apply through scope_filter); None reads every document (the gauges)."""
    return reader is None or in_scope(reader, doc, fields)


def _covers(ranges: Iterable[tuple[datetime, datetime]], a: datetime, b: datetime) -> bool:
    return any(lo <= a and b <= hi for lo, hi in ranges)


@dataclass
class ReadModel:
    buckets: dict[str, dict[str, Doc]] = field(default_factory=lambda: {store.HOURS: {}, store.DAYS: {}})
    covered: dict[str, list[tuple[datetime, datetime]]] = field(
        default_factory=lambda: {store.HOURS: [], store.DAYS: []}
    )
    open_tickets: dict[str, Doc] | None = None
    synced_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _sync(self, db: AsyncDatabase[Doc], now: datetime) -> None:
        if self.synced_at is not None and now - self.synced_at < FRESHNESS:
            return
        if self.synced_at is not None:
            since = self.synced_at - SYNC_MARGIN
            for collection, held in self.buckets.items():
                async for doc in db[collection].find({"updated_at": {"$gte": since}}):
                    held[doc["_id"]] = doc
            if self.open_tickets is not None:
                async for doc in db[store.TICKETS].find({"updated_at": {"$gte": since}}, TICKET_FIELDS):
                    if doc["status"] in store.OPEN:
                        self.open_tickets[doc["_id"]] = doc
                    else:
                        self.open_tickets.pop(doc["_id"], None)
        self.synced_at = now

    async def _hold(self, db: AsyncDatabase[Doc], collection: str, a: datetime, b: datetime) -> None:
        if _covers(self.covered[collection], a, b):
            return
        # whole days for hours, whole months for days: the next window, a little later, is held too
        if collection == store.HOURS:
            a, b = kpi.day_start(a), kpi.day_start(b) + timedelta(days=1)
        else:
            a, b = a.replace(day=1) - timedelta(days=1), b + timedelta(days=32)
        async for doc in db[collection].find({"at": {"$gte": a, "$lt": b}}):
            self.buckets[collection][doc["_id"]] = doc
        self.covered[collection].append((a, b))

    async def window_tallies(
        self, db: AsyncDatabase[Doc], *, unit: str, start: datetime, end: datetime, reader: Actor | None, now: datetime
    ) -> dict[str, kpi.Tally]:
        """store.window_tallies, with the whole days and hours answered from memory."""
        plan = kpi.plan_window(start, end)
        periods = [(store.DAYS, plan.days)] if plan.days else []
        periods += [(store.HOURS, hours) for hours in plan.hours]
        async with self.lock:
            await self._sync(db, now)
            for collection, (a, b) in periods:
                await self._hold(db, collection, a, b)
        result: dict[str, kpi.Tally] = {}
        for collection, (a, b) in periods:
            for bucket in self.buckets[collection].values():
                if a <= as_utc(bucket["at"]) < b and visible(reader, bucket, store.BUCKET):
                    for code, doc in bucket.get("units", {}).get(unit, {}).items():
                        result.setdefault(code, kpi.Tally()).add(kpi.Tally.from_doc(doc))
        field_name = kpi.UNIT_FIELDS[unit]
        projection = dict.fromkeys([field_name, "tally", *store.scope_paths(store.TIMELINE_ROW)], 1)
        for a, b in plan.raw:  # under an hour at each end: the timeline rows themselves, one read each
            async for row in db[store.TIMELINE].find({"occurred_at": {"$gte": a, "$lt": b}}, projection):
                if row.get(field_name) and row.get("tally") and visible(reader, row, store.TIMELINE_ROW):
                    result.setdefault(row[field_name], kpi.Tally()).add(kpi.Tally.from_doc(row["tally"]))
        return result

    async def _open(self, db: AsyncDatabase[Doc], now: datetime) -> dict[str, Doc]:
        async with self.lock:
            await self._sync(db, now)
            if self.open_tickets is None:
                self.open_tickets = {
                    doc["_id"]: doc
                    async for doc in db[store.TICKETS].find({"status": {"$in": store.OPEN}}, TICKET_FIELDS)
                }
            return self.open_tickets

    async def open_records(self, db: AsyncDatabase[Doc], *, reader: Actor | None, now: datetime) -> list[Doc]:
        """The tickets not yet closed or cancelled in the reader's scope, with the fields
        TICKET_FIELDS names, as held in memory."""
        held = await self._open(db, now)
        return [doc for doc in held.values() if visible(reader, doc, store.TICKET_RECORD)]

    async def backlog(
        self, db: AsyncDatabase[Doc], *, unit: str, reader: Actor | None, now: datetime
    ) -> dict[str, tuple[int, int]]:
        """{unit code: (open, overdue)} now: tickets not yet closed or cancelled, and those of them
        past the deadline of the step owed (departments count the tickets they lead)."""
        field_name = store.TICKET_FIELDS[unit]
        result: dict[str, tuple[int, int]] = {}
        for doc in await self.open_records(db, reader=reader, now=now):
            code = doc.get(field_name)
            if code:
                open_, overdue = result.get(code, (0, 0))
                result[code] = (open_ + 1, overdue + int(is_overdue(doc, now)))
        return result
