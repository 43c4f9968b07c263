"""Supervision's read models: every event of every ticket, and one record per ticket."""

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime

from pymongo import ASCENDING, InsertOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields, scope_filter
from gridloop.shared.events import Actor
from gridloop.shared.lifecycle import OPEN_STATES, OWED_DEADLINE, overdue_filters, owed_deadline
from gridloop.shared.mongo import ConcurrentChange, Doc, UnitOfWork
from gridloop.shared.queries import all_of, scope_branches
from gridloop.supervision import kpi

TIMELINE = "timeline"
TICKETS = "tickets"
HOURS = "stats_hours"  # one document per street and hour: every unit's tally (pre-aggregation)
DAYS = "stats_days"  # the same per street and day, days starting at the city's midnight
OPEN = sorted(state.value for state in OPEN_STATES)
TICKET_FIELDS = {
    "districts": "district_code",
    "departments": "lead_department",
    "streets": "street_code",
    "communities": "community_code",
    "grids": "grid_code",
}
# Where each kind of document keeps what the scope rule (shared.access) looks at. Only supervisors
# and street dispatchers read supervision, so no department field is declared.
TICKET_RECORD = Fields(street="street_code", district="district_code", community="community_code")
BUCKET = Fields(street="street_code", district="district_code")
TIMELINE_ROW = Fields(street="street_code", district="district_code")


BY_TIME = [("at", ASCENDING)]
BY_OCCURRENCE = [("occurred_at", ASCENDING)]
BY_STATUS = [("status", ASCENDING), ("accept_deadline", ASCENDING)]
OVERDUE_INDEXES = [
    [(area, ASCENDING), ("lead_department", ASCENDING), ("status", ASCENDING), (deadline, ASCENDING)]
    for area in ("district_code", "street_code")
    for deadline in sorted(set(OWED_DEADLINE.values()))
]
"""A department's overdue tickets in a supervisor's district or a street: every field of each of
the list's filters, so the embedded database bounds them too (queries.py)."""


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TIMELINE].create_index([("ticket_id", ASCENDING), ("_id", ASCENDING)])
    await db[TIMELINE].create_index(BY_OCCURRENCE)
    await db[TIMELINE].create_index([("minutes_basis", ASCENDING)])
    await db[TICKETS].create_index(BY_STATUS)
    for index in OVERDUE_INDEXES:
        await db[TICKETS].create_index(index)
    for collection in (HOURS, DAYS):
        await db[collection].create_index(BY_TIME)
    for collection in (HOURS, DAYS, TICKETS):
        await db[collection].create_index([("updated_at", ASCENDING)])


async def get_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def timeline(db: AsyncDatabase[Doc], ticket_id: str) -> list[Doc]:
    return await db[TIMELINE].find({"ticket_id": ticket_id}).sort("_id", ASCENDING).to_list(None)


async def get_tickets(
    db: AsyncDatabase[Doc], ticket_ids: list[str], session: AsyncClientSession | None = None
) -> dict[str, Doc]:
    """The records of these tickets (those that exist), in one read."""
    return {d["_id"]: d async for d in db[TICKETS].find({"_id": {"$in": ticket_ids}}, session=session)}


async def write_tickets(uow: UnitOfWork, *, new: list[Doc], changed: list[tuple[Doc, Doc]]) -> None:
    """New records, and (record as read, changes) for the others, in one round trip; a record
    changed by someone else since it was read fails the whole write (optimistic concurrency)."""
    writes: list[InsertOne[Doc] | UpdateOne] = [InsertOne({**doc, "updated_at": uow.now}) for doc in new]
    writes += [
        UpdateOne({"_id": read["_id"], "version": read["version"]}, {"$set": {**changes, "updated_at": uow.now}})
        for read, changes in changed
    ]
    if not writes:
        return
    result = await uow.db[TICKETS].bulk_write(writes, ordered=True, session=uow.session)
    if result.matched_count != len(changed):
        raise ConcurrentChange(f"{len(changed) - result.matched_count} ticket record(s) changed since read")


