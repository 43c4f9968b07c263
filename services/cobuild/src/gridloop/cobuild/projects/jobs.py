"""The hotspot pass (热点难点): spots where tickets keep coming back become project ideas in the
community's list of needs, and a completed project whose spot stays quiet counts as solved. One
pass reads the time from the service clock, so a test runs it on a set clock."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from gridloop.cobuild.needs import commands as needs_commands
from gridloop.cobuild.needs import domain as needs_domain
from gridloop.cobuild.projects import domain, hotspots, store
from gridloop.cobuild.projects.hotspots import Hotspot, Spot, Thresholds
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import NEED_OPEN, PROJECT_OPEN
from gridloop.shared.events import Actor, HotspotSolved, NeedKind, NeedSource, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData
from gridloop.shared.service import Runtime
from gridloop.shared.worktime import WorkCalendar, around_the_clock

log = structlog.get_logger()
WATCHER = Actor(sub="cobuild-hotspots", name="热点难点监测", role=Role.SYSTEM)


@dataclass(frozen=True)
class Policy:
    thresholds: Thresholds
    quiet_days: int
    default_category: str


@dataclass
class Outcome:
    raised: list[str]  # the need ids of the ideas raised
    solved: list[str]  # the project ids counted solved


async def watch(runtime: Runtime) -> Outcome:
    """One pass with the service's settings and working calendar."""
    from gridloop.cobuild.app import CobuildSettings  # the composition root imports this module

    settings = runtime.settings
    assert isinstance(settings, CobuildSettings)
    policy = Policy(
        thresholds=Thresholds(
            window_days=settings.hotspot_window_days,
            closed_tickets=settings.hotspot_closed_tickets,
            reworks=settings.hotspot_reworks,
            send_backs=settings.hotspot_send_backs,
        ),
        quiet_days=settings.hotspot_quiet_days,
        default_category=settings.converted_need_category,
    )
    calendar = await runtime.refdata.working_calendar(settings.work_calendar)
    return await run_pass(database=runtime.database, refdata=runtime.refdata, policy=policy, calendar=calendar)


async def run_pass(*, database: Database, refdata: RefData, policy: Policy, calendar: WorkCalendar | None) -> Outcome:
    """Raise an idea for each spot that crosses a threshold and has none open; then judge the
    completed hotspot projects whose quiet period is over (or that saw the problem return)."""
    now = database.clock.now()
    raised = await _raise_ideas(database=database, refdata=refdata, policy=policy, calendar=calendar, now=now)
    solved = await _judge_projects(database=database, policy=policy, now=now)
    return Outcome(raised=raised, solved=solved)


async def _raise_ideas(
    *, database: Database, refdata: RefData, policy: Policy, calendar: WorkCalendar | None, now: datetime
) -> list[str]:
    db = database.db
    rule = policy.thresholds
    facts = await store.hot_spot_facts(
        db,
        start=hotspots.window_start(now, rule),
        closed=rule.closed_tickets,
        reworks=rule.reworks,
        send_backs=rule.send_backs,
    )
    if not facts:
        return []
    open_needs = {s.value for s in NEED_OPEN}
    open_projects = {s.value for s in PROJECT_OPEN}
    busy: set[Spot] = set()
    since: dict[Spot, datetime] = {}
    seen: dict[Spot, str] = {}
    async for spot_doc in db[store.HOTSPOTS].find({}):
        spot = (str(spot_doc["grid_code"]), str(spot_doc["category_code"]))
        seen[spot] = str(spot_doc["need_id"])
        idea = await db[store.NEEDS].find_one({"_id": spot_doc["need_id"]})
        made = await store.projects_of_need(db, str(spot_doc["need_id"]))
        busy_now, counted_from = hotspots.still_open(idea, made, open_needs=open_needs, open_projects=open_projects)
        if busy_now:
            busy.add(spot)
        elif counted_from is not None:
            since[spot] = counted_from
    found = [
        h
        for h in hotspots.detect(facts, now=now, thresholds=policy.thresholds, since=since)
        if (h.grid_code, h.category_code) not in busy
    ]
    if not found:
        return []
    categories = {str(c["code"]): c for c in await refdata.all("need_category")}
    ticket_categories = {str(c["code"]): c for c in await refdata.all("category")}
    raised = []
    for hotspot in found:
        need_category = hotspots.need_category(
            hotspot.category_code, known=set(categories), default=policy.default_category
        )
        name = str(ticket_categories.get(hotspot.category_code, {}).get("name", hotspot.category_code))
        number = await needs_commands.number(database)

        async def work(
            uow: UnitOfWork, h: Hotspot = hotspot, c: str = need_category, n: str = name, no: str = number
        ) -> str | None:
            return await _raise(
                uow,
                hotspot=h,
                number=no,
                need_category=c,
                limits=needs_domain.Limits.of(categories.get(c)),
                calendar=calendar or around_the_clock(),
                description=hotspots.description(h, category_name=n, thresholds=policy.thresholds),
                policy=policy,
                seen=seen.get((h.grid_code, h.category_code)),
            )

        need_id = await database.transaction(work)
        if need_id is not None:
            raised.append(need_id)
            log.info("hotspot_raised", grid=hotspot.grid_code, category=hotspot.category_code, need_id=need_id)
    return raised


