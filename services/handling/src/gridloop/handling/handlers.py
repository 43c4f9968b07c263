"""Handling: work orders appear in department inboxes when a ticket is dispatched; the lead
department accepts or sends it back (退单), reports progress and resolves it."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, TypeAdapter

from gridloop.handling import domain, store
from gridloop.handling.domain import OrderRole, OrderStatus
from gridloop.handling.webhooks.handlers import queue_deliveries
from gridloop.shared.access import scope_filter
from gridloop.shared.events import (
    Actor,
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
from gridloop.shared.lifecycle import TicketStatus, can_apply, is_overdue, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.paging import Cursor, page
from gridloop.shared.photos import PhotoSeal


class UnknownWorkOrder(LookupError):
    pass


InboxKey = tuple[Literal["inbox"], AwareDatetime | None, str]
INBOX_CURSOR = Cursor(TypeAdapter(InboxKey))
"""An inbox page ends at an order: the deadline it owes (None: none) and its id."""


async def inbox(
    *,
    database: Database,
    reader: Actor,
    statuses: list[OrderStatus] | None,
    overdue: bool | None,
    limit: int,
    cursor: str | None = None,
) -> dict[str, Any]:
    """A page of the inbox in the reader's scope, by the deadline owed next (the overdue first),
    each order marked overdue (超期) or not; `overdue` keeps only those that are, or only those
    that are not. InvalidCursor for a cursor this listing did not hand out."""
    after = INBOX_CURSOR.decode(cursor)[1:] if cursor else None
    now = database.clock.now()
    queries = store.inbox_queries(
        scope=scope_filter(reader, store.INBOX_SCOPE),
        statuses=[s.value for s in statuses] if statuses else None,
        overdue=overdue,
        now=now,
    )
    docs, next_cursor = page(
        await store.inbox(database.db, queries=queries, after=after, limit=limit + 1),
        limit=limit,
        key=lambda d: INBOX_CURSOR.encode(("inbox", d["_due"], d["_id"])),
    )
    tickets = await store.tickets_by_id(database.db, sorted({d["ticket_id"] for d in docs}))
    items = [
        order_view(d, reader=reader, ticket=tickets.get(d["ticket_id"])) | {"overdue": is_overdue(d, now)} for d in docs
    ]
    return {"items": items, "next_cursor": next_cursor}


async def work_order(*, database: Database, reader: Actor, ticket_id: str) -> dict[str, Any]:
    """One ticket's work order as the reader may see it (domain.shown_order); none for a ticket
    outside the reader's scope, which for them does not exist."""
    orders = await store.orders_of_ticket(database.db, ticket_id, reader=reader)
    order = domain.shown_order(orders, reader=reader)
    if order is None:
        raise UnknownWorkOrder(ticket_id)
    ticket = await store.get_ticket(database.db, ticket_id)
    return order_view(order, reader=reader, ticket=ticket) | {"overdue": is_overdue(order, database.clock.now())}


def _ticket_now(ticket: Doc) -> domain.Ticket:
    return domain.Ticket(status=TicketStatus(ticket["status"]), round=ticket["round"])


def order_view(order: Doc, *, reader: Actor, ticket: Doc | None) -> dict[str, Any]:
    """The order as the API shows it to `reader`, with the actions the reader may take on it now."""
    view = {
        key: order.get(key)
        for key in (
            "ticket_id",
            "ticket_number",
            "department",
            "role",
            "round",
            "status",
            "category_code",
            "category_name",
            "description",
            "location",
            "address",
            "grid_code",
            "street_code",
            "photos",
            "priority",
            "accept_deadline",
            "resolve_deadline",
            "deadlines_provisional",
            "dispatched_at",
            "accepted_at",
            "resolved_at",
            "rework_count",
            "notes",
            "extension_pending",
            "part",
            "evidence_required",
        )
    }
    if ticket is not None:
        view["ticket_status"] = ticket["status"]
    view["allowed_actions"] = domain.allowed_actions(
        order, ticket=_ticket_now(ticket) if ticket is not None else None, reader=reader
    )
    return view


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
    ticket = await _ticket(uow, event.ticket_id)
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
        await update_versioned(
            uow,
            store.WORK_ORDERS,
            order,
            {"status": "reopened", "rework_count": reopened.rework_count, "resolved_at": None},
        )


