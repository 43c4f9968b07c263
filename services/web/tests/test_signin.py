"""Sign-in: the development desk, and OpenID Connect (authorization code + PKCE) against a real
provider process (oidc-provider-mock) with the web service running as it does in production."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.errors import ApiError
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers, free_port, wait_for_port
from gridloop.web.app import create_app
from gridloop.web.settings import WebSettings

PROVIDER_USERS = [
    {"sub": "gw-oidc", "name": "网格员小周", "role": "grid_worker", "org": "LJ02"},
    {"sub": "visitor", "name": "访客"},  # an account the city has, with no GridLoop role
]


def web_settings(servers: Servers, **changes: object) -> WebSettings:
    """The web service on the test servers: its sessions' database, and the broker it announces sign-outs on."""
    return WebSettings(
        environment="development", mongo_uri=servers.mongo_uri, kafka_bootstrap=servers.kafka_bootstrap, **changes
    )


@pytest.mark.integration
def test_a_demo_user_signs_in_and_the_app_gets_a_token_every_service_accepts(servers: Servers) -> None:
    with TestClient(create_app(web_settings(servers))) as client:
        signs_in_and_out(client)


def signs_in_and_out(client: TestClient) -> None:
    assert client.get("/session").status_code == 401
    page = client.get("/signin")
    assert page.status_code == 200 and "网格员小林" in page.text and "部门受理员 · 区城市管理局 CG" in page.text
    signed_in = client.post("/signin/dev", data={"sub": "gw-lj01"}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/"
    assert client.get("/console/", follow_redirects=False).headers["location"] == "/app/"  # a grid worker's page
    session = client.get("/session").json()
    who = TokenVerifier(ServiceSettings()).verify(session["token"])
    assert (who.sub, who.role, who.org) == ("gw-lj01", Role.GRID_WORKER, "LJ01")
    assert datetime.fromisoformat(session["expires_at"]) > datetime.now(UTC)
    # Someone not on the list is sent back to the list, signed in as no one new.
    stranger = client.post("/signin/dev", data={"sub": "mallory"}, follow_redirects=False)
    assert stranger.headers["location"] == "/signin?error=unknown_user"
    client.post("/signout")
    assert client.get("/session").status_code == 401


@pytest.mark.integration
def test_a_cookie_copied_before_sign_out_opens_nothing_after_it(servers: Servers) -> None:
    with TestClient(create_app(web_settings(servers, token_ttl_seconds=60))) as client:
        client.post("/signin/dev", data={"sub": "sd-lj"})
        copied = dict(client.cookies)
        session = client.get("/session").json()
        # Tokens are short-lived and belong to the session, which can end them.
        claims = jwt.decode(session["token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 60 and claims["sid"] and claims["jti"]
        assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/desk"
        client.post("/signout")
        client.cookies.clear()
        client.cookies.update(copied)  # whoever kept a copy of the cookie
        assert client.get("/session").status_code == 401
        client.cookies.update(copied)
        assert client.get("/console/", follow_redirects=False).headers["location"] == "/signin"


@pytest.mark.unit
def test_production_refuses_the_development_sign_in_and_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="GRIDLOOP_SIGN_IN=oidc"):
        WebSettings(environment="production", jwt_algorithm="RS256", jwt_jwks_url="https://idp/jwks", jwt_issuer="x")
    with pytest.raises(ValidationError, match="GRIDLOOP_OIDC_METADATA_URL"):
        WebSettings(sign_in="oidc")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("oidc") / "provider.log").open("wb")
    args = [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)]
    for user in PROVIDER_USERS:
        args += ["--user-claims", json.dumps(user, ensure_ascii=False)]
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def web(provider: str, servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        "GRIDLOOP_PORT": str(port),
        "GRIDLOOP_MONGO_URI": servers.mongo_uri,
        "GRIDLOOP_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        # As in production, but over plain HTTP: production's session cookie is Secure (HTTPS only).
        "GRIDLOOP_ENVIRONMENT": "test",
        "GRIDLOOP_SIGN_IN": "oidc",
        "GRIDLOOP_OIDC_METADATA_URL": f"{provider}/.well-known/openid-configuration",
        "GRIDLOOP_OIDC_CLIENT_ID": "gridloop-web",
        # The web service is a confidential client (it runs on the server) and uses PKCE as well.
        "GRIDLOOP_OIDC_CLIENT_SECRET": "client-secret-of-this-run",
        "GRIDLOOP_OIDC_API_TOKEN": "id_token",  # this provider's access tokens are opaque
        "GRIDLOOP_SESSION_SECRET": "a-test-secret-of-this-run",
        "GRIDLOOP_JWT_ALGORITHM": "RS256",
        "GRIDLOOP_JWT_JWKS_URL": f"{provider}/jwks",
        "GRIDLOOP_JWT_ISSUER": provider,
        "GRIDLOOP_JWT_AUDIENCE": "gridloop-web",
    }
    log = (tmp_path_factory.mktemp("web") / "web.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "gridloop.web"], env={**os.environ, **env}, stdout=log, stderr=log)
    try:
        wait_for_port(port, proc=proc, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def sign_in_at_provider(web: str, sub: str) -> httpx.Client:
    """What a browser does: /signin sends it to the provider; the person signs in there; the
    provider sends it back to /signin/callback with a code."""
    browser = httpx.Client(timeout=10)
    to_provider = browser.get(f"{web}/signin")
    assert to_provider.status_code == 302
    authorize = urlparse(to_provider.headers["location"])
    asked = parse_qs(authorize.query)
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert len(asked["code_challenge"][0]) >= 43 and "state" in asked
    back = browser.post(to_provider.headers["location"], data={"sub": sub})
    assert back.status_code == 302 and back.headers["location"].startswith(f"{web}/signin/callback?code=")
    browser.landed = browser.get(back.headers["location"])  # type: ignore[attr-defined]
    return browser


@pytest.mark.integration
def test_a_grid_worker_signs_in_through_the_citys_provider_and_services_accept_the_token(
    provider: str, web: str
) -> None:
    browser = sign_in_at_provider(web, "gw-oidc")
    assert browser.landed.status_code == 303, browser.landed.text  # type: ignore[attr-defined]
    assert browser.landed.headers["location"] == "/console/"  # type: ignore[attr-defined]
    assert browser.get(f"{web}/console/").headers["location"] == "/app/"
    session = browser.get(f"{web}/session").json()
    assert session["user"] == {"sub": "gw-oidc", "name": "网格员小周", "role": "grid_worker", "org": "LJ02"}
    # The services verify it as they do in production: RS256, the provider's JWKS, issuer, audience.
    services = ServiceSettings(
        environment="production",
        jwt_algorithm="RS256",
        jwt_jwks_url=f"{provider}/jwks",
        jwt_issuer=provider,
        jwt_audience="gridloop-web",
    )
    who = TokenVerifier(services).verify(session["token"])
    assert (who.sub, who.role, who.org) == ("gw-oidc", Role.GRID_WORKER, "LJ02")
    # A token for another client of the same provider is refused.
    with pytest.raises(ApiError):
        TokenVerifier(services.model_copy(update={"jwt_audience": "another-app"})).verify(session["token"])
    # The development desk does not exist here.
    assert browser.post(f"{web}/signin/dev", data={"sub": "gw-lj01"}).status_code == 404


@pytest.mark.integration
def test_an_account_without_a_gridloop_role_is_told_so_and_gets_no_session(web: str) -> None:
    browser = sign_in_at_provider(web, "visitor")
    assert browser.landed.status_code == 403  # type: ignore[attr-defined]
    assert "尚未分配 GridLoop 角色" in browser.landed.text  # type: ignore[attr-defined]
    assert browser.get(f"{web}/session").status_code == 401


@pytest.mark.integration
def test_a_forged_callback_is_refused(web: str) -> None:
    browser = httpx.Client(timeout=10)
    browser.get(f"{web}/signin")  # a real state in the session, but not this one
    forged = browser.get(f"{web}/signin/callback?code=made-up&state=not-the-one")
    assert forged.status_code == 400 and "登录未完成" in forged.text
    assert browser.get(f"{web}/session").status_code == 401