async def _raise(
    uow: UnitOfWork,
    *,
    hotspot: Hotspot,
    number: str,
    need_category: str,
    limits: needs_domain.Limits,
    calendar: WorkCalendar,
    description: str,
    policy: Policy,
    seen: str | None,
) -> str | None:
    """The idea filed as the needs file every need: submitted, of kind project_idea from the
    hotspot, with its tickets (need.submitted), its text apart in need_private; it also keeps the
    tickets' category and what was counted. The spot remembers it. Nothing when another pass
    raised one meanwhile. Without a working calendar the review deadline is review_days days on."""
    key = f"{hotspot.grid_code}:{hotspot.category_code}"
    spot = await uow.db[store.HOTSPOTS].find_one({"_id": key}, session=uow.session)
    if (spot["need_id"] if spot is not None else None) != seen:
        return None
    need_id = new_id()
    submitted = needs_domain.submit(
        number=number,
        kind=NeedKind.PROJECT_IDEA,
        source=NeedSource.HOTSPOT,
        category_code=need_category,
        place=needs_domain.Place(
            grid_code=hotspot.grid_code,
            community_code=hotspot.community_code,
            street_code=hotspot.street_code,
            district_code=hotspot.district_code,
        ),
        now=uow.now,
        limits=limits,
        calendar=calendar,
        ticket_ids=hotspot.ticket_ids,
    )
    await needs_commands.file_need(
        uow,
        need_id=need_id,
        submitted=submitted,
        submitter=WATCHER,
        location=None,
        description=description,
        beneficiary=None,
    )
    counted = {
        "closed": hotspot.closed,
        "reworks": hotspot.reworks,
        "send_backs": hotspot.send_backs,
        "reasons": hotspot.reasons(policy.thresholds),
    }
    await uow.db[store.NEEDS].update_one(
        {"_id": need_id},
        {"$set": {"ticket_category_code": hotspot.category_code, "hotspot": counted}},
        session=uow.session,
    )
    spot_doc: Doc = {
        "grid_code": hotspot.grid_code,
        "category_code": hotspot.category_code,
        "need_id": need_id,
        "raised_at": uow.now,
    }
    if spot is None:
        await uow.db[store.HOTSPOTS].insert_one({"_id": key, **spot_doc, "version": 1}, session=uow.session)
    else:
        await update_versioned(uow, store.HOTSPOTS, spot, spot_doc)
    return need_id


async def _judge_projects(*, database: Database, policy: Policy, now: datetime) -> list[str]:
    solved = []
    for project in await store.completed_hotspot_projects(database.db):
        completed_at = project.get("completed_at")
        if completed_at is None:
            continue
        quiet_end = as_utc(completed_at) + timedelta(days=policy.quiet_days)
        since = await store.tickets_between(
            database.db,
            grid_code=domain.hotspot_grid(project),
            category_code=str(project["ticket_category_code"]),
            after=as_utc(completed_at),
            until=min(now, quiet_end),
        )
        outcome = domain.hotspot_outcome(project, tickets_since_completion=since, quiet_days=policy.quiet_days, now=now)
        if outcome is None:
            continue
        changes, payload = outcome

        async def work(
            uow: UnitOfWork, project: Doc = project, changes: Doc = changes, payload: HotspotSolved | None = payload
        ) -> None:
            await update_versioned(uow, store.PROJECTS, project, changes)
            if payload is not None:
                await uow.emit(payload, ticket_id=str(project["_id"]), actor=WATCHER)

        await database.transaction(work)
        if payload is not None:
            solved.append(str(project["_id"]))
            log.info("hotspot_solved", project_id=project["_id"])
    return solved