async def close_orders(_: TicketClosed | TicketCancelled, event: Envelope, uow: UnitOfWork) -> None:
    """A closed or cancelled ticket closes every open work order of its round."""
    ticket = await _ticket_moved_on(event, uow)
    if ticket is None:
        return
    status = "closed" if event.event_type == TicketClosed.EVENT_TYPE else "cancelled"
    for order in await store.orders_of_round(uow.db, event.ticket_id, ticket["round"], uow.session):
        if order["status"] not in ("rejected", "closed", "cancelled"):
            await update_versioned(uow, store.WORK_ORDERS, order, {"status": status})


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


async def _ticket(uow: UnitOfWork, ticket_id: str) -> Doc:
    ticket = await store.get_ticket(uow.db, ticket_id, session=uow.session)
    if ticket is None:
        raise UnknownWorkOrder(ticket_id)
    return ticket


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
    round_changes: Callable[[list[Doc]], list[tuple[Doc, Doc]]] | None = None,
) -> dict[str, Any]:
    """One department action: decided by the domain on the department's latest order as it is now,
    against the ticket's current state and round (and, where the rule needs them, the round's other
    orders), applied, announced. `round_changes`: what the action does to the round's other orders."""

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        ticket = await _ticket(uow, ticket_id)
        order = await store.latest_order(uow.db, ticket_id, actor.org, session=uow.session)
        if order is None:
            raise UnknownWorkOrder(ticket_id)
        now = _ticket_now(ticket)
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
        for other, other_changes in round_changes(siblings) if round_changes is not None else []:
            await update_versioned(uow, store.WORK_ORDERS, other, other_changes)
        status = next_status(now.status, payload.EVENT_TYPE)
        await update_versioned(uow, store.TICKETS, ticket, {"status": status.value})
        event = await uow.emit(payload, ticket_id=ticket_id, actor=actor)
        # Handling marks its own events handled as it writes them, so its consumer will not see
        # this one: the departments' webhooks get it from here, in the same transaction.
        await queue_deliveries(payload, event, uow)
        return order_view({**order, **changes}, reader=actor, ticket={**ticket, "status": status.value})

    return await database.transaction(work)


async def accept(*, database: Database, ticket_id: str, actor: Actor) -> dict[str, Any]:
    """接单: the lead department takes the ticket on."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.accept(order=order, ticket=ticket, department=actor.org),
        order_changes=lambda uow, _: {"status": "accepted", "accepted_at": uow.now},
    )


async def reject(*, database: Database, ticket_id: str, actor: Actor, reason: str) -> dict[str, Any]:
    """退单: not ours; the ticket returns to the street queue with the reason."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.reject(order=order, ticket=ticket, department=actor.org, reason=reason),
        order_changes=lambda uow, _: {"status": "rejected", "reject_reason": reason},
        round_changes=domain.withdrawn_on_rejection,
    )


async def progress(
    *, database: Database, seal: PhotoSeal, ticket_id: str, actor: Actor, note: str, photos: list[str]
) -> dict[str, Any]:
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
            "notes": [*order["notes"], {"note": note, "photos": photos, "at": uow.now, "by": actor.sub}]
        },
    )


async def report_part(
    *, database: Database, seal: PhotoSeal, ticket_id: str, actor: Actor, note: str, photos: list[str]
) -> dict[str, Any]:
    """协办反馈: an assisting department reports its part of a joint ticket done."""
    seal.check_own(photos, actor.sub)
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.report_part(
            order=order, ticket=ticket, department=actor.org, note=note, photos=photos
        ),
        order_changes=lambda uow, _: {
            "status": "part_done",
            "part": {"note": note, "photos": photos, "at": uow.now, "by": actor.sub},
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
) -> dict[str, Any]:
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
        order_changes=lambda uow, _: {
            "status": "resolved",
            "resolved_at": uow.now,
            "resolution": {"note": note, "photos": photos, "override_reason": override_reason},
        },
    )


async def request_extension(
    *, database: Database, ticket_id: str, actor: Actor, until: datetime, reason: str
) -> dict[str, Any]:
    """延期: ask the street for a later resolve deadline."""
    return await act(
        database=database,
        ticket_id=ticket_id,
        actor=actor,
        decide=lambda order, ticket: domain.request_extension(
            order=order, ticket=ticket, department=actor.org, until=until, reason=reason
        ),
        order_changes=lambda uow, _: {"extension_pending": {"until": until, "reason": reason, "at": uow.now}},
    )


async def on_extension_decided(decided: TicketExtensionDecided, event: Envelope, uow: UnitOfWork) -> None:
    """The street's decision reaches the lead's work order: the new deadline, or none."""
    order = await store.lead_order(uow.db, event.ticket_id, uow.session)
    if order is None:
        return
    changes: Doc = {"extension_pending": None}
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
