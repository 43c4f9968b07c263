"""The ledger's collections: `ledger` (one document per movement, unique on reason, source and
member so a redelivered event pays once), `balances` (one per account, changed in the same
transaction as the movement), `points_holds` (records rated 不满意: they never pay), `shops`.
`members` and `needs` and `ticket_facts` are read only."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from gridloop.cobuild.points import domain
from gridloop.shared.events import Actor, PointsMoved, PointsReason, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Doc, UnitOfWork

LEDGER = "ledger"
BALANCES = "balances"
HOLDS = "points_holds"
SHOPS = "shops"
MEMBERS = "members"
MEMBER_PRIVATE = "member_private"
LEDGER_ACTOR = Actor(sub="cobuild-points", role=Role.SYSTEM)


async def ensure_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[LEDGER].create_index(
        [("reason", ASCENDING), ("source_ref", ASCENDING), ("member_id", ASCENDING)], unique=True
    )
    await db[LEDGER].create_index([("member_id", ASCENDING), ("at", ASCENDING)])
    await db[LEDGER].create_index([("entries.account", ASCENDING), ("_id", DESCENDING)])
    await db[LEDGER].create_index([("community_code", ASCENDING), ("at", ASCENDING)])
    await db[LEDGER].create_index([("source_ref", ASCENDING)])
    await db[BALANCES].create_index([("balance", ASCENDING)])
    # `members` is the members area's: its index on sub serves the look-ups here


async def post(
    uow: UnitOfWork, movement: domain.Movement, *, actor: Actor = LEDGER_ACTOR, operator: str | None = None
) -> Doc | None:
    """Write the movement and the balances it changes, and announce it; None when the same reason,
    source and member were paid before (a redelivery): nothing changes then."""
    key = {"reason": movement.reason.value, "source_ref": movement.source_ref, "member_id": movement.member_id}
    if await uow.db[LEDGER].find_one(key, {"_id": 1}, session=uow.session) is not None:
        return None
    doc: Doc = {
        "_id": new_id(),
        **key,
        "at": uow.now,
        "unit_code": movement.unit_code,
        "community_code": movement.community_code,
        "entries": [e.model_dump() for e in movement.entries],
        "operator": operator or actor.sub,
    }
    if movement.items:
        doc["items"] = [dict(i) for i in movement.items]
    await uow.db[LEDGER].insert_one(doc, session=uow.session)
    for entry in movement.entries:
        await uow.db[BALANCES].update_one(
            {"_id": entry.account}, {"$inc": {"balance": entry.amount}}, upsert=True, session=uow.session
        )
    await uow.emit(
        PointsMoved(
            movement_id=doc["_id"],
            member_id=movement.member_id,
            unit_code=movement.unit_code,
            community_code=movement.community_code,
            reason=movement.reason,
            source_ref=movement.source_ref,
            entries=list(movement.entries),
        ),
        ticket_id=movement.member_id,
        actor=actor,
    )
    return doc


async def balance(db: AsyncDatabase[Doc], account: str, session: AsyncClientSession | None = None) -> int:
    doc = await db[BALANCES].find_one({"_id": account}, session=session)
    return int(doc["balance"]) if doc else 0


async def paid_for_record(uow: UnitOfWork, record_id: str, member_id: str) -> list[Doc]:
    reasons = [r.value for r in domain.RECORD_REASONS]
    cursor = uow.db[LEDGER].find(
        {"source_ref": record_id, "member_id": member_id, "reason": {"$in": reasons}}, session=uow.session
    )
    return [d async for d in cursor]


async def hold(uow: UnitOfWork, record_id: str, member_id: str) -> None:
    await uow.db[HOLDS].update_one(
        {"_id": record_id},
        {"$setOnInsert": {"member_id": member_id, "at": uow.now}},
        upsert=True,
        session=uow.session,
    )


async def held(uow: UnitOfWork, record_id: str) -> bool:
    return await uow.db[HOLDS].find_one({"_id": record_id}, session=uow.session) is not None


async def member(db: AsyncDatabase[Doc], member_id: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBERS].find_one({"_id": member_id}, session=session)


async def member_by_sub(db: AsyncDatabase[Doc], sub: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[MEMBERS].find_one({"sub": sub, "erased": {"$ne": True}}, session=session)


async def movements_of(
    db: AsyncDatabase[Doc], account: str, *, limit: int = 100, session: AsyncClientSession | None = None
) -> list[Doc]:
    cursor = db[LEDGER].find({"entries.account": account}, session=session).sort("_id", DESCENDING).limit(limit)
    return [d async for d in cursor]


async def member_movements(uow: UnitOfWork, member_id: str) -> list[Doc]:
    cursor = (
        uow.db[LEDGER].find({"member_id": member_id}, session=uow.session).sort([("at", ASCENDING), ("_id", ASCENDING)])
    )
    return [d async for d in cursor]


async def members_with_points(db: AsyncDatabase[Doc]) -> list[str]:
    cursor = db[BALANCES].find({"_id": {"$regex": "^member:"}, "balance": {"$gt": 0}}, {"_id": 1})
    return [d["_id"].removeprefix("member:") async for d in cursor]


async def earned_in(db: AsyncDatabase[Doc], community: str, start: datetime, end: datetime) -> dict[str, int]:
    """Each member's earnings (net of reversals) in a period, in movements of the community."""
    reasons = [r.value for r in (*domain.EARNING, PointsReason.REVERSAL)]
    earned: dict[str, int] = {}
    cursor = db[LEDGER].find(
        {"community_code": community, "at": {"$gte": start, "$lt": end}, "reason": {"$in": reasons}}
    )
    async for movement in cursor:
        account = domain.member_account(movement["member_id"])
        amount = sum(int(e["amount"]) for e in movement["entries"] if e["account"] == account)
        earned[movement["member_id"]] = earned.get(movement["member_id"], 0) + amount
    return earned


