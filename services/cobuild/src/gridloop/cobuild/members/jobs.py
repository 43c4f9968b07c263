"""The members' periodic pass on the injected clock: an active member who has not returned to the
community within the window lapses (missed_return); once the city year has ended, the year's
minimum is checked once for that year (below_minimum), its mark kept so a second pass or a
restart does not check it again."""

from datetime import timedelta

from gridloop.cobuild.members import domain, store
from gridloop.cobuild.members.domain import Rules
from gridloop.shared.events import LapseReason
from gridloop.shared.mongo import ConcurrentChange, Database, UnitOfWork, update_versioned
from gridloop.shared.service import Runtime


def rules_of(runtime: Runtime) -> Rules:
    s = runtime.settings
    return Rules(
        return_interval_days=int(getattr(s, "return_interval_days", 183)),
        min_services_per_year=int(getattr(s, "min_services_per_year", 2)),
        min_minutes_per_year=int(getattr(s, "min_minutes_per_year", 480)),
        require_post=bool(getattr(s, "require_post", True)),
    )


async def watch(runtime: Runtime) -> int:
    return await watch_members(database=runtime.database, rules=rules_of(runtime))


async def _lapse(database: Database, member_id: str, reason: LapseReason) -> int:
    async def work(uow: UnitOfWork) -> int:
        member = await store.get(uow.db, member_id, session=uow.session)
        if member is None or member["status"] != "active":
            return 0
        event, changes = domain.lapse(member, reason=reason)
        await update_versioned(uow, store.MEMBERS, member, changes)
        await uow.emit(event, ticket_id=member_id, actor=domain.JOB_ACTOR)
        return 1

    try:
        return await database.transaction(work)
    except ConcurrentChange:
        return 0  # changed meanwhile; the next pass decides again


async def watch_members(*, database: Database, rules: Rules, limit: int = 500) -> int:
    """One pass; the number of members lapsed."""
    now = database.clock.now()
    lapsed = 0
    year = domain.year_to_judge(now=now, judged=await store.judged_year(database.db))
    if year is not None:
        start, end = domain.year_bounds(year)
        served = await store.year_service(database.db, start=start, end=end)
        for member in await store.active_members(database.db):
            if not domain.judged_in_year(member, year=year, rules=rules):
                continue
            services, minutes = served.get(member["_id"], (0, 0))
            if domain.below_minimum(services=services, minutes=minutes, rules=rules):
                lapsed += await _lapse(database, member["_id"], LapseReason.BELOW_MINIMUM)

        async def mark(uow: UnitOfWork) -> None:
            await store.mark_judged(uow.db, year, uow.now, uow.session)

        await database.transaction(mark)
    window = timedelta(days=rules.return_interval_days)
    for member in await store.active_for_return(database.db, returned_before=now - window, limit=limit):
        if domain.missed_return(member, now=now, rules=rules):
            lapsed += await _lapse(database, member["_id"], LapseReason.MISSED_RETURN)
    return lapsed
