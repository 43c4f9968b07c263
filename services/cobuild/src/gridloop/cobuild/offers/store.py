"""The offers collection."""

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.mongo import Doc


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    return None
