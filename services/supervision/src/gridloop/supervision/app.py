"""Composition root of the supervision service."""

from fastapi import FastAPI

from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings
from gridloop.supervision import handlers, store
from gridloop.supervision.api import router


class SupervisionSettings(ServiceSettings):
    service_name: str = "supervision"
    port: int = 8005


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or SupervisionSettings(),
        ServiceSpec(
            title="GridLoop supervision 监督评价",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
        ),
    )
