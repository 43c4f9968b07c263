"""Composition root of the handling service."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from pydantic import Field

from gridloop.handling import handlers, store
from gridloop.handling.api import router
from gridloop.handling.webhooks import api as webhooks_api
from gridloop.handling.webhooks import handlers as webhooks
from gridloop.handling.webhooks import store as webhooks_store
from gridloop.handling.webhooks.domain import RetryPolicy
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import INBOX_PATH_FETCH_WAIT_MS, ServiceSettings


class HandlingSettings(ServiceSettings):
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

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            first=timedelta(seconds=self.webhook_retry_first_seconds),
            longest=timedelta(seconds=self.webhook_retry_longest_seconds),
            disable_after=self.webhook_disable_after_failures,
            disable_span=timedelta(hours=self.webhook_disable_after_hours),
        )


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)
    await webhooks_store.ensure_indexes(runtime.database.db)


def _sender(settings: HandlingSettings) -> Periodic:
    """The webhook sender: one HTTP client for the service's life, made on the first pass."""
    clients: list[httpx.AsyncClient] = []
    policy = settings.retry_policy()

    async def send(runtime: Runtime) -> int:
        if not clients:
            clients.append(httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False))
        return await webhooks.deliver_due(
            database=runtime.database, client=clients[0], policy=policy, metrics=runtime.metrics
        )

    return Periodic("webhook-sender", settings.webhook_interval_seconds, send)


def create_app(settings: HandlingSettings | None = None) -> FastAPI:
    settings = settings or HandlingSettings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop handling 处置",
            routers=[router, webhooks_api.router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
            periodic=[_sender(settings)],
        ),
    )
