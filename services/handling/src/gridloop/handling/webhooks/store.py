"""The webhook collections: departments' endpoints, one delivery per endpoint and event (the
delivery log, and the queue the sender works from), and each department's allow-list of
destinations, kept by the admin."""

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared import leases
from gridloop.shared.mongo import Doc, ensure_collections

ENDPOINTS = "webhook_endpoints"
DELIVERIES = "webhook_deliveries"
ALLOW_LISTS = "webhook_allow_lists"
HIDE_SECRETS = {"secret": 0, "previous_secret": 0}


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, ENDPOINTS, DELIVERIES, ALLOW_LISTS)
    await db[ENDPOINTS].create_index([("department", ASCENDING), ("deleted_at", ASCENDING)])
    await db[DELIVERIES].create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    await db[DELIVERIES].create_index([("endpoint_id", ASCENDING), ("created_at", DESCENDING)])


async def enabled_endpoints(db: AsyncDatabase[Doc], session: AsyncClientSession | None = None) -> list[Doc]:
    """Every department's endpoints that take deliveries (a handful in a district)."""
    return await db[ENDPOINTS].find({"deleted_at": None, "enabled": True}, session=session).to_list(None)


async def insert_endpoint(db: AsyncDatabase[Doc], doc: Doc) -> None:
    await db[ENDPOINTS].insert_one(doc)


async def endpoint(db: AsyncDatabase[Doc], endpoint_id: str, *, with_secrets: bool = False) -> Doc | None:
    return await db[ENDPOINTS].find_one(
        {"_id": endpoint_id, "deleted_at": None}, None if with_secrets else HIDE_SECRETS
    )


async def endpoint_even_deleted(db: AsyncDatabase[Doc], endpoint_id: str) -> Doc | None:
    return await db[ENDPOINTS].find_one({"_id": endpoint_id}, HIDE_SECRETS)


async def endpoints(db: AsyncDatabase[Doc], scope: Doc) -> list[Doc]:
    query = {**scope, "deleted_at": None}
    return await db[ENDPOINTS].find(query, HIDE_SECRETS).sort("created_at", ASCENDING).to_list(None)


async def update_endpoint(db: AsyncDatabase[Doc], endpoint_id: str, changes: Doc) -> Doc | None:
    return await db[ENDPOINTS].find_one_and_update(
        {"_id": endpoint_id, "deleted_at": None},
        {"$set": changes},
        projection=HIDE_SECRETS,
        return_document=ReturnDocument.AFTER,
    )


async def delete_endpoint(db: AsyncDatabase[Doc], endpoint_id: str, at: datetime) -> bool:
    """Deleted endpoints are kept (their delivery log stays readable to the admin) but get nothing."""
    result = await db[ENDPOINTS].update_one(
        {"_id": endpoint_id, "deleted_at": None}, {"$set": {"deleted_at": at, "enabled": False}}
    )
    return result.matched_count == 1


async def queue_delivery(db: AsyncDatabase[Doc], delivery: Doc, session: AsyncClientSession) -> None:
    # Once per endpoint and event: the event's processed mark commits in the same transaction.
    await db[DELIVERIES].insert_one(delivery, session=session)


async def enabled_ids(db: AsyncDatabase[Doc]) -> list[str]:
    return [d["_id"] async for d in db[ENDPOINTS].find({"enabled": True, "deleted_at": None}, {"_id": 1})]


async def due(
    db: AsyncDatabase[Doc],
    *,
    now: datetime,
    longest_pause: timedelta,
    server_now: datetime,
    lease: timedelta,
    limit: int,
    endpoint_ids: list[str],
) -> list[Doc]:
    """Due deliveries of the given endpoints (the enabled ones: a switched-off endpoint's backlog
    waits, and does not crowd out the others'): due by the service's clock (a retry time set by a
    clock that ran fast is due at once), and not being tried by an instance now, judged by the
    server's clock."""
    query = {
        "status": "pending",
        "endpoint_id": {"$in": endpoint_ids},
        "$and": [
            leases.stale_schedule("next_attempt_at", now=now, longest=longest_pause),
            leases.free("claimed_until", now=server_now, length=lease),
        ],
    }
    return await db[DELIVERIES].find(query).sort("next_attempt_at", ASCENDING).limit(limit).to_list(None)


async def claim(db: AsyncDatabase[Doc], delivery: Doc, *, server_now: datetime, lease: timedelta) -> bool:
    """Take a due delivery for one attempt, until the server's clock passes `lease` from now;
    another instance that read it too gets False."""
    result = await db[DELIVERIES].update_one(
        {"_id": delivery["_id"], "status": "pending", **leases.free("claimed_until", now=server_now, length=lease)},
        {"$set": {"claimed_until": server_now + lease}},
    )
    return result.modified_count == 1


async def record_attempt(db: AsyncDatabase[Doc], delivery_id: str, changes: Doc, attempt: Doc) -> None:
    """The attempt's outcome; its claim ends with it."""
    await db[DELIVERIES].update_one(
        {"_id": delivery_id},
        {
            "$set": {**changes, "claimed_until": None},
            "$inc": {"attempts": 1},
            "$push": {"log": {"$each": [attempt], "$slice": -20}},
        },
    )


async def endpoint_result(db: AsyncDatabase[Doc], endpoint_id: str, changes: Doc, inc: Doc | None = None) -> Doc | None:
    update: dict[str, Any] = {"$set": changes}
    if inc:
        update["$inc"] = inc
    return await db[ENDPOINTS].find_one_and_update({"_id": endpoint_id}, update, return_document=ReturnDocument.AFTER)


async def deliveries(db: AsyncDatabase[Doc], endpoint_id: str, status: str | None, limit: int) -> list[Doc]:
    query: Doc = {"endpoint_id": endpoint_id}
    if status:
        query["status"] = status
    found = db[DELIVERIES].find(query, {"body": 0}).sort("created_at", DESCENDING).limit(limit)
    return await found.to_list(None)


async def requeue_since(db: AsyncDatabase[Doc], endpoint_id: str, since: datetime, now: datetime) -> int:
    result = await db[DELIVERIES].update_many(
        {"endpoint_id": endpoint_id, "created_at": {"$gte": since}},
        {"$set": {"status": "pending", "next_attempt_at": now, "replayed_at": now}},
    )
    return result.modified_count


async def allow_list(db: AsyncDatabase[Doc], department: str) -> Doc | None:
    return await db[ALLOW_LISTS].find_one({"_id": department})


async def allow_lists(db: AsyncDatabase[Doc]) -> list[Doc]:
    """Every department's (a few dozen in a district)."""
    return await db[ALLOW_LISTS].find({}).sort("_id", ASCENDING).to_list(None)


async def put_allow_list(db: AsyncDatabase[Doc], department: str, entries: list[str], at: datetime, by: str) -> Doc:
    doc = await db[ALLOW_LISTS].find_one_and_update(
        {"_id": department},
        {"$set": {"entries": entries, "updated_at": at, "updated_by": by}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert doc is not None
    return doc
