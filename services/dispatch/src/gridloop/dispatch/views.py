"""What the street desk reads: its queue (a page, or one ticket of it) and the extension requests
waiting for it, each in the reader's scope and answered as the API's models."""

from typing import Literal

from pydantic import AwareDatetime, TypeAdapter

from gridloop.dispatch import store
from gridloop.shared.access import scope_filter
from gridloop.shared.api.dispatch import PendingExtension, PendingExtensions, Queue, QueueItem, QueueReason
from gridloop.shared.events import Actor
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor, page

QueueKey = tuple[Literal["queue"], AwareDatetime, str]
QUEUE_CURSOR = Cursor(TypeAdapter(QueueKey))
"""A queue page ends at a ticket: when it was queued, and its id."""


class NotQueued(LookupError):
    """The ticket does not wait in the reader's queue (or is not the reader's to see)."""


def queue_item(doc: Doc) -> QueueItem:
    return QueueItem(
        ticket_id=doc["_id"],
        ticket_number=doc["ticket_number"],
        category_code=doc["category_code"],
        category_name=doc["category_name"],
        description=doc["description"],
        street_code=doc["street_code"],
        community_code=doc["community_code"],
        grid_code=doc["grid_code"],
        priority=doc["priority"],
        status=doc["status"],
        round=doc["round"],
        queue_reason=doc["queue_reason"],
        queued_at=doc["queued_at"],
        rejections=doc["rejections"],
        reported_at=doc["reported_at"],
        possible_duplicates=doc.get("possible_duplicates", []),
    )


async def street_queue(
    *, database: Database, reader: Actor, reason: QueueReason | None, limit: int, cursor: str | None = None
) -> Queue:
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
    return Queue(items=[queue_item(d) for d in docs], next_cursor=next_cursor)


async def queued_ticket(*, database: Database, reader: Actor, ticket_id: str) -> QueueItem:
    """One ticket of the reader's queue, as the queue lists it; NotQueued when it waits in no queue
    the reader sees (dispatched, cancelled, another street's, or unknown)."""
    doc = await store.queued(database.db, ticket_id, scope=scope_filter(reader, store.TICKET_SCOPE))
    if doc is None:
        raise NotQueued(ticket_id)
    return queue_item(doc)


def pending_extension(doc: Doc) -> PendingExtension:
    request = doc["extension"]
    return PendingExtension(
        ticket_id=doc["_id"],
        ticket_number=doc["ticket_number"],
        category_name=doc["category_name"],
        street_code=doc["street_code"],
        department=request["department"],
        reason=request["reason"],
        requested_resolve_deadline=request["until"],
        resolve_deadline=doc["resolve_deadline"],
        requested_at=request["at"],
    )


async def pending_extensions(*, database: Database, reader: Actor, limit: int) -> PendingExtensions:
    """延期申请 waiting for the street's decision in the reader's scope, oldest first: those it can
    decide now (the ticket still being worked on)."""
    docs = await store.pending_extensions(database.db, scope=scope_filter(reader, store.TICKET_SCOPE), limit=limit)
    return PendingExtensions(items=[pending_extension(d) for d in docs])
