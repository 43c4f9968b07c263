"""Composition root of the directory service."""

import structlog
from fastapi import FastAPI

from gridloop.directory import domain, handlers, store
from gridloop.directory.api import router
from gridloop.shared.directory import Kind
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings

log = structlog.get_logger()


class DirectorySettings(ServiceSettings):
    service_name: str = "directory"
    port: int = 8006
    seed_demo: bool = True
    calendar_gauge_seconds: float = 60.0


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)
    settings = runtime.settings
    if isinstance(settings, DirectorySettings) and settings.seed_demo:
        await handlers.load_seed_if_empty(runtime.database, handlers.demo_seed())
    await handlers.announce_all(runtime.database)


async def _calendar_gauges(runtime: Runtime) -> None:
    """How far ahead the published holiday schedules reach, for the alert that asks for next year's."""
    years = [int(code) for code in await store.codes(runtime.database.db, Kind.CALENDAR)]
    until = domain.published_until(years)
    runtime.metrics.calendar_published_until.set(until.timestamp() if until else 0)
    runtime.metrics.calendar_published_ahead.set((until - runtime.clock.now()).total_seconds() if until else 0)


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    settings = settings or DirectorySettings()
    return create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop directory 目录",
            routers=[router],
            setup=_setup,
            periodic=[Periodic("calendar-gauges", settings.calendar_gauge_seconds, _calendar_gauges)],
        ),
    )
