"""Handling's read side: the department inbox and one work order, built as the API answers them
(gridloop.shared.api.handling), with what the domain says of each order now: the actions the
reader may take, its record (处置记录) and the deadline it owes."""

from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, TypeAdapter

from gridloop.handling import domain, store
from gridloop.handling.domain import OrderStatus, UnknownWorkOrder
from gridloop.shared.access import scope_filter
from gridloop.shared.api.handling import Inbox, InboxItem, OrderStep, WorkOrder
from gridloop.shared.events import Actor
from gridloop.shared.lifecycle import TicketStatus, is_overdue
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor, page

InboxKey = tuple[Literal["inbox"], AwareDatetime | None, str]
INBOX_CURSOR = Cursor(TypeAdapter(InboxKey))
"""An inbox page ends at an order: the deadline it owes (None: none) and its id."""

Shown = TypeVar("Shown", bound=WorkOrder)


def ticket_now(ticket: Doc) -> domain.Ticket:
    """What the domain judges an order against: the ticket's state and round as handling knows them."""
    return domain.Ticket(status=TicketStatus(ticket["status"]), round=ticket["round"])


def shown(model: type[Shown], order: Doc, *, reader: Actor, ticket: Doc | None, **more: Any) -> Shown:
    """The order as the API shows it to `reader`, with the actions the reader may take on it now."""
    now = ticket_now(ticket) if ticket is not None else None
    return model(
        ticket_id=order["ticket_id"],
        ticket_number=order["ticket_number"],
        department=order["department"],
        role=order["role"],
        round=order["round"],
        status=order["status"],
        category_code=order["category_code"],
        category_name=order["category_name"],
        description=order["description"],
        location=order.get("location"),
        address=order["address"],
        grid_code=order["grid_code"],
        street_code=order["street_code"],
        photos=order["photos"],
        priority=order["priority"],
        accept_deadline=order["accept_deadline"],
        resolve_deadline=order["resolve_deadline"],
        deadlines_provisional=order.get("deadlines_provisional"),
        dispatched_at=order["dispatched_at"],
        accepted_at=order.get("accepted_at"),
        resolved_at=order.get("resolved_at"),
        rework_count=order.get("rework_count", 0),
        notes=order.get("notes", []),
        extension_pending=order.get("extension_pending"),
        part=order.get("part"),
        evidence_required=order.get("evidence_required"),
        ticket_status=ticket["status"] if ticket is not None else None,
        allowed_actions=domain.allowed_actions(order, ticket=now, reader=reader),
        history=[OrderStep.model_validate(s) for s in domain.history(order)],
        deadline_owed=domain.deadline_owed(order, ticket=now),
        **more,
    )


async def inbox(
    *,
    database: Database,
    reader: Actor,
    statuses: list[OrderStatus] | None,
    overdue: bool | None,
    limit: int,
    cursor: str | None = None,
) -> Inbox:
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
        shown(InboxItem, d, reader=reader, ticket=tickets.get(d["ticket_id"]), overdue=is_overdue(d, now)) for d in docs
    ]
    return Inbox(items=items, next_cursor=next_cursor)


async def work_order(*, database: Database, reader: Actor, ticket_id: str) -> InboxItem:
    """One ticket's work order as the reader may see it (domain.shown_order); none for a ticket
    outside the reader's scope, which for them does not exist."""
    orders = await store.orders_of_ticket(database.db, ticket_id, reader=reader)
    order = domain.shown_order(orders, reader=reader)
    if order is None:
        raise UnknownWorkOrder(ticket_id)
    ticket = await store.get_ticket(database.db, ticket_id)
    return shown(InboxItem, order, reader=reader, ticket=ticket, overdue=is_overdue(order, database.clock.now()))
