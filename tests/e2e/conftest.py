from collections.abc import Iterator

import pytest

from gridloop.stack.stack import SERVICES, Stack, StackConfig


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system on free loopback ports with in-memory storage, stopped at the end."""
    running = Stack(
        StackConfig.ephemeral(
            log_dir=tmp_path_factory.mktemp("stack-logs"), env={"GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2"}
        )
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def urls(stack: Stack) -> dict[str, str]:
    return {name: stack.url(name) for name in SERVICES}
