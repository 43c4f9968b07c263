"""Dispatch: route reported tickets, queue what no rule takes or a department sends back,
and carry out the street desk's assignments and cancellations."""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, TypeAdapter

from gridloop.dispatch import domain, store
from gridloop.shared.access import in_scope, scope_filter
from gridloop.shared.events import (
    Actor,
    CancelReason,
    Envelope,
    Payload,
    Priority,
    Role,
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
from gridloop.shared.lifecycle import ACTIVE_STATES, TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import ConcurrentChange, Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.paging import Cursor, page
from gridloop.shared.refdata import Calendars, RefData
from gridloop.shared.service import Runtime
from gridloop.shared.settings import CalendarSettings
from gridloop.shared.worktime import WorkCalendar

RULES_ACTOR = Actor(sub="dispatch-rules", name="自动派遣规则", role=Role.SYSTEM, org="")
WATCHDOG_ACTOR = Actor(sub="sla-watchdog", name="时限监控", role=Role.SYSTEM, org="")
CALENDAR_ACTOR = Actor(sub="work-calendar", name="工作日历", role=Role.SYSTEM, org="")


def calendars_of(runtime: Runtime) -> Calendars:
    settings = runtime.settings
    return runtime.refdata.calendars(settings.work_calendar if isinstance(settings, CalendarSettings) else "china")


class UnknownTicket(LookupError):
    pass


async def _slas(refdata: RefData) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in await refdata.all("sla")}


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
            queue_reason=domain.QueueReason.POSSIBLE_DUPLICATE.value,
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
        departments={d["code"]: d for d in await refdata.all("department")},
    )
    if match is None:
        doc.update(queue_reason=domain.QueueReason.NO_RULE.value, queued_at=event.occurred_at)
        await store.insert(uow.db, doc, uow.session)
        return
    sla = domain.sla_for(reported.category_code, await _slas(refdata))
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
    doc.update(
        _dispatched_fields(dispatched, uow.now, limits=domain.limits_for(sla, reported.priority), calendar=calendar)
    )
    await store.insert(uow.db, doc, uow.session)
    await uow.emit(dispatched, ticket_id=event.ticket_id, actor=RULES_ACTOR)


def _dispatched_fields(dispatched: TicketDispatched, at: datetime, *, limits: Doc, calendar: WorkCalendar) -> Doc:
    """A round's dispatch, with the limits and the calendar basis its deadlines were counted on,
    so a new holiday schedule can count them again."""
    end = max(dispatched.accept_deadline, dispatched.resolve_deadline)
    return {
        "status": "dispatched",
        "lead": dispatched.lead_department,
        "assisting": dispatched.assisting_departments,
        "round": dispatched.round,
        "dispatched_at": at,
        "accept_deadline": dispatched.accept_deadline,
        "resolve_deadline": dispatched.resolve_deadline,
        "overdue": [],
        "escalated": False,
        "escalate_at": domain.escalate_at(dispatched_at=at, resolve_deadline=dispatched.resolve_deadline),
        "queue_reason": None,
        "queued_at": None,
        "limits": limits,
        "calendar_basis": calendar.basis(at, end),
        "provisional": dispatched.provisional,
        "extended": False,
    }


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
            "queue_reason": domain.QueueReason.REJECTED.value,
            "queued_at": event.occurred_at,
            "rejections": [*doc["rejections"], rejection],
            "escalated": doc.get("escalated", False) or escalation is not None,
        },
    )
    if escalation is not None and not doc.get("escalated", False):
        await uow.emit(escalation, ticket_id=event.ticket_id, actor=WATCHDOG_ACTOR)


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


async def decide_extension(
    *, database: Database, ticket_id: str, approved: bool, comment: str, actor: Actor
) -> dict[str, Any]:
    """延期审批: approve or deny a department's request once."""

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id, actor)
        decided, changes = domain.decide_extension(
            ticket=doc, status=TicketStatus(doc["status"]), approved=approved, comment=comment, now=uow.now
        )
        await update_versioned(uow, store.TICKETS, doc, changes)
        await uow.emit(decided, ticket_id=ticket_id, actor=actor)
        return {"ticket_id": ticket_id, **decided.model_dump(mode="json")}

    return await database.transaction(work)


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


async def assign(
    *,
    database: Database,
    refdata: RefData,
    calendars: Calendars,
    ticket_id: str,
    lead: str,
    assisting: list[str],
    actor: Actor,
) -> dict[str, Any]:
    """The street desk dispatches by hand (吹哨): one lead department, any assisting ones."""
    for code in [lead, *assisting]:
        if await refdata.get("department", code) is None:
            raise domain.InvalidAssignment(f"unknown department {code} (部门不存在)")
    slas = await _slas(refdata)
    calendar = await calendars()

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id, actor)
        sla, priority = domain.sla_for(doc["category_code"], slas), Priority(doc["priority"])
        dispatched = domain.dispatch(
            status=TicketStatus(doc["status"]),
            previous_round=doc["round"],
            lead=lead,
            assisting=assisting,
            now=uow.now,
            sla=sla,
            priority=priority,
            calendar=calendar,
            manual=True,
        )
        fields = _dispatched_fields(dispatched, uow.now, limits=domain.limits_for(sla, priority), calendar=calendar)
        await update_versioned(uow, store.TICKETS, doc, fields)
        await uow.emit(dispatched, ticket_id=ticket_id, actor=actor)
        return {"ticket_id": ticket_id, **dispatched.model_dump(mode="json")}

    return await database.transaction(work)


