"""The web service's settings (GRIDLOOP_* environment variables): sign-in, the session cookie,
the front-end packages and the map, and where the console finds each service's API."""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from gridloop.shared.settings import ServiceSettings

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
    # Where the console finds each service's API (the embedded stack's ports by default); set as one
    # JSON object in GRIDLOOP_SERVICE_URLS, which names every service (cobuild too).
    service_urls: dict[str, str] = {  # noqa: RUF012 - pydantic copies defaults
        "directory": "http://127.0.0.1:8006",
        "intake": "http://127.0.0.1:8001",
        "dispatch": "http://127.0.0.1:8002",
        "handling": "http://127.0.0.1:8003",
        "feedback": "http://127.0.0.1:8004",
        "supervision": "http://127.0.0.1:8005",
        "cobuild": "http://127.0.0.1:8007",
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
