"""One whole stack for the layers that only use it (end to end, browser, fuzz): started by the first
test that asks for it, stopped as soon as the last one is done, so no layer pays for a start and a
stop of its own and none idles beside the layers after it. (Stacks that are killed, frozen,
restarted or run on another clock, as the fault run's, the durable ones and the new-year test's
are, stay their own.)

Its settings are what each of those layers needs: short-lived bearer tokens renewed through the
session, tracing to a receiver, webhook retries within seconds and a fast outbox. The fuzz run,
which leaves whatever schemathesis made up behind, comes after every other test on it."""

from collections.abc import Callable, Iterator

import pytest

from gridloop.stack.servers import Servers
from gridloop.stack.stack import Stack, StackConfig
from gridloop.stack.traces import TraceReceiver
from tests.background import stopping

SHARED = "shared_stack"
"""The fixture whose users share the stack: a test uses it when it is among the test's fixtures."""
SHARED_ENV = {
    # Tracing is on, to the trace receiver, for requests whose caller samples them (a `traceparent`
    # with the sampled flag): the other tests' requests make no spans and cost no export.
    "GRIDLOOP_OTEL_ENDPOINT": "",  # the receiver's address, filled in when it starts
    "GRIDLOOP_OTEL_EXPORT_DELAY_MS": "300",
    "GRIDLOOP_OTEL_SAMPLE_RATIO": "0",
    "GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2",
    # a webhook receiver that was down is tried again within seconds, not minutes
    "GRIDLOOP_WEBHOOK_RETRY_FIRST_SECONDS": "0.5",
    "GRIDLOOP_WEBHOOK_RETRY_LONGEST_SECONDS": "2",
    # no hotspot pass after the first (at start, with no tickets): the tests' tickets would raise
    # project ideas in the communities whose 共建 figures a test counts (cobuild's own tests raise them)
    "GRIDLOOP_HOTSPOT_INTERVAL_SECONDS": "86400",
    # short-lived bearer tokens, renewed through the session (e2e/test_sign_out.py waits one out)
    "GRIDLOOP_TOKEN_TTL_SECONDS": "6",
    "GRIDLOOP_JWT_LEEWAY_SECONDS": "2",
}


SERVERS = "servers"
"""The broker and database the services' integration tests share (gridloop.stack.testing): they
too are stopped after their last user instead of idling beside the layers after it (an idle pair
takes a sixth of a core)."""


class Stops:
    """What to stop once the shared stack's last user is done, last started first; each once."""

    def __init__(self) -> None:
        self._pending: list[Callable[[], None]] = []

    def add(self, stop: Callable[[], None]) -> None:
        self._pending.append(stop)

    def take(self) -> list[Callable[[], None]]:
        taken, self._pending = self._pending[::-1], []
        return taken

    def run(self) -> None:
        for stop in self.take():
            stop()


STOPS = pytest.StashKey[Stops]()


def _stops(config: pytest.Config) -> Stops:
    return config.stash.setdefault(STOPS, Stops())


@pytest.fixture(scope="session")
def traces(request: pytest.FixtureRequest) -> TraceReceiver:
    """What the shared stack exports over OTLP: every sampled span of every service."""
    receiver = TraceReceiver().start()
    _stops(request.config).add(receiver.stop)
    return receiver


@pytest.fixture(scope="session")
def shared_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, traces: TraceReceiver
) -> Iterator[Stack]:
    """The whole system on free loopback ports with in-memory storage: the services, web, and the
    gateway in front of them (`stack.gateway_url`)."""
    stops = _stops(request.config)
    running = Stack(
        StackConfig.ephemeral(
            log_dir=tmp_path_factory.mktemp("stack-logs"), env={**SHARED_ENV, "GRIDLOOP_OTEL_ENDPOINT": traces.url}
        )
    )
    running.start()  # stops what it started if it fails
    stops.add(running.stop)
    yield running
    stops.run()  # nothing left to stop once its last user is done, unless the run was cut short


@pytest.fixture(scope="session")
def stack(shared_stack: Stack) -> Stack:
    """The shared stack (a layer whose tests kill or restart processes defines its own `stack`)."""
    return shared_stack


def _uses(item: pytest.Item, fixture: str) -> bool:
    return fixture in getattr(item, "fixturenames", ())


def _uses_shared(item: pytest.Item) -> bool:
    return _uses(item, SHARED)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The shared stack's tests run together, whatever order they were named in: a test among them
    that does not use it (one on a stack of its own, or on the integration tests' servers) runs
    before the first of them, so the shared stack never idles beside another; and the fuzz run
    comes after every other test on it."""
    shared = [n for n, item in enumerate(items) if _uses_shared(item)]
    if not shared:
        return
    first, last = shared[0], shared[-1]
    block = items[first : last + 1]
    before = [item for item in block if not _uses_shared(item)]
    fuzz = [item for item in block if _uses_shared(item) and item.get_closest_marker("fuzz")]
    others = [item for item in block if _uses_shared(item) and not item.get_closest_marker("fuzz")]
    items[first : last + 1] = [*before, *others, *fuzz]


LAST_USERS = pytest.StashKey[dict[str, pytest.Item]]()


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[LAST_USERS] = {
        fixture: users[-1]
        for fixture in (SHARED, SERVERS)
        if (users := [item for item in session.items if _uses(item, fixture)])
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Once the last user of the shared stack, or of the integration tests' servers, is torn down,
    they stop, in the background: the next tests start meanwhile."""
    last = item.config.stash.get(LAST_USERS, {})
    servers: Servers | None = getattr(item, "funcargs", {}).get(SERVERS) if last.get(SERVERS) is item else None
    try:
        return (yield)
    finally:
        if last.get(SHARED) is item:
            stopping(item.config).stop(*_stops(item.config).take())
        if servers is not None:
            stopping(item.config).stop(servers.stop)


def pytest_sessionfinish(session: pytest.Session) -> None:
    stopping(session.config).wait()
