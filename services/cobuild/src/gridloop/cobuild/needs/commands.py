"""What people ask of needs: collect one, and each step of its loop. Each step acts in one
transaction on the need as it is now, checked on the object at that moment (its community, its
assigned unit, its claimants, its submitter, its state), decided by the domain, kept and announced;
the answer is the need as the caller now sees it."""

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import DuplicateKeyError

from gridloop.cobuild import scope
from gridloop.cobuild.needs import domain, reference, store, views
from gridloop.cobuild.needs.domain import Decision, Limits, NeedSubmissionRefused
from gridloop.cobuild.needs.views import UnknownNeed, shown
from gridloop.shared.api.cobuild import (
    ConvertRequest,
    DeliverRequest,
    Need,
    NeedAction,
    RateNeedRequest,
    ReviewRequest,
    SubmitNeedRequest,
)
from gridloop.shared.events import Actor, GeoPoint, NeedSubmitted
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.refdata import Calendars, RefData


async def number(database: Database) -> str:
    """The next need number of the city's day (stepped outside the filing's transaction)."""
    now = database.clock.now()
    seq = await store.next_seq(database.db, f"need:{domain.need_day(now)}")
    return domain.need_number(now=now, seq=seq)


async def file_need(
    uow: UnitOfWork,
    *,
    need_id: str,
    submitted: NeedSubmitted,
    submitter: Actor,
    location: GeoPoint | None,
    description: str,
    beneficiary: dict[str, Any] | None,
) -> Doc:
    """A need kept (its public part and, apart, its private one) and announced as submitted. Used
    for every source: people, a ticket taken as a need, a hotspot."""
    doc = domain.new_need(submitted, need_id=need_id, submitter=submitter, location=location, now=uow.now)
    private = {"_id": need_id, "beneficiary": beneficiary, "description": description, "submitter_sub": submitter.sub}
    await store.insert(uow.db, doc, private, uow.session)
    await uow.emit(submitted, ticket_id=need_id, actor=submitter)
    return doc


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with another body."""


def fingerprint(request: SubmitNeedRequest) -> str:
    """Same body, same fingerprint: a replay under one Idempotency-Key must send the first body."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def submit(
    *,
    database: Database,
    refdata: RefData,
    calendars: Calendars,
    actor: Actor,
    request: SubmitNeedRequest,
    idempotency_key: str | None = None,
) -> tuple[Need, bool]:
    """A need collected by a resident, a grid worker's visit, the community's wish wall or the
    hotline; safe to retry with an Idempotency-Key (the replay answers with the need as it is now).
    Returns the need and whether the answer is a replay."""
    key = f"{actor.sub}:{idempotency_key}" if idempotency_key else None
    place = await reference.place(refdata, request.grid_code)
    if place is None:
        raise NeedSubmissionRefused("unknown_grid", f"网格不存在 (unknown grid {request.grid_code})")
    source = domain.source_of(actor, community_code=place.community_code, street_code=place.street_code)
    if not await reference.known_category(refdata, request.category_code):
        raise NeedSubmissionRefused("unknown_category", f"需求类别不存在 (unknown category {request.category_code})")
    beneficiary = request.beneficiary.model_dump() if request.beneficiary else None
    if beneficiary is None and domain.needs_beneficiary(request.kind, actor):
        raise NeedSubmissionRefused(
            "beneficiary_required", "请填写服务对象 (a wish or a service names its beneficiary)"
        )
    if beneficiary is None and actor.role.value == "resident":
        beneficiary = {"name": actor.name or actor.sub, "phone": "", "address": ""}
    limits = await reference.limits(refdata, request.category_code)
    calendar = await calendars()
    need_number = await number(database)

    async def work(uow: UnitOfWork) -> Need:
        submitted = domain.submit(
            number=need_number,
            kind=request.kind,
            source=source,
            category_code=request.category_code,
            place=place,
            now=uow.now,
            limits=limits,
            calendar=calendar,
        )
        need_id = new_id()
        if key:
            await store.save_idempotent(
                uow.db, key=key, fingerprint=fingerprint(request), need_id=need_id, at=uow.now, session=uow.session
            )
        doc = await file_need(
            uow,
            need_id=need_id,
            submitted=submitted,
            submitter=actor,
            location=request.location,
            description=request.description,
            beneficiary=beneficiary,
        )
        private = {"beneficiary": beneficiary, "description": request.description}
        return shown(doc, reader=actor, private=private)

    try:
        return await database.transaction(work), False
    except DuplicateKeyError:
        previous = await store.find_idempotent(database.db, key) if key else None
        if previous is None:
            raise
        if previous["fingerprint"] != fingerprint(request):
            raise IdempotencyConflict(key) from None
        return await views.one(database=database, refdata=refdata, reader=actor, need_id=previous["need_id"]), True


