"""The needs' collections: `needs` (what may be shown, by scope), `need_private` (the beneficiary's
identity and the household's own words: read for one need, by those who serve it, never listed),
`ticket_facts` (what cobuild knows of each ticket: for conversion both ways and for hotspots) and
the daily counters of need numbers."""

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.shared.cobuild_lifecycle import NeedStatus
from gridloop.shared.mongo import Doc
from gridloop.shared.queries import all_of, find_each

NEEDS = "needs"
NEED_PRIVATE = "need_private"
TICKET_FACTS = "ticket_facts"
COUNTERS = "counters"
IDEMPOTENCY = "need_idempotency"
NEWEST_FIRST = [("_id", DESCENDING)]  # ids are time-ordered (UUIDv7)


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    for scope_field in ("community_code", "street_code", "district_code", "submitter_sub", "assigned_unit"):
        await db[NEEDS].create_index([(scope_field, ASCENDING), ("_id", DESCENDING)])
    await db[NEEDS].create_index([("claimant_codes", ASCENDING), ("_id", DESCENDING)])
    # the wish wall, by community and state; the watchdog's looks, by state and deadline
    await db[NEEDS].create_index(
        [("status", ASCENDING), ("community_code", ASCENDING), ("group", ASCENDING), ("_id", DESCENDING)]
    )
    # the community's desk by state (a list filtered by status)
    await db[NEEDS].create_index([("community_code", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])
    # the wall and the desk of one kind (微心愿 only): the equalities, then the range of ids each look reads
    await db[NEEDS].create_index(
        [("community_code", ASCENDING), ("status", ASCENDING), ("kind", ASCENDING), ("_id", DESCENDING)]
    )
    await db[NEEDS].create_index(
        [
            ("status", ASCENDING),
            ("community_code", ASCENDING),
            ("group", ASCENDING),
            ("kind", ASCENDING),
            ("_id", DESCENDING),
        ]
    )
    for deadline in ("review_deadline", "claim_deadline", "contact_deadline", "deliver_deadline", "confirm_by"):
        await db[NEEDS].create_index([("status", ASCENDING), (deadline, ASCENDING)])
    await db[NEEDS].create_index([("ticket_id", ASCENDING)])
    await db[NEEDS].create_index([("origin_ticket_id", ASCENDING)])
    await db[TICKET_FACTS].create_index(
        [("grid_code", ASCENDING), ("category_code", ASCENDING), ("closed_at", ASCENDING)]
    )


async def get(db: AsyncDatabase[Doc], need_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[NEEDS].find_one({"_id": need_id}, session=session)


async def private(db: AsyncDatabase[Doc], need_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[NEED_PRIVATE].find_one({"_id": need_id}, session=session)


async def insert(db: AsyncDatabase[Doc], need: Doc, private_doc: Doc, session: AsyncClientSession) -> None:
    await db[NEEDS].insert_one(need, session=session)
    await db[NEED_PRIVATE].insert_one(private_doc, session=session)


async def save_idempotent(
    db: AsyncDatabase[Doc], *, key: str, fingerprint: str, need_id: str, at: datetime, session: AsyncClientSession
) -> None:
    """A submission's Idempotency-Key, written first in its transaction: a retry fails on it at once."""
    await db[IDEMPOTENCY].insert_one(
        {"_id": key, "fingerprint": fingerprint, "need_id": need_id, "at": at}, session=session
    )


async def find_idempotent(db: AsyncDatabase[Doc], key: str) -> Doc | None:
    return await db[IDEMPOTENCY].find_one({"_id": key})


async def by_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    """The need converted to this ticket."""
    return await db[NEEDS].find_one({"ticket_id": ticket_id}, session=session)


async def from_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    """The need made of this (cancelled) ticket."""
    return await db[NEEDS].find_one({"origin_ticket_id": ticket_id}, session=session)


async def next_seq(db: AsyncDatabase[Doc], key: str) -> int:
    """The next number of a counter, by one atomic step of its own (outside any transaction, where
    concurrent submissions would collide on it; a number skipped by a retried transaction is not reused)."""
    for _ in range(3):
        with suppress(DuplicateKeyError):
            doc = await db[COUNTERS].find_one_and_update(
                {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
            if doc is not None:
                seq: int = doc["seq"]
                return seq
    raise RuntimeError(f"counter {key} could not be stepped")


WINDOWS = (timedelta(days=1), timedelta(days=7), timedelta(days=60))
"""How far back a look at a newest-first list reaches, from its newest possible need, while the
looks have found nothing yet (or the last found nothing more); past the last, without bound."""
WIDE_WINDOWS = (timedelta(days=3), timedelta(days=30), timedelta(days=180))
"""The same for a list of several filters: each look costs a query per filter (about what reading
twenty needs costs), so its first look reaches further."""
SPAN_MARGIN = 1.25
SPAN_GROWTH = (0.25, 8.0)
EMPTY_GROWTH = 4
UNBOUNDED_AFTER = timedelta(days=180)


def next_floor(
    *,
    start: datetime,
    lower: datetime,
    found: int,
    missing: int,
    more: bool,
    windows: tuple[timedelta, ...] = WINDOWS,
) -> datetime | None:
    """Where the next look of a newest-first list stops (None: without bound), the looks so far
    having read back from `start` to `lower` and found `found` needs, `missing` still to find,
    the last look finding `more` than those before it.

    The index bounds each look by its range of ids, and the database reads every need in that
    range: a fixed window over a dense history reads many times the needs a page takes. So once
    needs are found, the next look reaches back as far as the rate found so far says the missing
    ones lie, by SPAN_MARGIN, and between SPAN_GROWTH times the time covered so far. Until then,
    or after a look that found nothing (the state's needs may all be recent, as those waiting for
    review are), the first of `windows` reaching back EMPTY_GROWTH times as far as the looks so far;
    a look reaching back further than UNBOUNDED_AFTER, or past the last window, reads the rest
    without bound."""
    covered = start - lower
    if found and more:
        low, high = SPAN_GROWTH
        floor: datetime | None = lower - max(
            covered * min(high, max(low, SPAN_MARGIN * missing / found)), timedelta(minutes=1)
        )
    else:
        floor = next(
            (start - window for window in windows if window >= covered * EMPTY_GROWTH and window > covered), None
        )
    if floor is None or start - floor > UNBOUNDED_AFTER:
        return None
    return floor


def id_floor(at: datetime) -> str:
    """The least need id of the instant `at`: ids are UUIDv7 strings, whose leading 48 bits are
    the creation time in milliseconds, so every need created at or after `at` sorts at or above it."""
    digits = f"{max(0, int(at.timestamp() * 1000)):012x}"
    return f"{digits[:8]}-{digits[8:]}-0000-0000-000000000000"


def id_time(need_id: str) -> datetime | None:
    """When a need id was made (None for an id that is not a UUIDv7 string)."""
    try:
        return datetime.fromtimestamp(int(need_id[:8] + need_id[9:13], 16) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


async def newest_first(
    db: AsyncDatabase[Doc],
    filters: list[Doc],
    *,
    before: str | None,
    limit: int,
    now: datetime,
    projection: Doc | None = None,
    windows: tuple[timedelta, ...] | None = None,
) -> list[Doc]:
    """The first `limit` needs matching any of `filters` (plain filters), newest first, older than
    `before`. A list is read in looks over consecutive ranges of ids reaching back from `before`
    (or now), each sized by `next_floor`, until the page is full or a look had no lower bound: the
    database bounds each look by the index's range on `_id`, so a page of the recent needs reads
    about the needs it shows, not the whole history of the community or state. `windows` replaces
    the looks' first reaches (see next_floor)."""
    upper = before
    start = (id_time(before) if before else None) or now
    lower_at = start
    found: list[Doc] = []
    more = False
    while True:
        floor = next_floor(
            start=start,
            lower=lower_at,
            found=len(found),
            missing=limit - len(found),
            more=more,
            windows=windows or (WINDOWS if len(filters) == 1 else WIDE_WINDOWS),
        )
        lower = id_floor(floor) if floor is not None else None
        if lower is not None and upper is not None and lower >= upper:
            lower_at = floor or lower_at  # a cursor that is not a need's id: the windows below it
            continue
        bound: Doc = {}
        if upper is not None:
            bound["$lt"] = upper
        if lower is not None:
            bound["$gte"] = lower
        queries = [all_of(f, {"_id": bound}) if bound else f for f in filters]
        page = await find_each(db[NEEDS], queries, sort=NEWEST_FIRST, limit=limit - len(found), projection=projection)
        found += page
        if len(found) >= limit or floor is None:
            return found
        upper, lower_at, more = lower, floor, bool(page)


async def listing(
    db: AsyncDatabase[Doc], *, branches: list[Doc], before: str | None, limit: int, now: datetime
) -> list[Doc]:
    """Needs matching any of `branches` (plain filters), newest first, older than `before`."""
    return await newest_first(db, branches, before=before, limit=limit, now=now)


WATCHED: list[tuple[NeedStatus, str]] = [
    (NeedStatus.SUBMITTED, "review_deadline"),
    (NeedStatus.PUBLISHED, "claim_deadline"),
    (NeedStatus.ASSIGNED, "claim_deadline"),
    (NeedStatus.CLAIMED, "contact_deadline"),
    (NeedStatus.IN_SERVICE, "deliver_deadline"),
    (NeedStatus.DELIVERED, "confirm_by"),
]
"""The deadline each state owes, which the watchdog looks at."""


async def past_deadline(db: AsyncDatabase[Doc], *, now: datetime) -> list[Doc]:
    """Needs whose owed deadline has passed, announced already or not (the exception, not the bulk):
    one look per state, each an equality on the state and a range on its deadline (the form an
    index bounds); the watchdog's rule leaves out what it announced before."""
    found: list[Doc] = []
    for status, deadline in WATCHED:
        found += await db[NEEDS].find({"status": status.value, deadline: {"$lt": now}}).to_list(None)
    return found


# ---- ticket facts -----------------------------------------------------------------------------------


async def record_ticket(db: AsyncDatabase[Doc], fact: Doc, session: AsyncClientSession) -> None:
    """The ticket as first reported (a redelivered report changes nothing)."""
    await db[TICKET_FACTS].update_one({"_id": fact["_id"]}, {"$setOnInsert": fact}, upsert=True, session=session)


async def ticket_fact(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKET_FACTS].find_one({"_id": ticket_id}, session=session)


async def update_ticket(
    db: AsyncDatabase[Doc], ticket_id: str, update: dict[str, Any], session: AsyncClientSession
) -> None:
    await db[TICKET_FACTS].update_one({"_id": ticket_id}, update, session=session)
