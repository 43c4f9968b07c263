"""Every service's OpenAPI document describes each JSON answer with a model (no bare objects)."""

import importlib

import pytest

from gridloop.stack.stack import API_SERVICES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("service", API_SERVICES)
def test_every_json_answer_has_a_schema(service: str) -> None:
    app = importlib.import_module(f"gridloop.{service}.app").create_app()
    described = 0
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                json = response.get("content", {}).get("application/json")
                if path.startswith("/v1") and status.startswith("2") and json is not None:
                    assert "$ref" in json["schema"], (method, path, status)
                    described += 1
    assert described > 0
