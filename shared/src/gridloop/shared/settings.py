"""Settings from the environment (prefix GRIDLOOP_), one class per service built on this base."""

from datetime import datetime
from pathlib import Path
from typing import Literal, Self

from pydantic import AwareDatetime, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridloop.shared.clock import Clock, ShiftedClock, SteppedClock, SystemClock

DEV_JWT_SECRET = "gridloop-development-secret-not-for-production"
DEV_JWT_ISSUER = "gridloop-dev"
DEV_PHOTO_KEY = "gridloop-development-photo-key-not-for-production"


INBOX_PATH_FETCH_WAIT_MS = 25
"""The fetch wait of the consumers a report passes between filing and inbox (dispatch, handling)."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDLOOP_", extra="ignore")

    service_name: str = "gridloop"
    # Unset, a service runs as in production (fail closed): the development secrets, issuer and
    # clock are accepted only where development is said (the embedded stack, the tests, the Makefile).
    environment: Literal["development", "test", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = ""
    mongo_timeout_ms: int = 5000
    request_retry_seconds: float = Field(
        default=1.0, gt=0, description="a request's transaction is not retried after this: 503, retry later"
    )
    request_timeout_seconds: float = Field(
        default=5.0, gt=0, description="a request that changes something gets 503 if its database work takes longer"
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Real Kafka: on. The embedded Tansu broker cannot do InitProducerId, so it runs with it off.
    kafka_idempotence: bool = False
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: Path | None = None  # the CA that signed the brokers' certificates (else the system's)
    tickets_partitions: int = 6
    consumer_max_attempts: int = 5
    # How many partitions a consumer handles at the same time (each in its own order)
    consumer_partition_concurrency: int = Field(default=6, ge=1)
    # At most this many of a partition's fetched records in one transaction; 1 (the default): one
    # event each. Larger batches drain a backlog with fewer commits but hold the embedded
    # database's lock longer (docs/decisions.md, "A backlog in shared transactions").
    consumer_batch_records: int = Field(default=1, ge=1)
    # How long the broker may hold a fetch that finds nothing. Kafka answers as soon as a record
    # arrives; Tansu within about a quarter of this (a hop's p50: 12 ms at 25, 16 ms at 100, 53 ms
    # at 250, 115 ms at 500). An idle consumer asks 1000/N times a second: at 25 for every consumer
    # an idle stack's polls took half a core, broker and services together. So 100 here, and 25 for
    # the two consumers a report passes on its way to an inbox (dispatch's and handling's
    # settings: INBOX_PATH_FETCH_WAIT_MS); docs/decisions.md has the figures.
    consumer_fetch_wait_ms: int = Field(default=100, ge=1, le=1000)
    # How long the broker waits for a consumer's heartbeat before it hands the consumer's partitions
    # to another member: a killed instance's work moves after about this. Tansu also answers a
    # join only after half of it, so each start waits that long for its partitions (5 s at 10 s,
    # 2 s at 4 s). The embedded test stack uses 4 s; production keeps Kafka's usual 10 s, which
    # rides out a pause of a few seconds (a long GC, a slow node) without a rebalance.
    consumer_session_timeout_ms: int = Field(default=10000, ge=2000, le=300000)
    # The same for the directory's topic: its changes are rare and none is awaited by a person
    # within a tenth of a second, so its consumers (one in each service) ask twice a second.
    directory_fetch_wait_ms: int = Field(default=500, ge=1, le=1000)
    # The same for the ended sessions' topic (shared/revocations.py): a signed-out token is refused
    # by every service within about this (Tansu) or at once (Kafka), after web's outbox publishes it.
    revocation_fetch_wait_ms: int = Field(default=100, ge=1, le=1000)
    # A name this instance keeps across restarts (Kafka's static membership, group.instance.id):
    # restarted after a crash, it takes its partitions back at once instead of waiting out the
    # dead member's session. Unique within the service; a stopped instance that does not come
    # back holds its partitions until its session ends (docs/decisions.md). Empty: none.
    consumer_instance_id: str = Field(default="", max_length=249, pattern=r"^[A-Za-z0-9._-]*$")

    # Tracing (OpenTelemetry): off unless a collector's OTLP/HTTP address is set, e.g. http://otel-collector:4318
    otel_endpoint: str = ""
    otel_sample_ratio: float = Field(default=1.0, ge=0, le=1, description="share of new traces kept")
    otel_export_delay_ms: int = Field(default=2000, gt=0, description="how often finished spans are sent")

    max_body_bytes: int = Field(default=1_048_576, gt=0, description="larger request bodies get 413")

    # Development and tests only: the service's clock starts at this instant (then runs on), so a
    # given day (28 December, New Year's Eve) can be tried on any machine.
    clock_start: AwareDatetime | None = None
    # Development and tests only: the clock reads the instant a test writes in this file
    # (gridloop.shared.clock.SteppedClock), so a test walks a whole stack through a compressed year.
    clock_file: Path | None = None

    shutdown_grace_seconds: float = Field(
        default=3.0, gt=0, description="on SIGTERM, how long consumers and the relay may take to finish"
    )

    outbox_poll_seconds: float = 0.5
    outbox_lease_seconds: float = 5.0
    # An instance whose outbox holds a row unpublished for longer than this says it is not ready
    # (and the GridLoopOutboxStuck alert fires at the same age): a stuck pipe shows within a minute.
    outbox_stuck_seconds: float = Field(default=60.0, gt=0)

    # Development and tests: HS256 with a shared secret, minted by `make token`. Production: the
    # city's identity provider (OIDC) signs with ES256 or RS256; we hold only its public keys, from
    # a JWKS address (rotated keys are fetched by `kid`) or one PEM public key.
    jwt_algorithm: Literal["HS256", "ES256", "RS256"] = "HS256"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_public_key: str = ""
    jwt_jwks_url: str = ""
    jwt_issuer: str = DEV_JWT_ISSUER
    jwt_audience: str = "gridloop"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300, description="allowed clock skew, at most 5 minutes")

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if (self.clock_start is not None or self.clock_file is not None) and self.environment == "production":
            raise ValueError(
                "GRIDLOOP_CLOCK_START and GRIDLOOP_CLOCK_FILE are for development and tests; production runs on the"
                " system clock"
            )
        if self.jwt_algorithm != "HS256" and not (self.jwt_public_key or self.jwt_jwks_url):
            raise ValueError(f"{self.jwt_algorithm} needs GRIDLOOP_JWT_JWKS_URL or GRIDLOOP_JWT_PUBLIC_KEY")
        if self.environment == "production":
            if self.jwt_algorithm == "HS256":
                raise ValueError(
                    "production verifies the identity provider's ES256/RS256 tokens: set GRIDLOOP_JWT_ALGORITHM "
                    "and GRIDLOOP_JWT_JWKS_URL (shared-secret development tokens are refused)"
                )
            if self.jwt_issuer == DEV_JWT_ISSUER:
                raise ValueError("GRIDLOOP_JWT_ISSUER must name the identity provider outside development")
        if self.jwt_algorithm == "HS256" and self.jwt_secret == DEV_JWT_SECRET and self.environment != "development":
            raise ValueError(
                f"the development secret signs tokens in development only, not in {self.environment}: set "
                "GRIDLOOP_JWT_SECRET (or the identity provider's keys), or GRIDLOOP_ENVIRONMENT=development"
            )
        if not self.mongo_db:
            self.mongo_db = f"gridloop_{self.service_name}"
        return self

    def clock(self) -> Clock:
        if self.clock_file is not None:
            return SteppedClock(self.clock_file)
        start: datetime | None = self.clock_start
        return ShiftedClock(start) if start is not None else SystemClock()


class PhotoSettings(ServiceSettings):
    """For the services that take photo ids: intake seals them, handling and feedback check them
    (gridloop.shared.photos), all three with the same secret."""

    photo_key: str = Field(default=DEV_PHOTO_KEY, min_length=32, description="the key photo ids are sealed with")

    @model_validator(mode="after")
    def _refuse_development_photo_key(self) -> Self:
        if self.photo_key == DEV_PHOTO_KEY and self.environment != "development":
            raise ValueError("set GRIDLOOP_PHOTO_KEY to a secret of your own outside development")
        return self


class CalendarSettings(BaseSettings):
    """The working calendar, for services that count working time (deadlines, turnaround)."""

    model_config = SettingsConfigDict(env_prefix="GRIDLOOP_", extra="ignore")

    # china: office hours on Chinese working days, from the holiday schedules the directory
    # announces (the statutory rule for a year not published yet); always_open: 24x7
    work_calendar: Literal["china", "always_open"] = "china"