def bucket_increments(at: datetime, place: Doc, tally: kpi.Tally) -> dict[tuple[str, str], Doc]:
    """Where an event's tally goes: its hour's and its day's bucket of the street, each with the
    `$inc` paths of every unit it counts for (see docs/metrics.md §Pre-aggregation)."""
    increments: dict[str, int] = {}
    for unit, code in kpi.unit_codes(place).items():
        increments |= tally.increments(f"units.{unit}.{code}")
    if not increments:
        return {}
    return {
        (collection, bucket_id(place["street_code"], start)): {
            "increments": increments,
            "street_code": place["street_code"],
            "district_code": place["district_code"],
            "at": start,
        }
        for collection, start in ((HOURS, kpi.hour_start(at)), (DAYS, kpi.day_start(at)))
    }


def merge_increments(into: dict[tuple[str, str], Doc], more: dict[tuple[str, str], Doc]) -> None:
    """Add one event's bucket increments to those gathered for a batch of events."""
    for key, bucket in more.items():
        held = into.setdefault(key, {**bucket, "increments": {}})
        for path, n in bucket["increments"].items():
            held["increments"][path] = held["increments"].get(path, 0) + n


async def add_to_buckets(uow: UnitOfWork, at: datetime, place: Doc, tally: kpi.Tally) -> None:
    """Add an event's tally to the hour and the day it happened in, for every unit it counts for."""
    await write_buckets(uow, bucket_increments(at, place, tally))


async def write_buckets(uow: UnitOfWork, buckets: dict[tuple[str, str], Doc]) -> None:
    """Apply gathered increments: one round trip per collection, however many events they add up."""
    for collection in (HOURS, DAYS):
        writes = [
            UpdateOne(
                {"_id": _id},
                {
                    "$inc": bucket["increments"],
                    "$set": {"updated_at": uow.now},  # what the in-memory read model re-reads
                    "$setOnInsert": {k: bucket[k] for k in ("street_code", "district_code", "at")},
                },
                upsert=True,
            )
            for (name, _id), bucket in buckets.items()
            if name == collection
        ]
        if writes:
            await uow.db[collection].bulk_write(writes, ordered=False, session=uow.session)


async def rows_counted_on(db: AsyncDatabase[Doc], *, bases: list[str], limit: int) -> list[Doc]:
    """Timeline rows whose durations were counted on one of these calendar bases (e.g. `2027@statutory`)."""
    return await db[TIMELINE].find({"minutes_basis": {"$in": bases}}).limit(limit).to_list(None)


async def replace_row_tally(uow: UnitOfWork, row: Doc, *, tally: kpi.Tally, basis: list[str]) -> bool:
    """The row's new tally, unless another pass recounted it first (then False, nothing changed)."""
    result = await uow.db[TIMELINE].update_one(
        {"_id": row["_id"], "minutes_basis": row["minutes_basis"]},
        {"$set": {"tally": tally.to_doc(), "minutes_basis": basis}},
        session=uow.session,
    )
    return result.modified_count == 1


def bucket_id(street: str, start: datetime) -> str:
    return f"{street}|{start.isoformat()}"


def scope_paths(fields: Fields) -> list[str]:
    """The fields a document must be read with for the scope rule to judge it."""
    return [f for f in (fields.street, fields.district, fields.community, fields.reporter, fields.departments) if f]


def _scope(reader: Actor | None, fields: Fields) -> Doc:
    """The reader's scope as a filter on documents kept with `fields` (None: every document)."""
    return {} if reader is None else scope_filter(reader, fields)


async def window_tallies(
    db: AsyncDatabase[Doc], *, unit: str, start: datetime, end: datetime, reader: Actor | None = None
) -> dict[str, kpi.Tally]:
    """Each unit's tally over events in [start, end): whole days and hours from the buckets,
    the edges under an hour from the timeline itself, all read from the database on every call.
    The service answers from its in-memory read model (readmodel.py); this is the database-only
    path the benchmark measures against the raw timeline rows."""
    plan = kpi.plan_window(start, end)
    result: dict[str, kpi.Tally] = {}

    def fold(code: str | None, doc: Doc | None) -> None:
        if code and doc:
            result.setdefault(code, kpi.Tally()).add(kpi.Tally.from_doc(doc))

    periods = [(DAYS, plan.days)] if plan.days else []
    periods += [(HOURS, hours) for hours in plan.hours]
    for collection, (a, b) in periods:
        async for bucket in _find(
            db[collection], _scope(reader, BUCKET), {"at": {"$gte": a, "$lt": b}}, {f"units.{unit}": 1}
        ):
            for code, doc in bucket.get("units", {}).get(unit, {}).items():
                fold(code, doc)
    field = kpi.UNIT_FIELDS[unit]
    for a, b in plan.raw:
        query = {"occurred_at": {"$gte": a, "$lt": b}}
        async for row in _find(db[TIMELINE], _scope(reader, TIMELINE_ROW), query, {field: 1, "tally": 1}):
            fold(row.get(field), row.get("tally"))
    return result


