"""Composition root of the directory service."""

from fastapi import FastAPI

from gridloop.directory import handlers, store
from gridloop.directory.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings


class DirectorySettings(ServiceSettings):
    service_name: str = "directory"
    port: int = 8006
    seed_demo: bool = True


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)
    settings = runtime.settings
    if isinstance(settings, DirectorySettings) and settings.seed_demo:
        await handlers.load_seed_if_empty(runtime.database, handlers.demo_seed())
    await handlers.announce_all(runtime.database)


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    settings = settings or DirectorySettings()
    return create_service_app(settings, ServiceSpec(title="GridLoop directory 目录", routers=[router], setup=_setup))
