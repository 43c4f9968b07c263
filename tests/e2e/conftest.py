"""The whole stack these tests share: started once for the package, stopped when its last test is
done, so it does not idle beside the layers after it (the fuzz and fault stacks start their own)."""

from collections.abc import Iterator

import pytest

from gridloop.stack.stack import SERVICES, Stack, StackConfig
from gridloop.stack.traces import TraceReceiver


@pytest.fixture(scope="package")
def traces() -> Iterator[TraceReceiver]:
    """What the end-to-end stack exports over OTLP: every span of every service."""
    receiver = TraceReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, traces: TraceReceiver) -> Iterator[Stack]:
    """The whole system on free loopback ports with in-memory storage, stopped at the end: the
    services, web, and the gateway in front of them (`stack.gateway_url`). Tracing is on, to
    the trace receiver, for requests whose caller samples them (a `traceparent` with
    the sampled flag): the other tests' requests make no spans and cost no export."""
    running = Stack(
        StackConfig.ephemeral(
            log_dir=tmp_path_factory.mktemp("stack-logs"),
            env={
                "GRIDLOOP_OTEL_ENDPOINT": traces.url,
                "GRIDLOOP_OTEL_EXPORT_DELAY_MS": "300",
                "GRIDLOOP_OTEL_SAMPLE_RATIO": "0",
                "GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2",
                # a webhook receiver that was down is tried again within seconds, not minutes
                "GRIDLOOP_WEBHOOK_RETRY_FIRST_SECONDS": "0.5",
                "GRIDLOOP_WEBHOOK_RETRY_LONGEST_SECONDS": "2",
                # short-lived bearer tokens, renewed through the session (test_sign_out.py waits one out)
                "GRIDLOOP_TOKEN_TTL_SECONDS": "6",
                "GRIDLOOP_JWT_LEEWAY_SECONDS": "2",
            },
        )
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def urls(stack: Stack) -> dict[str, str]:
    """Each service's own address (web's too); browsers use `stack.gateway_url` instead."""
    return {name: stack.url(name) for name in SERVICES}
