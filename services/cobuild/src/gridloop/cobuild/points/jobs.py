"""Expiry (积分有效期): on every pass, each member's points earned before the cutoff (the start of
the city day `points_valid_months` back) and not yet spent move to `expired:<community>`, first in
first out. Idempotent: the same day's pass finds nothing more to move, and the movement's source is
the cutoff day. It runs on every day of the year alike."""

from gridloop.cobuild.points import consumers, domain, store
from gridloop.shared.mongo import ConcurrentChange, Database, UnitOfWork
from gridloop.shared.service import Runtime


async def watch(runtime: Runtime) -> int:
    return await expire_points(runtime.database, months=consumers.rates_of(runtime.settings).valid_months)


async def expire_points(database: Database, *, months: int, limit: int = 500) -> int:
    """One pass on the service clock; the number of members whose points expired."""
    cutoff = domain.expiry_cutoff(database.clock.now(), months)
    moved = 0
    for member_id in await store.members_with_points(database.db):
        if moved >= limit:
            break

        async def work(uow: UnitOfWork, member_id: str = member_id) -> int:
            history = await store.member_movements(uow, member_id)
            due = domain.expiring(history, member_id=member_id, cutoff=cutoff)
            if due <= 0 or not history:
                return 0
            member = await store.member(uow.db, member_id, session=uow.session)
            community = member["community_code"] if member else history[-1]["community_code"]
            movement = domain.expire(member_id=member_id, community=community, amount=due, cutoff=cutoff)
            if movement is None or await store.post(uow, movement) is None:
                return 0
            return 1

        try:
            moved += await database.transaction(work)
        except ConcurrentChange:
            continue
    return moved
