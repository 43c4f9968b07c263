"""Tokens from a city's identity provider (ES256/RS256, public key or JWKS) and the refusals that
matter: expired, forged, for another audience, unsigned, or signed with the wrong algorithm."""

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.errors import ApiError
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings

pytestmark = pytest.mark.unit
ISSUER = "https://idp.qinghe.example/realms/city"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "sub": "u-1001",
        "name": "王网格",
        "role": "grid_worker",
        "org": "LJ01",
        "iss": ISSUER,
        "aud": "gridloop",
        "iat": now,
        "exp": now + timedelta(minutes=10),
    }
    return claims | overrides


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def es256(ec_key: ec.EllipticCurvePrivateKey) -> TokenVerifier:
    return TokenVerifier(
        ServiceSettings(jwt_algorithm="ES256", jwt_public_key=_pem(ec_key), jwt_issuer=ISSUER, jwt_leeway_seconds=30)
    )


def _refused(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(ApiError) as refused:
        verifier.verify(token)
    assert (refused.value.status, refused.value.code) == (401, "invalid_token")


def test_a_valid_es256_token_names_the_caller(es256: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey) -> None:
    caller = es256.verify(jwt.encode(_claims(), ec_key, algorithm="ES256"))
    assert (caller.sub, caller.role, caller.org, caller.name) == ("u-1001", Role.GRID_WORKER, "LJ01", "王网格")


def test_expired_forged_foreign_and_unsigned_tokens_are_refused(
    es256: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    _refused(es256, jwt.encode(_claims(exp=an_hour_ago), ec_key, algorithm="ES256"))
    _refused(es256, jwt.encode(_claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"))
    _refused(es256, jwt.encode(_claims(aud="another-system"), ec_key, algorithm="ES256"))
    _refused(es256, jwt.encode(_claims(iss="https://elsewhere.example"), ec_key, algorithm="ES256"))
    _refused(es256, jwt.encode(_claims(), None, algorithm="none"))
    _refused(es256, jwt.encode(_claims(role="mayor"), ec_key, algorithm="ES256"))
    without_sub = {k: v for k, v in _claims().items() if k != "sub"}
    _refused(es256, jwt.encode(without_sub, ec_key, algorithm="ES256"))


def test_clock_skew_is_allowed_only_up_to_the_configured_bound(
    es256: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    just_expired = datetime.now(UTC) - timedelta(seconds=10)
    assert es256.verify(jwt.encode(_claims(exp=just_expired), ec_key, algorithm="ES256")).sub == "u-1001"
    _refused(es256, jwt.encode(_claims(exp=datetime.now(UTC) - timedelta(seconds=60)), ec_key, algorithm="ES256"))
    with pytest.raises(ValidationError):
        ServiceSettings(jwt_leeway_seconds=3600)


def test_a_token_signed_with_a_shared_secret_is_refused_where_keys_are_public(
    es256: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    # Algorithm confusion: HS256 "signed" with the public key text must not pass as ES256.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in _claims().items()}
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(_pem(ec_key).encode(), signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{b64(signature)}"
    _refused(es256, confused)
    with pytest.raises(RuntimeError):
        es256.mint(sub="x", name="x", role=Role.ADMIN, org="")


class _Jwks(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def jwks_url() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """The identity provider's key set, served on loopback for the length of one test."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    _Jwks.body = json.dumps({"keys": [public | {"kid": "2026-11", "use": "sig", "alg": "RS256"}]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/realms/city/certs", key
    finally:
        server.shutdown()
        server.server_close()


def test_rs256_tokens_are_checked_against_the_providers_jwks_by_key_id(
    jwks_url: tuple[str, rsa.RSAPrivateKey],
) -> None:
    url, key = jwks_url
    verifier = TokenVerifier(ServiceSettings(jwt_algorithm="RS256", jwt_jwks_url=url, jwt_issuer=ISSUER))
    token = jwt.encode(_claims(role="department_agent", org="SW"), key, algorithm="RS256", headers={"kid": "2026-11"})
    assert verifier.verify(token).role == Role.DEPARTMENT_AGENT
    _refused(verifier, jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "retired-key"}))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _refused(verifier, jwt.encode(_claims(), other, algorithm="RS256", headers={"kid": "2026-11"}))


def test_production_refuses_development_keys_and_issuer() -> None:
    with pytest.raises(ValidationError, match="shared-secret"):
        ServiceSettings(environment="production", jwt_secret="x" * 64)
    with pytest.raises(ValidationError, match="ISSUER"):
        ServiceSettings(environment="production", jwt_algorithm="RS256", jwt_jwks_url="https://idp/certs")
    with pytest.raises(ValidationError, match="JWKS"):
        ServiceSettings(jwt_algorithm="ES256")
    ok = ServiceSettings(
        environment="production", jwt_algorithm="RS256", jwt_jwks_url="https://idp/certs", jwt_issuer=ISSUER
    )
    assert ok.jwt_algorithm == "RS256"
