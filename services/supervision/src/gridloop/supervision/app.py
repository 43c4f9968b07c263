"""Composition root of the supervision service."""

import structlog
from fastapi import FastAPI
from pydantic import Field

from gridloop.shared.refdata import Calendars
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import CalendarSettings, ServiceSettings
from gridloop.supervision import handlers, store
from gridloop.supervision.api import router
from gridloop.supervision.kpi import Evaluation, ScoreWeights
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


def calendars_of(runtime: Runtime, settings: SupervisionSettings) -> Calendars:
    return runtime.refdata.calendars(settings.work_calendar)


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()
    model = ReadModel()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop supervision 监督评价",
            routers=[router],
            ticket_routes=lambda runtime: handlers.routing(calendars_of(runtime, settings), runtime.metrics),
            uses_directory=True,  # the holiday schedules its working minutes are counted on
            setup=_setup,
            periodic=[
                Periodic(
                    "gauges",
                    settings.gauges_interval_seconds,
                    lambda rt: handlers.refresh_gauges(rt.database, rt.metrics, settings.score_weights, model),
                ),
                Periodic(
                    "recount-durations",
                    settings.recount_interval_seconds,
                    lambda rt: handlers.recount_durations(database=rt.database, calendars=calendars_of(rt, settings)),
                ),
            ],
        ),
    )
    # what deps.py hands the routes (IndicatorModel, Scoring)
    app.state.read_model = model
    app.state.evaluation = Evaluation(
        weights=settings.score_weights,
        min_volume=settings.ranking_min_volume,
        board_size=settings.ranking_board_size,
    )
    return app
