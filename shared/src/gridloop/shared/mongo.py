"""MongoDB through PyMongo's async API, and the unit of work every write goes through.

A unit of work is one MongoDB transaction holding a service's document changes, the events
they emit (as outbox rows) and, when it handles an incoming event, the processed-event record
that makes handling idempotent.
"""

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar

import pymongo
import structlog
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, ConnectionFailure, DuplicateKeyError, OperationFailure, PyMongoError

from gridloop.shared.clock import Clock
from gridloop.shared.events import Actor, Envelope, Payload, envelope
from gridloop.shared.ids import new_id
from gridloop.shared.logging import current_correlation_id
from gridloop.shared.tracing import span, with_trace

Doc = dict[str, Any]
T = TypeVar("T")
log = structlog.get_logger()

OUTBOX = "outbox"
PROCESSED = "processed_events"
_WRITE_CONFLICT = 112
# Stated explicitly: servers record the version they chose, and a later create_index without it
# would then conflict with the existing index on every restart.
GEO_INDEX_OPTIONS: dict[str, Any] = {"2dsphereIndexVersion": 3}


# A pooled connection unused this long is closed by the client before anything else closes it:
# the embedded server drops a connection silent for 300 s, and networks (load balancers, NAT)
# cut idle ones after a few minutes. A command sent on such a connection fails (AutoReconnect):
# a readiness ping fails, and a transaction spends an attempt. The pool lends its freshest
# connection first, so after a quiet night the morning's burst meets the dead ones
# (docs/reliability.md, 14).
MAX_IDLE_MS = 60_000


def connect(uri: str, *, timeout_ms: int, max_idle_ms: int = MAX_IDLE_MS) -> AsyncMongoClient[Doc]:
    """A client that fails fast when the server is away, so readiness and retries see it."""
    return AsyncMongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        uuidRepresentation="standard",
        # A burst of requests (a street's morning) opens connections several at a time, not two.
        maxConnecting=8,
        maxIdleTimeMS=max_idle_ms,
    )


async def ensure_common_indexes(db: AsyncDatabase[Doc]) -> None:
    await db[OUTBOX].create_index([("status", 1), ("_id", 1)])
    await ensure_collections(db, PROCESSED)


async def ensure_collections(db: AsyncDatabase[Doc], *names: str) -> None:
    """Create the collections transactions write to before any transaction does: concurrent
    transactions that each create a missing collection collide, and all but one start again."""
    existing = set(await db.list_collection_names())
    for name in names:
        if name not in existing:
            with suppress(CollectionInvalid):
                await db.create_collection(name)


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying as they are: the server was away or two transactions collided."""
    if isinstance(exc, ConnectionFailure):
        return True
    if isinstance(exc, PyMongoError) and (exc.has_error_label("TransientTransactionError") or exc.timeout):
        return True
    return isinstance(exc, OperationFailure) and exc.code == _WRITE_CONFLICT


class AlreadyProcessed(Exception):
    """This consumer already handled this event: the unit of work is dropped without effect."""


class UnitOfWork:
    """What one transaction writes: the caller's documents plus outbox rows and a processed mark."""

    def __init__(
        self,
        *,
        db: AsyncDatabase[Doc],
        session: AsyncClientSession,
        producer: str,
        now: datetime,
        causation: Envelope | None,
        marks_own_events: Callable[[str], bool] = lambda _: True,
    ) -> None:
        self.db = db
        self.session = session
        self.producer = producer
        self.now = now
        self.causation = causation
        self.marks_own_events = marks_own_events
        self.emitted: list[Envelope] = []
        self.outbox_rows: list[Doc] = []  # what this transaction wrote to the outbox, for the relay
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Run `effect` once the transaction has committed (never for an attempt that was rolled back)."""
        self.committed.append(effect)

    async def emit(self, payload: Payload, *, ticket_id: str, actor: Actor) -> Envelope:
        """Queue an event in the outbox of this transaction; the relay publishes it after commit."""
        event = envelope(
            payload,
            event_id=new_id(),
            ticket_id=ticket_id,
            producer=self.producer,
            actor=actor,
            occurred_at=self.now,
            correlation_id=self.causation.correlation_id if self.causation else current_correlation_id(),
            causation_id=self.causation.event_id if self.causation else None,
        )
        await self.enqueue(
            topic=payload.TOPIC,
            key=event.ticket_id,
            value=event.to_wire(),
            headers=event.headers(),
            event_type=event.event_type,
            row_id=event.event_id,
        )
        if self.marks_own_events(event.event_type):
            # The service's own event comes back to it through the topic; it has already applied it.
            await self.db[PROCESSED].insert_one(
                {"_id": processed_key(self.producer, event.event_id), "at": self.now}, session=self.session
            )
        self.emitted.append(event)
        return event

    async def enqueue(
        self,
        *,
        topic: str,
        key: str,
        value: bytes,
        headers: list[tuple[str, bytes]],
        event_type: str,
        row_id: str | None = None,
    ) -> None:
        """An outbox row: published by the relay once this transaction has committed."""
        row = {
            "_id": row_id or new_id(),
            "topic": topic,
            "key": key,
            "value": value,
            # The trace context (while tracing is on) beside the correlation id: the relay's
            # publish and every consumer downstream join this request's trace.
            "headers": [[k, v] for k, v in with_trace(headers)],
            "event_type": event_type,
            "status": "pending",
            "created_at": self.now,
        }
        await self.db[OUTBOX].insert_one(row, session=self.session)
        self.outbox_rows.append(row)

    async def mark_processed(self, consumer: str, event_id: str) -> None:
        try:
            await self.db[PROCESSED].insert_one(
                {"_id": processed_key(consumer, event_id), "at": self.now}, session=self.session
            )
        except DuplicateKeyError as exc:
            raise AlreadyProcessed(event_id) from exc


def processed_key(consumer: str, event_id: str) -> str:
    """The processed-event mark's key: one per consuming service and event."""
    return f"{consumer}:{event_id}"


