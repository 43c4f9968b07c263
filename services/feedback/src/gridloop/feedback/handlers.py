"""Feedback: a resolved ticket becomes a verification task for its reporter; their verdict
closes or reopens it, and a closed ticket can be rated once."""

from typing import Any

from gridloop.feedback import domain, store
from gridloop.shared.events import Actor, Envelope, Rating, TicketReported, TicketResolved
from gridloop.shared.lifecycle import TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned


class UnknownTicket(LookupError):
    pass


def verification_view(doc: Doc) -> dict[str, Any]:
    return {
        "ticket_id": doc["_id"],
        "ticket_number": doc["ticket_number"],
        "status": doc["status"],
        "category_name": doc["category_name"],
        "description": doc["description"],
        "department": doc["department"],
        "reworks": doc["reworks"],
        "verification": doc["verification"],
        "rating": doc.get("rating"),
    }


async def on_reported(event: Envelope, uow: UnitOfWork) -> None:
    assert isinstance(event.payload, TicketReported)
    await uow.db[store.TICKETS].insert_one(
        {
            "_id": event.ticket_id,
            "ticket_number": event.payload.ticket_number,
            "reporter": event.actor.sub,
            "category_name": event.payload.category_name,
            "description": event.payload.description,
            "grid_code": event.payload.grid_code,
            "status": "reported",
            "department": None,
            "reworks": 0,
            "verification": None,
            "rating": None,
            "version": 0,
            "updated_at": uow.now,
        },
        session=uow.session,
    )


async def on_resolved(event: Envelope, uow: UnitOfWork) -> None:
    """The reporter gets a task to check the fix on site."""
    assert isinstance(event.payload, TicketResolved)
    doc = await _ticket(uow, event.ticket_id)
    await update_versioned(
        uow,
        store.TICKETS,
        doc,
        {
            "status": next_status(TicketStatus(doc["status"]), event.event_type).value,
            "department": event.payload.department,
            "verification": {
                "status": "pending",
                "since": event.occurred_at,
                "resolution_note": event.payload.note,
                "resolution_photos": event.payload.photos,
            },
        },
    )


async def follow_status(event: Envelope, uow: UnitOfWork) -> None:
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None or not can_apply(TicketStatus(doc["status"]), event.event_type):
        return
    await update_versioned(
        uow, store.TICKETS, doc, {"status": next_status(TicketStatus(doc["status"]), event.event_type).value}
    )


async def verify(
    *, database: Database, ticket_id: str, actor: Actor, passed: bool, comment: str, photos: list[str]
) -> dict[str, Any]:
    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id)
        status = TicketStatus(doc["status"])
        outcome = domain.verify(
            ticket=doc, status=status, verifier=actor.sub, passed=passed, comment=comment, photos=photos
        )
        changes: Doc = {
            "status": next_status(status, outcome.EVENT_TYPE).value,
            "verification": {
                **doc["verification"],
                "status": "passed" if passed else "failed",
                "verified_at": uow.now,
                "comment": comment,
            },
            "reworks": doc["reworks"] + (0 if passed else 1),
        }
        await update_versioned(uow, store.TICKETS, doc, changes)
        await uow.emit(outcome, ticket_id=ticket_id, actor=actor)
        return verification_view({**doc, **changes})

    return await database.transaction(work)


async def rate(*, database: Database, ticket_id: str, actor: Actor, rating: Rating, comment: str) -> dict[str, Any]:
    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id)
        rated = domain.rate(
            ticket=doc, status=TicketStatus(doc["status"]), rater=actor.sub, rating=rating, comment=comment
        )
        changes: Doc = {"rating": {"rating": rating.value, "comment": comment, "at": uow.now}}
        await update_versioned(uow, store.TICKETS, doc, changes)
        await uow.emit(rated, ticket_id=ticket_id, actor=actor)
        return verification_view({**doc, **changes})

    return await database.transaction(work)


async def _ticket(uow: UnitOfWork, ticket_id: str) -> Doc:
    doc = await store.get(uow.db, ticket_id, session=uow.session)
    if doc is None:
        raise UnknownTicket(ticket_id)
    return doc


ROUTES: Routes = {
    "ticket.reported": [on_reported],
    "ticket.resolved": [on_resolved],
    "ticket.dispatched": [follow_status],
    "ticket.accepted": [follow_status],
    "ticket.rejected": [follow_status],
    "ticket.cancelled": [follow_status],
    "ticket.closed": [follow_status],
    "ticket.reopened": [follow_status],
}
