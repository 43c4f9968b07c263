"""The offers collection, and the day counters that number offers and projects."""

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.mongo import Doc, ensure_collections

OFFERS = "offers"
COUNTERS = "counters"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, OFFERS, COUNTERS)
    # matching: the accepted offers of the needs' categories
    await db[OFFERS].create_index([("status", ASCENDING), ("category_codes", ASCENDING)])
    await db[OFFERS].create_index([("unit_code", ASCENDING), ("_id", DESCENDING)])
    await db[OFFERS].create_index([("community_codes", ASCENDING), ("_id", DESCENDING)])
    await db[OFFERS].create_index([("street_code", ASCENDING), ("_id", DESCENDING)])
    await db[OFFERS].create_index([("district_code", ASCENDING), ("_id", DESCENDING)])


def _day(now: datetime) -> str:
    return now.astimezone(CITY_ZONE).strftime("%Y%m%d")


async def ensure_counter(db: AsyncDatabase[Doc], *, prefix: str, now: datetime) -> None:
    """The day's counter made before the transaction that takes a number from it: two first
    numbers of a day made at once in transactions would both insert it, and one would fail."""
    with suppress(DuplicateKeyError):
        await db[COUNTERS].update_one({"_id": f"{prefix}:{_day(now)}"}, {"$setOnInsert": {"seq": 0}}, upsert=True)


async def next_number(
    db: AsyncDatabase[Doc], *, prefix: str, now: datetime, session: AsyncClientSession, width: int = 4
) -> str:
    """The next number of the day (the city's day) for `prefix`: ZY-20261207-0001."""
    day = _day(now)
    counter = await db[COUNTERS].find_one_and_update(
        {"_id": f"{prefix}:{day}"},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert counter is not None
    return f"{prefix}-{day}-{int(counter['seq']):0{width}d}"


async def get(db: AsyncDatabase[Doc], offer_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[OFFERS].find_one({"_id": offer_id}, session=session)


async def by_ids(db: AsyncDatabase[Doc], ids: list[str], session: AsyncClientSession | None = None) -> list[Doc]:
    return await db[OFFERS].find({"_id": {"$in": ids}}, session=session).to_list(None)


async def listing(db: AsyncDatabase[Doc], *, query: Doc, before: str | None, limit: int) -> list[Doc]:
    """Newest first, by id (ids are time-ordered)."""
    if before is not None:
        query = {"$and": [query, {"_id": {"$lt": before}}]}
    return await db[OFFERS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def accepted_of_categories(db: AsyncDatabase[Doc], categories: list[str]) -> list[Doc]:
    """Accepted offers serving any of `categories` (the index on status and category_codes)."""
    found: list[dict[str, Any]] = (
        await db[OFFERS].find({"status": "accepted", "category_codes": {"$in": categories}}).to_list(None)
    )
    return found
