"""The gateway: one origin for browsers. deploy/gateway/routes.conf is the routing of both the
production nginx (docker-compose) and the embedded stack's; nginx itself checks both
configurations, and a running stack is reached through it."""

import datetime
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gridloop.stack.servers import (
    GATEWAY_DIR,
    Process,
    free_port,
    nginx_binary,
    render_gateway_config,
    start_gateway,
    wait_for_port,
)
from gridloop.stack.stack import API_SERVICES, DEFAULT_PORTS, SERVICES
from gridloop.web.app import WebSettings

ROOT = Path(__file__).resolve().parents[1]
unit = pytest.mark.unit
e2e = pytest.mark.e2e


def nginx_test(config: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(nginx_binary()), "-t", "-p", f"{prefix}/", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def self_signed(cert: Path, key: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gridloop.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("gridloop.test")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def production_config(compose: dict[str, Any], tmp: Path, gateway_dir: Path = GATEWAY_DIR) -> Path:
    """deploy/gateway/nginx.conf with the container's paths mapped as docker-compose mounts them:
    the gateway folder, the certificate secrets (here a throwaway self-signed pair) and the image's
    own cache folder and pid file."""
    gateway = compose["services"]["gateway"]
    mapping: dict[str, str] = {}
    for volume in gateway["volumes"]:
        source, target, *_ = volume.split(":")
        assert source == "./deploy/gateway"
        mapping[f"{target}/"] = f"{gateway_dir}/"
    secrets = tmp / "secrets"
    secrets.mkdir()
    for name in gateway["secrets"]:
        assert compose["secrets"][name]["file"] == f"./deploy/tls/{name}"
        mapping[f"/run/secrets/{name}"] = str(secrets / name)
    self_signed(secrets / "gateway.crt", secrets / "gateway.key")
    (tmp / "cache").mkdir()
    mapping["/var/cache/nginx/"] = f"{tmp}/cache/"
    mapping["/var/run/nginx.pid"] = f"{tmp}/nginx.pid"
    text = (gateway_dir / "nginx.conf").read_text()
    for container, here in mapping.items():
        text = text.replace(container, here)
    unmapped = re.findall(r"^\s*[a-z_]+\s+(/(?:etc|run|var)/\S*);", text, flags=re.MULTILINE)
    assert not unmapped, f"paths compose does not provide: {unmapped}"
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


@unit
def test_nginx_accepts_the_production_gateway(compose: dict[str, Any], tmp_path: Path) -> None:
    result = nginx_test(production_config(compose, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@unit
def test_a_broken_route_fails_the_check(compose: dict[str, Any], tmp_path: Path) -> None:
    broken = tmp_path / "gateway"
    shutil.copytree(GATEWAY_DIR, broken)
    routes = broken / "routes.conf"
    routes.write_text(routes.read_text().replace("$svc_directory;", "$svc_directroy;"))
    result = nginx_test(production_config(compose, tmp_path, gateway_dir=broken), tmp_path)
    assert result.returncode != 0
    assert "unknown" in result.stderr and "svc_directroy" in result.stderr


@unit
def test_nginx_accepts_the_embedded_gateway(tmp_path: Path) -> None:
    ports = {name: free_port() for name in SERVICES}
    config = render_gateway_config(port=free_port(), upstreams=ports, folder=tmp_path)
    result = nginx_test(config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "daemon off;" in config.read_text()


@unit
def test_the_embedded_gateway_starts_from_a_relative_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `make reliability` keeps its logs in var/reliability-logs, a path relative to the checkout
    monkeypatch.chdir(tmp_path)
    gateway = start_gateway(
        port=free_port(), upstreams={n: free_port() for n in SERVICES}, folder=Path("logs/gw"), log_dir=None
    )
    try:
        assert gateway.proc.poll() is None
    finally:
        gateway.stop()


def location_rules() -> list[tuple[re.Pattern[str], str]]:
    """The regex locations of routes.conf in order (nginx tries them in order), each with the
    service its proxy_pass names."""
    text = (GATEWAY_DIR / "routes.conf").read_text()
    rules = re.findall(r"^location ~ (\S+)\s*\{\s*proxy_pass http://\$svc_([a-z]+);", text, flags=re.MULTILINE)
    return [(re.compile(pattern), service) for pattern, service in rules]


@unit
def test_every_api_path_of_every_service_is_routed_to_that_service() -> None:
    import importlib

    rules = location_rules()
    assert {service for _, service in rules} == set(API_SERVICES)
    for service in API_SERVICES:
        paths = importlib.import_module(f"gridloop.{service}.app").create_app().openapi()["paths"]
        api = [re.sub(r"\{[^}]+\}", "x", p) for p in paths if p.startswith(("/v1/", "/open311/"))]
        assert api, service
        for path in api:
            routed = next((to for pattern, to in rules if pattern.search(path)), "web")
            assert routed == service, f"{path} of {service} goes to {routed}"
    for elsewhere in ("/", "/signin", "/signin/callback", "/session", "/app/", "/healthz", "/v1/reportsx"):
        assert not any(pattern.search(elsewhere) for pattern, _ in rules), elsewhere


@unit
def test_both_gateways_name_the_same_services_on_their_ports(compose: dict[str, Any]) -> None:
    production = dict(re.findall(r"set \$svc_([a-z]+) ([a-z]+:\d+);", (GATEWAY_DIR / "nginx.conf").read_text()))
    assert production == {name: f"{name}:{DEFAULT_PORTS[name]}" for name in SERVICES}
    for name in SERVICES:
        assert name in compose["services"]
    used = set(re.findall(r"\$svc_([a-z]+)", (GATEWAY_DIR / "routes.conf").read_text()))
    assert used == set(SERVICES)


@unit
def test_compose_runs_web_from_the_one_image_behind_the_gateway_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    web, gateway = services["web"], services["gateway"]
    assert web["image"] == services["intake"]["image"]
    assert web["command"] == ["python", "-m", "gridloop.web"]
    env = web["environment"]
    assert env["GRIDLOOP_PORT"] == str(DEFAULT_PORTS["web"])
    assert env["GRIDLOOP_ENVIRONMENT"] == "production" and env["GRIDLOOP_SIGN_IN"] == "oidc"
    assert env["GRIDLOOP_OIDC_METADATA_URL"].startswith("${GRIDLOOP_OIDC_METADATA_URL:?")
    assert env["GRIDLOOP_SESSION_SECRET"].startswith("${GRIDLOOP_SESSION_SECRET:?")
    settings = {k.removeprefix("GRIDLOOP_").lower() for k in env if k.startswith("GRIDLOOP_")}
    assert settings <= set(WebSettings.model_fields), settings - set(WebSettings.model_fields)
    # the console reaches every service by its compose name, not the embedded stack's loopback ports
    urls = WebSettings.model_validate({"service_urls": json.loads(env["GRIDLOOP_SERVICE_URLS"])}).service_urls
    assert urls == {name: f"http://{name}:{DEFAULT_PORTS[name]}" for name in API_SERVICES}
    # uvicorn trusts the gateway's X-Forwarded-Proto (the https of the OIDC redirect address)
    assert "FORWARDED_ALLOW_IPS" in env and "ports" not in web
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"COPY --from=web-assets /web/node_modules ./{Path(env['GRIDLOOP_VENDOR_DIR']).relative_to('/app')}" in (
        dockerfile
    )
    assert "npm ci --omit=dev" in dockerfile and "./services/web" in dockerfile
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", gateway["image"])
    assert set(gateway["ports"]) == {"443:443", "80:80"}
    assert gateway["command"][:3] == ["nginx", "-c", "/etc/nginx/gridloop/nginx.conf"]


ECHO = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request):
    body = await request.body()
    # ?own=1: the headers a service may send of its own, which the gateway must not double
    own = {"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    return JSONResponse(
        {"url": str(request.url), "client": request.client.host, "headers": dict(request.headers), "body": len(body)},
        headers=own if request.query_params.get("own") else None,
    )


app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])
"""


@pytest.fixture(scope="module")
def echo_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded gateway in front of an upstream that answers with what it received, run by
    uvicorn with the settings web runs with (proxy headers trusted from 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("echo-gateway")
    (folder / "echo.py").write_text(ECHO)
    port, gateway_port = free_port(), free_port()
    command = [sys.executable, "-m", "uvicorn", "echo:app", "--app-dir", str(folder), "--port", str(port)]
    upstream = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gateway: Process | None = None
    try:
        wait_for_port(port, proc=upstream)
        gateway = start_gateway(
            port=gateway_port, upstreams=dict.fromkeys(SERVICES, port), folder=folder / "gateway", log_dir=folder
        )
        yield f"http://127.0.0.1:{gateway_port}"
    finally:
        if gateway:
            gateway.stop()
        upstream.terminate()
        upstream.wait(10)


@e2e
def test_web_builds_its_absolute_addresses_for_the_gateways_origin(echo_gateway: str) -> None:
    # a client's own X-Forwarded-Proto is replaced by the gateway's scheme, its X-Forwarded-For by its address
    spoofed = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    seen = httpx.get(f"{echo_gateway}/signin/callback?code=1", headers=spoofed).json()
    assert seen["url"] == f"{echo_gateway}/signin/callback?code=1"
    assert seen["client"] == "127.0.0.1"
    headers = seen["headers"]
    assert headers["host"] == headers["x-forwarded-host"] == echo_gateway.removeprefix("http://")
    assert headers["x-forwarded-proto"] == "http" and headers["x-forwarded-for"] == "127.0.0.1"


@e2e
def test_a_ten_megabyte_photo_passes_and_a_larger_body_is_refused(echo_gateway: str) -> None:
    photo = b"\xff" * (10 * 1024 * 1024)
    files = {"file": ("photo.jpg", photo, "image/jpeg")}
    seen = httpx.post(f"{echo_gateway}/v1/attachments", files=files, timeout=30).json()
    assert seen["body"] > len(photo) and seen["headers"]["content-type"].startswith("multipart/form-data")
    too_large = httpx.post(f"{echo_gateway}/v1/attachments", content=b"0" * (13 * 1024 * 1024), timeout=30)
    assert too_large.status_code == 413


@e2e
def test_an_api_path_no_service_owns_answers_json_404(echo_gateway: str) -> None:
    for path in ("/v1/reportsx", "/v1/unknown/thing", "/metrics"):
        response = httpx.get(f"{echo_gateway}{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


GATEWAY_POLICY = {
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
GATEWAY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def policy(header: str) -> dict[str, str]:
    return dict(part.strip().partition(" ")[::2] for part in header.split(";") if part.strip())


@e2e
def test_every_answer_through_the_gateway_carries_the_browser_security_headers(echo_gateway: str) -> None:
    answers = [
        httpx.get(f"{echo_gateway}/app/"),
        httpx.get(f"{echo_gateway}/v1/reports"),
        httpx.get(f"{echo_gateway}/v1/unknown/thing"),  # the gateway's own 404
        httpx.post(f"{echo_gateway}/v1/attachments", content=b"0" * (13 * 1024 * 1024), timeout=30),  # its 413
    ]
    for response in answers:
        where = (response.request.url.path, response.status_code)
        for name, value in GATEWAY_HEADERS.items():
            assert response.headers.get_list(name) == [value], where
        (floor,) = response.headers.get_list("content-security-policy")
        assert GATEWAY_POLICY.items() <= policy(floor).items(), where
    # A service's own copies are replaced, not doubled; its own policy stands beside the gateway's.
    own = httpx.get(f"{echo_gateway}/signin?own=1")
    for name, value in GATEWAY_HEADERS.items():
        assert own.headers.get_list(name) == [value], name
    assert sorted(own.headers.get_list("content-security-policy")) == sorted([floor, "sandbox"])


@unit
def test_a_location_that_adds_headers_of_its_own_repeats_the_security_headers() -> None:
    # nginx inherits add_header from the server level only into a location that has none itself.
    text = (GATEWAY_DIR / "routes.conf").read_text()
    server_level = re.findall(r"^add_header (\S+) ", text, flags=re.MULTILINE)
    assert {name.lower() for name in server_level} >= {*GATEWAY_HEADERS, "content-security-policy"}
    for start in (m.end() for m in re.finditer(r"^\s*location[^{]*\{", text, flags=re.MULTILINE)):
        depth, end = 1, start
        while depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        own = re.findall(r"add_header (\S+) ", text[start:end])
        if own:
            assert set(server_level) <= set(own), f"a location forgets {set(server_level) - set(own)}"


# One request per routed prefix, each of a route only that service has.
