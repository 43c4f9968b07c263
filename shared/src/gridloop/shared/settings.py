"""Settings from the environment (prefix GRIDLOOP_), one class per service built on this base."""

from typing import Literal, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "gridloop-development-secret-not-for-production"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDLOOP_", extra="ignore")

    service_name: str = "gridloop"
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = ""
    mongo_timeout_ms: int = 5000

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Real Kafka: on. The embedded Tansu broker cannot do InitProducerId, so it runs with it off.
    kafka_idempotence: bool = False
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    tickets_partitions: int = 6
    consumer_max_attempts: int = 5

    outbox_poll_seconds: float = 0.5
    outbox_lease_seconds: float = 5.0

    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithm: Literal["HS256"] = "HS256"
    jwt_issuer: str = "gridloop-dev"
    jwt_audience: str = "gridloop"
    jwt_leeway_seconds: int = 30

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Self:
        if self.environment == "production" and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("GRIDLOOP_JWT_SECRET must be set outside development")
        if self.environment == "production" and len(self.jwt_secret) < 32:
            raise ValueError("GRIDLOOP_JWT_SECRET must be at least 32 characters")
        if not self.mongo_db:
            self.mongo_db = f"gridloop_{self.service_name}"
        return self
