"""The `reviews` collection: one document per (year, subject, reviewer), its id says which."""

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc

REVIEWS = "reviews"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[REVIEWS].create_index([("year", ASCENDING), ("community_code", ASCENDING)])
    await db[REVIEWS].create_index([("year", ASCENDING), ("subject_code", ASCENDING)])
    await db[REVIEWS].create_index([("year", ASCENDING), ("reviewer_code", ASCENDING)])
