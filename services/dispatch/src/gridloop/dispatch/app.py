"""Composition root of the dispatch service."""

from fastapi import FastAPI

from gridloop.dispatch import handlers, store
from gridloop.dispatch.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings


class DispatchSettings(ServiceSettings):
    service_name: str = "dispatch"
    port: int = 8002


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _ready(runtime: Runtime) -> bool:
    return await runtime.refdata.loaded()


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or DispatchSettings(),
        ServiceSpec(
            title="GridLoop dispatch 派遣",
            routers=[router],
            ticket_routes=lambda rt: handlers.routes(rt.refdata),
            uses_directory=True,
            setup=_setup,
            ready=_ready,
        ),
    )
