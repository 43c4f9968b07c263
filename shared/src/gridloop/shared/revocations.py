"""Ended sessions, so every service refuses their bearer tokens at once rather than when they expire.

The web service publishes a `session.ended` record on `gridloop.sessions.v1` when a person signs
out. Every instance of every service reads that topic from its beginning, without a consumer
group (each instance needs every record, not a share of them), and keeps in memory the session
ids (`sid` claim) and token ids (`jti` claim) whose tokens are still unexpired. The topic keeps
records longer than any token lives (`retention.ms`, deploy/kafka/create-topics.sh), so an
instance started later still learns of every token that is not yet expired; it says it is not
ready until it has read the topic to the end."""

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import AwareDatetime, BaseModel, Field, ValidationError

from gridloop.shared.bus import kafka_security
from gridloop.shared.settings import ServiceSettings

log = structlog.get_logger()
SESSIONS_TOPIC = "gridloop.sessions.v1"
SESSIONS_RETENTION_MS = 2 * 24 * 3600 * 1000
"""Longer than any token lives: a session of 12 hours, or the identity provider's longest token."""


class SessionEnded(BaseModel):
    """A person signed out: no token of this session (`sid`) or named here (`jti`) is good any more."""

    event_type: Literal["session.ended"] = "session.ended"
    version: Literal[1] = 1
    sid: str = Field(min_length=1, max_length=200, description="the session's id, the tokens' `sid` claim")
    sub: str = Field(max_length=200, description="whose session it was")
    token_ids: list[str] = Field(default_factory=list, description="`jti` of every token the session handed out")
    ended_at: AwareDatetime
    tokens_expire_by: AwareDatetime = Field(description="no token of the session is valid after this")


class Revocations:
    """Which sessions and tokens ended; forgets each once all its tokens have expired anyway."""

    def __init__(self) -> None:
        self._sessions: dict[str, datetime] = {}
        self._tokens: dict[str, datetime] = {}

    def apply(self, ended: SessionEnded) -> None:
        self._sessions[ended.sid] = max(ended.tokens_expire_by, self._sessions.get(ended.sid, ended.tokens_expire_by))
        for jti in ended.token_ids:
            self._tokens[jti] = ended.tokens_expire_by

    def refuses(self, claims: Mapping[str, Any]) -> bool:
        """Whether a token with these (verified) claims belongs to an ended session."""
        sid, jti = claims.get("sid"), claims.get("jti")
        return (isinstance(sid, str) and sid in self._sessions) or (isinstance(jti, str) and jti in self._tokens)

    def forget_expired(self, now: datetime) -> None:
        for kept in (self._sessions, self._tokens):
            for key in [key for key, until in kept.items() if until < now]:
                del kept[key]

    def __len__(self) -> int:
        return len(self._sessions) + len(self._tokens)


class RevocationListener:
    """Keeps `revocations` up to date from the sessions topic, for one service instance."""

    def __init__(self, settings: ServiceSettings, revocations: Revocations) -> None:
        self.settings = settings
        self.revocations = revocations
        self.caught_up = False  # the topic has been read to where it ended when this instance started
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.settings.kafka_bootstrap,
                group_id=None,
                client_id=f"{self.settings.service_name}-revocations",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=self.settings.revocation_fetch_wait_ms,
                **kafka_security(self.settings),
            )
            try:
                await consumer.start()
                await self._follow(consumer)
            except (KafkaError, OSError) as exc:
                log.warning("revocations_restart", error=repr(exc))
                await asyncio.sleep(1.0)
            finally:
                try:
                    await asyncio.wait_for(consumer.stop(), timeout=2.0)
                except (KafkaError, OSError, TimeoutError) as exc:
                    log.warning("revocations_stop_failed", error=repr(exc))

    async def _follow(self, consumer: AIOKafkaConsumer) -> None:
        partitions: set[int] = set()
        while not partitions:
            await consumer.topics()
            partitions = consumer.partitions_for_topic(SESSIONS_TOPIC) or set()
            if not partitions:
                log.warning("revocations_topic_missing", topic=SESSIONS_TOPIC)
                await asyncio.sleep(1.0)
            if self._stopping.is_set():
                return
        tps = [TopicPartition(SESSIONS_TOPIC, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        forgotten_at = time.monotonic()
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=300, max_records=500)
            for records in batches.values():
                for record in records:
                    self._apply(record.value)
            if not self.caught_up:
                self.caught_up = all([await consumer.position(tp) >= ends[tp] for tp in tps])
            if time.monotonic() - forgotten_at > 60:
                forgotten_at = time.monotonic()
                self.revocations.forget_expired(datetime.now(UTC))  # tokens expire by the real clock

    def _apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            self.revocations.apply(SessionEnded.model_validate_json(value))
        except ValidationError as exc:
            log.error("revocation_unreadable", error=str(exc)[:500])
