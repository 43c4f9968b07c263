"""Composition root of the feedback service."""

import asyncio
from datetime import timedelta

import structlog
from fastapi import FastAPI
from pydantic import Field
from pymongo.errors import PyMongoError

from gridloop.feedback import handlers, store
from gridloop.feedback.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
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


async def _auto_close(runtime: Runtime) -> None:
    """Looks for resolved tickets left unverified at a steady pace; an outage only delays the next look."""
    settings = runtime.settings
    if not isinstance(settings, FeedbackSettings):
        return
    after = timedelta(hours=settings.auto_close_after_hours)
    while True:
        try:
            await handlers.auto_close(database=runtime.database, after=after)
        except PyMongoError as exc:
            log.warning("auto_close_pass_failed", error=repr(exc))
        await asyncio.sleep(settings.auto_close_interval_seconds)


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or FeedbackSettings(),
        ServiceSpec(
            title="GridLoop feedback 反馈",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
            background=[_auto_close],
        ),
    )
