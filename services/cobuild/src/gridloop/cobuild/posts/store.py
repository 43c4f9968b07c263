"""The posts' collection `posts` (公益岗位 and their holders)."""

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc

POSTS = "posts"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[POSTS].create_index([("community_code", ASCENDING), ("_id", DESCENDING)])
    await db[POSTS].create_index([("holders", ASCENDING), ("status", ASCENDING)])


async def get(db: AsyncDatabase[Doc], post_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[POSTS].find_one({"_id": post_id}, session=session)


async def held_by(db: AsyncDatabase[Doc], member_id: str, session: AsyncClientSession | None = None) -> list[Doc]:
    """The open posts a member holds."""
    return [d async for d in db[POSTS].find({"holders": member_id, "status": "open"}, session=session)]


async def holders_posts(db: AsyncDatabase[Doc], member_ids: list[str]) -> dict[str, list[str]]:
    held: dict[str, list[str]] = {m: [] for m in member_ids}
    async for d in db[POSTS].find({"holders": {"$in": member_ids}, "status": "open"}, {"holders": 1}):
        for m in d["holders"]:
            if m in held:
                held[m].append(str(d["_id"]))
    return held


async def all_of(db: AsyncDatabase[Doc], member_id: str) -> list[str]:
    return [str(d["_id"]) async for d in db[POSTS].find({"holders": member_id}, {"_id": 1})]


async def listing(db: AsyncDatabase[Doc], query: Doc, *, after: str | None, limit: int) -> list[Doc]:
    if after is not None:
        query = {**query, "_id": {"$lt": after}}
    return [d async for d in db[POSTS].find(query).sort("_id", DESCENDING).limit(limit)]
