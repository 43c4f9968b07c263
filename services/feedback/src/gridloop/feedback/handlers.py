"""Feedback: a resolved ticket becomes a verification task for its verifier; their verdict
closes or reopens it, a closed ticket can be rated once, a ticket nobody verifies closes by itself,
and the reporter is told of each step."""

from datetime import timedelta
from typing import Any

from gridloop.feedback import domain, store
from gridloop.feedback.channels import Channel, ChannelUnavailable
from gridloop.shared import leases
from gridloop.shared.access import in_scope, scope_filter
from gridloop.shared.events import (
    Actor,
    CancelReason,
    Envelope,
    Payload,
    Rating,
    Role,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDispatched,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.shared.lifecycle import TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import ConcurrentChange, Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.photos import PhotoSeal

OUTGOING_LEASE = timedelta(seconds=60)  # one try's hold on a notification; a sender that dies frees it then
AUTO_CLOSE_ACTOR = Actor(sub="auto-close", name="逾期自动结案", role=Role.SYSTEM, org="")


class UnknownTicket(LookupError):
    pass


class UnknownNotification(LookupError):
    """No such notification, or one sent to someone else: the same answer."""


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
        "verifier": doc.get("verifier"),
        "auto_closed": doc.get("auto_closed", False),
        "rating": doc.get("rating"),
    }


def notification_view(doc: Doc) -> dict[str, Any]:
    return {k: doc[k] for k in ("ticket_id", "ticket_number", "event_type", "text", "at", "read")} | {
        "notification_id": doc["_id"]
    }


def task_scope(user: Actor) -> Doc:
    """The verification tasks a user sees: a grid worker those they verify or their community
    verifies, not every report of their community; a supervisor those of their district or street."""
    return scope_filter(user, store.TASK_SCOPE)


async def verification_tasks(
    *, database: Database, user: Actor, status: str | None, rated: bool | None, limit: int
) -> dict[str, Any]:
    """What the user has to check on site (or, for supervisors, what waits to be checked), oldest first."""
    docs = await store.verifications(database.db, scope=task_scope(user), status=status, rated=rated, limit=limit)
    return {"items": [verification_view(d) for d in docs]}


async def verification_task(*, database: Database, user: Actor, ticket_id: str) -> dict[str, Any]:
    """One ticket's verification task as the user's list shows it, pending or done, rated or not;
    UnknownTicket when the ticket has no task yet or the task is not the user's (task_scope)."""
    doc = await store.get(database.db, ticket_id)
    task = doc.get("verification") if doc else None
    if doc is None or task is None or task["status"] not in store.TASK_STATES:
        raise UnknownTicket(ticket_id)
    if not in_scope(user, doc, store.TASK_SCOPE):
        raise UnknownTicket(ticket_id)
    return verification_view(doc)


async def notifications(*, database: Database, recipient: Actor, unread: bool | None, limit: int) -> dict[str, Any]:
    """通知 sent to the user about the reports they filed, newest first."""
    docs = await store.notifications(database.db, recipient=recipient.sub, unread=unread, limit=limit)
    return {"items": [notification_view(d) for d in docs]}


async def mark_read(*, database: Database, recipient: Actor, notification_id: str) -> dict[str, Any]:
    """Only the recipient marks a notification read; anyone else is told it does not exist."""
    doc = await store.mark_read(database.db, recipient=recipient.sub, notification_id=notification_id)
    if doc is None:
        raise UnknownNotification(notification_id)
    return notification_view(doc)


