"""What handling does with the ticket events it consumes: it keeps what departments need to see
of each report, puts a work order in each dispatched department's inbox, and follows the ticket
(返工, 结案, 作废, the street's decision on an extension, deadlines counted again), recording each
step in the orders' history. Every event then goes to the departments' webhooks (webhooks/)."""

from gridloop.handling import domain, store
from gridloop.handling.domain import OrderRole, StepKind
from gridloop.handling.webhooks.consumers import queue_deliveries
from gridloop.shared.events import (
    Envelope,
    Payload,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDeadlinesRevised,
    TicketDispatched,
    TicketEscalated,
    TicketExtensionDecided,
    TicketOverdue,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Doc, UnitOfWork, update_versioned


async def on_reported(reported: TicketReported, event: Envelope, uow: UnitOfWork) -> None:
    """Handling keeps what a department needs to see of each report, for the orders it will get."""
    details = reported.model_dump(
        mode="json",
        include={
            "ticket_number",
            "category_code",
            "category_name",
            "description",
            "location",
            "address",
            "grid_code",
            "community_code",
            "street_code",
            "district_code",
            "photos",
            "priority",
            "evidence_required",
        },
    )
    await uow.db[store.TICKETS].insert_one(
        {"_id": event.ticket_id, **details, "status": "reported", "round": 0, "version": 0, "updated_at": uow.now},
        session=uow.session,
    )


async def on_dispatched(dispatched: TicketDispatched, event: Envelope, uow: UnitOfWork) -> None:
    """A dispatch puts a work order in the lead's inbox and in each assisting department's."""
    ticket = await store.known_ticket(uow.db, event.ticket_id, uow.session)
    await update_versioned(
        uow,
        store.TICKETS,
        ticket,
        {
            "status": next_status(TicketStatus(ticket["status"]), event.event_type).value,
            "round": dispatched.round,
        },
    )
    details = {
        k: ticket[k]
        for k in (
            "ticket_number",
            "category_code",
            "category_name",
            "description",
            "location",
            "address",
            "grid_code",
            "street_code",
            "photos",
            "priority",
        )
    }
    details["evidence_required"] = ticket.get("evidence_required", False)
    details["district_code"] = ticket.get("district_code")
    departments = [(dispatched.lead_department, OrderRole.LEAD)]
    departments += [(d, OrderRole.ASSISTING) for d in dispatched.assisting_departments]
    for department, role in departments:
        await uow.db[store.WORK_ORDERS].insert_one(
            {
                "_id": f"{event.ticket_id}:{dispatched.round}:{department}",
                "ticket_id": event.ticket_id,
                **details,
                "department": department,
                "role": role.value,
                "round": dispatched.round,
                "status": "dispatched",
                "accept_deadline": dispatched.accept_deadline,
                "resolve_deadline": dispatched.resolve_deadline,
                "deadlines_provisional": dispatched.provisional,  # 预计: a year's holiday schedule is not out yet
                "dispatched_at": event.occurred_at,
                "accepted_at": None,
                "resolved_at": None,
                "rework_count": 0,
                "notes": [],
                "history": [domain.step(StepKind.DISPATCHED, event.occurred_at)],
                "version": 0,
                "updated_at": uow.now,
            },
            session=uow.session,
        )


async def on_reopened(reopened: TicketReopened, event: Envelope, uow: UnitOfWork) -> None:
    """Verification failed: the lead's work order comes back for rework (返工)."""
    await follow_ticket(reopened, event, uow)
    order = await store.lead_order(uow.db, event.ticket_id, uow.session)
    if order is not None:
        back = domain.step(StepKind.REOPENED, event.occurred_at, note=reopened.comment, photos=reopened.photos)
        await update_versioned(
            uow,
            store.WORK_ORDERS,
            order,
            {
                "status": "reopened",
                "rework_count": reopened.rework_count,
                "resolved_at": None,
                **domain.with_step(order, back),
            },
        )


async def close_orders(ended: TicketClosed | TicketCancelled, event: Envelope, uow: UnitOfWork) -> None:
    """A closed or cancelled ticket closes every open work order of its round."""
    ticket = await _ticket_moved_on(event, uow)
    if ticket is None:
        return
    if isinstance(ended, TicketClosed):
        status, last = "closed", domain.step(StepKind.CLOSED, event.occurred_at, note=ended.comment)
    else:
        status, last = "cancelled", domain.step(StepKind.CANCELLED, event.occurred_at, reason=ended.comment)
    for order in await store.orders_of_round(uow.db, event.ticket_id, ticket["round"], uow.session):
        if order["status"] not in ("rejected", "closed", "cancelled"):
            await update_versioned(uow, store.WORK_ORDERS, order, {"status": status, **domain.with_step(order, last)})


async def follow_ticket(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Handling keeps each ticket's state, to know what its departments may still do."""
    await _ticket_moved_on(event, uow)


async def _ticket_moved_on(event: Envelope, uow: UnitOfWork) -> Doc | None:
    ticket = await store.get_ticket(uow.db, event.ticket_id, session=uow.session)
    if ticket is None or not can_apply(TicketStatus(ticket["status"]), event.event_type):
        return None
    await update_versioned(
        uow, store.TICKETS, ticket, {"status": next_status(TicketStatus(ticket["status"]), event.event_type).value}
    )
    return ticket


async def on_extension_decided(decided: TicketExtensionDecided, event: Envelope, uow: UnitOfWork) -> None:
    """The street's decision reaches the lead's work order: the new deadline, or none."""
    order = await store.lead_order(uow.db, event.ticket_id, uow.session)
    if order is None:
        return
    answer = domain.step(StepKind.EXTENSION_DECIDED, event.occurred_at, note=decided.comment, approved=decided.approved)
    changes: Doc = {"extension_pending": None, **domain.with_step(order, answer)}
    if decided.approved:
        changes["resolve_deadline"] = decided.resolve_deadline
    await update_versioned(uow, store.WORK_ORDERS, order, changes)


async def on_deadlines_revised(revised: TicketDeadlinesRevised, event: Envelope, uow: UnitOfWork) -> None:
    """The working calendar changed: every work order of the round shows the deadlines counted again."""
    for order in await store.orders_of_round(uow.db, event.ticket_id, revised.round, uow.session):
        changes: Doc = {
            "accept_deadline": revised.accept_deadline,
            "resolve_deadline": revised.resolve_deadline,
            "deadlines_provisional": revised.provisional,
        }
        await update_versioned(uow, store.WORK_ORDERS, order, changes)


ROUTES: Routes = routes(
    on(TicketReported, on_reported),
    # Then each event goes to the webhooks of the departments it concerns (webhooks/), in the same
    # transaction: queued once per endpoint and event, never lost.
    on(TicketDispatched, on_dispatched, queue_deliveries),
    on(TicketReopened, on_reopened, queue_deliveries),
    on(TicketClosed, close_orders, queue_deliveries),
    on(TicketCancelled, close_orders, queue_deliveries),
    on(TicketAccepted, follow_ticket, queue_deliveries),
    on(TicketRejected, follow_ticket, queue_deliveries),
    on(TicketResolved, follow_ticket, queue_deliveries),
    on(TicketExtensionDecided, on_extension_decided, queue_deliveries),
    on(TicketDeadlinesRevised, on_deadlines_revised, queue_deliveries),
    on(TicketOverdue, queue_deliveries),
    on(TicketEscalated, queue_deliveries),
    on(TicketRated, queue_deliveries),
)
