"""Composition root of the supervision service."""

from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI
from pydantic import Field

from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.bus import EventConsumer
from gridloop.shared.events import NEEDS_TOPIC, TICKETS_TOPIC, VOLUNTEERING_TOPIC, dead_letter_topic
from gridloop.shared.messagebus import Routes, batch_event_handler, event_handler, merge_routes
from gridloop.shared.refdata import Calendars
from gridloop.shared.service import Periodic, Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import CalendarSettings, ServiceSettings
from gridloop.supervision import admission_flags, batches, handlers, store
from gridloop.supervision.api import router
from gridloop.supervision.cobuild import handlers as cobuild
from gridloop.supervision.cobuild import store as cobuild_store
from gridloop.supervision.cobuild.api import router as cobuild_router
from gridloop.supervision.kpi import Evaluation
from gridloop.supervision.readmodel import ReadModel
from gridloop.supervision.volunteering import domain as volunteering_domain
from gridloop.supervision.volunteering import handlers as volunteering
from gridloop.supervision.volunteering import store as volunteering_store
from gridloop.supervision.volunteering.api import router as volunteering_router

log = structlog.get_logger()


class SupervisionSettings(ServiceSettings, CalendarSettings):
    service_name: str = "supervision"
    port: int = 8005
    # One partition at a time: the hour and day buckets are shared by unrelated tickets inside the
    # projection's transaction (docs/reliability.md, "Keeping up"); batches keep it fast.
    consumer_partition_concurrency: int = 1
    # GRIDLOOP_SCORE_WEIGHTS='{"response": 0.3, "resolution": 0.35, "satisfaction": 0.35}'
    score_weights: ScoreWeights = Field(default_factory=ScoreWeights)
    ranking_min_volume: int = Field(default=10, ge=1, description="dispatches in the window before a unit is ranked")
    ranking_board_size: int = Field(default=3, ge=1, description="units on the 红榜 and on the 黑榜")
    gauges_interval_seconds: float = 15.0
    recount_interval_seconds: float = 10.0
    cobuild_board_min_volume: int = Field(
        default=5, ge=1, description="needs collected in the window before a community's 共建 rates are shown"
    )
    # 双报到 and volunteering (the volunteering topic) ----------------------------------------
    # GRIDLOOP_MIN_SERVICES_PER_YEAR: approved service records a member needs in a year (服务完成率)
    min_services_per_year: int = Field(default=2, ge=0, description="yearly minimum of approved service records")
    # GRIDLOOP_MIN_MINUTES_PER_YEAR: approved service minutes a member needs in a year (8 hours)
    min_minutes_per_year: int = Field(default=480, ge=0, description="yearly minimum of approved service minutes")
    # GRIDLOOP_VOLUNTEERING_BOARD_MIN_VOLUME: members reported before a unit is on the 双报到红黑榜
    volunteering_board_min_volume: int = Field(default=5, ge=1, description="members reported before a unit is ranked")
    # GRIDLOOP_VOLUNTEERING_PERSONS: persons on the points 红榜 (persons are never on a 黑榜)
    volunteering_persons: int = Field(default=10, ge=1, description="persons on the points 红榜")


def calendars_of(runtime: Runtime, settings: SupervisionSettings) -> Calendars:
    return runtime.refdata.calendars(settings.work_calendar)


def tickets_consumer(runtime: Runtime, settings: SupervisionSettings) -> EventConsumer:
    """The projection's consumer: the usual per-event path, and a batch path in front of it that
    takes a partition's fetched events in one transaction (batches.py)."""
    group = settings.service_name
    calendars = calendars_of(runtime, settings)
    return EventConsumer(
        settings=settings,
        group_id=group,
        topics=[TICKETS_TOPIC],
        handle=event_handler(
            database=runtime.database,
            routes=handlers.routing(calendars, runtime.metrics),
            metrics=runtime.metrics,
            group=group,
        ),
        handle_batch=batches.batch_handler(
            database=runtime.database, calendars=calendars, metrics=runtime.metrics, group=group
        ),
        producer=runtime.producer,
        metrics=runtime.metrics,
        dead_letter_topic=dead_letter_topic(group),
    )


