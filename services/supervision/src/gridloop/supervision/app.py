"""Composition root of the supervision service."""

import asyncio

import structlog
from fastapi import FastAPI
from pymongo.errors import PyMongoError

from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings
from gridloop.supervision import handlers, store
from gridloop.supervision.api import router

log = structlog.get_logger()


class SupervisionSettings(ServiceSettings):
    service_name: str = "supervision"
    port: int = 8005


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


async def _backlog_gauges(runtime: Runtime) -> None:
    """Open and overdue tickets per department, recounted at a steady pace for Prometheus."""
    while True:
        try:
            await handlers.refresh_backlog(runtime.database, runtime.metrics)
        except PyMongoError as exc:
            log.warning("backlog_gauges_failed", error=repr(exc))
        await asyncio.sleep(15.0)


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or SupervisionSettings(),
        ServiceSpec(
            title="GridLoop supervision 监督评价",
            routers=[router],
            ticket_routes=lambda runtime: handlers.routes(runtime.metrics),
            setup=_setup,
            background=[_backlog_gauges],
        ),
    )