async def _find(
    collection: AsyncCollection[Doc], scope: Doc, query: Doc, projection: Doc | None = None
) -> AsyncIterator[Doc]:
    """Documents matching `query` within `scope`, one query per branch of a scope's $or (a
    supervisor's district or street), each of which the indexes serve; an $or beside the time
    range makes the embedded database scan the whole collection."""
    seen: set[object] = set()
    for branch in scope_branches(scope):
        async for doc in collection.find({**branch, **query}, projection):
            if doc["_id"] not in seen:
                seen.add(doc["_id"])
                yield doc


async def raw_tallies(
    db: AsyncDatabase[Doc], *, unit: str, start: datetime, end: datetime, reader: Actor | None = None
) -> dict[str, kpi.Tally]:
    """The same tallies straight from every timeline row in the window, without the buckets:
    what the pre-aggregation is measured against, and what the rebuild is checked with."""
    field = kpi.UNIT_FIELDS[unit]
    result: dict[str, kpi.Tally] = {}
    async for row in _find(
        db[TIMELINE], _scope(reader, TIMELINE_ROW), {"occurred_at": {"$gte": start, "$lt": end}}, {field: 1, "tally": 1}
    ):
        if row.get(field) and row.get("tally"):
            result.setdefault(row[field], kpi.Tally()).add(kpi.Tally.from_doc(row["tally"]))
    return result


async def overdue(
    db: AsyncDatabase[Doc],
    *,
    now: datetime,
    limit: int,
    reader: Actor | None = None,
    department: str | None = None,
    after: tuple[datetime, str] | None = None,
) -> list[Doc]:
    """Open tickets past the deadline of the step their department owes (of those `department`
    leads, when named), longest overdue first, ties by ticket. `after`: only those that sort after
    that (deadline owed, ticket id), the last of the previous page. Plain filters only, one per
    branch of the reader's scope, owed deadline and side of `after`, each bounded by an index
    (OVERDUE_INDEXES with a department; queries.py), the pages merged."""
    own: Doc = {"lead_department": department} if department else {}
    searches: list[tuple[Doc, str]] = []
    for branch in scope_branches(_scope(reader, TICKET_RECORD)):
        for late in overdue_filters(now):
            (field,) = late.keys() - {"status"}
            status = {"status": late["status"]}
            if after is None:
                searches.append((all_of(branch, own, late), field))
                continue
            due, ticket_id = after
            searches.append((all_of(branch, own, status, {field: {"$gt": due, "$lt": now}}), field))
            if due < now:
                searches.append((all_of(branch, own, status, {field: due, "_id": {"$gt": ticket_id}}), field))
    found: dict[str, Doc] = {}
    for query, field in searches:
        async for doc in db[TICKETS].find(query).sort([(field, ASCENDING), ("_id", ASCENDING)]).limit(limit):
            found.setdefault(doc["_id"], doc)
    return sorted(found.values(), key=lambda d: (owed_deadline(d) or now, d["_id"]))[:limit]


async def replace_all(db: AsyncDatabase[Doc], records: Mapping[str, Mapping[str, Doc]], *, batch: int = 2000) -> None:
    """stats-rebuild: each collection's documents replaced by the replayed ones (`records`: collection
    -> id -> document), written in large unordered batches."""
    now = datetime.now(UTC)
    for collection, held in records.items():
        await db[collection].delete_many({})
        docs = [{**doc, "updated_at": now} for doc in held.values()]
        for i in range(0, len(docs), batch):
            await db[collection].insert_many(docs[i : i + batch], ordered=False)
