"""Signing out ends the session everywhere: the web service's record of it, a copy of its cookie,
and the bearer tokens it handed out, which every service refuses before they expire. Tokens are
short-lived and renewed through the session (this stack: 6 s, 2 s of clock skew allowed)."""

import time
from datetime import datetime

import httpx
import pytest

from gridloop.stack.stack import Stack

pytestmark = pytest.mark.e2e
REFUSED_WITHIN_S = 3.0
"""How soon after sign-out a service refuses the session's token (docs/security.md, "Sign-out")."""


def signed_in(stack: Stack, sub: str) -> httpx.Client:
    browser = httpx.Client(base_url=stack.gateway_url, timeout=10)
    assert browser.post("/signin/dev", data={"sub": sub}).status_code == 303
    return browser


def mine(stack: Stack, token: str) -> httpx.Response:
    return httpx.get(
        f"{stack.url('intake')}/v1/reports?mine=true", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


def test_after_sign_out_a_copied_cookie_opens_nothing_and_the_token_is_refused_within_seconds(stack: Stack) -> None:
    browser = signed_in(stack, "gw-lj01")
    token = browser.get("/session").json()["token"]
    assert mine(stack, token).status_code == 200
    copied = dict(browser.cookies)

    assert browser.post("/signout").status_code == 303
    signed_out = time.monotonic()
    while (refused := mine(stack, token)).status_code == 200:
        assert time.monotonic() - signed_out < REFUSED_WITHIN_S, "intake still accepts a signed-out token"
        time.sleep(0.05)
    took = time.monotonic() - signed_out
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "session_ended"
    print(f"intake refused the signed-out token {took:.2f} s after sign-out")

    thief = httpx.Client(base_url=stack.gateway_url, cookies=copied, timeout=10)
    answer = thief.get("/session")
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "not_signed_in"
    assert thief.get("/console/").headers["location"] == "/signin"
    # Signing in again is a new session, whose tokens every service takes.
    again = signed_in(stack, "gw-lj01")
    assert mine(stack, again.get("/session").json()["token"]).status_code == 200


def test_a_token_past_its_short_life_is_refused_and_the_session_hands_out_a_fresh_one(stack: Stack) -> None:
    browser = signed_in(stack, "gw-lj01")
    first = browser.get("/session").json()
    lasts = datetime.fromisoformat(first["token_expires_at"]) - datetime.fromisoformat(first["expires_at"])
    assert lasts.total_seconds() < -3600, "a token lives far shorter than its session"
    assert mine(stack, first["token"]).status_code == 200
    time.sleep(max(0.0, datetime.fromisoformat(first["token_expires_at"]).timestamp() - time.time()) + 2.5)
    assert mine(stack, first["token"]).status_code == 401
    fresh = browser.get("/session").json()
    assert fresh["token"] != first["token"]
    assert mine(stack, fresh["token"]).status_code == 200
