"""schemathesis against every service's OpenAPI document, all checks on: no 5xx, no response that
breaks its own schema, invalid input refused. Each service is tested as the role that reaches most of it,
on the stack the other layers share, after their tests (tests/conftest.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.stack import API_SERVICES, Stack

pytestmark = pytest.mark.fuzz
ROOT = Path(__file__).resolve().parents[2]
CALLERS = {
    "intake": (Role.GRID_WORKER, "LJ01"),
    "dispatch": (Role.STREET_DISPATCHER, "LJ"),
    "handling": (Role.DEPARTMENT_AGENT, "CG"),
    "feedback": (Role.GRID_WORKER, "LJ01"),
    "supervision": (Role.SUPERVISOR, "QH"),
    "directory": (Role.ADMIN, "QH"),
    "cobuild": (Role.COMMUNITY_WORKER, "LJ01"),  # the needs desk reaches the most of 共建
}
EXAMPLES = os.environ.get("GRIDLOOP_FUZZ_EXAMPLES", "5")
# cobuild has as many operations as the six others together (104): fewer examples each keeps its run as
# long as the others' in make test; `GRIDLOOP_FUZZ_EXAMPLES` sets every service's count for a longer run
FEWER = {"cobuild": os.environ.get("GRIDLOOP_FUZZ_EXAMPLES", "3")}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(stack: Stack, tmp_path: Path) -> None:
    assert set(CALLERS) == set(API_SERVICES)  # no service left out
    runs = {}
    for service, (role, org) in CALLERS.items():
        token = TokenVerifier(ServiceSettings()).mint(sub=f"fuzz-{service}", name="fuzz", role=role, org=org)
        out = tmp_path / f"{service}.txt"
        runs[service] = (
            out,
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "st"),
                    "--config-file",
                    str(ROOT / "schemathesis.toml"),
                    "run",
                    f"{stack.url(service)}/openapi.json",
                    "--checks",
                    "all",
                    "--max-examples",
                    FEWER.get(service, EXAMPLES),
                    "--seed",
                    "20261122",
                    "-H",
                    f"Authorization: Bearer {token}",
                    "--request-timeout",
                    "20",
                    "--report-dir",
                    str(tmp_path / service),
                    "--no-color",
                ],
                stdout=out.open("w"),
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            ),
        )
    failed, total = {}, 0
    for service, (out, process) in runs.items():
        code = process.wait(timeout=900)
        text = out.read_text()
        cases = re.search(r"(\d+) generated", text)
        total += int(cases.group(1)) if cases else 0
        print(f"[{service}] {cases.group(0) if cases else 'no cases'}: exit {code}")
        if code != 0 or not cases:
            failed[service] = text[-4000:]
    print(f"schemathesis cases run: {total}")
    assert not failed, "\n\n".join(f"[{s}]\n{t}" for s, t in failed.items())
