"""未准入事项: tasks communities flagged as reaching them without admission (`task.flagged` on the
volunteering topic), counted against the department in the month they were flagged (city time) —
the 未准入事项 column of the monthly evaluation sheet (街道评议部门).

The routing table (`flag_routes()`) is merged with the other volunteering handlers into the consumer of
the `supervision.volunteering` group."""

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.access import Fields, scope_filter
from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Actor, Envelope, TaskFlagged
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Doc, UnitOfWork, ensure_collections
from gridloop.supervision import kpi

FLAGS = "admission_flags"
FLAG_FIELDS = Fields(street="street_code", district="district_code", community="community_code")
VOLUNTEERING_GROUP_SUFFIX = "volunteering"
"""The consumer group of the volunteering topic is `<service>.volunteering` (supervision.volunteering)."""


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await ensure_collections(db, FLAGS)
    await db[FLAGS].create_index([("month", ASCENDING), ("department_code", ASCENDING)])


def month_of(at: datetime) -> str:
    """The month an instant falls in, in city time: YYYY-MM."""
    return at.astimezone(CITY_ZONE).strftime("%Y-%m")


def _flag(payload: TaskFlagged, at: datetime) -> Doc:
    return {
        "department_code": payload.department_code,
        "community_code": payload.community_code,
        "street_code": payload.street_code,
        "district_code": payload.district_code,
        "task_type": payload.task_type.value,
        "flagged_at": at,
        "month": month_of(at),
    }


async def flagged(payload: TaskFlagged, event: Envelope, uow: UnitOfWork) -> None:
    """One flag, kept once (a redelivered event finds it)."""
    await uow.db[FLAGS].update_one(
        {"_id": payload.flag_id},
        {"$setOnInsert": _flag(payload, event.occurred_at)},
        upsert=True,
        session=uow.session,
    )


async def replay(db: AsyncDatabase[Doc], events: list[Envelope]) -> int:
    """stats-rebuild: every flag on the topic, kept once; returns how many events were flags."""
    flags = [e for e in events if isinstance(e.payload, TaskFlagged)]
    for event in flags:
        assert isinstance(event.payload, TaskFlagged)
        await db[FLAGS].update_one(
            {"_id": event.payload.flag_id}, {"$setOnInsert": _flag(event.payload, event.occurred_at)}, upsert=True
        )
    return len(flags)


def flag_routes() -> Routes:
    return routes(on(TaskFlagged, flagged))


async def counts(db: AsyncDatabase[Doc], *, month: str, reader: Actor | None) -> dict[str, int]:
    """The month's flags per department, within the reader's district or street."""
    query: Doc = {"month": month}
    if reader is not None:
        query = {"$and": [query, scope_filter(reader, FLAG_FIELDS)]}
    tally: Counter[str] = Counter()
    async for doc in db[FLAGS].find(query, {"department_code": 1}):
        tally[str(doc["department_code"])] += 1
    return dict(tally)


def with_flags(
    items: list[dict[str, Any]], flags: Mapping[str, int], *, names: Mapping[str, str], weights: ScoreWeights
) -> list[dict[str, Any]]:
    """The sheet's department rows with their flags; a department flagged but with no ticket in the
    month gets a row of its own (its ticket figures zero)."""
    listed = {i["code"] for i in items}
    extra = [
        {
            "code": code,
            "name": names.get(code, code),
            **kpi.indicators(kpi.Tally(), weights),
            "open_now": 0,
            "overdue_now": 0,
        }
        for code in sorted(flags.keys() - listed)
    ]
    return [{**i, "unadmitted_tasks": flags.get(i["code"], 0)} for i in [*items, *extra]]
