"""What the street desk asks of dispatch: dispatch by hand (吹哨), cancel (撤销, 合并), decide an
extension (延期审批). Each acts in one transaction on a ticket of the desk's own scope, lets the
domain decide, keeps the outcome and announces it; the answer is the API's model."""

from gridloop.dispatch import domain, reference, store
from gridloop.shared.access import in_scope
from gridloop.shared.api.dispatch import Assigned, Cancelled, ExtensionDecided
from gridloop.shared.events import Actor, CancelReason, Priority
from gridloop.shared.lifecycle import TicketStatus
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars, RefData


class UnknownTicket(LookupError):
    """No such ticket in the actor's scope."""


async def _ticket(uow: UnitOfWork, ticket_id: str, actor: Actor) -> Doc:
    """The ticket, if it is in the actor's scope: a street's desk acts on its own street's tickets;
    others' do not exist for it."""
    doc = await store.get(uow.db, ticket_id, session=uow.session)
    if doc is None or not in_scope(actor, doc, store.TICKET_SCOPE):
        raise UnknownTicket(ticket_id)
    return doc


async def assign(
    *,
    database: Database,
    refdata: RefData,
    calendars: Calendars,
    ticket_id: str,
    lead: str,
    assisting: list[str],
    actor: Actor,
) -> Assigned:
    """The street desk dispatches by hand (吹哨): one lead department, any assisting ones, each
    serving the ticket's street (domain.assign)."""
    departments = await reference.departments(refdata)
    slas = await reference.time_limits(refdata)
    calendar = await calendars()

    async def work(uow: UnitOfWork) -> Assigned:
        doc = await _ticket(uow, ticket_id, actor)
        sla, priority = domain.sla_for(doc["category_code"], slas), Priority(doc["priority"])
        dispatched = domain.assign(
            status=TicketStatus(doc["status"]),
            street_code=doc["street_code"],
            previous_round=doc["round"],
            lead=lead,
            assisting=assisting,
            departments=departments,
            now=uow.now,
            sla=sla,
            priority=priority,
            calendar=calendar,
        )
        limits = domain.limits_for(sla, priority)
        changes = domain.dispatched_changes(dispatched, at=uow.now, limits=limits, calendar=calendar)
        await update_versioned(uow, store.TICKETS, doc, changes)
        await uow.emit(dispatched, ticket_id=ticket_id, actor=actor)
        return Assigned.model_validate({"ticket_id": ticket_id, **dispatched.model_dump()})

    return await database.transaction(work)


async def cancel(
    *, database: Database, ticket_id: str, reason: CancelReason, comment: str, duplicate_of: str | None, actor: Actor
) -> Cancelled:
    """The street cancels an invalid, out-of-scope or duplicate report, or one that is a household's
    need (converted_to_need: cobuild takes it from the event)."""

    async def work(uow: UnitOfWork) -> Cancelled:
        doc = await _ticket(uow, ticket_id, actor)
        original = await store.get(uow.db, duplicate_of, session=uow.session) if duplicate_of else None
        # A ticket of another street is, to this desk, one that does not exist: the same answer.
        if duplicate_of and (original is None or not in_scope(actor, original, store.TICKET_SCOPE)):
            raise domain.InvalidAssignment(f"合并目标工单不存在或不在本街道 (unknown ticket {duplicate_of})")
        cancelled = domain.cancel(
            status=TicketStatus(doc["status"]),
            reason=reason,
            comment=comment,
            duplicate_of=duplicate_of,
            ticket_id=ticket_id,
            original_status=TicketStatus(original["status"]) if original else None,
        )
        await update_versioned(uow, store.TICKETS, doc, {"status": "cancelled", "queue_reason": None})
        await uow.emit(cancelled, ticket_id=ticket_id, actor=actor)
        return Cancelled.model_validate(
            {"ticket_id": ticket_id, "status": TicketStatus.CANCELLED, **cancelled.model_dump()}
        )

    return await database.transaction(work)


async def decide_extension(
    *, database: Database, ticket_id: str, approved: bool, comment: str, actor: Actor
) -> ExtensionDecided:
    """延期审批: approve or deny a department's request once."""

    async def work(uow: UnitOfWork) -> ExtensionDecided:
        doc = await _ticket(uow, ticket_id, actor)
        decided, changes = domain.decide_extension(
            ticket=doc, status=TicketStatus(doc["status"]), approved=approved, comment=comment, now=uow.now
        )
        await update_versioned(uow, store.TICKETS, doc, changes)
        await uow.emit(decided, ticket_id=ticket_id, actor=actor)
        return ExtensionDecided.model_validate({"ticket_id": ticket_id, **decided.model_dump()})

    return await database.transaction(work)
