"""Supervision's read models: every event of every ticket, and one record per ticket."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.clock import as_utc
from gridloop.shared.mongo import Doc

TIMELINE = "timeline"
TICKETS = "tickets"
UNIT_FIELDS = {"departments": "department", "streets": "street_code", "grids": "grid_code"}


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TIMELINE].create_index([("ticket_id", ASCENDING), ("_id", ASCENDING)])
    await db[TIMELINE].create_index([("occurred_at", ASCENDING)])
    await db[TICKETS].create_index([("status", ASCENDING), ("accept_deadline", ASCENDING)])


async def get_ticket(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def timeline(db: AsyncDatabase[Doc], ticket_id: str) -> list[Doc]:
    return await db[TIMELINE].find({"ticket_id": ticket_id}).sort("_id", ASCENDING).to_list(None)


async def counts(
    db: AsyncDatabase[Doc], *, unit: str, start: datetime, end: datetime, scope: Doc | None = None
) -> dict[str, dict[str, int]]:
    """Events in [start, end), within `scope`, grouped by unit and by what they count as."""
    field = UNIT_FIELDS[unit]
    pipeline: list[dict[str, Any]] = [
        {"$match": {"occurred_at": {"$gte": start, "$lt": end}, **(scope or {})}},
        {
            "$group": {
                "_id": {
                    "unit": f"${field}",
                    "type": "$event_type",
                    "rating": "$payload.rating",
                    "manual": "$payload.manual",
                },
                "n": {"$sum": 1},
            }
        },
    ]
    result: dict[str, dict[str, int]] = {}
    async for row in await db[TIMELINE].aggregate(pipeline):
        key = row["_id"]
        if key.get("unit") is None:
            continue
        bucket = result.setdefault(key["unit"], {})
        name = key["type"].removeprefix("ticket.")
        bucket[name] = bucket.get(name, 0) + row["n"]
        if name == "dispatched":
            mode = "dispatched_manual" if key.get("manual") else "dispatched_auto"
            bucket[mode] = bucket.get(mode, 0) + row["n"]
        if name == "rated" and key.get("rating"):
            bucket[key["rating"]] = bucket.get(key["rating"], 0) + row["n"]
    return result


async def overdue(db: AsyncDatabase[Doc], *, now: datetime, limit: int, scope: Doc | None = None) -> list[Doc]:
    lapsed = {
        "$or": [
            {"status": "dispatched", "accept_deadline": {"$lt": now}},
            {"status": {"$in": ["accepted", "reopened"]}, "resolve_deadline": {"$lt": now}},
        ]
    }
    return (
        await db[TICKETS]
        .find({"$and": [lapsed, scope]} if scope else lapsed)
        .sort("accept_deadline", ASCENDING)
        .limit(limit)
        .to_list(None)
    )


async def backlog_by_department(db: AsyncDatabase[Doc], *, now: datetime) -> dict[str, tuple[int, int]]:
    """{department: (open, overdue)} over tickets a department leads and has not finished."""
    result: dict[str, tuple[int, int]] = {}
    query = {"status": {"$in": ["dispatched", "accepted", "reopened"]}, "lead_department": {"$ne": None}}
    projection = {"lead_department": 1, "status": 1, "accept_deadline": 1, "resolve_deadline": 1}
    async for doc in db[TICKETS].find(query, projection):
        deadline = doc.get("accept_deadline") if doc["status"] == "dispatched" else doc.get("resolve_deadline")
        late = deadline is not None and as_utc(deadline) < now
        open_, overdue = result.get(doc["lead_department"], (0, 0))
        result[doc["lead_department"]] = (open_ + 1, overdue + int(late))
    return result
