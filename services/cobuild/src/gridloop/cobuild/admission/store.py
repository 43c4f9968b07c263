"""The admission collections: requests (`admission_requests`), the communities' inbox entries
(`community_tasks`, one per admitted request and community) and flags of unadmitted tasks
(`task_flags`)."""

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc, ensure_collections

REQUESTS = "admission_requests"
TASKS = "community_tasks"
FLAGS = "task_flags"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, REQUESTS, TASKS, FLAGS)
    await db[REQUESTS].create_index([("department_code", ASCENDING), ("_id", DESCENDING)])
    await db[REQUESTS].create_index([("district_code", ASCENDING), ("status", ASCENDING), ("decision_due", ASCENDING)])
    await db[TASKS].create_index([("community_code", ASCENDING), ("status", ASCENDING), ("starts_on", ASCENDING)])
    await db[TASKS].create_index([("request_id", ASCENDING)])
    await db[FLAGS].create_index([("community_code", ASCENDING), ("_id", DESCENDING)])
    await db[FLAGS].create_index([("department_code", ASCENDING), ("_id", DESCENDING)])


async def get(db: AsyncDatabase[Doc], request_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[REQUESTS].find_one({"_id": request_id}, session=session)


async def listing(db: AsyncDatabase[Doc], *, query: Doc, before: str | None, limit: int) -> list[Doc]:
    """Newest first, by id (ids are time-ordered)."""
    if before is not None:
        query = {"$and": [query, {"_id": {"$lt": before}}]}
    return await db[REQUESTS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def put_tasks(db: AsyncDatabase[Doc], request: Doc, session: AsyncClientSession) -> None:
    """The admitted request in each of its communities' inboxes."""
    for community in request["community_codes"]:
        await db[TASKS].replace_one(
            {"_id": f"{request['_id']}:{community}"},
            {
                "request_id": request["_id"],
                "community_code": community,
                "status": request["status"],
                "starts_on": request["starts_on"],
                "ends_on": request["ends_on"],
            },
            upsert=True,
            session=session,
        )


async def set_task_status(db: AsyncDatabase[Doc], request_id: str, status: str, session: AsyncClientSession) -> None:
    await db[TASKS].update_many({"request_id": request_id}, {"$set": {"status": status}}, session=session)


async def inbox(db: AsyncDatabase[Doc], *, community: str, status: str) -> list[Doc]:
    """The community's requests in its inbox with `status`, soonest first."""
    entries = await db[TASKS].find({"community_code": community, "status": status}).sort("starts_on", 1).to_list(None)
    ids = [e["request_id"] for e in entries]
    found = {d["_id"]: d for d in await db[REQUESTS].find({"_id": {"$in": ids}}).to_list(None)}
    return [found[i] for i in ids if i in found]


async def flags(db: AsyncDatabase[Doc], *, query: Doc, limit: int) -> list[Doc]:
    return await db[FLAGS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)