async def on_reported(reported: TicketReported, event: Envelope, uow: UnitOfWork) -> None:
    """Feedback keeps who reported each ticket and who will verify its fix."""
    await uow.db[store.TICKETS].insert_one(
        {
            "_id": event.ticket_id,
            "ticket_number": reported.ticket_number,
            "reporter": event.actor.sub,
            "verifier": domain.verifier_for(event.actor, reported.community_code),
            "category_name": reported.category_name,
            "description": reported.description,
            "grid_code": reported.grid_code,
            "community_code": reported.community_code,
            "street_code": reported.street_code,
            "district_code": reported.district_code,
            "duplicates": [],
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


async def on_resolved(resolved: TicketResolved, event: Envelope, uow: UnitOfWork) -> None:
    """The reporter gets a task to check the fix on site."""
    doc = await _ticket(uow, event.ticket_id)
    await update_versioned(
        uow,
        store.TICKETS,
        doc,
        {
            "status": next_status(TicketStatus(doc["status"]), event.event_type).value,
            "department": resolved.department,
            "verification": {
                "status": "pending",
                "since": event.occurred_at,
                "resolution_note": resolved.note,
                "resolution_photos": resolved.photos,
            },
        },
    )


async def follow_status(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Feedback keeps each ticket's state, to know whether it waits for verification or a rating."""
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None or not can_apply(TicketStatus(doc["status"]), event.event_type):
        return
    await update_versioned(
        uow, store.TICKETS, doc, {"status": next_status(TicketStatus(doc["status"]), event.event_type).value}
    )


async def notify_reporter(payload: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """通知: the reporter hears of each step of their ticket; reporters of duplicates merged into
    it hear when it closes."""
    doc = await store.get(uow.db, event.ticket_id, session=uow.session)
    if doc is None:
        return
    text = domain.notification_text(doc["ticket_number"], payload)
    if text:
        await notify(uow, doc["reporter"], doc, event, text)
    if event.event_type == "ticket.closed":
        for duplicate in doc.get("duplicates", []):
            message = domain.original_closed_text(duplicate["ticket_number"], doc["ticket_number"])
            await notify(uow, duplicate["reporter"], doc, event, message, about=duplicate["ticket_id"])


async def notify(
    uow: UnitOfWork, recipient: str, doc: Doc, event: Envelope, text: str, about: str | None = None
) -> None:
    """通知: the reporter's notification, read in the app, and queued for the city's gateway."""
    await uow.db[store.NOTIFICATIONS].insert_one(
        {
            "_id": new_id(),
            "recipient": recipient,
            "ticket_id": about or doc["_id"],
            "ticket_number": doc["ticket_number"],
            "event_type": event.event_type,
            "text": text,
            "at": event.occurred_at,
            "read": False,
            # and, when the city has a gateway (SMS, WeChat), out through it: channels.py
            "outgoing": "pending",
            "outgoing_attempts": 0,
            "outgoing_next_at": event.occurred_at,
        },
        session=uow.session,
    )


async def send_notifications(
    *, database: Database, channel: Channel, metrics: Metrics | None = None, limit: int = 200
) -> int:
    """One pass of the outgoing channel: every due notification tried once; a failure is tried
    again later (domain.next_outgoing_try), nothing is dropped until it is a day old."""
    now = database.clock.now()
    await store.expire_outgoing(database.db, older_than=now - domain.OUTGOING_MAX_AGE)
    sent = 0
    claimed_at = await leases.server_now(database.db)
    due = await store.outgoing_due(
        database.db,
        now=now,
        longest_wait=domain.OUTGOING_LONGEST_WAIT,
        server_now=claimed_at,
        lease=OUTGOING_LEASE,
        limit=limit,
    )
    for notification in due:
        if not await store.claim_outgoing(database.db, notification, server_now=claimed_at, lease=OUTGOING_LEASE):
            continue
        try:
            await channel.send(notification)
        except ChannelUnavailable as exc:
            if metrics:
                metrics.webhook_deliveries.labels(metrics.service, channel.name, "failed").inc()
            attempts = int(notification.get("outgoing_attempts", 0)) + 1
            retry_at = domain.next_outgoing_try(attempts, database.clock.now())
            await store.outgoing_result(
                database.db, notification["_id"], {"outgoing_next_at": retry_at, "outgoing_error": str(exc)}
            )
            continue
        await store.outgoing_result(
            database.db,
            notification["_id"],
            {"outgoing": "sent", "outgoing_sent_at": database.clock.now(), "outgoing_channel": channel.name},
        )
        if metrics:
            metrics.webhook_deliveries.labels(metrics.service, channel.name, "delivered").inc()
        sent += 1
    return sent


async def on_cancelled(cancelled: TicketCancelled, event: Envelope, uow: UnitOfWork) -> None:
    """A duplicate merged into another ticket: its reporter will hear when the original closes."""
    await follow_status(cancelled, event, uow)
    if cancelled.reason != CancelReason.DUPLICATE or not cancelled.duplicate_of:
        return
    duplicate = await store.get(uow.db, event.ticket_id, session=uow.session)
    original = await store.get(uow.db, cancelled.duplicate_of, session=uow.session)
    if duplicate is None or original is None:
        return
    link = {
        "ticket_id": duplicate["_id"],
        "ticket_number": duplicate["ticket_number"],
        "reporter": duplicate["reporter"],
    }
    await update_versioned(uow, store.TICKETS, original, {"duplicates": [*original.get("duplicates", []), link]})


async def auto_close(*, database: Database, after: timedelta, limit: int = 200) -> int:
    """自动结案: close resolved tickets nobody verified in time, marked as closed automatically."""
    closed = 0
    for candidate in await store.unverified_since(database.db, before=database.clock.now() - after, limit=limit):

        async def work(uow: UnitOfWork, ticket_id: str = candidate["_id"]) -> int:
            doc = await _ticket(uow, ticket_id)
            status = TicketStatus(doc["status"])
            outcome = domain.auto_close(ticket=doc, status=status, now=uow.now, after=after)
            if outcome is None:
                return 0
            changes: Doc = {
                "status": next_status(status, outcome.EVENT_TYPE).value,
                "verification": {**doc["verification"], "status": "expired", "verified_at": uow.now},
                "auto_closed": True,
            }
            await update_versioned(uow, store.TICKETS, doc, changes)
            await notify_reporter(outcome, await uow.emit(outcome, ticket_id=ticket_id, actor=AUTO_CLOSE_ACTOR), uow)
            return 1

        try:
            closed += await database.transaction(work)
        except ConcurrentChange:
            continue  # the verifier acted at the same moment; their verdict stands
    return closed


async def verify(
    *, database: Database, seal: PhotoSeal, ticket_id: str, actor: Actor, passed: bool, comment: str, photos: list[str]
) -> dict[str, Any]:
    """核查: the verifier's verdict, with photos the verifier took and uploaded."""
    seal.check_own(photos, actor.sub)

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id)
        status = TicketStatus(doc["status"])
        outcome = domain.verify(
            ticket=doc, status=status, verifier=actor, passed=passed, comment=comment, photos=photos
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
        # Our own event comes back to us already marked processed: tell the reporter here.
        await notify_reporter(outcome, await uow.emit(outcome, ticket_id=ticket_id, actor=actor), uow)
        return verification_view({**doc, **changes})

    return await database.transaction(work)


async def rate(*, database: Database, ticket_id: str, actor: Actor, rating: Rating, comment: str) -> dict[str, Any]:
    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc = await _ticket(uow, ticket_id)
        rated = domain.rate(ticket=doc, status=TicketStatus(doc["status"]), rater=actor, rating=rating, comment=comment)
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


ROUTES: Routes = routes(
    on(TicketReported, on_reported),
    on(TicketResolved, on_resolved, notify_reporter),
    on(TicketDispatched, follow_status, notify_reporter),
    on(TicketAccepted, follow_status, notify_reporter),
    on(TicketRejected, follow_status),
    on(TicketCancelled, on_cancelled, notify_reporter),
    on(TicketClosed, follow_status, notify_reporter),
    on(TicketReopened, follow_status, notify_reporter),
)
