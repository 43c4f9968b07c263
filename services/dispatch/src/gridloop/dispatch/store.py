"""Dispatch's collection: one document per ticket, with its rounds and its place in the street queue."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields
from gridloop.shared.events import TicketExtensionDecided
from gridloop.shared.lifecycle import ACTIVE_STATES, QUEUED_STATES, TRANSITIONS
from gridloop.shared.mongo import Doc
from gridloop.shared.queries import all_of

TICKETS = "tickets"
TICKET_SCOPE = Fields()
"""Dispatch's tickets keep their street and district (street_code, district_code)."""
ACTIVE = sorted(ACTIVE_STATES)
QUEUED = sorted(QUEUED_STATES)
DECIDABLE = sorted(state.value for state in TRANSITIONS[TicketExtensionDecided.EVENT_TYPE][0] if state)


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[TICKETS].create_index([("status", ASCENDING), ("street_code", ASCENDING), ("queued_at", ASCENDING)])
    # The watchdog's looks (past_deadline): each an equality on the state, then the deadline's range
    await db[TICKETS].create_index([("status", ASCENDING), ("accept_deadline", ASCENDING)])
    await db[TICKETS].create_index([("status", ASCENDING), ("resolve_deadline", ASCENDING)])
    await db[TICKETS].create_index([("status", ASCENDING), ("escalated", ASCENDING), ("escalate_at", ASCENDING)])
    await db[TICKETS].create_index([("calendar_basis", ASCENDING)])
    await db[TICKETS].create_index([("extension.status", ASCENDING), ("extension.at", ASCENDING)])


async def get(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[TICKETS].find_one({"_id": ticket_id}, session=session)


async def insert(db: AsyncDatabase[Doc], doc: Doc, session: AsyncClientSession) -> None:
    await db[TICKETS].insert_one(doc, session=session)


async def past_deadline(db: AsyncDatabase[Doc], *, now: datetime, limit: int) -> list[Doc]:
    """Open tickets with a deadline behind them that the watchdog may still have to announce.

    One look per state and kind of deadline, each an equality on the state and a range on the
    deadline: the form an index bounds on the embedded database too (an `$or`, an `$in` or a
    `$ne` beside them is read from the whole collection there, at every interval). A look reads
    the open tickets past that deadline, announced or not (the exception, not the bulk of the
    tickets held), and those already announced are left out here, before any page is cut."""
    looks: list[tuple[Doc, str | None]] = [({"status": "dispatched", "accept_deadline": {"$lt": now}}, "accept")]
    for state in ACTIVE:
        looks.append(({"status": state, "resolve_deadline": {"$lt": now}}, "resolve"))
        looks.append(({"status": state, "escalated": False, "escalate_at": {"$lt": now}}, None))
    found: dict[str, Doc] = {}
    for query, overdue in looks:
        async for doc in db[TICKETS].find(query):
            if overdue is None or overdue not in doc.get("overdue", []):
                found.setdefault(doc["_id"], doc)
    return list(found.values())[:limit]


async def counted_on(db: AsyncDatabase[Doc], *, bases: list[str], limit: int) -> list[Doc]:
    """Open tickets whose deadlines were counted on one of these calendar bases (e.g. `2027@statutory`)."""
    query = {"calendar_basis": {"$in": bases}, "status": {"$in": ACTIVE}}
    return await db[TICKETS].find(query, {"_id": 1}).limit(limit).to_list(None)


def _waiting(reason: str | None = None) -> Doc:
    """Tickets waiting at the street desk (for `reason`, or any)."""
    return {"status": {"$in": QUEUED}, "queue_reason": reason or {"$ne": None}}


async def queue(
    db: AsyncDatabase[Doc], *, scope: Doc, reason: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """The street queue in `scope`, oldest first, ties by ticket; `after`: past that (queued_at, id)."""
    clauses: list[Doc] = [_waiting(reason), scope]
    if after is not None:
        queued_at, ticket_id = after
        clauses.append(
            {"$or": [{"queued_at": {"$gt": queued_at}}, {"queued_at": queued_at, "_id": {"$gt": ticket_id}}]}
        )
    query = all_of(*clauses)
    return await db[TICKETS].find(query).sort([("queued_at", ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list(None)


async def queued(db: AsyncDatabase[Doc], ticket_id: str, *, scope: Doc) -> Doc | None:
    """The ticket if it waits in the street queue in `scope`: what `queue` would list."""
    return await db[TICKETS].find_one(all_of({"_id": ticket_id}, _waiting(), scope))


async def pending_extensions(db: AsyncDatabase[Doc], *, scope: Doc, limit: int) -> list[Doc]:
    """Tickets whose extension request waits for a decision while the ticket is being worked on
    (the one state a decision is taken in), oldest request first."""
    query = all_of({"extension.status": "pending", "status": {"$in": DECIDABLE}}, scope)
    return (
        await db[TICKETS].find(query).sort([("extension.at", ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list(None)
    )
