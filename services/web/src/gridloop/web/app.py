"""Composition root of the web service: settings, sessions, the OIDC client, pages and assets."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

import httpx
import jinja2
from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import Field, model_validator
from starlette.middleware.sessions import SessionMiddleware

from gridloop.shared.errors import install_error_handlers
from gridloop.shared.logging import configure_logging
from gridloop.shared.settings import ServiceSettings
from gridloop.shared.tracing import TELEMETRY, configure_tracing
from gridloop.web import pages
from gridloop.web.console import admin, command, common, desk, integrations, workbench
from gridloop.web.console.client import ServiceError, Services
from gridloop.web.console.deps import BadForm, SignInNeeded, WrongDesk, staff
from gridloop.web.console.render import HOME, install_filters, page
from gridloop.web.headers import SecurityHeaders, content_security_policy
from gridloop.web.sessions import running_sessions

PACKAGE = Path(__file__).parent
DEV_SESSION_SECRET = "gridloop-development-session-secret"
# In a checkout, `npm ci` installs the pinned front-end packages beside pyproject.toml.
CHECKOUT_VENDOR = PACKAGE.parents[2] / "node_modules"


class WebSettings(ServiceSettings):
    service_name: str = "web"
    port: int = 8008
    # development: the sign-in page lists the demo users; oidc: the city's identity provider.
    sign_in: Literal["development", "oidc"] = "development"
    oidc_metadata_url: str = ""  # the provider's /.well-known/openid-configuration
    oidc_client_id: str = "gridloop"
    oidc_client_secret: str = ""  # empty: a public client, protected by PKCE alone
    oidc_scope: str = "openid profile"
    # Which of the provider's tokens the APIs verify: a JWT access token (the usual), or the ID token
    # for providers whose access tokens are opaque.
    oidc_api_token: Literal["access_token", "id_token"] = "access_token"
    session_secret: str = DEV_SESSION_SECRET
    # How long a bearer token GridLoop mints for a session lives (development sign-in); the pages
    # get a fresh one from /session while the session lives. The provider's tokens live as it says.
    token_ttl_seconds: int = Field(default=900, ge=5, le=3600)
    vendor_dir: Path = CHECKOUT_VENDOR
    # A base-map tile address (e.g. the city's own tile server, with {z}/{x}/{y}); empty: grids only.
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    # Where the console finds each service's API (the embedded stack's ports by default).
    service_urls: dict[str, str] = {  # noqa: RUF012 - pydantic copies defaults
        "directory": "http://127.0.0.1:8006",
        "intake": "http://127.0.0.1:8001",
        "dispatch": "http://127.0.0.1:8002",
        "handling": "http://127.0.0.1:8003",
        "feedback": "http://127.0.0.1:8004",
        "supervision": "http://127.0.0.1:8005",
    }
    service_timeout_seconds: float = 15.0

    @model_validator(mode="after")
    def _sign_in_fits_environment(self) -> Self:
        if self.sign_in == "oidc" and not self.oidc_metadata_url:
            raise ValueError("GRIDLOOP_SIGN_IN=oidc needs GRIDLOOP_OIDC_METADATA_URL")
        if self.environment == "production" and self.sign_in == "development":
            raise ValueError("production signs in through the city's identity provider: GRIDLOOP_SIGN_IN=oidc")
        if self.environment != "development" and self.session_secret == DEV_SESSION_SECRET:
            raise ValueError("set GRIDLOOP_SESSION_SECRET outside development")
        return self


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()

    # Every template escapes what it prints, whatever its file name: names come from the directory,
    # whose administrators may type markup.
    templates = Jinja2Templates(
        env=jinja2.Environment(loader=jinja2.FileSystemLoader(PACKAGE / "templates"), autoescape=True)
    )
    install_filters(templates)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level)
        tracing = configure_tracing(settings)
        try:
            async with (
                httpx.AsyncClient(timeout=settings.service_timeout_seconds) as http,
                running_sessions(settings, token_ttl=timedelta(seconds=settings.token_ttl_seconds)) as sessions,
            ):
                app.state.services = Services(settings.service_urls, http)
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
    app.state.templates = templates
    app.include_router(
        pages.router(settings=settings, templates=templates, oauth=oauth, vendor_dir=settings.vendor_dir)
    )
    app.mount("/app/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    for router in (common.router, desk.router, workbench.router, command.router, admin.router, integrations.router):
        app.include_router(router)
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
    _console_errors(app, templates)
    return app


def _console_errors(app: FastAPI, templates: Jinja2Templates) -> None:
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
        return page(
            request, templates, await staff(request), "console/error.html", {"heading": heading, "message": message},
            status=exc.status if 400 <= exc.status < 600 else 502,
        )  # fmt: skip
