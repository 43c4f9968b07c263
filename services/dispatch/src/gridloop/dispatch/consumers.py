"""What dispatch does when a ticket's events arrive: route each reported ticket or queue it for
the street, take back what a department sends back (退单), note extension requests, and follow
each ticket's state. The routing table is at the end."""

from gridloop.dispatch import domain, reference, store
from gridloop.shared.api.dispatch import QueueReason
from gridloop.shared.events import (
    Envelope,
    Payload,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDispatched,
    TicketExtensionRequested,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.lifecycle import TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import Calendars, RefData


async def on_reported(
    reported: TicketReported, event: Envelope, uow: UnitOfWork, *, refdata: RefData, calendars: Calendars
) -> None:
    """Every reported ticket is routed by the rules, or waits in its street's queue."""
    doc: Doc = {
        "_id": event.ticket_id,
        "ticket_number": reported.ticket_number,
        "category_code": reported.category_code,
        "category_name": reported.category_name,
        "description": reported.description,
        "street_code": reported.street_code,
        "district_code": reported.district_code,
        "community_code": reported.community_code,
        "grid_code": reported.grid_code,
        "priority": reported.priority.value,
        "status": "reported",
        "round": 0,
        "lead": None,
        "assisting": [],
        "rejections": [],
        "queue_reason": None,
        "queued_at": None,
        "reported_at": event.occurred_at,
        "version": 0,
        "updated_at": uow.now,
    }
    if reported.possible_duplicates:
        # 疑似重复: the street decides whether to merge it or send it on, before a department gets it twice.
        doc.update(
            queue_reason=QueueReason.POSSIBLE_DUPLICATE.value,
            queued_at=event.occurred_at,
            possible_duplicates=reported.possible_duplicates,
        )
        await store.insert(uow.db, doc, uow.session)
        return
    category = await refdata.get("category", reported.category_code) or {}
    match = domain.route(
        category_code=reported.category_code,
        family=category.get("family", "event"),
        street_code=reported.street_code,
        community_code=reported.community_code,
        rules=[r for r in await refdata.all("rule") if r["category"] == reported.category_code],
        departments=await reference.departments(refdata),
    )
    if match is None:
        doc.update(queue_reason=QueueReason.NO_RULE.value, queued_at=event.occurred_at)
        await store.insert(uow.db, doc, uow.session)
        return
    sla = domain.sla_for(reported.category_code, await reference.time_limits(refdata))
    calendar = await calendars()
    dispatched = domain.dispatch(
        status=TicketStatus.REPORTED,
        previous_round=0,
        lead=match.lead,
        assisting=list(match.assisting),
        now=uow.now,
        sla=sla,
        priority=reported.priority,
        calendar=calendar,
        manual=False,
        rule_id=match.rule_id,
    )
    limits = domain.limits_for(sla, reported.priority)
    doc.update(domain.dispatched_changes(dispatched, at=uow.now, limits=limits, calendar=calendar))
    await store.insert(uow.db, doc, uow.session)
    await uow.emit(dispatched, ticket_id=event.ticket_id, actor=domain.RULES_ACTOR)


async def on_rejected(rejected: TicketRejected, event: Envelope, uow: UnitOfWork) -> None:
    """A department sent the ticket back (退单): it returns to the street queue with the reason."""
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None:
        return
    rejection = {
        "department": rejected.department,
        "round": rejected.round,
        "reason": rejected.reason,
        "at": event.occurred_at,
    }
    escalation = domain.escalation_for_rejections(len(doc["rejections"]) + 1)
    await update_versioned(
        uow,
        store.TICKETS,
        doc,
        {
            "status": next_status(TicketStatus(doc["status"]), event.event_type).value,
            "queue_reason": QueueReason.REJECTED.value,
            "queued_at": event.occurred_at,
            "rejections": [*doc["rejections"], rejection],
            "escalated": doc.get("escalated", False) or escalation is not None,
        },
    )
    if escalation is not None and not doc.get("escalated", False):
        await uow.emit(escalation, ticket_id=event.ticket_id, actor=domain.WATCHDOG_ACTOR)


async def on_extension_requested(requested: TicketExtensionRequested, event: Envelope, uow: UnitOfWork) -> None:
    """A department asks for more time: the request waits for the street's decision."""
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None:
        return
    request = {
        "status": "pending",
        "until": requested.requested_resolve_deadline,
        "reason": requested.reason,
        "department": requested.department,
        "at": event.occurred_at,
    }
    await update_versioned(uow, store.TICKETS, doc, {"extension": request})


async def follow_status(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Dispatch keeps each ticket's state, to know what it may still do with it."""
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None or not can_apply(TicketStatus(doc["status"]), event.event_type):
        return
    await update_versioned(
        uow,
        store.TICKETS,
        doc,
        {
            "status": next_status(TicketStatus(doc["status"]), event.event_type).value,
            "queue_reason": None,
        },
    )


def routing(refdata: RefData, calendars: Calendars) -> Routes:
    async def reported(payload: TicketReported, event: Envelope, uow: UnitOfWork) -> None:
        await on_reported(payload, event, uow, refdata=refdata, calendars=calendars)

    return routes(
        on(TicketReported, reported),
        on(TicketRejected, on_rejected),
        on(TicketAccepted, follow_status),
        on(TicketResolved, follow_status),
        on(TicketReopened, follow_status),
        on(TicketClosed, follow_status),
        on(TicketCancelled, follow_status),
        on(TicketDispatched, follow_status),
        on(TicketExtensionRequested, on_extension_requested),
    )
