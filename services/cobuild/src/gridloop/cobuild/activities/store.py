"""The activities, records and check-ins collections (their owner is this area), and the reads it
makes of the members' registrations (`members`, `member_private`: the members area keeps them)."""

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc, ensure_collections
from gridloop.shared.volunteering_lifecycle import RecordStatus

ACTIVITIES = "activities"
RECORDS = "records"
CHECKINS = "checkins"  # {_id: "<activity>:<member>", checkin_at}: a check-in not yet followed by check-out
MEMBERS = "members"
MEMBER_PRIVATE = "member_private"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, ACTIVITIES, RECORDS, CHECKINS)
    for area in ("community_code", "street_code", "district_code", "organizer_code"):
        await db[ACTIVITIES].create_index([(area, ASCENDING), ("starts_at", DESCENDING)])
    await db[RECORDS].create_index([("activity_id", ASCENDING), ("member_id", ASCENDING)], unique=True)
    await db[RECORDS].create_index([("member_id", ASCENDING), ("service_date", DESCENDING)])
    await db[RECORDS].create_index([("community_code", ASCENDING), ("_id", DESCENDING)])
    await db[RECORDS].create_index([("organizer_code", ASCENDING), ("_id", DESCENDING)])


async def get(db: AsyncDatabase[Doc], activity_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[ACTIVITIES].find_one({"_id": activity_id}, session=session)


async def record(db: AsyncDatabase[Doc], record_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[RECORDS].find_one({"_id": record_id}, session=session)


async def record_of(
    db: AsyncDatabase[Doc], activity_id: str, member_id: str, session: AsyncClientSession | None = None
) -> Doc | None:
    return await db[RECORDS].find_one({"activity_id": activity_id, "member_id": member_id}, session=session)


async def records_of_member(db: AsyncDatabase[Doc], member_id: str, activity_ids: list[str]) -> dict[str, Doc]:
    found = db[RECORDS].find({"member_id": member_id, "activity_id": {"$in": activity_ids}})
    return {str(r["activity_id"]): r async for r in found}


async def checkin(
    db: AsyncDatabase[Doc], activity_id: str, member_id: str, session: AsyncClientSession | None = None
) -> Doc | None:
    return await db[CHECKINS].find_one({"_id": f"{activity_id}:{member_id}"}, session=session)


async def checkins_of_member(db: AsyncDatabase[Doc], member_id: str, activity_ids: list[str]) -> dict[str, Doc]:
    found = db[CHECKINS].find({"_id": {"$in": [f"{a}:{member_id}" for a in activity_ids]}})
    return {str(c["activity_id"]): c async for c in found}


async def undecided(db: AsyncDatabase[Doc], activity_id: str, session: AsyncClientSession | None = None) -> int:
    """Records still waiting on the organiser (submitted) or on the member (returned)."""
    open_states = [RecordStatus.SUBMITTED.value, RecordStatus.RETURNED.value]
    return await db[RECORDS].count_documents(
        {"activity_id": activity_id, "status": {"$in": open_states}}, session=session
    )


async def has_records(db: AsyncDatabase[Doc], activity_id: str, session: AsyncClientSession | None = None) -> bool:
    return await db[RECORDS].find_one({"activity_id": activity_id}, {"_id": 1}, session=session) is not None


async def member_by_sub(db: AsyncDatabase[Doc], sub: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBERS].find_one({"sub": sub}, session=session)


async def member(db: AsyncDatabase[Doc], member_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBERS].find_one({"_id": member_id}, session=session)


async def member_name(db: AsyncDatabase[Doc], member_id: str) -> str | None:
    found = await db[MEMBER_PRIVATE].find_one({"_id": member_id}, {"name": 1})
    return str(found["name"]) if found and found.get("name") else None


async def activities(
    db: AsyncDatabase[Doc], *, query: Doc, before: tuple[datetime, str] | None, limit: int
) -> list[Doc]:
    """Newest start first."""
    if before is not None:
        at, key = before
        query = {"$and": [query, {"$or": [{"starts_at": {"$lt": at}}, {"starts_at": at, "_id": {"$lt": key}}]}]}
    return (
        await db[ACTIVITIES]
        .find(query)
        .sort([("starts_at", DESCENDING), ("_id", DESCENDING)])
        .limit(limit)
        .to_list(None)
    )


async def records(db: AsyncDatabase[Doc], *, query: Doc, before: str | None, limit: int) -> list[Doc]:
    if before is not None:
        query = {"$and": [query, {"_id": {"$lt": before}}]}
    return await db[RECORDS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def approved_minutes(db: AsyncDatabase[Doc], query: Doc) -> int:
    rows = await db[RECORDS].aggregate(
        [
            {"$match": {"$and": [query, {"status": RecordStatus.APPROVED.value}]}},
            {"$group": {"_id": None, "minutes": {"$sum": "$minutes"}}},
        ]
    )
    found = await rows.to_list(None)
    return int(found[0]["minutes"]) if found else 0


async def certificate_records(
    db: AsyncDatabase[Doc], *, member_id: str, organizer_kind: str, organizer_code: str, start: datetime, end: datetime
) -> list[Doc]:
    query = {
        "member_id": member_id,
        "organizer_kind": organizer_kind,
        "organizer_code": organizer_code,
        "status": RecordStatus.APPROVED.value,
        "service_date": {"$gte": start, "$lt": end},
    }
    return await db[RECORDS].find(query).sort("service_date", ASCENDING).to_list(None)