REQUEST_RETRY_SECONDS = 1.0
"""How long a request's transaction may go on retrying (collisions, a failover): past it the
caller hears 503 at once and retries later, instead of after six seconds of retries."""
REQUEST_TIMEOUT_SECONDS = 5.0
"""How long a request's database work may take in all: a stalled database is answered with 503
then, never a hang. Work that is merely queued on a busy server is not cut short before it."""
_retry_deadline: ContextVar[float | None] = ContextVar("retry_deadline", default=None)


@contextmanager
def request_budget(
    *, retry_s: float = REQUEST_RETRY_SECONDS, timeout_s: float | None = REQUEST_TIMEOUT_SECONDS
) -> Iterator[None]:
    """The database budget of the request this wraps (the service's HTTP middleware): no retry
    of a transaction begins after `retry_s`, and every operation ends by `timeout_s` (None: no
    bound, for uploads whose size decides their time). Consumers, start-up and periodic jobs run
    without it and retry for as long as their attempts last."""
    token = _retry_deadline.set(time.monotonic() + retry_s)
    try:
        with pymongo.timeout(timeout_s):
            yield
    finally:
        _retry_deadline.reset(token)


class Database:
    """One service's database, with transactions that retry on collisions and outages.

    `consumes` names the event types the service itself handles from the tickets topic: only
    those of its own events need a processed mark when it emits them (default: all)."""

    def __init__(
        self,
        client: AsyncMongoClient[Doc],
        name: str,
        *,
        producer: str,
        clock: Clock,
        on_commit: Callable[[list[Doc]], None] = lambda rows: None,
        max_attempts: int = 8,
    ) -> None:
        self.client = client
        self.db: AsyncDatabase[Doc] = client[name]
        self.producer = producer
        self.clock = clock
        self.on_commit = on_commit
        self.max_attempts = max_attempts
        self.consumes: frozenset[str] | None = None

    async def ping(self, within_s: float = 2.0) -> bool:
        try:
            with pymongo.timeout(within_s):
                await self.client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    async def transaction(self, work: Callable[[UnitOfWork], Awaitable[T]], *, causation: Envelope | None = None) -> T:
        """Run `work` in one transaction; retried whole on transient errors, never half applied.

        Inside a `request_budget` no retry begins once its retry time is spent."""
        deadline = _retry_deadline.get()
        delay = 0.05
        for attempt in range(1, self.max_attempts + 1):
            try:
                duplicate: AlreadyProcessed | None = None
                with span(
                    "transaction", attributes={"db.system.name": "mongodb", "gridloop.attempt": attempt}
                ) as current:
                    try:
                        result, uow = await self._attempt(work, causation)
                    except AlreadyProcessed as exc:  # a redelivery, found and left alone: no failure
                        current.set_attribute("gridloop.duplicate", True)
                        duplicate = exc
                if duplicate is not None:
                    raise duplicate
                if uow.outbox_rows:
                    self.on_commit(uow.outbox_rows)  # committed: the relay publishes them from memory
                for effect in uow.committed:
                    effect()
                return result
            except PyMongoError as exc:
                out_of_time = deadline is not None and time.monotonic() + delay >= deadline
                if not is_transient(exc) or attempt == self.max_attempts or out_of_time:
                    raise
                log.warning("transaction_retry", attempt=attempt, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    async def _attempt(
        self, work: Callable[[UnitOfWork], Awaitable[T]], causation: Envelope | None
    ) -> tuple[T, UnitOfWork]:
        consumes = self.consumes
        async with self.client.start_session() as session, await session.start_transaction():
            uow = UnitOfWork(
                db=self.db,
                session=session,
                producer=self.producer,
                now=self.clock.now(),
                causation=causation,
                marks_own_events=(lambda _: True) if consumes is None else consumes.__contains__,
            )
            try:
                return await work(uow), uow
            except BaseException as exc:
                await abort_beyond_budget(session, self.db, unanswered=answer_unknown(exc))
                raise


ABORT_SECONDS = 10.0
"""How long the abort of a failed transaction may take, apart from the request's budget."""


def answer_unknown(exc: BaseException) -> bool:
    """Whether a statement may still be on its way to the server: the client stopped waiting for
    it (a timeout, a lost connection, a cancelled request) instead of hearing the server's answer."""
    if isinstance(exc, ConnectionFailure | asyncio.CancelledError):
        return True
    return isinstance(exc, PyMongoError) and exc.timeout


async def abort_beyond_budget(session: AsyncClientSession, db: AsyncDatabase[Doc], *, unanswered: bool = False) -> None:
    """Abort a failed transaction even when the request's time is spent, and make sure no part of
    it can start again on the server afterwards.

    PyMongo aborts on the way out, but within the request's timeout: once that has run out (a
    stalled database) the abort is never sent, and the server keeps the transaction and its
    locks until its lifetime limit (60 s) ends it. A retry of the same filing meanwhile meets a
    WriteConflict on its own idempotency key for that minute. So the abort runs in a context of
    its own, with a bound of its own.

    When the client stopped waiting for a statement (`unanswered`), that statement may still
    reach the server after the abort, on the connection it was sent on, while the abort went on
    another: a statement that opens the transaction then opens it anew, and nobody ends it. So
    the session then begins one more transaction and aborts it: the server refuses a statement
    of an older transaction number, and a later number ends the older transaction it holds."""

    async def abort() -> None:
        with pymongo.timeout(ABORT_SECONDS):  # errors are ignored: the server ends it at its limit
            await session.abort_transaction()
            if unanswered:
                await session.start_transaction()
                await db[OUTBOX].find_one({"_id": None}, session=session)
                await session.abort_transaction()

    if session.in_transaction:
        with suppress(PyMongoError):
            await asyncio.create_task(abort(), context=contextvars.Context())


class ConcurrentChange(Exception):
    """Someone changed the document since it was read; the caller retries or answers 409."""


async def update_versioned(uow: UnitOfWork, collection: str, doc: Doc, changes: Doc) -> None:
    """Optimistic concurrency: apply `changes` only if the document is still at the version read."""
    result = await uow.db[collection].update_one(
        {"_id": doc["_id"], "version": doc["version"]},
        {"$set": {**changes, "updated_at": uow.now}, "$inc": {"version": 1}},
        session=uow.session,
    )
    if result.matched_count != 1:
        raise ConcurrentChange(f"{collection}/{doc['_id']} changed since version {doc['version']}")
