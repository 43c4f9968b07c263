"""Readiness follows the database and the broker, services reconnect by themselves, and SIGTERM
stops a service cleanly."""

import signal
import time

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Process
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually, ok

pytestmark = pytest.mark.reliability


@pytest.fixture
def stack(fault_stack: Stack) -> Stack:
    """The fault run's stack (tests/reliability/conftest.py), after it."""
    return fault_stack


def _log(process: Process) -> str:
    assert process.log_path is not None, f"{process.name} runs without a log"
    return process.log_path.read_text()


def _ready(stack: Stack, service: str) -> int:
    try:
        return httpx.get(f"{stack.url(service)}/readyz", timeout=10).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.parametrize("server", ["broker", "database"])
def test_readiness_drops_while_a_server_is_away_and_returns_without_a_restart(stack: Stack, server: str) -> None:
    process = getattr(stack.servers, server)
    process.pause()
    try:
        eventually(lambda: _ready(stack, "intake") == 503, timeout=30, what=f"intake not ready without the {server}")
        assert _ready(stack, "handling") == 503
    finally:
        process.resume()
    eventually(lambda: _ready(stack, "intake") == 200, timeout=60, what=f"intake ready again after the {server}")
    eventually(lambda: _ready(stack, "handling") == 200, timeout=60, what="handling ready again")
    urls = {name: stack.url(name) for name in ("intake", "handling")}
    worker = ApiUser(urls=urls, sub="gw-health", role=Role.GRID_WORKER, org="LJ01")
    agent = ApiUser(urls=urls, sub="agent-health", role=Role.DEPARTMENT_AGENT, org="CG")
    report = ok(
        worker.call(
            "intake",
            "POST",
            "/v1/reports",
            json={"category_code": "SJ-0101", "description": f"恢复后上报 {server}", "grid_code": "LJ01-G1"},
        ),
        201,
    )
    eventually(
        lambda: any(
            o["ticket_id"] == report["ticket_id"]
            for o in agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
        ),
        timeout=60,
        what="a report after the outage reaches the inbox",
    )


def test_sigterm_drains_and_exits_cleanly(stack: Stack) -> None:
    process = stack.services["feedback"]
    started = time.monotonic()
    process.proc.send_signal(signal.SIGTERM)
    # uvicorn re-raises the signal once shut down, so the exit status reports SIGTERM
    assert process.proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 30
    log = _log(process)
    assert '"event": "service_stopped"' in log
    assert "Application shutdown complete" in log
    stack.start_service("feedback")
    stack.wait_ready(["feedback"])
    # Stopped again at once, while its consumer still joins the group: cut short after the grace
    # period (what it has not committed is read again), not held until the broker ends the join.
    restarted, started = stack.services["feedback"], time.monotonic()
    restarted.stop(timeout=30)
    assert time.monotonic() - started < 8
    assert _log(restarted).count('"event": "service_stopped"') == 2
