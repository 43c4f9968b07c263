"""The projects and hotspots collections, and the reads projects make of the needs and the
ticket facts (their owner keeps them; matching and hotspots read them by these indexes)."""

from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.cobuild.needs import store as needs_store
from gridloop.shared.cobuild_lifecycle import PROJECT_OPEN, ProjectStatus
from gridloop.shared.mongo import Doc, ensure_collections

PROJECTS = "projects"
HOTSPOTS = "hotspots"  # one per (grid, ticket category): the idea raised for it, and since when to count
NEEDS = "needs"
NEED_PRIVATE = "need_private"
TICKET_FACTS = "ticket_facts"


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, PROJECTS, HOTSPOTS, NEEDS, NEED_PRIVATE, TICKET_FACTS)
    for area in ("community_code", "street_code", "district_code", "unit_codes"):
        await db[PROJECTS].create_index([(area, ASCENDING), ("_id", DESCENDING)])
    await db[PROJECTS].create_index([("need_ids", ASCENDING)])
    await db[PROJECTS].create_index([("status", ASCENDING), ("hotspot_solved_at", ASCENDING)])
    # matching: a street's needs in one state, newest first (a community's: the needs' own index on
    # community_code, status, _id serves it)
    await db[NEEDS].create_index([("street_code", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])
    # hotspots: the window's tickets, and a spot's tickets since a project was completed
    await db[TICKET_FACTS].create_index([("reported_at", ASCENDING)])
    await db[TICKET_FACTS].create_index([("closed_at", ASCENDING)])
    await db[TICKET_FACTS].create_index(
        [("grid_code", ASCENDING), ("category_code", ASCENDING), ("reported_at", ASCENDING)]
    )


async def get(db: AsyncDatabase[Doc], project_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[PROJECTS].find_one({"_id": project_id}, session=session)


async def listing(db: AsyncDatabase[Doc], *, query: Doc, before: str | None, limit: int) -> list[Doc]:
    if before is not None:
        query = {"$and": [query, {"_id": {"$lt": before}}]}
    return await db[PROJECTS].find(query).sort("_id", DESCENDING).limit(limit).to_list(None)


async def needs_by_ids(db: AsyncDatabase[Doc], ids: list[str], session: AsyncClientSession | None = None) -> list[Doc]:
    return await db[NEEDS].find({"_id": {"$in": ids}}, session=session).to_list(None)


async def needs_in_open_projects(
    db: AsyncDatabase[Doc], need_ids: list[str], session: AsyncClientSession | None = None
) -> set[str]:
    """Which of `need_ids` an open or completed project already takes up (a cancelled one frees them)."""
    if not need_ids:
        return set()
    taken = db[PROJECTS].find(
        {"need_ids": {"$in": need_ids}, "status": {"$ne": ProjectStatus.CANCELLED.value}},
        {"need_ids": 1},
        session=session,
    )
    wanted = set(need_ids)
    return {n async for p in taken for n in p["need_ids"] if n in wanted}


MATCHED_NEED_FIELDS = {
    field: 1
    for field in (
        "need_number",
        "kind",
        "status",
        "category_code",
        "grid_code",
        "community_code",
        "street_code",
        "claim_deadline",
        "deliver_deadline",
    )
}
"""What matching reads of a need (a need document carries much more)."""


MATCH_WINDOW = timedelta(days=30)


async def matchable_needs(
    db: AsyncDatabase[Doc], *, area: Doc, statuses: list[str], limit: int, now: datetime
) -> list[Doc]:
    """The newest `limit` needs of the area (a community or a street) in `statuses`, the oldest of
    them first. They are read newest first through the needs' (area, status, _id) indexes, in looks
    over ranges of ids reaching back only as far as `limit` needs take (needs_store.newest_first):
    an escalated need stays escalated until the street acts on it, so a state may hold a year of
    needs, and reading it oldest first read every one of them for a page that holds `limit`, the
    oldest of which then crowded out every need reviewed or published since. The first look reaches
    back MATCH_WINDOW, where a community's needs waiting for a match mostly lie (a published need is
    escalated after its claim days), then as far as the rate found says, else the rest at once: an
    area with no such needs costs two looks, not a list's four."""
    filters = [{**area, "status": status} for status in statuses]
    found = await needs_store.newest_first(
        db,
        filters,
        before=None,
        limit=limit,
        now=now,
        projection=MATCHED_NEED_FIELDS,
        windows=(MATCH_WINDOW,),
    )
    return sorted(found, key=lambda n: str(n["_id"]))


FACT_FIELDS = {
    "category_code": 1,
    "grid_code": 1,
    "community_code": 1,
    "street_code": 1,
    "district_code": 1,
    "status": 1,
    "reported_at": 1,
    "closed_at": 1,
    "reworks": 1,
    "send_backs": 1,
}


def _recent(start: datetime) -> Doc:
    return {"$or": [{"reported_at": {"$gte": start}}, {"closed_at": {"$gte": start}}]}


async def hot_spot_facts(
    db: AsyncDatabase[Doc], *, start: datetime, closed: int, reworks: int, send_backs: int
) -> list[Doc]:
    """The tickets, reported or closed since `start`, of the (grid, category) spots whose counts
    in that window reach a threshold: the database groups the window, and only those spots'
    tickets are read (the hotspot rule then counts them exactly)."""
    pipeline: list[Doc] = [
        {"$match": {**_recent(start), "status": {"$ne": "cancelled"}}},
        {
            "$group": {
                "_id": {"grid": "$grid_code", "category": "$category_code"},
                "closed": {
                    "$sum": {
                        "$cond": [
                            {"$and": [{"$eq": ["$status", "closed"]}, {"$gte": ["$closed_at", start]}]},
                            1,
                            0,
                        ]
                    }
                },
                "reworks": {"$sum": {"$ifNull": ["$reworks", 0]}},
                "send_backs": {"$sum": {"$ifNull": ["$send_backs", 0]}},
            }
        },
        {
            "$match": {
                "$or": [
                    {"closed": {"$gte": closed}},
                    {"reworks": {"$gte": reworks}},
                    {"send_backs": {"$gte": send_backs}},
                ]
            }
        },
    ]
    spots = [doc["_id"] async for doc in await db[TICKET_FACTS].aggregate(pipeline)]
    facts: list[Doc] = []
    for spot in spots:
        query = {"grid_code": spot["grid"], "category_code": spot["category"], **_recent(start)}
        facts += await db[TICKET_FACTS].find(query, FACT_FIELDS).to_list(None)
    return facts


async def tickets_between(
    db: AsyncDatabase[Doc], *, grid_code: str, category_code: str, after: datetime, until: datetime
) -> int:
    return await db[TICKET_FACTS].count_documents(
        {"grid_code": grid_code, "category_code": category_code, "reported_at": {"$gt": after, "$lte": until}}
    )


async def completed_hotspot_projects(db: AsyncDatabase[Doc]) -> list[Doc]:
    """Completed or evaluated projects of a hotspot not yet judged solved or recurred."""
    return (
        await db[PROJECTS]
        .find(
            {
                "status": {"$in": [ProjectStatus.COMPLETED.value, ProjectStatus.EVALUATED.value]},
                "hotspot_solved_at": None,
                "recurred_at": None,
                "ticket_category_code": {"$ne": None},
            }
        )
        .to_list(None)
    )


async def projects_of_need(db: AsyncDatabase[Doc], need_id: str) -> list[Doc]:
    return await db[PROJECTS].find({"need_ids": need_id}).to_list(None)


OPEN_PROJECT_STATES = [s.value for s in PROJECT_OPEN]
