"""双报到's collections: `units_reported`, `unit_headcounts`, `members` (no name, phone or identity
number: those are in `member_private`, read for one member by those allowed), and the job's
`member_jobs` mark of the years whose minimum has been checked."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.mongo import Doc

UNITS_REPORTED = "units_reported"
UNIT_HEADCOUNTS = "unit_headcounts"
MEMBERS = "members"
MEMBER_PRIVATE = "member_private"
MEMBER_JOBS = "member_jobs"
RECORDS = "records"  # the activities area's; read for the yearly minimum
LEDGER = "ledger"  # the points area's; read for a person's export
YEARLY_MARK = "yearly_minimum"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[UNITS_REPORTED].create_index([("unit_code", ASCENDING)])
    await db[UNITS_REPORTED].create_index([("community_code", ASCENDING)])
    # one current registration per person; an ended one has current_sub None and is left out
    await db[MEMBERS].create_index(
        [("current_sub", ASCENDING)],
        name="one_current_registration",
        unique=True,
        partialFilterExpression={"current_sub": {"$type": "string"}},
    )
    await db[MEMBERS].create_index([("sub", ASCENDING), ("_id", DESCENDING)])
    await db[MEMBERS].create_index([("community_code", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])
    await db[MEMBERS].create_index([("unit_code", ASCENDING), ("_id", DESCENDING)])
    await db[MEMBERS].create_index([("status", ASCENDING), ("last_return_at", ASCENDING)])


async def get(db: AsyncDatabase[Doc], member_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBERS].find_one({"_id": member_id}, session=session)


async def latest_of(db: AsyncDatabase[Doc], sub: str, session: AsyncClientSession | None = None) -> Doc | None:
    """The person's newest registration."""
    return await db[MEMBERS].find_one({"sub": sub}, sort=[("_id", DESCENDING)], session=session)


async def private(db: AsyncDatabase[Doc], member_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBER_PRIVATE].find_one({"_id": member_id}, session=session)


async def privates(db: AsyncDatabase[Doc], ids: list[str]) -> dict[str, Doc]:
    return {d["_id"]: d async for d in db[MEMBER_PRIVATE].find({"_id": {"$in": ids}})}


async def listing(db: AsyncDatabase[Doc], query: Doc, *, after: str | None, limit: int) -> list[Doc]:
    if after is not None:
        query = {**query, "_id": {"$lt": after}}
    return [d async for d in db[MEMBERS].find(query).sort("_id", DESCENDING).limit(limit)]


async def reports_of(db: AsyncDatabase[Doc], unit_code: str) -> list[Doc]:
    return [d async for d in db[UNITS_REPORTED].find({"unit_code": unit_code}).sort("community_code", ASCENDING)]


async def headcount(db: AsyncDatabase[Doc], unit_code: str) -> Doc | None:
    return await db[UNIT_HEADCOUNTS].find_one({"_id": unit_code})


async def active_for_return(db: AsyncDatabase[Doc], *, returned_before: datetime, limit: int) -> list[Doc]:
    """Active members whose last return is older than the window."""
    query = {"status": "active", "last_return_at": {"$lt": returned_before}}
    return [d async for d in db[MEMBERS].find(query).limit(limit)]


async def active_members(db: AsyncDatabase[Doc]) -> list[Doc]:
    return [d async for d in db[MEMBERS].find({"status": "active"})]


async def year_service(db: AsyncDatabase[Doc], *, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Per member: approved services and minutes whose service date falls in [start, end) (a date
    kept either as an instant or as the city's day written YYYY-MM-DD)."""
    first_day = start.astimezone(CITY_ZONE).date().isoformat()
    next_day = end.astimezone(CITY_ZONE).date().isoformat()
    match = {
        "status": "approved",
        "$or": [
            {"service_date": {"$gte": start, "$lt": end}},
            {"service_date": {"$gte": first_day, "$lt": next_day}},
        ],
    }
    pipeline: list[dict[str, Any]] = [
        {"$match": match},
        {"$group": {"_id": "$member_id", "n": {"$sum": 1}, "minutes": {"$sum": {"$ifNull": ["$minutes", 0]}}}},
    ]
    cursor = await db[RECORDS].aggregate(pipeline)
    return {d["_id"]: (int(d["n"]), int(d["minutes"])) async for d in cursor}


async def judged_year(db: AsyncDatabase[Doc]) -> int | None:
    mark = await db[MEMBER_JOBS].find_one({"_id": YEARLY_MARK})
    return int(mark["year"]) if mark else None


async def mark_judged(db: AsyncDatabase[Doc], year: int, at: datetime, session: AsyncClientSession) -> None:
    await db[MEMBER_JOBS].update_one(
        {"_id": YEARLY_MARK}, {"$set": {"year": year, "at": at}}, upsert=True, session=session
    )


async def record_ids(db: AsyncDatabase[Doc], member_id: str) -> list[str]:
    return [str(d["_id"]) async for d in db[RECORDS].find({"member_id": member_id}, {"_id": 1})]


async def ledger_of(db: AsyncDatabase[Doc], member_id: str) -> list[Doc]:
    account = f"member:{member_id}"
    query = {"$or": [{"member_id": member_id}, {"entries.account": account}]}
    return [d async for d in db[LEDGER].find(query).sort("_id", ASCENDING)]
