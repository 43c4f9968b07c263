"""Feedback's collection: one document per ticket with its verification task and rating."""

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from gridloop.shared import leases
from gridloop.shared.access import Fields
from gridloop.shared.events import Rating
from gridloop.shared.mongo import Doc
from gridloop.shared.queries import find_each, scope_branches

TICKETS = "tickets"
NOTIFICATIONS = "notifications"
TASK_SCOPE = Fields(reporter="verifier.sub", community="verifier.community")
"""Whose verification tasks a ticket is: a grid worker's when they verify it (their own report) or
their community does (a report the street registered); a supervisor's by its street or district."""


TASK_STATES = ["pending", "passed", "failed", "expired"]
"""Every verification.status a task can have: a listing of all of them names them, so that
the index on the verifier and the state bounds it."""


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    # A verifier's list: by whom, the task's state and whether it is rated, every field of the query.
    for who in ("verifier.sub", "verifier.community", "district_code", "street_code"):
        await db[TICKETS].create_index(
            [(who, ASCENDING), ("verification.status", ASCENDING), ("rating.rating", ASCENDING)]
        )
    await db[TICKETS].create_index([("verification.status", ASCENDING), ("verification.since", ASCENDING)])
    for superseded in ("reporter_1_verification.status_1", "verifier.community_1_verification.status_1"):
        with suppress(OperationFailure):  # already gone
            await db[TICKETS].drop_index(superseded)
    await record_verifiers(db)
    await db[NOTIFICATIONS].create_index([("recipient", ASCENDING), ("_id", DESCENDING)])
    await db[NOTIFICATIONS].create_index([("outgoing", ASCENDING), ("outgoing_next_at", ASCENDING)])


async def record_verifiers(db: AsyncDatabase[Doc]) -> None:
    """Tickets stored before verifiers were recorded get theirs: the reporter (domain.may_verify),
    so that every task is found by its verifier's index."""
    await db[TICKETS].update_many(
        {"verifier": {"$exists": False}}, [{"$set": {"verifier": {"kind": "reporter", "sub": "$reporter"}}}]
    )


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
    """Tickets with a verification task, within `scope`, oldest resolution first: one query per
    branch of the scope and per state asked for, each bounded by an index on all its fields."""
    filters = [
        {**branch, "verification.status": state, **({} if rated is None else {"rating.rating": _RATED[rated]})}
        for branch in scope_branches(scope)
        for state in ([status] if status else TASK_STATES)
    ]
    return await find_each(
        db[TICKETS], filters, sort=[("verification.since", ASCENDING), ("_id", ASCENDING)], limit=limit
    )


_RATED: dict[bool, Any] = {True: {"$in": [r.value for r in Rating]}, False: None}
"""Rated or not, as a condition on the rating's value: a null equality also matches a ticket
with no rating at all."""


async def outgoing_due(
    db: AsyncDatabase[Doc],
    *,
    now: datetime,
    longest_wait: timedelta,
    server_now: datetime,
    lease: timedelta,
    limit: int,
) -> list[Doc]:
    """Notifications due by the service's clock (a retry time set by a clock that ran fast is due
    at once) that no instance is trying now, judged by the server's clock."""
    query: Doc = {
        "outgoing": "pending",
        "$and": [
            leases.stale_schedule("outgoing_next_at", now=now, longest=longest_wait),
            leases.free("outgoing_claimed_until", now=server_now, length=lease),
        ],
    }
    return await db[NOTIFICATIONS].find(query).sort("outgoing_next_at", ASCENDING).limit(limit).to_list(None)


async def claim_outgoing(db: AsyncDatabase[Doc], notification: Doc, *, server_now: datetime, lease: timedelta) -> bool:
    """Take one notification for one try, until the server's clock passes `lease` from now; another
    instance that read it too gets False."""
    result = await db[NOTIFICATIONS].update_one(
        {
            "_id": notification["_id"],
            "outgoing": "pending",
            **leases.free("outgoing_claimed_until", now=server_now, length=lease),
        },
        {"$set": {"outgoing_claimed_until": server_now + lease}},
    )
    return result.modified_count == 1


async def outgoing_result(db: AsyncDatabase[Doc], notification_id: str, changes: Doc) -> None:
    """The try's outcome; its claim ends with it."""
    await db[NOTIFICATIONS].update_one(
        {"_id": notification_id},
        {"$set": {**changes, "outgoing_claimed_until": None}, "$inc": {"outgoing_attempts": 1}},
    )


async def expire_outgoing(db: AsyncDatabase[Doc], *, older_than: datetime) -> int:
    result = await db[NOTIFICATIONS].update_many(
        {"outgoing": "pending", "at": {"$lt": older_than}}, {"$set": {"outgoing": "expired"}}
    )
    return result.modified_count
