"""Composition root of the web service: settings, sessions, the OIDC client, pages and assets."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal, Self

from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import model_validator
from starlette.middleware.sessions import SessionMiddleware

from gridloop.shared.errors import install_error_handlers
from gridloop.shared.logging import configure_logging
from gridloop.shared.settings import ServiceSettings
from gridloop.web import pages

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
    vendor_dir: Path = CHECKOUT_VENDOR
    # A base-map tile address (e.g. the city's own tile server, with {z}/{x}/{y}); empty: grids only.
    map_tile_url: str = ""
    map_tile_attribution: str = ""

    @model_validator(mode="after")
    def _sign_in_fits_environment(self) -> Self:
        if self.sign_in == "oidc" and not self.oidc_metadata_url:
            raise ValueError("GRIDLOOP_SIGN_IN=oidc needs GRIDLOOP_OIDC_METADATA_URL")
        if self.environment == "production":
            if self.sign_in == "development":
                raise ValueError("production signs in through the city's identity provider: GRIDLOOP_SIGN_IN=oidc")
            if self.session_secret == DEV_SESSION_SECRET:
                raise ValueError("set GRIDLOOP_SESSION_SECRET outside development")
        return self


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service=settings.service_name, level=settings.log_level)
        yield

    app = FastAPI(title="GridLoop web", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
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
    templates = Jinja2Templates(directory=PACKAGE / "templates")
    app.include_router(
        pages.router(settings=settings, templates=templates, oauth=oauth, vendor_dir=settings.vendor_dir)
    )
    app.mount("/app/static", StaticFiles(directory=PACKAGE / "static"), name="static")
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
    install_error_handlers(app)
    return app
