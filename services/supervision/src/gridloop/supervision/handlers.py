"""Supervision projects every ticket event: the timeline row (who did what, when) and the
ticket's record, both in the consumer's transaction."""

from gridloop.shared.events import Envelope
from gridloop.shared.messagebus import Routes
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, UnitOfWork, update_versioned
from gridloop.supervision import domain, store


async def project(event: Envelope, uow: UnitOfWork, metrics: Metrics | None = None) -> None:
    if event.event_type == "ticket.reported":
        ticket = domain.new_ticket(event)
        await uow.db[store.TICKETS].insert_one(ticket, session=uow.session)
    else:
        found = await store.get_ticket(uow.db, event.ticket_id, session=uow.session)
        if found is None:
            raise LookupError(f"{event.event_type} for unknown ticket {event.ticket_id}")
        ticket = found
        if metrics is not None:
            for stage, department, seconds in domain.stage_durations(ticket, event):
                histogram = metrics.stage_seconds.labels(stage, department)
                uow.after_commit(lambda h=histogram, s=seconds: h.observe(s))
        changes = domain.apply(ticket, event)
        await update_versioned(uow, store.TICKETS, ticket, changes)
        ticket = {**ticket, **changes}
    await uow.db[store.TIMELINE].insert_one(
        {
            "_id": event.event_id,
            "ticket_id": event.ticket_id,
            "event_type": event.event_type,
            "version": event.version,
            "occurred_at": event.occurred_at,
            "producer": event.producer,
            "actor": event.actor.model_dump(mode="json"),
            "correlation_id": event.correlation_id,
            "causation_id": event.causation_id,
            "payload": event.payload.model_dump(mode="json"),
            "department": domain.attribution(ticket, event),
            "street_code": ticket["street_code"],
            "district_code": ticket["district_code"],
            "grid_code": ticket["grid_code"],
            "community_code": ticket["community_code"],
        },
        session=uow.session,
    )


PROJECTED = (
    "ticket.reported",
    "ticket.cancelled",
    "ticket.dispatched",
    "ticket.accepted",
    "ticket.rejected",
    "ticket.progressed",
    "ticket.extension_requested",
    "ticket.extension_decided",
    "ticket.resolved",
    "ticket.closed",
    "ticket.reopened",
    "ticket.rated",
    "ticket.overdue",
    "ticket.escalated",
)


def routes(metrics: Metrics | None = None) -> Routes:
    async def projected(event: Envelope, uow: UnitOfWork) -> None:
        await project(event, uow, metrics)

    return {event_type: [projected] for event_type in PROJECTED}


async def refresh_backlog(database: Database, metrics: Metrics) -> None:
    """Open and overdue tickets per lead department, for the gauges."""
    counts = await store.backlog_by_department(database.db, now=database.clock.now())
    for department, (open_, overdue) in counts.items():
        metrics.open_tickets.labels(department).set(open_)
        metrics.overdue_tickets.labels(department).set(overdue)
