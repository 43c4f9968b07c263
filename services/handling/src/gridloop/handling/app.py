"""Composition root of the handling service."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from pydantic import Field, IPvAnyAddress, ValidationInfo, field_validator

from gridloop.handling import consumers, store
from gridloop.handling.api import router
from gridloop.handling.webhooks import api as webhooks_api
from gridloop.handling.webhooks import jobs as webhook_jobs
from gridloop.handling.webhooks import outbound
from gridloop.handling.webhooks import store as webhooks_store
from gridloop.handling.webhooks.domain import OutboundPolicy, RetryPolicy
from gridloop.handling.webhooks.outbound import Outbound
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import INBOX_PATH_FETCH_WAIT_MS, PhotoSettings


class HandlingSettings(PhotoSettings):
    service_name: str = "handling"
    # On the way from a report to its inbox: its broker hop is not left to the default wait.
    consumer_fetch_wait_ms: int = Field(default=INBOX_PATH_FETCH_WAIT_MS, ge=1, le=1000)
    port: int = 8003
    webhook_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often the sender looks for due deliveries"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="how long a receiver may take to answer")
    webhook_retry_first_seconds: float = Field(default=5.0, gt=0, description="the first retry's wait; then doubling")
    webhook_retry_longest_seconds: float = Field(default=3600.0, gt=0, description="the longest wait between tries")
    webhook_disable_after_failures: int = Field(
        default=30, ge=1, description="failures in a row before it is switched off"
    )
    webhook_disable_after_hours: float = Field(default=24.0, ge=0, description="... and failing for at least this long")
    # Where webhooks never go, whatever a department's allow-list says (docs/security.md): besides
    # loopback, link-local, multicast and the services below, these (allow-list syntax: a host,
    # address or CIDR network, with an optional port), e.g. the container network's range.
    webhook_refused_destinations: list[str] = Field(default_factory=list)
    # Development and tests only (refused in production): departments' receivers may be on
    # 127.0.0.1 when their allow-list names it. The embedded stack sets it; compose never does.
    webhook_allow_loopback: bool = False
    # Fixed answers for some names, before DNS (as /etc/hosts), for deliveries only.
    webhook_resolve: dict[str, list[IPvAnyAddress]] = Field(default_factory=dict)
    # The stack's own services, which webhooks never reach (the embedded stack passes its ports).
    service_urls: dict[str, str] = Field(default_factory=dict)

    @field_validator("webhook_allow_loopback")
    @classmethod
    def _loopback_only_in_development(cls, allow: bool, info: ValidationInfo) -> bool:
        if allow and info.data.get("environment") == "production":
            raise ValueError(
                "GRIDLOOP_WEBHOOK_ALLOW_LOOPBACK is for development and tests; production refuses loopback"
            )
        return allow

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            first=timedelta(seconds=self.webhook_retry_first_seconds),
            longest=timedelta(seconds=self.webhook_retry_longest_seconds),
            disable_after=self.webhook_disable_after_failures,
            disable_span=timedelta(hours=self.webhook_disable_after_hours),
        )

    def outbound(self) -> Outbound:
        own = outbound.own_services(
            service_urls=self.service_urls.values(),
            kafka_bootstrap=self.kafka_bootstrap,
            mongo_uri=self.mongo_uri,
            otel_endpoint=self.otel_endpoint,
            listening=(self.host, self.port),
            refused=self.webhook_refused_destinations,
        )
        return Outbound(
            policy=OutboundPolicy(own=own, allow_loopback=self.webhook_allow_loopback),
            resolve=outbound.system_resolver(
                fixed={name: [str(a) for a in found] for name, found in self.webhook_resolve.items()},
                timeout=self.webhook_timeout_seconds,
            ),
        )


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)
    await webhooks_store.ensure_indexes(runtime.database.db)


def _sender(settings: HandlingSettings, way_out: Outbound) -> Periodic:
    """The webhook sender: one HTTP client for the service's life, made on the first pass."""
    clients: list[httpx.AsyncClient] = []
    policy = settings.retry_policy()

    async def send(runtime: Runtime) -> int:
        if not clients:
            clients.append(outbound.sender_client(settings.webhook_timeout_seconds))
        return await webhook_jobs.deliver_due(
            database=runtime.database, client=clients[0], outbound=way_out, policy=policy, metrics=runtime.metrics
        )

    return Periodic("webhook-sender", settings.webhook_interval_seconds, send)


def create_app(settings: HandlingSettings | None = None) -> FastAPI:
    settings = settings or HandlingSettings()
    way_out = settings.outbound()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop handling 处置",
            routers=[router, webhooks_api.router],
            ticket_routes=lambda _: consumers.ROUTES,
            setup=_setup,
            periodic=[_sender(settings, way_out)],
        ),
    )
    app.state.webhook_outbound = way_out
    return app