def needs_group(settings: SupervisionSettings) -> str:
    """The needs topic's consumer group: its own, so the tickets projection's offsets (and the
    rebuild that reads them) are untouched by it."""
    return f"{settings.service_name}.cobuild"


def needs_consumer(runtime: Runtime, settings: SupervisionSettings) -> EventConsumer:
    """The 共建 projection's consumer: the needs topic's events into the need, offer and project
    records (cobuild/handlers.py), idempotent by the shared processed marks."""
    group = needs_group(settings)
    routes = cobuild.routing()
    return EventConsumer(
        settings=settings,
        group_id=group,
        topics=[NEEDS_TOPIC],
        handle=event_handler(database=runtime.database, routes=routes, metrics=runtime.metrics, group=group),
        handle_batch=batch_event_handler(
            database=runtime.database, routes=routes, metrics=runtime.metrics, group=group
        ),
        batch_records=settings.consumer_batch_records,
        producer=runtime.producer,
        metrics=runtime.metrics,
        dead_letter_topic=dead_letter_topic(group),
    )


def volunteering_group(settings: SupervisionSettings) -> str:
    """The volunteering topic's consumer group, its own as the needs topic's is."""
    return f"{settings.service_name}.volunteering"


def volunteering_routes() -> Routes:
    """Every area's handlers of the volunteering topic, merged: the 双报到 indicators', and here
    any other area's table (e.g. the monthly department sheet's `task.flagged`) is added."""
    return merge_routes(
        volunteering.routing(),
        admission_flags.flag_routes(),  # 未准入事项 in the monthly department sheet
    )


def volunteering_consumer(runtime: Runtime, settings: SupervisionSettings) -> EventConsumer:
    """The 双报到 projection's consumer: the volunteering topic's events into the unit, member, post,
    service record and points records (volunteering/handlers.py), idempotent by the processed marks."""
    group = volunteering_group(settings)
    routes = volunteering_routes()
    return EventConsumer(
        settings=settings,
        group_id=group,
        topics=[VOLUNTEERING_TOPIC],
        handle=event_handler(database=runtime.database, routes=routes, metrics=runtime.metrics, group=group),
        handle_batch=batch_event_handler(
            database=runtime.database, routes=routes, metrics=runtime.metrics, group=group
        ),
        batch_records=settings.consumer_batch_records,
        producer=runtime.producer,
        metrics=runtime.metrics,
        dead_letter_topic=dead_letter_topic(group),
    )


def volunteering_rules(settings: SupervisionSettings) -> volunteering_domain.Rules:
    return volunteering_domain.Rules(
        min_services=settings.min_services_per_year,
        min_minutes=settings.min_minutes_per_year,
        min_volume=settings.volunteering_board_min_volume,
        board_size=settings.ranking_board_size,
        persons=settings.volunteering_persons,
    )


def setup(settings: SupervisionSettings) -> Callable[[Runtime], Awaitable[None]]:
    async def prepare(runtime: Runtime) -> None:
        await store.ensure_indexes(runtime.database.db)
        await cobuild_store.ensure_indexes(runtime.database.db)
        await volunteering_store.ensure_indexes(runtime.database.db)
        await admission_flags.ensure_indexes(runtime.database.db)
        # The runtime starts, stops and watches (readiness) every consumer in this list.
        if not any(c.group_id == settings.service_name for c in runtime.consumers):
            runtime.consumers.append(tickets_consumer(runtime, settings))
        if not any(c.group_id == needs_group(settings) for c in runtime.consumers):
            runtime.consumers.append(needs_consumer(runtime, settings))
        if not any(c.group_id == volunteering_group(settings) for c in runtime.consumers):
            runtime.consumers.append(volunteering_consumer(runtime, settings))

    return prepare


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()
    model = ReadModel()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop supervision 监督评价",
            routers=[cobuild_router, volunteering_router, router],
            # The tickets consumer is supervision's own (tickets_consumer), registered by setup.
            ticket_routes=None,
            uses_directory=True,  # the holiday schedules its working minutes are counted on
            setup=setup(settings),
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
    app.state.cobuild_min_volume = settings.cobuild_board_min_volume
    app.state.volunteering_rules = volunteering_rules(settings)
    return app
