"""One stack for the fault run and the health checks, which run after it on the same servers: both
need a stack of their own (they kill, freeze and stop its processes), not each one. The fault run's
second instances start with the first ones (one join of each group, not a rebalance later), and the
stack stops in the background once the tests are done."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridloop.stack.stack import Stack, StackConfig
from tests.background import stopping
from tests.reliability import scenario


@pytest.fixture(scope="package")
def fault_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = os.environ.get("GRIDLOOP_FAULT_LOGS")
    stack = Stack(
        StackConfig.ephemeral(
            log_dir=Path(logs) if logs else tmp_path_factory.mktemp("fault-logs"),
            env={"GRIDLOOP_WATCHDOG_INTERVAL_SECONDS": "2"},  # no deadline falls due in the fault run
        )
    )
    stack.start_servers()
    try:
        second = [stack.start_extra_instance(name, 2) for name in scenario.SECOND_INSTANCES]
    except BaseException:
        stack.stop()
        raise
    stack.start_services()  # stops the stack if it fails
    stack.wait_ready(second)
    yield stack
    stopping(request.config).stop(stack.stop)
