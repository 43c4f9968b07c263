"""The web service's own database: sign-in sessions, the only thing it keeps. The browser's cookie
names a session (`SID_KEY`); a session that ended here opens nothing, whoever holds a copy of the
cookie. Every page learns who is signed in through `signed_in`, and signs in and out through
`begin` and `finish`: the cookie is read and written here alone.

Sessions run on the real clock, whatever GRIDLOOP_CLOCK_START says: a session hands out tokens,
and every service checks a token's expiry (and forgets a sign-out's revocation) by the real clock."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from aiokafka.errors import KafkaError
from fastapi import Request
from pydantic import BaseModel
from pymongo import ASCENDING
from pymongo.errors import PyMongoError

from gridloop.shared.bus import make_producer
from gridloop.shared.clock import Clock, SystemClock
from gridloop.shared.events import Actor
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, Doc, UnitOfWork, connect, ensure_collections, ensure_common_indexes
from gridloop.shared.outbox import OutboxRelay
from gridloop.shared.revocations import SESSIONS_TOPIC
from gridloop.shared.settings import ServiceSettings
from gridloop.web.signin import SessionRecord, ended, renewal_due, renewed

log = structlog.get_logger()
SESSIONS = "sessions"
SID_KEY = "sid"
"""The session cookie's one entry about the person: which session it is (besides its form token)."""
CSRF_KEY = "csrf"
"""The session cookie's anti-forgery token, which every console form sends back."""


class SessionStore:
    def __init__(self, database: Database, *, settings: ServiceSettings, token_ttl: timedelta, clock: Clock) -> None:
        self.database = database
        self.clock = clock
        self.collection = database.db[SESSIONS]
        self.settings = settings
        self.token_ttl = token_ttl

    async def current(self, sid: object) -> SessionRecord | None:
        """The session a cookie names, while it lives, with a token that has a while left to run."""
        now = self.clock.now()
        record = await self.find(sid) if isinstance(sid, str) else None
        if record is None or not record.alive(now):
            return None
        if renewal_due(record, now, token_ttl=self.token_ttl):
            fresh = renewed(self.settings, record, now, token_ttl=self.token_ttl)
            return fresh if await self.renew(fresh) else None
        return record

    async def ensure_indexes(self) -> None:
        await ensure_collections(self.database.db, SESSIONS)
        await self.collection.create_index([("expires_at", ASCENDING)])

    async def start(self, record: SessionRecord) -> None:
        """Keep a new session; sessions past their end go (their sign-outs, if any, went out when they ended)."""
        await self.collection.delete_many({"expires_at": {"$lt": record.started_at}})
        await self.collection.insert_one(_doc(record))

    async def find(self, sid: str) -> SessionRecord | None:
        doc = await self.collection.find_one({"_id": sid})
        return _record(doc) if doc else None

    async def renew(self, record: SessionRecord) -> bool:
        """Keep a renewed token, unless the session ended meanwhile (then the token is never handed out)."""
        done = await self.collection.update_one(
            {"_id": record.sid, "ended_at": None},
            {"$set": record.model_dump(include={"token", "token_expires_at", "token_ids"})},
        )
        return done.modified_count == 1

    async def end(self, sid: str) -> bool:
        """End the session and announce its tokens as revoked, in one transaction (the outbox
        publishes the announcement); False when it had already ended or never existed."""

        async def work(uow: UnitOfWork) -> bool:
            doc = await uow.db[SESSIONS].find_one_and_update(
                {"_id": sid, "ended_at": None}, {"$set": {"ended_at": uow.now}}, session=uow.session
            )
            if doc is None:
                return False
            announcement = ended(_record(doc), uow.now)
            await uow.enqueue(
                topic=SESSIONS_TOPIC,
                key=sid,
                value=announcement.model_dump_json().encode(),
                headers=[("event_type", announcement.event_type.encode())],
                event_type=announcement.event_type,
            )
            return True

        return await self.database.transaction(work)


class Staff(BaseModel):
    """The signed-in person a console page is for: their token for the services, who they are,
    and their session's anti-forgery token for the page's forms."""

    token: str
    user: Actor
    csrf: str


async def signed_in(request: Request, store: SessionStore) -> SessionRecord | None:
    """The live session the request's cookie names; None (and the cookie emptied) when there is none."""
    record = await store.current(request.session.get(SID_KEY))
    if record is None:
        request.session.clear()
    return record


async def begin(request: Request, store: SessionStore, record: SessionRecord) -> None:
    """Keep a new session and name it in the cookie; whoever was signed in on this browser before
    is signed out."""
    await finish(request, store)
    await store.start(record)
    request.session[SID_KEY] = record.sid


async def finish(request: Request, store: SessionStore) -> None:
    """End the cookie's session here (so a copy of the cookie opens nothing) and its tokens everywhere."""
    sid = request.session.get(SID_KEY)
    if isinstance(sid, str):
        await store.end(sid)
    request.session.clear()


def _doc(record: SessionRecord) -> Doc:
    doc = record.model_dump()
    doc["_id"] = doc.pop("sid")
    return doc


def _record(doc: Doc) -> SessionRecord:
    return SessionRecord.model_validate({**doc, "sid": doc["_id"]})


@contextlib.asynccontextmanager
async def running_sessions(settings: ServiceSettings, *, token_ttl: timedelta) -> AsyncIterator[SessionStore]:
    """The sessions' database and the outbox that announces ended sessions, for the web's lifespan.
    Sessions follow the real clock, as the tokens' expiry does, whatever clock a test sets."""
    clock = SystemClock()
    client = connect(settings.mongo_uri, timeout_ms=settings.mongo_timeout_ms)
    relay_ref: list[OutboxRelay] = []
    database = Database(
        client, settings.mongo_db, producer=settings.service_name, clock=clock,
        on_commit=lambda rows: relay_ref[0].wake(rows),
    )  # fmt: skip
    producer = make_producer(settings)
    relay = OutboxRelay(
        database=database,
        producer=producer,
        metrics=Metrics(settings.service_name),
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
    )
    relay_ref.append(relay)
    store = SessionStore(database, settings=settings, token_ttl=token_ttl, clock=clock)

    async def prepare() -> None:
        await ensure_common_indexes(database.db)
        await store.ensure_indexes()
        await producer.start()

    for attempt in range(60):  # the database and broker may still be starting
        try:
            await prepare()
            break
        except (PyMongoError, KafkaError, OSError) as exc:
            if attempt == 59:
                raise
            log.warning("waiting_for", what="sessions", error=repr(exc))
            await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
    task = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        yield store
    finally:
        relay.stop()
        await asyncio.wait([task], timeout=settings.shutdown_grace_seconds)
        task.cancel()
        await producer.stop()
        await client.close()