async def names(db: AsyncDatabase[Doc], member_ids: list[str]) -> dict[str, str]:
    cursor = db[MEMBER_PRIVATE].find({"_id": {"$in": member_ids}}, {"name": 1})
    return {d["_id"]: str(d.get("name", "")) async for d in cursor}


async def unit_members(db: AsyncDatabase[Doc], unit: str, community: str | None) -> list[Doc]:
    query: dict[str, Any] = {"unit_code": unit}
    if community:
        query["community_code"] = community
    return [d async for d in db[MEMBERS].find(query).sort("_id", ASCENDING)]


async def balances_of(db: AsyncDatabase[Doc], accounts: list[str]) -> dict[str, int]:
    return {d["_id"]: int(d["balance"]) async for d in db[BALANCES].find({"_id": {"$in": accounts}})}


async def all_balances(db: AsyncDatabase[Doc]) -> dict[str, int]:
    return {d["_id"]: int(d["balance"]) async for d in db[BALANCES].find({})}


async def movement_sums(db: AsyncDatabase[Doc]) -> dict[str, int]:
    pipeline: list[Doc] = [
        {"$unwind": "$entries"},
        {"$group": {"_id": "$entries.account", "sum": {"$sum": "$entries.amount"}}},
    ]
    cursor = await db[LEDGER].aggregate(pipeline)
    return {d["_id"]: int(d["sum"]) async for d in cursor}


async def get_shop(db: AsyncDatabase[Doc], community: str, session: AsyncClientSession | None = None) -> Doc | None:
    return await db[SHOPS].find_one({"_id": community}, session=session)


async def save_shop(uow: UnitOfWork, community: str, doc: Doc) -> None:
    await uow.db[SHOPS].replace_one({"_id": community}, {"_id": community, **doc}, upsert=True, session=uow.session)


async def member_ledger(
    db: AsyncDatabase[Doc], member_id: str, *, since: datetime | None, until: datetime | None, limit: int = 1000
) -> list[Doc]:
    query: dict[str, Any] = {"member_id": member_id}
    period = {op: at for op, at in (("$gte", since), ("$lt", until)) if at is not None}
    if period:
        query["at"] = period
    return [d async for d in db[LEDGER].find(query).sort([("at", ASCENDING), ("_id", ASCENDING)]).limit(limit)]
