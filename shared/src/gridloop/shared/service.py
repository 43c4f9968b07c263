"""What every service process is made of, built inside the FastAPI lifespan (nothing at import):
settings, logging, metrics, tracing, the database, the producer, the outbox relay and the consumers."""

import asyncio
import html
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pymongo.errors import PyMongoError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.bus import EventConsumer, broker_reachable, make_producer
from gridloop.shared.clock import Clock
from gridloop.shared.errors import install_error_handlers
from gridloop.shared.events import DIRECTORY_TOPIC, dead_letter_topic
from gridloop.shared.ids import new_id
from gridloop.shared.logging import bound, configure_logging
from gridloop.shared.messagebus import Routes, batch_event_handler, event_handler
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, connect, ensure_common_indexes, request_budget
from gridloop.shared.outbox import OutboxRelay
from gridloop.shared.refdata import RefData
from gridloop.shared.revocations import RevocationListener, Revocations
from gridloop.shared.settings import ServiceSettings
from gridloop.shared.tracing import TELEMETRY, configure_tracing

log = structlog.get_logger()


@dataclass
class Runtime:
    """The live parts of one service instance; handlers and routes reach them via app.state."""

    settings: ServiceSettings
    clock: Clock
    metrics: Metrics
    database: Database
    producer: AIOKafkaProducer
    relay: OutboxRelay
    refdata: RefData
    consumers: list[EventConsumer] = field(default_factory=list)


@dataclass(frozen=True)
class Periodic:
    """A job the service runs at a steady pace (the watchdog, auto-close, gauges). One pass is a
    plain call that reads the time from the service clock, so a test runs a pass on a set clock
    instead of waiting; an outage only delays the next pass."""

    name: str
    seconds: float
    run: Callable[[Runtime], Awaitable[object]]


@dataclass
class ServiceSpec:
    """What a service adds to the common runtime."""

    title: str
    routers: Sequence[APIRouter]
    ticket_routes: Callable[["Runtime"], Routes] | None = None
    uses_directory: bool = False
    setup: Callable[[Runtime], Awaitable[None]] | None = None
    periodic: Sequence[Periodic] = ()
    ready: Callable[[Runtime], Awaitable[bool]] | None = None
    # Topics whose events the service emits and also handles from the topic (one area following
    # another's, e.g. cobuild's points following its records): not marked handled when emitted.
    follows_own_topics: frozenset[str] = frozenset()


async def _every(job: Periodic, runtime: Runtime) -> None:
    while True:
        try:
            await job.run(runtime)
        except (PyMongoError, KafkaError) as exc:
            log.warning("periodic_pass_failed", job=job.name, error=repr(exc))
        await asyncio.sleep(job.seconds)


async def _retry_until(what: str, attempt: Callable[[], Awaitable[None]], deadline_s: float = 120.0) -> None:
    """Start-up waits for the database and broker to come up rather than failing at once."""
    started = time.monotonic()
    delay = 0.2
    while True:
        try:
            await attempt()
            return
        except (PyMongoError, KafkaError, OSError) as exc:
            if time.monotonic() - started > deadline_s:
                raise
            log.warning("waiting_for", what=what, error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)


