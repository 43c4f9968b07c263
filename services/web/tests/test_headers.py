"""Every answer of web carries its Content-Security-Policy and the headers beside it; the policy
names the base-map tile server and the identity provider when the settings do."""

import pytest
from fastapi.testclient import TestClient

from gridloop.web.app import create_app
from gridloop.web.headers import content_security_policy
from gridloop.web.settings import WebSettings

pytestmark = pytest.mark.unit


def directives(policy: str) -> dict[str, str]:
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


def test_every_answer_carries_the_policy_and_the_headers_beside_it() -> None:
    client = TestClient(create_app(WebSettings(environment="development")))
    for path in ("/signin", "/app/", "/app/static/app.js", "/app/vendor/htmx/htmx.min.js", "/no-such-page"):
        response = client.get(path)
        policy = directives(response.headers["content-security-policy"])
        assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'", path
        assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'", path
        assert (response.headers["x-content-type-options"], response.headers["x-frame-options"]) == ("nosniff", "DENY")
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_templates_escape_whatever_their_file_name() -> None:
    templates = create_app(WebSettings(environment="development")).state.templates
    page = templates.env.from_string("<p title='{{ name }}'>{{ name }}</p>").render(
        name="<img src=x onerror=alert(1)>'"
    )
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;&#39;" in page


def test_the_tile_server_and_the_identity_provider_are_the_only_other_origins() -> None:
    policy = directives(
        content_security_policy(
            tile_url="https://webrd0{s}.is.example.cn:8443/appmaptile?x={x}&y={y}&z={z}",
            sign_in_url="https://idp.city.example/realms/gov/.well-known/openid-configuration",
        )
    )
    assert policy["img-src"] == "'self' data: blob: https://*.is.example.cn:8443"
    assert policy["form-action"] == "'self' https://idp.city.example"
    assert policy["default-src"] == policy["script-src"] == "'self'"
    with pytest.raises(ValueError, match="first label"):
        content_security_policy(tile_url="https://tiles.{s}.example.cn/{z}/{x}/{y}.png")
    with pytest.raises(ValueError, match="http"):
        content_security_policy(tile_url="javascript:alert(1)")