Decide = Callable[[Doc, UnitOfWork, Limits], Awaitable[Decision]]


async def act(
    *, database: Database, refdata: RefData, need_id: str, actor: Actor, action: NeedAction, decide: Decide
) -> Need:
    """One step on a need: found in the caller's sight (else UnknownNeed), the caller's relation to
    it checked (NotAllowed), decided by the domain (state and body), kept and announced."""
    domain.refuse_role(action, actor)  # before the need is looked for: a 403 whichever need it names
    communities = await reference.unit_communities(refdata, actor)

    async def work(uow: UnitOfWork) -> Need:
        doc = await store.get(uow.db, need_id, session=uow.session)
        if doc is None or not scope.sees(actor, doc, unit_communities=communities):
            raise UnknownNeed(need_id)
        domain.authorise(action, doc, actor, unit_communities=communities)
        limits = await reference.limits(refdata, doc["category_code"])
        payload, changes = await decide(doc, uow, limits)
        await update_versioned(uow, store.NEEDS, doc, changes)
        await uow.emit(payload, ticket_id=need_id, actor=actor)
        after = {**doc, **changes, "version": doc["version"] + 1, "updated_at": uow.now}
        private = (
            await store.private(uow.db, need_id, session=uow.session) if scope.sees_private(actor, after) else None
        )
        return shown(after, reader=actor, private=private, unit_communities=communities)

    return await database.transaction(work)


def plain(decision: Callable[[Doc, UnitOfWork, Limits], Decision]) -> Decide:
    """A decision that needs nothing more than the need, the time and the limits."""

    async def decide(doc: Doc, uow: UnitOfWork, limits: Limits) -> Decision:
        return decision(doc, uow, limits)

    return decide


async def review(*, database: Database, refdata: RefData, need_id: str, actor: Actor, body: ReviewRequest) -> Need:
    if body.category_code and not await reference.known_category(refdata, body.category_code):
        raise domain.InvalidNeedRequest("unknown_category", f"需求类别不存在 (unknown category {body.category_code})")
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.REVIEW,
        decide=plain(lambda doc, uow, _: domain.review(doc, summary=body.summary, category_code=body.category_code)),
    )


async def publish(*, database: Database, refdata: RefData, need_id: str, actor: Actor) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.PUBLISH,
        decide=plain(lambda doc, uow, limits: domain.publish(doc, now=uow.now, limits=limits)),
    )


async def assign(*, database: Database, refdata: RefData, need_id: str, actor: Actor, unit_code: str) -> Need:
    unit = await reference.unit(refdata, unit_code)
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.ASSIGN,
        decide=plain(
            lambda doc, uow, limits: domain.assign(doc, unit_code=unit_code, unit=unit, now=uow.now, limits=limits)
        ),
    )


async def reject(*, database: Database, refdata: RefData, need_id: str, actor: Actor, reason: str) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.REJECT,
        decide=plain(lambda doc, uow, _: domain.reject(doc, reason=reason)),
    )


