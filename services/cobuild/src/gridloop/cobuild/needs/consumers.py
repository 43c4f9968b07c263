"""Ticket events needs follow: every ticket's facts (for hotspots and for a ticket taken as a need),
the ticket a need was converted to (linked, then its rating is the need's), and a ticket the
street desk cancelled as a household's need, which becomes one. The routing table is at the end."""

from gridloop.cobuild.needs import commands, domain, reference, store
from gridloop.shared.events import (
    CancelReason,
    Envelope,
    GeoPoint,
    NeedKind,
    NeedSource,
    TicketCancelled,
    TicketClosed,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
)
from gridloop.shared.ids import new_id
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars, RefData


async def on_reported(reported: TicketReported, event: Envelope, uow: UnitOfWork) -> None:
    """Every ticket's facts; a ticket filed from a need (转办) links the need to it."""
    fact: Doc = {
        "_id": event.ticket_id,
        "ticket_number": reported.ticket_number,
        "category_code": reported.category_code,
        "grid_code": reported.grid_code,
        "community_code": reported.community_code,
        "street_code": reported.street_code,
        "district_code": reported.district_code,
        "description": reported.description,
        "address": reported.address,
        "location": reported.location.model_dump() if reported.location else None,
        "reported_at": event.occurred_at,
        "status": "reported",
        "closed_at": None,
        "reworks": 0,
        "send_backs": 0,
        "rating": None,
        "origin_need_id": reported.origin_need_id,
        "reporter_sub": event.actor.sub,  # a member's verified report earns points
    }
    await store.record_ticket(uow.db, fact, uow.session)
    if reported.origin_need_id is None:
        return
    need = await store.get(uow.db, reported.origin_need_id, session=uow.session)
    decision = domain.linked(need, ticket_id=event.ticket_id, ticket_number=reported.ticket_number) if need else None
    if need is None or decision is None:
        return
    payload, changes = decision
    await update_versioned(uow, store.NEEDS, need, changes)
    await uow.emit(payload, ticket_id=need["_id"], actor=domain.TICKETS_ACTOR)


async def on_closed(_: TicketClosed, event: Envelope, uow: UnitOfWork) -> None:
    await store.update_ticket(
        uow.db, event.ticket_id, {"$set": {"status": "closed", "closed_at": event.occurred_at}}, uow.session
    )


async def on_reopened(reopened: TicketReopened, event: Envelope, uow: UnitOfWork) -> None:
    """返工: counted, for hotspots (a spot where fixes do not hold)."""
    await store.update_ticket(
        uow.db,
        event.ticket_id,
        {"$set": {"status": "reopened", "closed_at": None, "reworks": reopened.rework_count}},
        uow.session,
    )


async def on_rejected(_: TicketRejected, event: Envelope, uow: UnitOfWork) -> None:
    """退单: counted, for hotspots (a spot no department takes on)."""
    await store.update_ticket(
        uow.db, event.ticket_id, {"$set": {"status": "pending_dispatch"}, "$inc": {"send_backs": 1}}, uow.session
    )


async def on_rated(rated: TicketRated, event: Envelope, uow: UnitOfWork) -> None:
    """The rating of a ticket a need was converted to is the need's: the resident is asked once."""
    await store.update_ticket(uow.db, event.ticket_id, {"$set": {"rating": rated.rating.value}}, uow.session)
    need = await store.by_ticket(uow.db, event.ticket_id, session=uow.session)
    if need is None:
        return
    decision = domain.rated_by_ticket(
        need, ticket_id=event.ticket_id, rating=rated.rating, comment=rated.comment, now=uow.now
    )
    if decision is None:
        return
    payload, changes = decision
    await update_versioned(uow, store.NEEDS, need, changes)
    await uow.emit(payload, ticket_id=need["_id"], actor=event.actor)


async def on_cancelled(
    cancelled: TicketCancelled,
    event: Envelope,
    uow: UnitOfWork,
    *,
    database: Database,
    refdata: RefData,
    calendars: Calendars,
    category_code: str,
) -> None:
    """A ticket the street desk cancelled as a household's need becomes a need (of the source
    ticket), linked to the ticket it came from; the ticket's words stay inside cobuild."""
    await store.update_ticket(uow.db, event.ticket_id, {"$set": {"status": "cancelled"}}, uow.session)
    if cancelled.reason != CancelReason.CONVERTED_TO_NEED:
        return
    fact = await store.ticket_fact(uow.db, event.ticket_id, session=uow.session)
    if fact is None or await store.from_ticket(uow.db, event.ticket_id, session=uow.session):
        return
    place = domain.Place(
        grid_code=fact["grid_code"],
        community_code=fact["community_code"],
        street_code=fact["street_code"],
        district_code=fact["district_code"],
    )
    submitted = domain.submit(
        number=await commands.number(database),
        kind=NeedKind.SERVICE,
        source=NeedSource.TICKET,
        category_code=category_code,
        place=place,
        now=uow.now,
        limits=await reference.limits(refdata, category_code),
        calendar=await calendars(),
        origin_ticket_id=event.ticket_id,
    )
    need_id = new_id()
    need = await commands.file_need(
        uow,
        need_id=need_id,
        submitted=submitted,
        submitter=event.actor,
        location=GeoPoint.model_validate(fact["location"]) if fact.get("location") else None,
        description=fact["description"],
        beneficiary={"name": "", "phone": "", "address": fact.get("address", "")},
    )
    decision = domain.linked(need, ticket_id=event.ticket_id, ticket_number=fact["ticket_number"])
    if decision is not None:
        payload, changes = decision
        await update_versioned(uow, store.NEEDS, need, changes)
        await uow.emit(payload, ticket_id=need_id, actor=domain.TICKETS_ACTOR)


def routing(*, database: Database, refdata: RefData, calendars: Calendars, converted_category: str) -> Routes:
    async def cancelled(payload: TicketCancelled, event: Envelope, uow: UnitOfWork) -> None:
        await on_cancelled(
            payload,
            event,
            uow,
            database=database,
            refdata=refdata,
            calendars=calendars,
            category_code=converted_category,
        )

    return routes(
        on(TicketReported, on_reported),
        on(TicketClosed, on_closed),
        on(TicketReopened, on_reopened),
        on(TicketRejected, on_rejected),
        on(TicketCancelled, cancelled),
        on(TicketRated, on_rated),
    )
