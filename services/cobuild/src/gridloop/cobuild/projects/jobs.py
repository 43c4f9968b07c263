"""The hotspot pass (热点难点): spots where tickets keep coming back become project ideas in the
community's list of needs, and a completed project whose spot stays quiet counts as solved. One
pass reads the time from the service clock, so a test runs it on a set clock."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from gridloop.cobuild.offers import store as offers_store
from gridloop.cobuild.projects import domain, hotspots, store
from gridloop.cobuild.projects.hotspots import Hotspot, Spot, Thresholds
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import (
    NEED_OPEN,
    NEED_TRANSITIONS,
    PROJECT_OPEN,
    move,
)
from gridloop.shared.events import Actor, HotspotSolved, NeedKind, NeedSource, NeedSubmitted, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData
from gridloop.shared.service import Runtime
from gridloop.shared.worktime import TimeUnit, WorkCalendar

log = structlog.get_logger()
WATCHER = Actor(sub="cobuild-hotspots", name="热点难点监测", role=Role.SYSTEM)
IDEA_PREFIX = "XQ-RD"
DEFAULT_REVIEW_DAYS = 3


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
        review_days = int(categories.get(need_category, {}).get("review_days", DEFAULT_REVIEW_DAYS))
        review_deadline = _review_deadline(now, review_days, calendar)
        name = str(ticket_categories.get(hotspot.category_code, {}).get("name", hotspot.category_code))
        await offers_store.ensure_counter(db, prefix=IDEA_PREFIX, now=now)
        text = hotspots.description(hotspot, category_name=name, thresholds=policy.thresholds)

        async def work(
            uow: UnitOfWork, h: Hotspot = hotspot, c: str = need_category, d: datetime = review_deadline, t: str = text
        ) -> str | None:
            return await _raise(
                uow,
                hotspot=h,
                need_category=c,
                review_deadline=d,
                description=t,
                policy=policy,
                seen=seen.get((h.grid_code, h.category_code)),
            )

        need_id = await database.transaction(work)
        if need_id is not None:
            raised.append(need_id)
            log.info("hotspot_raised", grid=hotspot.grid_code, category=hotspot.category_code, need_id=need_id)
    return raised


def _review_deadline(now: datetime, days: int, calendar: WorkCalendar | None) -> datetime:
    """The review deadline on the working calendar, or `days` calendar days when there is none."""
    if calendar is not None:
        try:
            return calendar.add(now, days, TimeUnit.WORKING_DAYS)
        except ValueError:
            pass
    return now + timedelta(days=days)


async def _raise(
    uow: UnitOfWork,
    *,
    hotspot: Hotspot,
    need_category: str,
    review_deadline: datetime,
    description: str,
    policy: Policy,
    seen: str | None,
) -> str | None:
    """The idea as a submitted need of kind project_idea from the hotspot, with its tickets, and
    need.submitted; the spot remembers it. Nothing when another pass raised one meanwhile."""
    key = f"{hotspot.grid_code}:{hotspot.category_code}"
    spot = await uow.db[store.HOTSPOTS].find_one({"_id": key}, session=uow.session)
    if (spot["need_id"] if spot is not None else None) != seen:
        return None
    need_id = new_id()
    number = await offers_store.next_number(uow.db, prefix=IDEA_PREFIX, now=uow.now, session=uow.session)
    status = move(NEED_TRANSITIONS, None, NeedSubmitted.EVENT_TYPE)
    need: Doc = {
        "_id": need_id,
        "need_number": number,
        "kind": NeedKind.PROJECT_IDEA.value,
        "source": NeedSource.HOTSPOT.value,
        "status": status.value,
        "category_code": need_category,
        "ticket_category_code": hotspot.category_code,
        "grid_code": hotspot.grid_code,
        "community_code": hotspot.community_code,
        "street_code": hotspot.street_code,
        "district_code": hotspot.district_code,
        "location": None,
        "summary": "",
        "submitter_sub": WATCHER.sub,
        "submitter_role": WATCHER.role.value,
        "review_deadline": review_deadline,
        "claim_deadline": None,
        "contact_deadline": None,
        "deliver_deadline": None,
        "confirm_by": None,
        "assigned_unit": None,
        "claimants": [],
        "group": False,
        "release_request": None,
        "origin_ticket_id": None,
        "ticket_id": None,
        "ticket_number": None,
        "ticket_ids": hotspot.ticket_ids,
        "hotspot": {
            "closed": hotspot.closed,
            "reworks": hotspot.reworks,
            "send_backs": hotspot.send_backs,
            "reasons": hotspot.reasons(policy.thresholds),
        },
        "merged_into": None,
        "rating": None,
        "rated_at": None,
        "reject_reason": None,
        "delivered_at": None,
        "done_at": None,
        "on_time": None,
        "overdue": {},
        "version": 1,
        "created_at": uow.now,
        "updated_at": uow.now,
    }
    await uow.db[store.NEEDS].insert_one(need, session=uow.session)
    await uow.db[store.NEED_PRIVATE].insert_one(
        {
            "_id": need_id,
            "name": "",
            "phone": "",
            "address": "",
            "submitter_sub": WATCHER.sub,
            "description": description,
        },
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
    await uow.emit(
        NeedSubmitted(
            need_number=number,
            kind=NeedKind.PROJECT_IDEA,
            source=NeedSource.HOTSPOT,
            category_code=need_category,
            grid_code=hotspot.grid_code,
            community_code=hotspot.community_code,
            street_code=hotspot.street_code,
            district_code=hotspot.district_code,
            review_deadline=review_deadline,
            ticket_ids=hotspot.ticket_ids,
        ),
        ticket_id=need_id,
        actor=WATCHER,
    )
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
            grid_code=str(project["grid_code"]),
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
