"""Composition root of the dispatch service."""

import structlog
from fastapi import FastAPI
from pydantic import Field

from gridloop.dispatch import consumers, jobs, store
from gridloop.dispatch.api import router
from gridloop.dispatch.reference import calendars_of
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import INBOX_PATH_FETCH_WAIT_MS, CalendarSettings, ServiceSettings

log = structlog.get_logger()


class DispatchSettings(ServiceSettings, CalendarSettings):
    service_name: str = "dispatch"
    # On the way from a report to its inbox: its broker hop is not left to the default wait.
    consumer_fetch_wait_ms: int = Field(default=INBOX_PATH_FETCH_WAIT_MS, ge=1, le=1000)
    port: int = 8002
    watchdog_interval_seconds: float = 10.0


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _deadlines(runtime: Runtime) -> None:
    """Deadlines counted again on a new holiday schedule first, so the watchdog judges by them."""
    await jobs.revise_deadlines(database=runtime.database, calendars=calendars_of(runtime))
    await jobs.watch_deadlines(database=runtime.database)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop dispatch 派遣",
            routers=[router],
            ticket_routes=lambda rt: consumers.routing(rt.refdata, calendars_of(rt)),
            uses_directory=True,
            setup=_setup,
            ready=_ready,
            periodic=[Periodic("deadline-watchdog", settings.watchdog_interval_seconds, _deadlines)],
        ),
    )
    return app
