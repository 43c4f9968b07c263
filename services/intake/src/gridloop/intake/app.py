"""Composition root of the intake service."""

from fastapi import FastAPI

from gridloop.intake import handlers, store
from gridloop.intake.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    port: int = 8001


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or IntakeSettings(),
        ServiceSpec(
            title="GridLoop intake 信息采集",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            uses_directory=True,
            setup=_setup,
            ready=_ready,
        ),
    )
