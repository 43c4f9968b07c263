"""Intake's collections: reports, idempotency records, daily counters; photos in GridFS."""

from contextlib import suppress
from datetime import datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.intake.domain import duplicate_key
from gridloop.shared.access import Fields
from gridloop.shared.mongo import Doc, ensure_collections

REPORTS = "reports"
IDEMPOTENCY = "idempotency_keys"
COUNTERS = "counters"
ATTACHMENTS_BUCKET = "attachments"
REPORT_SCOPE = Fields(community="community_code", reporter="reporter.sub")
"""Where a report keeps what the scope rule reads (street_code and district_code as everywhere)."""
PHOTO_SCOPE = Fields(community="community_code", reporter="reporter.sub", departments="departments")
"""Who may read the photos a report names: whoever may read the report, and the departments it was
dispatched to (they read it as a work order in handling)."""


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, REPORTS, IDEMPOTENCY)
    await db[REPORTS].create_index([("reporter.sub", ASCENDING), ("_id", DESCENDING)])
    await db[REPORTS].create_index([("ticket_number", ASCENDING)], unique=True)
    await db[REPORTS].create_index([("status", ASCENDING)])
    await db[REPORTS].create_index([("duplicate_key", ASCENDING)])  # domain.duplicate_filter
    await db[REPORTS].create_index([("photos", ASCENDING)])  # who may read a photo: the reports naming it
    await db[REPORTS].create_index([("evidence_photos", ASCENDING)])
    await _index_for_duplicates(db)
    await _departments_from_leads(db)


async def _departments_from_leads(db: AsyncDatabase[Doc]) -> None:
    """Reports dispatched before intake kept every department of a ticket get its current lead."""
    missing = {"departments": {"$exists": False}, "lead_department": {"$exists": True}}
    kept = [
        UpdateOne({"_id": doc["_id"]}, {"$set": {"departments": [doc["lead_department"]]}})
        async for doc in db[REPORTS].find(missing, {"lead_department": 1})
    ]
    if kept:
        await db[REPORTS].bulk_write(kept, ordered=False)


async def _index_for_duplicates(db: AsyncDatabase[Doc]) -> None:
    """Reports kept from before the hint was indexed by key get theirs; the geo index it replaces
    goes (a geo search's work grew with the reports held, and each filing paid for its upkeep)."""
    missing = {"duplicate_key": {"$exists": False}, "location": {"$ne": None}}
    keyed: list[UpdateOne] = []
    async for doc in db[REPORTS].find(missing, {"location": 1, "category_code": 1, "created_at": 1}):
        location = doc["location"]
        key = duplicate_key(doc["category_code"], location["lon"], location["lat"], doc["created_at"])
        keyed.append(UpdateOne({"_id": doc["_id"]}, {"$set": {"duplicate_key": key}}))
        if len(keyed) == 1000:
            await db[REPORTS].bulk_write(keyed, ordered=False)
            keyed = []
    if keyed:
        await db[REPORTS].bulk_write(keyed, ordered=False)
    if "point_2dsphere" in await db[REPORTS].index_information():
        await db[REPORTS].drop_index("point_2dsphere")


async def possible_duplicates(db: AsyncDatabase[Doc], query: Doc) -> list[Doc]:
    """The reports a duplicate query names, with what the hint then checks of each."""
    found = db[REPORTS].find(query, {"_id": 1, "location": 1, "status": 1, "created_at": 1})
    return await found.to_list(None)


