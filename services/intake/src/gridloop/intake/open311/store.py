"""Open311's collection (the registered client applications) and its reads of the reports."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.intake.store import REPORTS
from gridloop.shared.mongo import Doc

CLIENTS = "open311_clients"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[CLIENTS].create_index([("key_hash", ASCENDING)], unique=True)
    await db[REPORTS].create_index([("created_at", DESCENDING)])  # GET requests by date


async def insert_client(db: AsyncDatabase[Doc], client: Doc) -> None:
    await db[CLIENTS].insert_one(client)


async def client_by_key_hash(db: AsyncDatabase[Doc], key_hash: str) -> Doc | None:
    return await db[CLIENTS].find_one({"key_hash": key_hash, "revoked_at": None})


async def clients(db: AsyncDatabase[Doc]) -> list[Doc]:
    return await db[CLIENTS].find({}, {"key_hash": 0}).sort("created_at", ASCENDING).to_list(None)


async def revoke_client(db: AsyncDatabase[Doc], client_id: str, at: datetime) -> Doc | None:
    return await db[CLIENTS].find_one_and_update(
        {"_id": client_id, "revoked_at": None}, {"$set": {"revoked_at": at}}, projection={"key_hash": 0}
    )


async def client(db: AsyncDatabase[Doc], client_id: str) -> Doc | None:
    return await db[CLIENTS].find_one({"_id": client_id}, {"key_hash": 0})


async def reports(db: AsyncDatabase[Doc], query: dict[str, Any], limit: int) -> list[Doc]:
    return await db[REPORTS].find(query).sort("created_at", DESCENDING).limit(limit).to_list(None)


async def report_by_number(db: AsyncDatabase[Doc], number: str, scope: dict[str, Any]) -> Doc | None:
    return await db[REPORTS].find_one({"ticket_number": number, **scope})


async def report_by_id(db: AsyncDatabase[Doc], ticket_id: str, scope: dict[str, Any]) -> Doc | None:
    return await db[REPORTS].find_one({"_id": ticket_id, **scope})
