"""Feedback's collection: one document per ticket with its verification task and rating."""

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc

TICKETS = "tickets"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TICKETS].create_index([("reporter", ASCENDING), ("verification.status", ASCENDING)])


async def get(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def verifications(
    db: AsyncDatabase[Doc], *, reporter: str | None, status: str | None, rated: bool | None, limit: int
) -> list[Doc]:
    query: Doc = {"verification": {"$ne": None}}
    if rated is not None:
        query["rating"] = {"$ne": None} if rated else None
    if reporter is not None:
        query["reporter"] = reporter
    if status:
        query["verification.status"] = status
    return await db[TICKETS].find(query).sort("verification.since", ASCENDING).limit(limit).to_list(None)
