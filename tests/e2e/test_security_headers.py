"""What the running stack tells browsers through its gateway: every page under a strict
Content-Security-Policy, nothing sniffed or framed, and an uploaded photo served only as the image
it is (docs/security.md, "In the browser")."""

import struct
import zlib

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e

PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
ONCE = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


def png(width: int = 8, height: int = 8) -> bytes:
    """A small red PNG, written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xc8\x28\x28" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def policies(response: httpx.Response) -> list[dict[str, str]]:
    return [
        dict(part.strip().partition(" ")[::2] for part in header.split(";") if part.strip())
        for header in response.headers.get_list("content-security-policy")
    ]


def test_every_page_is_served_under_the_strict_policy_through_the_gateway(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as browser:
        pages = [browser.get("/signin"), browser.get("/app/"), browser.get("/app/static/app.js")]
        browser.post("/signin/dev", data={"sub": "sup-qh"})
        pages += [browser.get("/console/command"), browser.get("/console/command/overdue"), browser.get("/session")]
        browser.post("/signin/dev", data={"sub": "admin"})
        pages += [browser.get("/console/admin"), browser.get("/console/no-such-page")]
    for response in pages:
        where = (response.request.url.path, response.status_code)
        assert response.status_code in (200, 404), where
        assert PAGE_POLICY in policies(response), where  # web's own, whole
        for name, value in ONCE.items():
            assert response.headers.get_list(name) == [value], where
        # and the gateway's floor beside it, which holds even for a page that forgot its own
        assert any(p.get("script-src") == "'self'" and "default-src" not in p for p in policies(response)), where


def test_the_services_answers_carry_the_gateways_headers(stack: Stack) -> None:
    for path in ("/v1/reports", "/v1/directory/tree", "/v1/nobody-serves-this"):
        response = httpx.get(f"{stack.gateway_url}{path}")
        assert response.status_code in (401, 404), path
        for name, value in ONCE.items():
            assert response.headers.get_list(name) == [value], path
        assert [p["frame-ancestors"] for p in policies(response)] == ["'none'"], path


def test_a_photo_is_served_as_the_image_its_bytes_are_under_a_fixed_name(stack: Stack) -> None:
    worker = ApiUser(
        urls={"gateway": stack.gateway_url, **{name: stack.url(name) for name in SERVICES}},
        sub="gw-lj01",
        role=Role.GRID_WORKER,
        org="LJ01",
    )
    # Named like a page and sent as one: neither decides what it is served as.
    files = {"file": ("<svg onload=alert(1)>.html", png(), "text/html")}
    uploaded = worker.ok("gateway", "POST", "/v1/attachments", files=files)
    photo = worker.call("gateway", "GET", f"/v1/attachments/{uploaded['attachment_id']}")
    worker.close()
    assert photo.status_code == 200
    kind = "png" if photo.content.startswith(b"\x89PNG") else "jpeg"  # as sent, or re-encoded when stored
    assert photo.headers["content-type"] == f"image/{kind}"
    assert photo.headers["content-disposition"] == f'inline; filename="photo.{kind.replace("jpeg", "jpg")}"'
    assert photo.headers.get_list("x-content-type-options") == ["nosniff"]
    assert {"default-src": "'none'", "sandbox": ""} in policies(photo)
