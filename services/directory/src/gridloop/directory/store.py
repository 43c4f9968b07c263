"""The directory's own collections: the current reference records and their full history."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, GEOSPHERE
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.directory import Kind
from gridloop.shared.mongo import GEO_INDEX_OPTIONS, Doc

RECORDS = "records"
HISTORY = "record_history"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[RECORDS].create_index([("kind", ASCENDING), ("code", ASCENDING)])
    await db[RECORDS].create_index([("geometry", GEOSPHERE)], **GEO_INDEX_OPTIONS)
    await db[HISTORY].create_index([("kind", ASCENDING), ("code", ASCENDING), ("revision", ASCENDING)])


async def get(db: AsyncDatabase[Doc], kind: Kind, code: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[RECORDS].find_one({"_id": f"{kind}:{code}"}, session=session)


async def list_kind(db: AsyncDatabase[Doc], kind: Kind) -> list[dict[str, Any]]:
    return [doc["data"] async for doc in db[RECORDS].find({"kind": kind.value}).sort("code", 1)]


async def codes(db: AsyncDatabase[Doc], kind: Kind) -> list[str]:
    return [doc["code"] async for doc in db[RECORDS].find({"kind": kind.value}, {"code": 1})]


async def holds(db: AsyncDatabase[Doc], kind: Kind, session: AsyncClientSession | None = None) -> bool:
    """Whether the directory has any record of `kind`."""
    return bool(await db[RECORDS].count_documents({"kind": kind.value}, limit=1, session=session))


async def all_records(db: AsyncDatabase[Doc], session: AsyncClientSession | None = None) -> list[Doc]:
    return await db[RECORDS].find({}, session=session).sort("_id", 1).to_list(None)


async def save(
    db: AsyncDatabase[Doc],
    *,
    kind: Kind,
    code: str,
    data: dict[str, Any],
    revision: int,
    session: AsyncClientSession,
    changed_by: dict[str, Any] | None = None,
    changed_at: datetime | None = None,
) -> None:
    """The current revision in `records`; every revision, with who made it and when, appended to
    `record_history`, which nothing updates or deletes."""
    doc: Doc = {"kind": kind.value, "code": code, "data": data, "revision": revision}
    if kind == Kind.GRID:
        doc["geometry"] = data["geometry"]
    await db[RECORDS].replace_one({"_id": f"{kind}:{code}"}, doc, upsert=True, session=session)
    await db[HISTORY].insert_one(
        {
            "_id": f"{kind}:{code}:{revision}",
            "kind": kind.value,
            "code": code,
            "revision": revision,
            "data": data,
            "changed_by": changed_by,
            "changed_at": changed_at,
        },
        session=session,
    )


async def history(db: AsyncDatabase[Doc], kind: Kind, code: str) -> list[Doc]:
    return await db[HISTORY].find({"kind": kind.value, "code": code}).sort("revision", 1).to_list(None)


async def grid_at(db: AsyncDatabase[Doc], lon: float, lat: float) -> dict[str, Any] | None:
    doc = await db[RECORDS].find_one(
        {
            "kind": "grid",
            "geometry": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [lon, lat]}}},
        }
    )
    return doc["data"] if doc else None
