"""Composition root of the feedback service."""

from datetime import timedelta

import structlog
from fastapi import FastAPI
from pydantic import Field

from gridloop.feedback import handlers, store
from gridloop.feedback.api import router
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings

log = structlog.get_logger()


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    port: int = 8004
    auto_close_after_hours: float = Field(
        default=72.0, gt=0, description="自动结案: a resolved ticket nobody verifies closes after this long"
    )
    auto_close_interval_seconds: float = Field(default=60.0, gt=0)


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
            periodic=[auto_close],
        ),
    )
