"""Composition root of the supervision service."""

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI
from pydantic import Field
from pymongo.errors import PyMongoError

from gridloop.shared.refdata import Calendars
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import CalendarSettings, ServiceSettings
from gridloop.supervision import handlers, store
from gridloop.supervision.api import Evaluation, router
from gridloop.supervision.kpi import ScoreWeights
from gridloop.supervision.readmodel import ReadModel

log = structlog.get_logger()


class SupervisionSettings(ServiceSettings, CalendarSettings):
    service_name: str = "supervision"
    port: int = 8005
    # GRIDLOOP_SCORE_WEIGHTS='{"response": 0.3, "resolution": 0.35, "satisfaction": 0.35}'
    score_weights: ScoreWeights = Field(default_factory=ScoreWeights)
    ranking_min_volume: int = Field(default=10, ge=1, description="dispatches in the window before a unit is ranked")
    ranking_board_size: int = Field(default=3, ge=1, description="units on the 红榜 and on the 黑榜")
    gauges_interval_seconds: float = 15.0
    recount_interval_seconds: float = 10.0


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


def _gauges(settings: SupervisionSettings, model: ReadModel) -> Callable[[Runtime], Awaitable[None]]:
    async def loop(runtime: Runtime) -> None:
        """Backlog and 30-day indicators per department, recounted at a steady pace for Prometheus."""
        while True:
            try:
                await handlers.refresh_gauges(runtime.database, runtime.metrics, settings.score_weights, model)
            except PyMongoError as exc:
                log.warning("gauges_refresh_failed", error=repr(exc))
            await asyncio.sleep(settings.gauges_interval_seconds)

    return loop


def calendars_of(runtime: Runtime, settings: SupervisionSettings) -> Calendars:
    return runtime.refdata.calendars(settings.work_calendar)


def _recount(settings: SupervisionSettings) -> Callable[[Runtime], Awaitable[None]]:
    async def loop(runtime: Runtime) -> None:
        """Durations counted before a year's holiday schedule arrived are counted again on it."""
        calendars = calendars_of(runtime, settings)
        while True:
            try:
                await handlers.recount_durations(database=runtime.database, calendars=calendars)
            except PyMongoError as exc:
                log.warning("recount_pass_failed", error=repr(exc))
            await asyncio.sleep(settings.recount_interval_seconds)

    return loop


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()
    model = ReadModel()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop supervision 监督评价",
            routers=[router],
            ticket_routes=lambda runtime: handlers.routes(calendars_of(runtime, settings), runtime.metrics),
            uses_directory=True,  # the holiday schedules its working minutes are counted on
            setup=_setup,
            background=[_gauges(settings, model), _recount(settings)],
        ),
    )
    app.state.read_model = model
    app.state.evaluation = Evaluation(
        weights=settings.score_weights,
        min_volume=settings.ranking_min_volume,
        board_size=settings.ranking_board_size,
    )
    return app
