"""Feedback's collection: one document per ticket with its verification task and rating."""

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields
from gridloop.shared.mongo import Doc

TICKETS = "tickets"
NOTIFICATIONS = "notifications"
TASK_SCOPE = Fields(reporter="verifier.sub", community="verifier.community")
"""Whose verification tasks a ticket is: a grid worker's when they verify it (their own report) or
their community does (a report the street registered); a supervisor's by its street or district."""


def verifier_unrecorded(reporter: str) -> Doc:
    """Tickets stored before verifiers were recorded: their reporter verifies them (domain.may_verify)."""
    return {"verifier": {"$exists": False}, "reporter": reporter}


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TICKETS].create_index([("reporter", ASCENDING), ("verification.status", ASCENDING)])
    await db[TICKETS].create_index([("verifier.community", ASCENDING), ("verification.status", ASCENDING)])
    await db[TICKETS].create_index([("verification.status", ASCENDING), ("verification.since", ASCENDING)])
    await db[NOTIFICATIONS].create_index([("recipient", ASCENDING), ("_id", DESCENDING)])


async def unverified_since(db: AsyncDatabase[Doc], *, before: datetime, limit: int) -> list[Doc]:
    """Resolved tickets waiting for verification since before `before`."""
    query: Doc = {"verification.status": "pending", "verification.since": {"$lte": before}}
    return await db[TICKETS].find(query, {"_id": 1}).limit(limit).to_list(None)


async def notifications(db: AsyncDatabase[Doc], *, recipient: str, unread: bool | None, limit: int) -> list[Doc]:
    query: Doc = {"recipient": recipient}
    if unread is not None:
        query["read"] = not unread
    return await db[NOTIFICATIONS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def mark_read(db: AsyncDatabase[Doc], *, recipient: str, notification_id: str) -> Doc | None:
    return await db[NOTIFICATIONS].find_one_and_update(
        {"_id": notification_id, "recipient": recipient},
        {"$set": {"read": True}},
        return_document=ReturnDocument.AFTER,
    )


async def get(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def verifications(
    db: AsyncDatabase[Doc],
    *,
    scope: Doc,
    status: str | None,
    rated: bool | None,
    limit: int,
) -> list[Doc]:
    """Tickets with a verification task, within `scope`, oldest resolution first."""
    query: Doc = {"verification": {"$ne": None}, **scope}
    if rated is not None:
        query["rating"] = {"$ne": None} if rated else None
    if status:
        query["verification.status"] = status
    return await db[TICKETS].find(query).sort("verification.since", ASCENDING).limit(limit).to_list(None)
