"""Composition root of the feedback service."""

from fastapi import FastAPI

from gridloop.feedback import handlers, store
from gridloop.feedback.api import router
from gridloop.shared.service import Runtime, ServiceSpec, create_service_app
from gridloop.shared.settings import ServiceSettings


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    port: int = 8004


async def _setup(runtime: Runtime) -> None:
    await store.ensure_indexes(runtime.database.db)


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or FeedbackSettings(),
        ServiceSpec(
            title="GridLoop feedback 反馈",
            routers=[router],
            ticket_routes=lambda _: handlers.ROUTES,
            setup=_setup,
        ),
    )