def create_service_app(settings: ServiceSettings, spec: ServiceSpec, *, clock: Clock | None = None) -> FastAPI:
    revoked = Revocations()  # the ended sessions, which the verifier refuses and the listener learns

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level)
        tracing = configure_tracing(settings)
        metrics: Metrics = app.state.metrics
        client = connect(settings.mongo_uri, timeout_ms=settings.mongo_timeout_ms)
        relay_ref: list[OutboxRelay] = []
        database = Database(
            client,
            settings.mongo_db,
            producer=settings.service_name,
            clock=clock or settings.clock(),
            on_commit=lambda rows: relay_ref[0].wake(rows),
        )
        producer = make_producer(settings)
        relay = OutboxRelay(
            database=database,
            producer=producer,
            metrics=metrics,
            poll_seconds=settings.outbox_poll_seconds,
            lease_seconds=settings.outbox_lease_seconds,
        )
        relay_ref.append(relay)
        runtime = Runtime(
            settings=settings,
            clock=database.clock,
            metrics=metrics,
            database=database,
            producer=producer,
            relay=relay,
            refdata=RefData(database.db),
        )
        app.state.runtime = runtime
        revocations = RevocationListener(settings, revoked)
        app.state.revocations = revocations

        async def prepare_db() -> None:
            await ensure_common_indexes(database.db)
            await runtime.refdata.ensure_indexes()
            if spec.setup:
                await spec.setup(runtime)

        await _retry_until("database", prepare_db)
        await _retry_until("broker", producer.start)
        if spec.uses_directory:
            runtime.consumers.append(
                EventConsumer(
                    settings=settings,
                    group_id=f"{settings.service_name}.directory",
                    topics=[DIRECTORY_TOPIC],
                    fetch_wait_ms=settings.directory_fetch_wait_ms,
                    handle=runtime.refdata.consumer_handle(),
                    producer=producer,
                    metrics=metrics,
                    dead_letter_topic=dead_letter_topic(f"{settings.service_name}.directory"),
                )
            )
        ticket_routes = spec.ticket_routes(runtime) if spec.ticket_routes else {}
        database.consumes = frozenset(
            t for t, route in ticket_routes.items() if route.payload.TOPIC not in spec.follows_own_topics
        )
        if ticket_routes:
            runtime.consumers.append(
                EventConsumer(
                    settings=settings,
                    group_id=settings.service_name,
                    # the topics its routed events travel on: tickets, and the 共建 loop's needs
                    topics=sorted({route.payload.TOPIC for route in ticket_routes.values()}),
                    handle=event_handler(
                        database=database,
                        routes=ticket_routes,
                        metrics=metrics,
                        group=settings.service_name,
                    ),
                    handle_batch=batch_event_handler(
                        database=database,
                        routes=ticket_routes,
                        metrics=metrics,
                        group=settings.service_name,
                    ),
                    batch_records=settings.consumer_batch_records,
                    producer=producer,
                    metrics=metrics,
                    dead_letter_topic=dead_letter_topic(settings.service_name),
                )
            )
        tasks = [asyncio.create_task(relay.run(), name="outbox-relay")]
        tasks.append(asyncio.create_task(revocations.run(), name="revocations"))
        tasks += [asyncio.create_task(c.run(), name=f"consumer-{c.group_id}") for c in runtime.consumers]
        tasks += [asyncio.create_task(_every(job, runtime), name=job.name) for job in spec.periodic]
        log.info("service_started", port=settings.port)
        try:
            yield
        finally:
            for consumer in runtime.consumers:
                consumer.stop()
            relay.stop()
            revocations.stop()
            for task in tasks[2 + len(runtime.consumers) :]:
                task.cancel()
            # A consumer still joining its group cannot leave before the broker ends the join; what
            # it has not committed is read again by whoever gets its partitions (handlers are
            # idempotent), so after the grace period it is cut short rather than waited for.
            _, late = await asyncio.wait(tasks, timeout=settings.shutdown_grace_seconds)
            for task in late:
                log.warning("shutdown_cut_short", task=task.get_name())
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await producer.stop()
            await client.close()
            tracing.shutdown()
            log.info("service_stopped")

    app = FastAPI(
        title=spec.title,
        version="1.0.0",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
        docs_url=None,
        redoc_url=None,
        telemetry=TELEMETRY,
    )
    app.state.settings = settings
    app.state.metrics = Metrics(settings.service_name)
    app.state.verifier = TokenVerifier(settings, revoked)
    install_error_handlers(app)
    _install_observability(app, spec, settings)
    install_api_docs(app)
    for router in spec.routers:
        app.include_router(router)
    return app


DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
)
"""The API docs page's Content-Security-Policy: Swagger UI from the service itself, and no inline script."""
# On every answer, also where a service is reached without the gateway (which sets them once,
# with its base policy, for whatever passes through it).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """`/docs` with Swagger UI's files served by the service itself (from the pinned fastapi-swagger
    package): the page works without internet, where FastAPI's default loads them from a CDN, and
    under a strict policy, where FastAPI's default page starts Swagger UI from an inline script."""
    assets = Path(str(resources.files("fastapi_swagger") / "resources"))
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")
    headers = {"Content-Security-Policy": DOCS_POLICY}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE.format(title=html.escape(f"{app.title} · API")), headers=headers)

    @app.get("/docs/init.js", include_in_schema=False)
    async def swagger_ui_init() -> Response:
        options = {
            "url": app.openapi_url or "/openapi.json",
            "dom_id": "#swagger-ui",
            "layout": "BaseLayout",
            "deepLinking": True,
        }
        script = (
            f"SwaggerUIBundle(Object.assign({json.dumps(options)}, "
            "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n"
        )
        return Response(script, media_type="text/javascript", headers=headers)


def _timeout(request: Request, settings: ServiceSettings) -> float | None:
    """A change's database work ends by `request_timeout_seconds` (503, and the caller retries
    with its key), except an upload's, whose size decides its time; reads are not cut short."""
    upload = request.headers.get("content-type", "").startswith("multipart/")
    changes = request.method in ("POST", "PUT", "PATCH", "DELETE") and not upload
    return settings.request_timeout_seconds if changes else None


CORRELATION_ID = re.compile(r"[!-~]{1,64}")
"""A caller's X-Correlation-ID that is kept: 1 to 64 visible ASCII characters (a UUID, a trace id)."""


def _correlation_id(given: str | None) -> str:
    """The caller's id when it is one; anything longer or with spaces, control or non-ASCII
    characters is replaced by a new id, so it never reaches a log line, an event or an answer."""
    return given if given is not None and CORRELATION_ID.fullmatch(given) else new_id()


class _Observe:
    """Each request's correlation id (from the caller or new), bound to its log lines and answered
    in X-Correlation-ID; its database budget; its count and duration by route template. Plain
    ASGI, so a request costs no extra task and stream as `@app.middleware("http")` would."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, settings: ServiceSettings) -> None:
        self.app, self.metrics, self.settings = app, metrics, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        correlation_id = _correlation_id(request.headers.get("x-correlation-id"))
        started = time.perf_counter()
        status = 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Correlation-ID"] = correlation_id
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        with (
            bound(correlation_id=correlation_id),
            request_budget(retry_s=self.settings.request_retry_seconds, timeout_s=_timeout(request, self.settings)),
        ):
            # FastAPI's own server span (while tracing is on) gets the id the logs carry too.
            trace.get_current_span().set_attribute("gridloop.correlation_id", correlation_id)
            await self.app(scope, receive, answer)
        template = getattr(scope.get("route"), "path", "unmatched")
        metrics = self.metrics
        metrics.http_requests.labels(metrics.service, request.method, template, str(status)).inc()
        metrics.http_duration.labels(metrics.service, request.method, template).observe(time.perf_counter() - started)


def _install_observability(app: FastAPI, spec: ServiceSpec, settings: ServiceSettings) -> None:
    metrics: Metrics = app.state.metrics

    app.add_middleware(_Observe, metrics=metrics, settings=settings)

    @app.get("/healthz", tags=["ops"], summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["ops"],
        summary="Readiness: database and broker reachable, and the outbox moving",
        responses={503: {"description": "not ready"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        runtime: Runtime = request.app.state.runtime
        checks = {
            "database": await runtime.database.ping(),
            "broker": await broker_reachable(runtime.producer),
            "consumers": all(c.connected for c in runtime.consumers),
            "outbox": runtime.relay.oldest_age() <= settings.outbox_stuck_seconds,
            # Until the ended sessions are read, a signed-out token could pass here.
            "revocations": request.app.state.revocations.caught_up,
        }
        if spec.ready is not None and checks["database"]:
            checks["service"] = await spec.ready(runtime)
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["ops"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def serve(factory: Callable[[Any], FastAPI], settings: ServiceSettings) -> None:
    """Run one service; SIGTERM stops intake of requests, then the lifespan drains and commits."""
    import uvicorn

    uvicorn.run(
        factory(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        loop="uvloop",  # the services' event loop and HTTP parser in C: about a third less CPU per request and event
        http="httptools",
        timeout_graceful_shutdown=15,
        log_level=settings.log_level.lower(),
    )
