"""What units and communities do with offers: offer (提交), accept (接收), decline (婉拒), withdraw
(撤回). Each is decided by the domain on the offer as it is now, kept and announced in one
transaction, and answers with the offer as it is after."""

from collections.abc import Callable
from datetime import datetime

from gridloop.cobuild.offers import domain, reference, store
from gridloop.cobuild.offers.domain import UnknownOffer
from gridloop.cobuild.offers.views import shown
from gridloop.shared.api.cobuild import Offer, OfferRequest
from gridloop.shared.events import Actor, CobuildPayload
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData

OFFER_PREFIX = "ZY"


async def submit(*, database: Database, refdata: RefData, request: OfferRequest, actor: Actor) -> Offer:
    """A unit admin offers a resource of their unit to some of its paired communities."""
    unit = await reference.unit(refdata, actor.org)
    grid_code = request.grid_code or (str(unit["grid"]) if unit else "")
    place = await reference.place(refdata, grid_code) if grid_code else None
    categories = set(await reference.need_categories(refdata))
    await store.ensure_counter(database.db, prefix=OFFER_PREFIX, now=database.clock.now())

    async def work(uow: UnitOfWork) -> Offer:
        offer_id = new_id()
        number = await store.next_number(uow.db, prefix=OFFER_PREFIX, now=uow.now, session=uow.session)
        doc, payload = domain.submit(
            offer_id=offer_id,
            number=number,
            request=request,
            unit=unit,
            unit_code=actor.org,
            place=place,
            need_categories=categories,
            actor=actor,
            now=uow.now,
        )
        await uow.db[store.OFFERS].insert_one(doc, session=uow.session)
        await uow.emit(payload, ticket_id=offer_id, actor=actor)
        return shown(doc, reader=actor, now=uow.now)

    return await database.transaction(work)


Decide = Callable[[Doc, datetime], tuple[Doc, CobuildPayload | None]]


async def _act(*, database: Database, offer_id: str, actor: Actor, decide: Decide) -> Offer:
    domain.reads_offers(actor)

    async def work(uow: UnitOfWork) -> Offer:
        offer = await store.get(uow.db, offer_id, session=uow.session)
        if offer is None or not domain.visible(offer, actor):
            raise UnknownOffer(offer_id)
        changes, payload = decide(offer, uow.now)
        await update_versioned(uow, store.OFFERS, offer, changes)
        if payload is not None:
            await uow.emit(payload, ticket_id=offer_id, actor=actor)
        return shown({**offer, **changes, "updated_at": uow.now}, reader=actor, now=uow.now)

    return await database.transaction(work)


async def accept(*, database: Database, offer_id: str, actor: Actor) -> Offer:
    """接收: the community takes the offer into its resource list, to match with its needs."""
    return await _act(
        database=database, offer_id=offer_id, actor=actor, decide=lambda o, now: domain.accept(o, actor=actor, now=now)
    )


async def decline(*, database: Database, offer_id: str, actor: Actor, reason: str) -> Offer:
    """婉拒: the community does not take the offer, with a reason the unit reads."""
    return await _act(
        database=database,
        offer_id=offer_id,
        actor=actor,
        decide=lambda o, now: domain.decline(o, actor=actor, reason=reason, now=now),
    )


async def withdraw(*, database: Database, offer_id: str, actor: Actor, reason: str) -> Offer:
    """撤回: the unit takes its offer back."""
    return await _act(
        database=database,
        offer_id=offer_id,
        actor=actor,
        decide=lambda o, now: domain.withdraw(o, actor=actor, reason=reason, now=now),
    )