async def next_seq(db: AsyncDatabase[Doc], key: str) -> int:
    """The next number of a counter, by one atomic step of its own (never inside a filing's
    transaction, where every concurrent filing of the district and day would collide on it).

    The first steps of a day race to create its counter; a server may let the loser fail on the
    unique id or answer it with nothing, and the counter then exists: it steps again."""
    for _ in range(3):
        with suppress(DuplicateKeyError):
            doc = await db[COUNTERS].find_one_and_update(
                {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
            )
            if doc is not None:
                seq: int = doc["seq"]
                return seq
    raise RuntimeError(f"counter {key} could not be stepped")


async def find_idempotent(db: AsyncDatabase[Doc], key: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[IDEMPOTENCY].find_one({"_id": key}, session=session)


async def save_idempotent(
    db: AsyncDatabase[Doc],
    *,
    key: str,
    fingerprint: str,
    response: dict[str, Any],
    at: datetime,
    session: AsyncClientSession,
) -> None:
    await db[IDEMPOTENCY].insert_one(
        {"_id": key, "fingerprint": fingerprint, "response": response, "at": at}, session=session
    )


async def insert_report(db: AsyncDatabase[Doc], report: Doc, session: AsyncClientSession) -> None:
    await db[REPORTS].insert_one(report, session=session)


async def get_report(db: AsyncDatabase[Doc], ticket_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[REPORTS].find_one({"_id": ticket_id}, session=session)


async def list_reports(
    db: AsyncDatabase[Doc],
    *,
    scope: Doc,
    reporter: str | None,
    status: str | None,
    before: str | None,
    limit: int,
) -> list[Doc]:
    query: Doc = dict(scope)
    if reporter is not None:
        query["reporter.sub"] = reporter
    if status:
        query["status"] = status
    if before:
        query["_id"] = {"$lt": before}
    return await db[REPORTS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def set_status(
    db: AsyncDatabase[Doc],
    ticket_id: str,
    *,
    status: str,
    at: datetime,
    event_type: str,
    session: AsyncClientSession,
    extra: Doc | None = None,
) -> None:
    await db[REPORTS].update_one(
        {"_id": ticket_id},
        {
            "$set": {"status": status, "updated_at": at, **(extra or {})},
            "$push": {"history": {"event_type": event_type, "status": status, "at": at}},
        },
        session=session,
    )


async def set_deadline(
    db: AsyncDatabase[Doc], ticket_id: str, *, by: datetime, provisional: bool, session: AsyncClientSession
) -> None:
    await db[REPORTS].update_one(
        {"_id": ticket_id},
        {"$set": {"resolve_deadline": by, "resolve_deadline_provisional": provisional}},
        session=session,
    )


async def add_to_report(
    db: AsyncDatabase[Doc], ticket_id: str, *, field: str, values: list[str], session: AsyncClientSession
) -> None:
    await db[REPORTS].update_one({"_id": ticket_id}, {"$addToSet": {field: {"$each": values}}}, session=session)


async def names_photo(db: AsyncDatabase[Doc], photo_id: str, scope: Doc) -> bool:
    """Whether a report in the scope names the photo, as its own or as a department's evidence."""
    naming = {"$or": [{"photos": photo_id}, {"evidence_photos": photo_id}]}
    return await db[REPORTS].find_one({"$and": [naming, scope]}, {"_id": 1}) is not None


async def photos_owned_by(
    db: AsyncDatabase[Doc], ids: list[str], owner: str, session: AsyncClientSession | None = None
) -> set[str]:
    files = db[f"{ATTACHMENTS_BUCKET}.files"]
    found = files.find({"_id": {"$in": ids}, "metadata.owner": owner}, {"_id": 1}, session=session)
    return {str(doc["_id"]) async for doc in found}


async def save_photo(
    db: AsyncDatabase[Doc], *, photo_id: str, filename: str, data: bytes, owner: str, content_type: str
) -> None:
    bucket = AsyncGridFSBucket(db, bucket_name=ATTACHMENTS_BUCKET)
    await bucket.upload_from_stream_with_id(
        photo_id, filename, data, metadata={"owner": owner, "content_type": content_type, "size": len(data)}
    )


async def photo_info(db: AsyncDatabase[Doc], photo_id: str) -> Doc | None:
    """A stored photo's metadata (owner, content type, size), or None."""
    found: Doc | None = await db[f"{ATTACHMENTS_BUCKET}.files"].find_one({"_id": photo_id}, {"metadata": 1})
    return found["metadata"] if found else None


async def load_photo(db: AsyncDatabase[Doc], photo_id: str) -> tuple[bytes, str] | None:
    bucket = AsyncGridFSBucket(db, bucket_name=ATTACHMENTS_BUCKET)
    try:
        stream = await bucket.open_download_stream(photo_id)
    except NoFile:
        return None
    return await stream.read(), (stream.metadata or {}).get("content_type", "application/octet-stream")
