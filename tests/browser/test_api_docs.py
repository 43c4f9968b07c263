"""Every service's API docs page works on a machine without internet: Swagger UI's files come from
the service itself, and the page renders the service's OpenAPI document."""

import re

import pytest
from playwright.sync_api import Browser, expect

from gridloop.stack.stack import API_SERVICES, Stack
from tests.browser.conftest import watch_csp

pytestmark = pytest.mark.browser


def test_each_services_api_docs_render_from_the_service_alone(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    refused = watch_csp(context)  # whatever policy a service sends its /docs with, the page works under it
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for name in API_SERVICES:
        base = stack.url(name)
        requested.clear()
        answer = page.goto(f"{base}/docs")
        assert answer is not None and "script-src 'self'" in answer.headers["content-security-policy"]
        expect(page.get_by_role("heading", level=1, name=re.compile("GridLoop"))).to_be_visible()
        # Swagger UI's own markup: each operation is a button named by its method and path.
        operations = page.get_by_role("button", name=re.compile(r"^(GET|POST|PUT|PATCH|DELETE)\s*\/"))
        assert operations.count() > 3, f"{name}: its operations are listed"
        elsewhere = [url for url in requested if not url.startswith(base)]
        assert elsewhere == [], f"{name}'s /docs loaded {elsewhere}"
    assert errors == []
    assert refused == []
    context.close()
