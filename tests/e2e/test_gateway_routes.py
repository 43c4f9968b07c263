"""The gateway in front of the running stack: every API prefix reaches its service, the rest is web."""

import json
from pathlib import Path

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import Stack

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

PROBES = [
    ("GET", "/v1/reports"),
    ("POST", "/v1/attachments"),
    ("GET", "/v1/dispatch/queue"),
    ("GET", "/v1/work-orders"),
    ("GET", "/v1/verifications"),
    ("POST", "/v1/ratings/T-1"),
    ("GET", "/v1/notifications"),
    ("GET", "/v1/supervision/overdue"),
    ("GET", "/v1/directory/tree"),
    ("GET", "/v1/cobuild/needs"),
]


def test_each_prefix_reaches_its_service_through_the_gateway(stack: Stack) -> None:
    gateway = stack.gateway_url
    for method, path in PROBES:
        response = httpx.request(method, f"{gateway}{path}")
        assert response.status_code == 401, (path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "not_authenticated", path
    callers = {
        "/v1/reports?mine=true": (Role.GRID_WORKER, "LJ01", "intake"),
        "/v1/dispatch/queue": (Role.STREET_DISPATCHER, "LJ", "dispatch"),
        "/v1/work-orders": (Role.DEPARTMENT_AGENT, "CG", "handling"),
        "/v1/verifications?status=pending": (Role.GRID_WORKER, "LJ01", "feedback"),
        "/v1/supervision/overdue": (Role.SUPERVISOR, "QH", "supervision"),
        "/v1/directory/tree": (Role.GRID_WORKER, "LJ01", "directory"),
        "/v1/cobuild/needs": (Role.COMMUNITY_WORKER, "LJ01", "cobuild"),
    }
    for path, (role, org, service) in callers.items():
        user = ApiUser(urls={"gateway": gateway, service: stack.url(service)}, sub=f"gw-{service}", role=role, org=org)
        through, direct = user.call("gateway", "GET", path), user.call(service, "GET", path)
        assert through.status_code == direct.status_code == 200, (path, through.text)
        assert through.json().keys() == direct.json().keys(), path
        user.close()


def test_the_directory_tree_through_the_gateway_is_the_directorys(stack: Stack) -> None:
    user = ApiUser(
        urls={"gateway": stack.gateway_url, "directory": stack.url("directory")}, sub="a", role=Role.ADMIN, org="QH"
    )
    assert user.ok("gateway", "GET", "/v1/directory/tree") == user.ok("directory", "GET", "/v1/directory/tree")
    user.close()


def test_everything_else_is_the_web_service(stack: Stack) -> None:
    gateway = stack.gateway_url
    assert httpx.get(f"{gateway}/healthz").json() == httpx.get(f"{stack.url('web')}/healthz").json()
    signin = httpx.get(f"{gateway}/signin")
    assert signin.status_code == 200 and signin.headers["content-type"].startswith("text/html")
    assert httpx.get(f"{gateway}/").headers["location"] == "/signin"  # signed in: the app or the console
    assert httpx.get(f"{gateway}/session").json()["error"]["code"] == "not_signed_in"
    # The event contract other teams read: the committed document, served as the models generate it
    contract = httpx.get(f"{gateway}/asyncapi.json")
    assert contract.status_code == 200 and contract.headers["content-type"] == "application/json"
    assert contract.json() == json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))


def test_an_address_calling_the_sign_in_page_too_fast_is_told_when_to_retry(stack: Stack) -> None:
    # A loopback address of its own (Linux answers all of 127/8), so no other test's budget is spent.
    flooder = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.23"))
    answers = [flooder.get(f"{stack.gateway_url}/signin") for _ in range(80)]
    flooder.close()
    assert answers[0].status_code == 200
    refused = next((a for a in answers if a.status_code == 429), None)
    assert refused is not None, [a.status_code for a in answers]
    assert refused.headers.get_list("retry-after") == ["1"]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["x-content-type-options"] == "nosniff"
    # Another address is not held back.
    assert httpx.get(f"{stack.gateway_url}/signin").status_code == 200
