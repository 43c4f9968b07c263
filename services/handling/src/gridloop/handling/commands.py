"""A department's actions on its work order (接单, 退单, 进展, 协办反馈, 延期申请, 办结): each decided
by the domain on the order and ticket as they are now, applied, recorded in the order's history
and announced, in one transaction; each answers with the order as it is after the action."""

from collections.abc import Callable
from datetime import datetime

from gridloop.handling import domain, store
from gridloop.handling.domain import StepKind, UnknownWorkOrder
from gridloop.handling.views import shown, ticket_now
from gridloop.handling.webhooks.consumers import queue_deliveries
from gridloop.shared.api.handling import WorkOrder
from gridloop.shared.events import Actor, Payload
from gridloop.shared.lifecycle import next_status
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.photos import PhotoSeal

Decide = Callable[[Doc, domain.Ticket], Payload]
DecideWithRound = Callable[[Doc, domain.Ticket, list[Doc]], Payload]


async def act(
    *,
    database: Database,
    ticket_id: str,
    actor: Actor,
    decide: Decide | None = None,
    decide_with_round: DecideWithRound | None = None,
    order_changes: Callable[[UnitOfWork, Doc], Doc],
    round_changes: Callable[[list[Doc], datetime], list[tuple[Doc, Doc]]] | None = None,
) -> WorkOrder:
    """One department action: decided by the domain on the department's latest order as it is now,
    against the ticket's current state and round (and, where the rule needs them, the round's other
    orders), applied, announced. `round_changes`: what the action does to the round's other orders."""

    async def work(uow: UnitOfWork) -> WorkOrder:
        ticket = await store.known_ticket(uow.db, ticket_id, uow.session)
        order = await store.latest_order(uow.db, ticket_id, actor.org, session=uow.session)
        if order is None:
            raise UnknownWorkOrder(ticket_id)
        now = ticket_now(ticket)
        siblings: list[Doc] = []
        if decide_with_round is not None or round_changes is not None:
            siblings = await store.orders_of_round(uow.db, ticket_id, now.round, uow.session)
        if decide_with_round is not None:
            payload = decide_with_round(order, now, siblings)
        else:
            assert decide is not None
            payload = decide(order, now)
        changes = order_changes(uow, order)
        await update_versioned(uow, store.WORK_ORDERS, order, changes)
        for other, other_changes in round_changes(siblings, uow.now) if round_changes is not None else []:
            await update_versioned(uow, store.WORK_ORDERS, other, other_changes)
        status = next_status(now.status, payload.EVENT_TYPE)
        await update_versioned(uow, store.TICKETS, ticket, {"status": status.value})
        event = await uow.emit(payload, ticket_id=ticket_id, actor=actor)
        # Handling marks its own events handled as it writes them, so its consumer will not see
        # this one: the departments' webhooks get it from here, in the same transaction.
        await queue_deliveries(payload, event, uow)
        return shown(WorkOrder, {**order, **changes}, reader=actor, ticket={**ticket, "status": status.value})

    return await database.transaction(work)


async def accept(*, database: Database, ticket_id: str, actor: Actor) -> WorkOrder:
    """接单: the lead department takes the ticket on."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.accept(order=order, ticket=ticket, department=actor.org),
        order_changes=lambda uow, order: {
            "status": "accepted",
            "accepted_at": uow.now,
            **domain.with_step(order, domain.step(StepKind.ACCEPTED, uow.now)),
        },
    )


async def reject(*, database: Database, ticket_id: str, actor: Actor, reason: str) -> WorkOrder:
    """退单: not ours; the ticket returns to the street queue with the reason."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.reject(order=order, ticket=ticket, department=actor.org, reason=reason),
        order_changes=lambda uow, order: {
            "status": "rejected",
            "reject_reason": reason,
            **domain.with_step(order, domain.step(StepKind.REJECTED, uow.now, reason=reason)),
        },
        round_changes=lambda siblings, at: domain.withdrawn_on_rejection(siblings, at=at),
    )


async def progress(
    *, database: Database, seal: PhotoSeal, ticket_id: str, actor: Actor, note: str, photos: list[str]
) -> WorkOrder:
    """A progress note (with photos of the actor's own) the reporter and the street can follow."""
    seal.check_own(photos, actor.sub)
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.progress(
            order=order, ticket=ticket, department=actor.org, note=note, photos=photos
        ),
        order_changes=lambda uow, order: {
            "notes": [*order["notes"], {"note": note, "photos": photos, "at": uow.now, "by": actor.sub}],
            **domain.with_step(order, domain.step(StepKind.PROGRESS, uow.now, note=note, photos=photos)),
        },
    )


async def report_part(
    *, database: Database, seal: PhotoSeal, ticket_id: str, actor: Actor, note: str, photos: list[str]
) -> WorkOrder:
    """协办反馈: an assisting department reports its part of a joint ticket done."""
    seal.check_own(photos, actor.sub)
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.report_part(
            order=order, ticket=ticket, department=actor.org, note=note, photos=photos
        ),
        order_changes=lambda uow, order: {
            "status": "part_done",
            "part": {"note": note, "photos": photos, "at": uow.now, "by": actor.sub},
            **domain.with_step(order, domain.step(StepKind.PART_DONE, uow.now, note=note, photos=photos)),
        },
    )


async def resolve(
    *,
    database: Database,
    seal: PhotoSeal,
    ticket_id: str,
    actor: Actor,
    note: str,
    photos: list[str],
    override_reason: str = "",
) -> WorkOrder:
    """办结: the lead reports the problem fixed, with evidence (photos the actor took and uploaded);
    the reporter verifies next."""
    seal.check_own(photos, actor.sub)
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide_with_round=lambda order, ticket, siblings: domain.resolve(
            order=order,
            ticket=ticket,
            department=actor.org,
            note=note,
            photos=photos,
            pending_parts=domain.pending_parts(siblings),
            override_reason=override_reason,
        ),
        order_changes=lambda uow, order: {
            "status": "resolved",
            "resolved_at": uow.now,
            "resolution": {"note": note, "photos": photos, "override_reason": override_reason},
            **domain.with_step(
                order, domain.step(StepKind.RESOLVED, uow.now, note=note, photos=photos, reason=override_reason)
            ),
        },
    )


async def request_extension(
    *, database: Database, ticket_id: str, actor: Actor, until: datetime, reason: str
) -> WorkOrder:
    """延期: ask the street for a later resolve deadline."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.request_extension(
            order=order, ticket=ticket, department=actor.org, until=until, reason=reason
        ),
        order_changes=lambda uow, order: {
            "extension_pending": {"until": until, "reason": reason, "at": uow.now},
            **domain.with_step(order, domain.step(StepKind.EXTENSION_REQUESTED, uow.now, reason=reason)),
        },
    )
