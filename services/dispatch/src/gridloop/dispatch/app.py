"""Composition root of the dispatch service."""

import asyncio

import structlog
from fastapi import FastAPI
from pymongo.errors import PyMongoError

from gridloop.dispatch import handlers, store
from gridloop.dispatch.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import CalendarSettings, ServiceSettings

log = structlog.get_logger()


class DispatchSettings(ServiceSettings, CalendarSettings):
    service_name: str = "dispatch"
    port: int = 8002
    watchdog_interval_seconds: float = 10.0


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _watchdog(runtime: Runtime) -> None:
    """Looks for lapsed deadlines at a steady pace; an outage only delays the next look."""
    settings = runtime.settings
    interval = settings.watchdog_interval_seconds if isinstance(settings, DispatchSettings) else 10.0
    calendars = handlers.calendars_of(runtime)
    while True:
        try:
            await handlers.revise_deadlines(database=runtime.database, calendars=calendars)
            await handlers.watch_deadlines(database=runtime.database)
        except PyMongoError as exc:
            log.warning("watchdog_pass_failed", error=repr(exc))
        await asyncio.sleep(interval)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop dispatch 派遣",
            routers=[router],
            ticket_routes=lambda rt: handlers.routes(rt.refdata, handlers.calendars_of(rt)),
            uses_directory=True,
            setup=_setup,
            ready=_ready,
            background=[_watchdog],
        ),
    )
    return app
