"""Composition root of the dispatch service."""

import asyncio
from datetime import date
from pathlib import Path
from typing import Literal

import structlog
import yaml
from fastapi import FastAPI
from pymongo.errors import PyMongoError

from gridloop.dispatch import handlers, store
from gridloop.dispatch.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings
from gridloop.shared.worktime import WorkCalendar, around_the_clock, chinese_workdays

log = structlog.get_logger()


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    port: int = 8002
    # china: office hours on Chinese working days (holidays and 调休 included); always_open: 24x7
    work_calendar: Literal["china", "always_open"] = "china"
    calendar_overrides: Path | None = None
    watchdog_interval_seconds: float = 10.0


def build_calendar(settings: DispatchSettings) -> WorkCalendar:
    """The working calendar deadlines are counted on, with the override file for years not yet known."""
    if settings.work_calendar == "always_open":
        return around_the_clock()
    overrides: dict[date, bool] = {}
    if settings.calendar_overrides:
        data = yaml.safe_load(settings.calendar_overrides.read_text(encoding="utf-8")) or {}
        overrides |= {d: True for d in data.get("workdays", [])}
        overrides |= {d: False for d in data.get("holidays", [])}
    return WorkCalendar(is_workday=chinese_workdays(overrides))


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _watchdog(runtime: Runtime) -> None:
    """Looks for lapsed deadlines at a steady pace; an outage only delays the next look."""
    settings = runtime.settings
    interval = settings.watchdog_interval_seconds if isinstance(settings, DispatchSettings) else 10.0
    while True:
        try:
            await handlers.watch_deadlines(database=runtime.database)
        except PyMongoError as exc:
            log.warning("watchdog_pass_failed", error=repr(exc))
        await asyncio.sleep(interval)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    settings = settings or DispatchSettings()
    calendar = build_calendar(settings)
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop dispatch 派遣",
            routers=[router],
            ticket_routes=lambda rt: handlers.routes(rt.refdata, calendar),
            uses_directory=True,
            setup=_setup,
            ready=_ready,
            background=[_watchdog],
        ),
    )
    app.state.calendar = calendar
    return app