async def merge(*, database: Database, refdata: RefData, need_id: str, actor: Actor, into: str) -> Need:
    async def decide(doc: Doc, uow: UnitOfWork, _: Limits) -> Decision:
        target = await store.get(uow.db, into, session=uow.session)
        return domain.merge(doc, into=target, into_id=into)

    return await act(
        database=database, refdata=refdata, need_id=need_id, actor=actor, action=NeedAction.MERGE, decide=decide
    )


async def convert(*, database: Database, refdata: RefData, need_id: str, actor: Actor, body: ConvertRequest) -> Need:
    ticket_category = await refdata.get("category", body.ticket_category_code)

    async def decide(doc: Doc, uow: UnitOfWork, _: Limits) -> Decision:
        grid = await refdata.get("grid", body.grid_code or doc["grid_code"])
        return domain.convert(
            doc,
            ticket_category=ticket_category,
            ticket_category_code=body.ticket_category_code,
            description=body.description,
            address=body.address,
            grid_code=body.grid_code,
            grid=grid,
            location=body.location,
        )

    return await act(
        database=database, refdata=refdata, need_id=need_id, actor=actor, action=NeedAction.CONVERT, decide=decide
    )


async def approve_release(*, database: Database, refdata: RefData, need_id: str, actor: Actor) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.APPROVE_RELEASE,
        decide=plain(lambda doc, uow, limits: domain.approve_release(doc, now=uow.now, limits=limits)),
    )


async def accept_assignment(*, database: Database, refdata: RefData, need_id: str, actor: Actor) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.ACCEPT_ASSIGNMENT,
        decide=plain(lambda doc, uow, limits: domain.accept_assignment(doc, actor=actor, now=uow.now, limits=limits)),
    )


async def return_assignment(*, database: Database, refdata: RefData, need_id: str, actor: Actor, reason: str) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.RETURN,
        decide=plain(lambda doc, uow, _: domain.return_assignment(doc, actor=actor, reason=reason)),
    )


async def claim(*, database: Database, refdata: RefData, need_id: str, actor: Actor, group: bool) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.CLAIM,
        decide=plain(lambda doc, uow, limits: domain.claim(doc, actor=actor, group=group, now=uow.now, limits=limits)),
    )


async def contact(*, database: Database, refdata: RefData, need_id: str, actor: Actor) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.CONTACT,
        decide=plain(lambda doc, uow, limits: domain.contact(doc, actor=actor, now=uow.now, limits=limits)),
    )


async def request_release(*, database: Database, refdata: RefData, need_id: str, actor: Actor, reason: str) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.REQUEST_RELEASE,
        decide=plain(lambda doc, uow, _: domain.request_release(doc, actor=actor, reason=reason, now=uow.now)),
    )


async def deliver(
    *, database: Database, refdata: RefData, seal: PhotoSeal, need_id: str, actor: Actor, body: DeliverRequest
) -> Need:
    """已兑现: the claimant's evidence may name only photos the claimant uploaded (UnknownPhotos),
    checked once the need is known to be theirs."""

    def decision(doc: Doc, uow: UnitOfWork, limits: Limits) -> Decision:
        seal.check_own(body.photos, actor.sub)
        return domain.deliver(doc, actor=actor, note=body.note, photos=body.photos, now=uow.now, limits=limits)

    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.DELIVER,
        decide=plain(decision),
    )


async def confirm(*, database: Database, refdata: RefData, need_id: str, actor: Actor) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.CONFIRM,
        decide=plain(lambda doc, uow, _: domain.confirm(doc, now=uow.now)),
    )


async def rate(*, database: Database, refdata: RefData, need_id: str, actor: Actor, body: RateNeedRequest) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.RATE,
        decide=plain(lambda doc, uow, _: domain.rate(doc, rating=body.rating, comment=body.comment, now=uow.now)),
    )


async def withdraw(*, database: Database, refdata: RefData, need_id: str, actor: Actor, reason: str) -> Need:
    return await act(
        database=database,
        refdata=refdata,
        need_id=need_id,
        actor=actor,
        action=NeedAction.WITHDRAW,
        decide=plain(lambda doc, uow, _: domain.withdraw(doc, reason=reason)),
    )
