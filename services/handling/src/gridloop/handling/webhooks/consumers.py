"""Deliveries queued from the event log: each event, in the same transaction as its processed
mark, for every endpoint of the departments it concerns that asked for its type, so each event is
queued once per endpoint and never lost."""

from gridloop.handling.store import WORK_ORDERS
from gridloop.handling.webhooks import domain, store
from gridloop.shared.events import Envelope, Payload
from gridloop.shared.mongo import UnitOfWork


async def queue_deliveries(payload: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Queue the event for every endpoint of the departments it concerns that asked for its type."""
    # The endpoints first: few departments register one, and without one that wants this type
    # there is nothing to learn from the ticket's orders (one read per event instead of two).
    wanting = [
        e for e in await store.enabled_endpoints(uow.db, session=uow.session) if domain.wants(e, event.event_type)
    ]
    if not wanting:
        return
    orders = (
        await uow.db[WORK_ORDERS]
        .find({"ticket_id": event.ticket_id}, {"department": 1, "ticket_number": 1}, session=uow.session)
        .to_list(None)
    )
    departments = domain.departments_involved(event, {o["department"] for o in orders})
    number = next((o["ticket_number"] for o in orders if o.get("ticket_number")), "")
    for endpoint in wanting:
        if endpoint["department"] not in departments:
            continue
        await store.queue_delivery(
            uow.db,
            {
                "_id": domain.webhook_id(endpoint["_id"], event.event_id),
                "endpoint_id": endpoint["_id"],
                "department": endpoint["department"],
                "event_id": event.event_id,
                "event_type": event.event_type,
                "ticket_id": event.ticket_id,
                "ticket_number": number,
                "body": domain.body(event),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": uow.now,
                "created_at": uow.now,
            },
            uow.session,
        )
