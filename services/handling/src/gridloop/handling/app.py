"""Composition root of the handling service."""

from fastapi import FastAPI

from gridloop.handling import handlers, store
from gridloop.handling.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings


class HandlingSettings(ServiceSettings):
    service_name: str = "handling"
    port: int = 8003


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


def create_app(settings: HandlingSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or HandlingSettings(),
        ServiceSpec(
            title="GridLoop handling 处置",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
        ),
    )
