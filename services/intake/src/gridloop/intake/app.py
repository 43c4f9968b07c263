"""Composition root of the intake service."""

from datetime import timedelta

from fastapi import FastAPI
from pydantic import Field

from gridloop.intake import deps, handlers, store
from gridloop.intake.api import router
from gridloop.intake.domain import DuplicatePolicy
from gridloop.intake.limits import RateLimit, ReadLimits
from gridloop.intake.open311 import api as open311_api
from gridloop.intake.open311 import store as open311_store
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import PhotoSettings


class IntakeSettings(PhotoSettings):
    service_name: str = "intake"
    port: int = 8001
    max_body_bytes: int = 11 * 1024 * 1024  # a photo of up to 10 MiB plus the multipart envelope
    report_rate_limit: str = Field(default="30/minute", description="reports one user may file, e.g. 30/minute")
    photo_rate_limit: str = Field(
        default="60/minute", description="photos one user may upload (a report takes at most 9), e.g. 60/minute"
    )
    duplicate_radius_m: float = Field(default=50.0, gt=0, description="疑似重复: how close counts as the same place")
    duplicate_window_hours: float = Field(default=72.0, gt=0, description="疑似重复: how recent counts")
    open311_rate_limit: str = Field(
        default="600/minute", description="requests one Open311 client application may file (it speaks for many people)"
    )
    open311_jurisdiction_id: str = Field(default="gridloop", description="the jurisdiction_id Open311 clients may name")
    open311_read_rate_limit_per_key: str = Field(
        default="300/minute", description="Open311 reads one client application may make with its api_key"
    )
    open311_read_rate_limit_per_address: str = Field(
        default="30/minute", description="Open311 reads one address may make without a key (anyone may read)"
    )

    def duplicate_policy(self) -> DuplicatePolicy:
        return DuplicatePolicy(radius_m=self.duplicate_radius_m, window=timedelta(hours=self.duplicate_window_hours))


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)
    await open311_store.ensure_indexes(runtime.database.db)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    app = create_service_app(
        settings,
        ServiceSpec(
            title="GridLoop intake 信息采集",
            routers=[router, open311_api.router, open311_api.clients_router],
            ticket_routes=lambda runtime: handlers.routing(runtime.refdata, settings.duplicate_policy()),
            uses_directory=True,
            setup=_setup,
            ready=_ready,
        ),
    )
    deps.install(
        app,
        report_limit=RateLimit("report", settings.report_rate_limit),
        photo_limit=RateLimit("photo", settings.photo_rate_limit),
        client_limit=RateLimit("open311", settings.open311_rate_limit),
        open311_reads=ReadLimits(
            per_key=RateLimit("open311-read-key", settings.open311_read_rate_limit_per_key),
            per_address=RateLimit("open311-read-address", settings.open311_read_rate_limit_per_address),
        ),
        duplicate_policy=settings.duplicate_policy(),
        jurisdiction=settings.open311_jurisdiction_id,
    )
    return app
