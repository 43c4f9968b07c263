"""Supervision's records of the 共建 loop: one per need, offer and project, and one per solved
hotspot, with the indexes every window query of the indicators is served by."""

from collections.abc import AsyncIterator
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields, scope_filter
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Doc, ensure_collections
from gridloop.shared.queries import all_of, scope_branches
from gridloop.supervision.cobuild import domain

NEEDS = "cobuild_needs"
OFFERS = "cobuild_offers"
PROJECTS = "cobuild_projects"
HOTSPOTS = "cobuild_hotspots"
COLLECTIONS = (NEEDS, OFFERS, PROJECTS, HOTSPOTS)
AREAS = ("district_code", "street_code", "community_code")
"""What a reader's scope selects by: a supervisor's district or street, a dispatcher's street, a
community worker's community."""
TIMES = {
    NEEDS: ("submitted_at", "done_at"),
    OFFERS: ("accepted_at",),
    PROJECTS: ("approved_at", "completed_at"),
    HOTSPOTS: ("solved_at",),
}
"""The moments a window selects each kind of record by."""
RECORD = Fields(street="street_code", district="district_code")
WINDOW_FIELDS = {
    NEEDS: [*domain.PLACE, "offered_at", "claimed_at", "exit", "exited_at", "done_at", "on_time", "rating", "rated_at"],
    OFFERS: [*domain.PLACE, "accepted_at", "used_at"],
    PROJECTS: [*domain.PLACE, "approved_at", "completed_at", "beneficiaries"],
    HOTSPOTS: [*domain.PLACE, "solved_at"],
}


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    # Created before any transaction writes to them (mongo.ensure_collections says why).
    await ensure_collections(db, *COLLECTIONS)
    for collection, times in TIMES.items():
        for area in AREAS:
            for moment in times:
                await db[collection].create_index([(area, ASCENDING), (moment, ASCENDING)])


def scope(reader: Actor) -> Doc:
    """The reader's scope as a filter on these records: a community worker's community, else
    the shared rule (a supervisor's district or street, a dispatcher's street)."""
    if reader.role == Role.COMMUNITY_WORKER:
        return {"community_code": reader.org}
    return scope_filter(reader, RECORD)


async def get(db: AsyncDatabase[Doc], collection: str, record_id: str, session: AsyncClientSession) -> Doc | None:
    return await db[collection].find_one({"_id": record_id}, session=session)


async def in_window(
    db: AsyncDatabase[Doc], collection: str, *, moment: str, start: datetime, end: datetime, within: Doc
) -> list[Doc]:
    """The records whose `moment` lies in [start, end), within `within` (a scope filter): one
    plain query per branch of the scope, each served by an (area, moment) index."""
    return [doc async for doc in _find(db, collection, moment=moment, start=start, end=end, within=within)]


async def _find(
    db: AsyncDatabase[Doc], collection: str, *, moment: str, start: datetime, end: datetime, within: Doc
) -> AsyncIterator[Doc]:
    seen: set[object] = set()
    projection = dict.fromkeys(WINDOW_FIELDS[collection], 1)
    for branch in scope_branches(within):
        query = all_of(branch, {moment: {"$gte": start, "$lt": end}})
        async for doc in db[collection].find(query, projection):
            if doc["_id"] not in seen:
                seen.add(doc["_id"])
                yield doc


async def window_records(
    db: AsyncDatabase[Doc], *, start: datetime, end: datetime, within: Doc
) -> domain.WindowRecords:
    """Everything a window's figures are made of, within `within`."""

    async def read(collection: str, moment: str) -> list[Doc]:
        return await in_window(db, collection, moment=moment, start=start, end=end, within=within)

    return domain.WindowRecords(
        needs_collected=await read(NEEDS, "submitted_at"),
        needs_done=await read(NEEDS, "done_at"),
        offers_accepted=await read(OFFERS, "accepted_at"),
        projects_approved=await read(PROJECTS, "approved_at"),
        projects_completed=await read(PROJECTS, "completed_at"),
        hotspots_solved=await read(HOTSPOTS, "solved_at"),
    )
