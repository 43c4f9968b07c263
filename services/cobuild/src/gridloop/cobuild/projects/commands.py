"""What communities, units and the street do with projects: make one from needs and offers (立项,
each offer's use recorded), approve, start, progress, suspend, resume, complete, rate, evaluate,
cancel. Each is decided by the domain on the project as it is now, kept and announced in one
transaction, and answers with the project as it is after."""

from collections.abc import Callable
from datetime import datetime

from gridloop.cobuild.offers import domain as offers_domain
from gridloop.cobuild.offers import reference
from gridloop.cobuild.offers import store as offers_store
from gridloop.cobuild.projects import domain, store
from gridloop.cobuild.projects.domain import Step, UnknownProject
from gridloop.cobuild.projects.views import shown
from gridloop.shared.api.cobuild import Project, ProjectRequest
from gridloop.shared.events import Actor, OfferUsed, Rating
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData

PROJECT_PREFIX = "XM"


async def propose(*, database: Database, refdata: RefData, request: ProjectRequest, actor: Actor) -> Project:
    """立项: the community worker makes a project of their community's needs and accepted offers."""
    place = await reference.place(refdata, request.grid_code)
    categories = set(await reference.need_categories(refdata))
    units = await reference.units(refdata)
    await offers_store.ensure_counter(database.db, prefix=PROJECT_PREFIX, now=database.clock.now())

    async def work(uow: UnitOfWork) -> Project:
        project_id = new_id()
        needs = await store.needs_by_ids(uow.db, request.need_ids, session=uow.session)
        taken = await store.needs_in_open_projects(uow.db, request.need_ids, session=uow.session)
        offers = await offers_store.by_ids(uow.db, request.offer_ids, session=uow.session)
        number = await offers_store.next_number(uow.db, prefix=PROJECT_PREFIX, now=uow.now, session=uow.session)
        doc, payload = domain.propose(
            project_id=project_id,
            number=number,
            request=request,
            actor=actor,
            place=place,
            need_categories=categories,
            needs=needs,
            needs_in_open_projects=taken,
            offers=offers,
            units=units,
            now=uow.now,
        )
        uses: list[tuple[Doc, Doc, OfferUsed]] = []
        for offer in offers:
            changes, used = offers_domain.use(
                offer,
                community=actor.org,
                project_id=project_id,
                amount=request.offer_amounts.get(str(offer["_id"]), 1),
                now=uow.now,
            )
            uses.append((offer, changes, used))
        await uow.db[store.PROJECTS].insert_one(doc, session=uow.session)
        await uow.emit(payload, ticket_id=project_id, actor=actor)
        for offer, changes, used in uses:
            await update_versioned(uow, offers_store.OFFERS, offer, changes)
            await uow.emit(used, ticket_id=str(offer["_id"]), actor=actor)
        return shown(doc, reader=actor)

    return await database.transaction(work)


Decide = Callable[[Doc, datetime], Step]


async def _act(*, database: Database, project_id: str, actor: Actor, decide: Decide) -> Project:
    domain.reads_projects(actor)

    async def work(uow: UnitOfWork) -> Project:
        project = await store.get(uow.db, project_id, session=uow.session)
        if project is None or not domain.visible(project, actor):
            raise UnknownProject(project_id)
        changes, payload = decide(project, uow.now)
        await update_versioned(uow, store.PROJECTS, project, changes)
        await uow.emit(payload, ticket_id=project_id, actor=actor)
        return shown({**project, **changes, "updated_at": uow.now}, reader=actor)

    return await database.transaction(work)


async def approve(*, database: Database, project_id: str, actor: Actor, comment: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.approve(p, actor=actor, comment=comment, now=now),
    )


async def start(*, database: Database, project_id: str, actor: Actor) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.start(p, actor=actor, now=now),
    )


async def progress(*, database: Database, project_id: str, actor: Actor, percent: int, milestone: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.progress(p, actor=actor, percent=percent, milestone=milestone, now=now),
    )


async def suspend(*, database: Database, project_id: str, actor: Actor, reason: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.suspend(p, actor=actor, reason=reason, now=now),
    )


async def resume(*, database: Database, project_id: str, actor: Actor) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.resume(p, actor=actor, now=now),
    )


async def complete(*, database: Database, project_id: str, actor: Actor, report: str, beneficiaries: int) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.complete(p, actor=actor, report=report, beneficiaries=beneficiaries, now=now),
    )


async def rate(*, database: Database, project_id: str, actor: Actor, rating: Rating, comment: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.rate(p, actor=actor, rating=rating, comment=comment, now=now),
    )


async def evaluate(*, database: Database, project_id: str, actor: Actor, grade: str, comment: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.evaluate(p, actor=actor, grade=grade, comment=comment, now=now),
    )


async def cancel(*, database: Database, project_id: str, actor: Actor, reason: str) -> Project:
    return await _act(
        database=database,
        project_id=project_id,
        actor=actor,
        decide=lambda p, now: domain.cancel(p, actor=actor, reason=reason, now=now),
    )
