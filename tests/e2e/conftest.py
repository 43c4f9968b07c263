"""The end-to-end tests run on the whole stack the browser and fuzz layers share (`stack` and
`traces`, tests/conftest.py), with its short-lived tokens, tracing and fast webhook retries."""

import pytest

from gridloop.stack.stack import SERVICES, Stack


@pytest.fixture(scope="package")
def urls(stack: Stack) -> dict[str, str]:
    """Each service's own address (web's too); browsers use `stack.gateway_url` instead."""
    return {name: stack.url(name) for name in SERVICES}