async def cancel(
    *, database: Database, ticket_id: str, reason: CancelReason, comment: str, duplicate_of: str | None, actor: Actor
) -> dict[str, Any]:
    """The street cancels an invalid, out-of-scope or duplicate report."""

    async def work(uow: UnitOfWork) -> dict[str, Any]:
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
        return {"ticket_id": ticket_id, "status": "cancelled", **cancelled.model_dump(mode="json")}

    return await database.transaction(work)


async def _ticket(uow: UnitOfWork, ticket_id: str, actor: Actor) -> Doc:
    """The ticket, if it is in the actor's scope: a street's desk acts on its own street's tickets;
    others' do not exist for it."""
    doc = await store.get(uow.db, ticket_id, session=uow.session)
    if doc is None or not in_scope(actor, doc, store.TICKET_SCOPE):
        raise UnknownTicket(ticket_id)
    return doc


QueueKey = tuple[Literal["queue"], AwareDatetime, str]
QUEUE_CURSOR = Cursor(TypeAdapter(QueueKey))
"""A queue page ends at a ticket: when it was queued, and its id."""


async def street_queue(
    *, database: Database, reader: Actor, reason: domain.QueueReason | None, limit: int, cursor: str | None = None
) -> dict[str, Any]:
    """A page of the tickets waiting for a person at the reader's desk, oldest first (ties by
    ticket); InvalidCursor for a cursor this listing did not hand out."""
    after = QUEUE_CURSOR.decode(cursor)[1:] if cursor else None
    docs, next_cursor = page(
        await store.queue(
            database.db,
            scope=scope_filter(reader, store.TICKET_SCOPE),
            reason=reason.value if reason else None,
            after=after,
            limit=limit + 1,
        ),
        limit=limit,
        key=lambda d: QUEUE_CURSOR.encode(("queue", d["queued_at"], d["_id"])),
    )
    return {"items": [queue_view(d) for d in docs], "next_cursor": next_cursor}


async def pending_extensions(*, database: Database, reader: Actor, limit: int) -> list[dict[str, Any]]:
    """延期申请 waiting for the street's decision in the reader's scope, oldest first: those it can
    decide now (the ticket still being worked on)."""
    docs = await store.pending_extensions(database.db, scope=scope_filter(reader, store.TICKET_SCOPE), limit=limit)
    return [extension_view(d) for d in docs]


def extension_view(doc: Doc) -> dict[str, Any]:
    request = doc["extension"]
    return {
        "ticket_id": doc["_id"],
        "ticket_number": doc["ticket_number"],
        "category_name": doc["category_name"],
        "street_code": doc["street_code"],
        "department": request["department"],
        "reason": request["reason"],
        "requested_resolve_deadline": request["until"],
        "resolve_deadline": doc["resolve_deadline"],
        "requested_at": request["at"],
    }


async def watch_deadlines(*, database: Database, limit: int = 200) -> int:
    """超期 and 升级: announce deadlines that passed since the last look, once each."""
    now = database.clock.now()
    emitted = 0
    for candidate in await store.past_deadline(database.db, now=now, limit=limit):

        async def work(uow: UnitOfWork, ticket_id: str = candidate["_id"]) -> int:
            doc = await store.get(uow.db, ticket_id, session=uow.session)
            if doc is None:
                return 0
            findings = domain.watchdog_findings(doc, now=uow.now)
            if not findings:
                return 0
            await update_versioned(uow, store.TICKETS, doc, domain.watchdog_marks(doc, findings))
            for payload in findings:
                await uow.emit(payload, ticket_id=ticket_id, actor=WATCHDOG_ACTOR)
            return len(findings)

        try:
            emitted += await database.transaction(work)
        except ConcurrentChange:
            continue  # another instance or an event got there first; the next look decides again
    return emitted


async def revise_deadlines(*, database: Database, calendars: Calendars, limit: int = 200) -> int:
    """When a year's holiday schedule arrives or changes, the open tickets whose deadlines were
    counted on what it replaces are counted again; each change is announced as that ticket's next
    event, so every service sees it in order with the ticket's others."""
    calendar = await calendars()
    stale = calendar.stale_bases()
    if not stale:
        return 0
    revised = 0
    for candidate in await store.counted_on(database.db, bases=stale, limit=limit):

        async def work(uow: UnitOfWork, ticket_id: str = candidate["_id"]) -> int:
            doc = await store.get(uow.db, ticket_id, session=uow.session)
            if doc is None or doc["status"] not in ACTIVE_STATES or not set(doc["calendar_basis"]) & set(stale):
                return 0
            event, changes = domain.revise_deadlines(doc, calendar=calendar, now=uow.now)
            await update_versioned(uow, store.TICKETS, doc, changes)
            if event is None:
                return 0
            await uow.emit(event, ticket_id=ticket_id, actor=CALENDAR_ACTOR)
            return 1

        try:
            revised += await database.transaction(work)
        except ConcurrentChange:
            continue  # the ticket moved on meanwhile; the next pass looks again
    return revised


def queue_view(doc: Doc) -> dict[str, Any]:
    return {
        key: doc[key]
        for key in (
            "ticket_number",
            "category_code",
            "category_name",
            "description",
            "street_code",
            "community_code",
            "grid_code",
            "priority",
            "status",
            "round",
            "queue_reason",
            "queued_at",
            "rejections",
            "reported_at",
        )
    } | {"ticket_id": doc["_id"], "possible_duplicates": doc.get("possible_duplicates", [])}


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
