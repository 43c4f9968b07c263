"""One stack for the fault run and the health checks, which run after it on the same servers: both
need a stack of their own (they kill, freeze and stop its processes), not each one. It stops in the
background once they are done."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridloop.stack.stack import Stack, StackConfig
from tests.background import stopping


@pytest.fixture(scope="package")
def fault_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = os.environ.get("GRIDLOOP_FAULT_LOGS")
    stack = Stack(
        StackConfig.ephemeral(
            log_dir=Path(logs) if logs else tmp_path_factory.mktemp("fault-logs"),
            env={"GRIDLOOP_WATCHDOG_INTERVAL_SECONDS": "2"},  # no deadline falls due in the fault run
        )
    )
    stack.start()
    yield stack
    stopping(request.config).stop(stack.stop)
