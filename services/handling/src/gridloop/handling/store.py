"""Handling's collections: the tickets it knows of, and one work order per department and round."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields
from gridloop.shared.lifecycle import overdue_filters
from gridloop.shared.mongo import Doc

TICKETS = "tickets"
WORK_ORDERS = "work_orders"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[WORK_ORDERS].create_index([("department", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])
    await db[WORK_ORDERS].create_index([("ticket_id", ASCENDING), ("round", DESCENDING)])


async def get_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def current_order(
    db: AsyncDatabase[Doc], ticket_id: str, department: str, session: AsyncClientSession | None = None
) -> Doc | None:
    """The department's work order of the ticket's latest round."""
    return await db[WORK_ORDERS].find_one(
        {"ticket_id": ticket_id, "department": department}, sort=[("round", DESCENDING)], session=session
    )


async def lead_order(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession) -> Doc | None:
    return await db[WORK_ORDERS].find_one(
        {"ticket_id": ticket_id, "role": "lead"}, sort=[("round", DESCENDING)], session=session
    )


async def orders_of_round(
    db: AsyncDatabase[Doc], ticket_id: str, round_: int, session: AsyncClientSession
) -> list[Doc]:
    return await db[WORK_ORDERS].find({"ticket_id": ticket_id, "round": round_}, session=session).to_list(None)


INBOX_SCOPE = Fields(departments="department")
"""Work orders keep their department, street and district: agents see their department's,
supervisors their district's or street's."""


async def inbox(db: AsyncDatabase[Doc], *, scope: Doc, statuses: list[str] | None, limit: int) -> list[Doc]:
    query: dict[str, Any] = dict(scope)
    if statuses:
        query["status"] = {"$in": statuses}
    return await db[WORK_ORDERS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def overdue_candidates(db: AsyncDatabase[Doc], *, scope: Doc, now: datetime, limit: int) -> list[Doc]:
    query: dict[str, Any] = {"$and": [{"$or": overdue_filters(now)}, scope]}
    return await db[WORK_ORDERS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)
