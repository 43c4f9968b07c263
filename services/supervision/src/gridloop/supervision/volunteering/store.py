"""Supervision's records of 双报到 and volunteering: units' reports and headcounts, members with
their status history, posts with their claims, approved service records and points earned, with
the indexes a year's figures are read by."""

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc, ensure_collections
from gridloop.supervision.volunteering import domain

REPORTS = "vol_unit_reports"
HEADCOUNTS = "vol_headcounts"
MEMBERS = "vol_members"
POSTS = "vol_posts"
RECORDS = "vol_records"
POINTS = "vol_points"
COLLECTIONS = (REPORTS, HEADCOUNTS, MEMBERS, POSTS, RECORDS, POINTS)
YEARLY = (RECORDS, POINTS)
"""Read a year at a time (by the `year` field); the others are read whole."""


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    # Created before any transaction writes to them (mongo.ensure_collections says why).
    await ensure_collections(db, *COLLECTIONS)
    for collection in YEARLY:
        await db[collection].create_index([("year", ASCENDING), ("community_code", ASCENDING)])


async def get(db: AsyncDatabase[Doc], collection: str, record_id: str, session: AsyncClientSession) -> Doc | None:
    return await db[collection].find_one({"_id": record_id}, session=session)


async def put(db: AsyncDatabase[Doc], collection: str, record: Doc, session: AsyncClientSession) -> None:
    """Write a record as a step left it (the step is idempotent: a record it leaves unchanged is not written)."""
    await db[collection].replace_one({"_id": record["_id"]}, record, upsert=True, session=session)


async def facts(db: AsyncDatabase[Doc], year: int) -> domain.Facts:
    """Every record the year's figures are made of: the service records dated in the year (by
    city time) and the points of the year, and the lasting records whole."""

    async def read(collection: str, query: Doc) -> list[Doc]:
        return [doc async for doc in db[collection].find(query)]

    return domain.Facts(
        reports=await read(REPORTS, {}),
        headcounts=await read(HEADCOUNTS, {}),
        members=await read(MEMBERS, {}),
        posts=await read(POSTS, {}),
        records=await read(RECORDS, {"year": year}),
        points=await read(POINTS, {"year": year}),
    )
