"""The needs' watchdog: every few seconds it announces what the needs' deadlines say now (a review
overdue, an unclaimed need escalated to the street, a claim expired and the need published again,
a delivery overdue, a delivered need confirmed by itself). Each finding once: the need's state or
its overdue marks change with it, in the same transaction."""

from gridloop.cobuild.needs import domain, reference, store
from gridloop.shared.mongo import ConcurrentChange, Database, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData
from gridloop.shared.service import Runtime


async def watch(runtime: Runtime) -> int:
    return await watch_needs(database=runtime.database, refdata=runtime.refdata)


async def watch_needs(*, database: Database, refdata: RefData, limit: int = 200) -> int:
    """One pass on the service clock; the number of events announced (at most `limit`)."""
    now = database.clock.now()
    emitted = 0
    for candidate in await store.past_deadline(database.db, now=now):
        if emitted >= limit:
            break
        limits = await reference.limits(refdata, candidate["category_code"])

        async def work(uow: UnitOfWork, need_id: str = candidate["_id"], limits: domain.Limits = limits) -> int:
            need = await store.get(uow.db, need_id, session=uow.session)
            decision = domain.watchdog(need, now=uow.now, limits=limits) if need else None
            if need is None or decision is None:
                return 0
            payload, changes = decision
            await update_versioned(uow, store.NEEDS, need, changes)
            await uow.emit(payload, ticket_id=need_id, actor=domain.WATCHDOG_ACTOR)
            return 1

        try:
            emitted += await database.transaction(work)
        except ConcurrentChange:
            continue  # someone acted on the need meanwhile; the next pass decides again
    return emitted
