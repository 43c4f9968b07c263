"""The 2-character minimum and the 9-photo cap have one home (gridloop.shared.limits): every
request body of every service that takes photos, a description or a reason holds to it."""

import importlib
from typing import Any

import pytest

from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN
from gridloop.stack.stack import API_SERVICES

pytestmark = pytest.mark.unit
TEXTS = ("description", "reason")


def _request_bodies(openapi: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    schemas = openapi.get("components", {}).get("schemas", {})
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if ref:
                    found.append((f"{method.upper()} {path}", schemas[ref.rsplit("/", 1)[-1]]))
    return found


def test_every_request_body_caps_photos_and_asks_for_texts_by_the_shared_limits() -> None:
    photos_capped, texts_checked = set(), set()
    for service in API_SERVICES:
        openapi = importlib.import_module(f"gridloop.{service}.app").create_app().openapi()
        for route, schema in _request_bodies(openapi):
            properties = schema.get("properties", {})
            if "photos" in properties:
                assert properties["photos"].get("maxItems") == PHOTOS_MAX, route
                photos_capped.add(route)
            for name in TEXTS:
                if "minLength" in properties.get(name, {}):
                    assert properties[name]["minLength"] == TEXT_MIN, (route, name)
                    texts_checked.add(route)
    # A report, a verification and a department's note; a report's description, a 退单's and a 延期's reason.
    orders = "/v1/work-orders/{ticket_id}"
    assert {"POST /v1/reports", "POST /v1/verifications/{ticket_id}", f"POST {orders}/progress"} <= photos_capped
    assert {"POST /v1/reports", f"POST {orders}/reject", f"POST {orders}/extension"} <= texts_checked
