"""Composition root of the web service: settings, sessions, the OIDC client, pages and assets."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import jinja2
from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from gridloop.shared.clock import Clock
from gridloop.shared.errors import install_error_handlers
from gridloop.shared.logging import configure_logging
from gridloop.shared.tracing import TELEMETRY, configure_tracing
from gridloop.web import pages
from gridloop.web.clients.base import ServiceError
from gridloop.web.console import (
    admin,
    admission,
    cobuild,
    cobuild_projects,
    command,
    common,
    desk,
    integrations,
    volunteer_activities,
    volunteer_members,
    volunteer_reviews,
    workbench,
)
from gridloop.web.console import volunteer_points as points_console
from gridloop.web.deps import BadForm, SignInNeeded, WrongDesk, sessions, staff
from gridloop.web.headers import SecurityHeaders, content_security_policy
from gridloop.web.render import HOME, ConsolePages, install_filters
from gridloop.web.sessions import running_sessions
from gridloop.web.settings import PACKAGE, WebSettings

__all__ = ["WebSettings", "create_app"]


def create_app(settings: WebSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The web service; `clock` (tests) overrides the settings' (GRIDLOOP_CLOCK_START or the system's)."""
    settings = settings or WebSettings()
    clock = clock or settings.clock()

    # Every template escapes what it prints, whatever its file name: names come from the directory,
    # whose administrators may type markup.
    templates = Jinja2Templates(
        env=jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE / "templates"), autoescape=True)
    )
    install_filters(templates, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level)
        tracing = configure_tracing(settings)
        try:
            async with (
                httpx.AsyncClient(timeout=settings.service_timeout_seconds) as http,
                running_sessions(settings, token_ttl=timedelta(seconds=settings.token_ttl_seconds)) as sessions,
            ):
                app.state.http = http
                app.state.sessions = sessions
                yield
        finally:
            tracing.shutdown()

    app = FastAPI(
        title="GridLoop web", version="1", lifespan=lifespan, docs_url=None, redoc_url=None, telemetry=TELEMETRY
    )
    oauth = OAuth()
    if settings.sign_in == "oidc":
        oauth.register(
            name="city",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=settings.oidc_metadata_url,
            client_kwargs={
                "scope": settings.oidc_scope,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic" if settings.oidc_client_secret else "none",
            },
        )
    app.state.settings = settings
    app.state.clock = clock
    app.state.templates = templates
    app.include_router(pages.router(settings=settings, templates=templates, oauth=oauth))
    app.mount("/app/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    consoles = (
        common,
        desk,
        workbench,
        command,
        admin,
        integrations,
        cobuild,
        cobuild_projects,
        volunteer_members,
        volunteer_activities,
        volunteer_reviews,
        admission,
        points_console,
    )
    for console in consoles:
        app.include_router(console.router)
    for name, folder in pages.VENDORED.items():
        app.mount(
            f"/app/vendor/{name}", StaticFiles(directory=settings.vendor_dir / folder, check_dir=False), name=name
        )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret,
        session_cookie="gridloop_session",
        same_site="lax",
        https_only=settings.environment == "production",
        max_age=12 * 3600,
    )
    policy = content_security_policy(
        tile_url=settings.map_tile_url, sign_in_url=settings.oidc_metadata_url if settings.sign_in == "oidc" else ""
    )
    app.add_middleware(SecurityHeaders, policy=policy)
    install_error_handlers(app)
    _console_errors(app, ConsolePages(templates, clock))
    return app


def _console_errors(app: FastAPI, console: ConsolePages) -> None:
    """How the console answers when a page cannot be shown: sign in, your own desk, or the reason."""

    def go(request: Request, url: str) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, _: SignInNeeded) -> Response:
        return go(request, "/signin")

    @app.exception_handler(WrongDesk)
    async def own_desk(request: Request, exc: WrongDesk) -> Response:
        return go(request, HOME.get(exc.role, "/signin"))

    @app.exception_handler(BadForm)
    async def forged(request: Request, _: BadForm) -> Response:
        return Response("表单已过期，请刷新页面后重试。", status_code=403, media_type="text/plain; charset=utf-8")

    @app.exception_handler(ServiceError)
    async def refused(request: Request, exc: ServiceError) -> Response:
        if exc.status == 401:
            request.session.clear()
            return go(request, "/signin")
        heading = {403: "无权查看", 404: "未找到", 503: "服务暂时不可用"}.get(exc.status, "无法完成")
        message = exc.chinese if exc.status != 404 else "未找到该记录，或它不在您的管辖范围内。"
        person = await staff(request, sessions(request))
        return console.render(
            request, person, "console/error.html", {"heading": heading, "message": message},
            status=exc.status if 400 <= exc.status < 600 else 502,
        )  # fmt: skip
