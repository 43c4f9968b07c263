"""Dispatch's collection: one document per ticket, with its rounds and its place in the street queue."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields
from gridloop.shared.lifecycle import ACTIVE_STATES, QUEUED_STATES
from gridloop.shared.mongo import Doc

TICKETS = "tickets"
TICKET_SCOPE = Fields()
"""Dispatch's tickets keep their street and district (street_code, district_code)."""
ACTIVE = sorted(ACTIVE_STATES)
QUEUED = sorted(QUEUED_STATES)


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TICKETS].create_index([("status", ASCENDING), ("street_code", ASCENDING), ("queued_at", ASCENDING)])
    await db[TICKETS].create_index([("status", ASCENDING), ("resolve_deadline", ASCENDING)])
    await db[TICKETS].create_index([("calendar_basis", ASCENDING)])


async def get(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def insert(db: AsyncDatabase[Doc], doc: Doc, session: AsyncClientSession) -> None:
    await db[TICKETS].insert_one(doc, session=session)


async def past_deadline(db: AsyncDatabase[Doc], *, now: datetime, limit: int) -> list[Doc]:
    """Open tickets with a deadline behind them that the watchdog may still have to announce."""
    query = {
        "$or": [
            {"status": "dispatched", "accept_deadline": {"$lt": now}, "overdue": {"$ne": "accept"}},
            {"status": {"$in": ACTIVE}, "resolve_deadline": {"$lt": now}, "overdue": {"$ne": "resolve"}},
            {"status": {"$in": ACTIVE}, "escalate_at": {"$lt": now}, "escalated": False},
        ]
    }
    return await db[TICKETS].find(query).limit(limit).to_list(None)


async def counted_on(db: AsyncDatabase[Doc], *, bases: list[str], limit: int) -> list[Doc]:
    """Open tickets whose deadlines were counted on one of these calendar bases (e.g. `2027@statutory`)."""
    query = {"calendar_basis": {"$in": bases}, "status": {"$in": ACTIVE}}
    return await db[TICKETS].find(query, {"_id": 1}).limit(limit).to_list(None)


async def queue(db: AsyncDatabase[Doc], *, scope: Doc, limit: int) -> list[dict[str, Any]]:
    query: Doc = {"$and": [{"status": {"$in": QUEUED}, "queue_reason": {"$ne": None}}, scope]}
    return await db[TICKETS].find(query).sort("queued_at", ASCENDING).limit(limit).to_list(None)
