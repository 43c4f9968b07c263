"""Composition root of the feedback service."""

from datetime import timedelta

import httpx
import structlog
from fastapi import FastAPI
from pydantic import Field, model_validator

from gridloop.feedback import handlers, store
from gridloop.feedback.api import router
from gridloop.feedback.channels import WebhookGateway
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import PhotoSettings

log = structlog.get_logger()


class FeedbackSettings(PhotoSettings):
    service_name: str = "feedback"
    port: int = 8004
    auto_close_after_hours: float = Field(
        default=72.0, gt=0, description="自动结案: a resolved ticket nobody verifies closes after this long"
    )
    auto_close_interval_seconds: float = Field(default=60.0, gt=0)
    # 通知网关: the city's SMS or WeChat template-message gateway (channels.WebhookGateway); empty: the app only
    notify_gateway_url: str = Field(default="", description="where reporters' notifications are POSTed, signed")
    notify_gateway_secret: str = Field(default="", description="whsec_… the gateway verifies the signatures with")
    notify_gateway_interval_seconds: float = Field(default=2.0, gt=0)
    notify_gateway_timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _gateway_needs_a_secret(self) -> "FeedbackSettings":
        if self.notify_gateway_url and not self.notify_gateway_secret.startswith("whsec_"):
            raise ValueError("GRIDLOOP_NOTIFY_GATEWAY_SECRET must be a whsec_… secret when a gateway URL is set")
        return self


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    after = timedelta(hours=settings.auto_close_after_hours)
    auto_close = Periodic(
        "auto-close",
        settings.auto_close_interval_seconds,
        lambda runtime: handlers.auto_close(database=runtime.database, after=after),
    )
    return create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop feedback 反馈",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
            periodic=[auto_close, *_gateway(settings)],
        ),
    )


def _gateway(settings: FeedbackSettings) -> list[Periodic]:
    """The outgoing channel, when the city configured one; its HTTP client made on the first pass."""
    if not settings.notify_gateway_url:
        return []
    channels: list[WebhookGateway] = []

    async def send(runtime: Runtime) -> int:
        if not channels:
            client = httpx.AsyncClient(timeout=settings.notify_gateway_timeout_seconds, follow_redirects=False)
            channels.append(
                WebhookGateway(url=settings.notify_gateway_url, secret=settings.notify_gateway_secret, client=client)
            )
        return await handlers.send_notifications(
            database=runtime.database, channel=channels[0], metrics=runtime.metrics
        )

    return [Periodic("notification-gateway", settings.notify_gateway_interval_seconds, send)]
