"""Open311 GeoReport v2 through the gateway, as a 311 client application uses it: registered by
the admin, it files form-encoded requests in XML and in JSON, and follows them to `closed` while
the city's departments handle them in GridLoop. Every answer is checked against the
specification's formats, and the XML and JSON forms of one answer must say the same."""

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import jsonschema_rs
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e
IN_LJ01_G1 = {"lat": "30.205", "long": "120.105"}
IN_WH = {"lat": "30.225", "long": "120.125"}  # 望湖 street, outside the application's area
W3_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "additionalProperties": False,
        "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}},
    },
}
SERVICES = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"],
        "additionalProperties": False,
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": {"type": "string"},
            "group": {"type": "string"},
        },
    },
}
DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "additionalProperties": False,
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "variable",
                    "code",
                    "datatype",
                    "required",
                    "datatype_description",
                    "order",
                    "description",
                ],
                "additionalProperties": False,
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {"enum": ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]},
                    "required": {"type": "boolean"},
                    "datatype_description": {"type": "string"},
                    "order": {"type": "integer"},
                    "description": {"type": "string"},
                    "values": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["key", "name"],
                            "additionalProperties": False,
                            "properties": {"key": {"type": "string"}, "name": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}
CREATED = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id", "service_notice", "account_id"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string", "pattern": r"^[A-Z]+-\d{8}-\d{5}$"},
            "token": {"type": "string"},
            "service_notice": {"type": "string"},
            "account_id": {"type": "string"},
        },
    },
}
TOKEN = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "additionalProperties": False,
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
}
_optional_time = {"anyOf": [{"type": "string", "pattern": W3_DATETIME}, {"type": "null"}]}
REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime", "updated_datetime"],
        "additionalProperties": False,
        "properties": {
            "service_request_id": {"type": "string"},
            "status": {"enum": ["open", "closed"]},
            "status_notes": {"type": "string"},
            "service_name": {"type": "string"},
            "service_code": {"type": "string"},
            "description": {"type": "string"},
            "agency_responsible": {"type": "string"},
            "service_notice": {"type": "string"},
            "requested_datetime": {"type": "string", "pattern": W3_DATETIME},
            "updated_datetime": {"type": "string", "pattern": W3_DATETIME},
            "expected_datetime": _optional_time,
            "address": {"type": "string"},
            "address_id": {"type": "string"},
            "zipcode": {"type": "string"},
            "lat": {"type": ["number", "null"]},
            "long": {"type": ["number", "null"]},
            "media_url": {"type": "string"},
        },
    },
}
DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": {"type": "string", "pattern": W3_DATETIME},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"enum": ["text/xml", "application/json"]}},
                },
            },
        },
    },
}
# XML: a list is a plural element with one singular child per item (as the specification's examples)
XML_ITEMS = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
             "formats": "format", "attributes": "attribute", "values": "value"}  # fmt: skip


def _xml_value(element: ET.Element) -> Any:
    if element.tag in XML_ITEMS:
        assert all(child.tag == XML_ITEMS[element.tag] for child in element), element.tag
        return [_xml_value(child) for child in element]
    if len(element):
        return {child.tag: _xml_value(child) for child in element}
    return element.text or ""


ROOTS = {id(ERRORS): "errors", id(SERVICES): "services", id(DEFINITION): "service_definition",
         id(CREATED): "service_requests", id(TOKEN): "service_requests", id(REQUESTS): "service_requests",
         id(DISCOVERY): "discovery"}  # fmt: skip
"""The document element of each answer in XML."""


def _xml_conforms(schema: dict[str, Any], data: Any) -> None:
    """The JSON schema's structure, on XML's all-text leaves: lists, required and allowed elements."""
    if schema.get("type") == "array":
        assert isinstance(data, list), data
        assert len(data) >= schema.get("minItems", 0)
        for item in data:
            _xml_conforms(schema["items"], item)
    elif schema.get("type") == "object":
        assert isinstance(data, dict), data
        assert set(schema.get("required", [])) <= set(data), (schema.get("required"), data)
        if schema.get("additionalProperties") is False:
            assert set(data) <= set(schema["properties"]), data
        for key, sub in schema.get("properties", {}).items():
            if key in data and sub.get("type") in ("array", "object"):
                _xml_conforms(sub, data[key])


def _as_text(value: Any) -> Any:
    """JSON as XML writes it: every leaf a string (true/false, numbers, empty for null)."""
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Client311:
    """A 311 client application: form-encoded posts, both formats, checked on every answer."""

    def __init__(self, gateway: str, api_key: str | None) -> None:
        self.base = f"{gateway}/open311/v2"
        self.api_key = api_key

    def call(self, method: str, path: str, fmt: str, schema: dict[str, Any], **kwargs: Any) -> tuple[int, Any]:
        response = httpx.request(method, f"{self.base}/{path}.{fmt}", timeout=30.0, **kwargs)
        expected = ERRORS if response.status_code >= 400 else schema
        if fmt == "xml":
            assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
            root = ET.fromstring(response.content)
            assert root.tag == ROOTS[id(expected)], (root.tag, response.text)
            data = _xml_value(root)
            _xml_conforms(expected, data)
        else:
            assert response.headers["content-type"] == "application/json"
            data = response.json()
            assert [e.message for e in jsonschema_rs.validator_for(expected).iter_errors(data)] == [], data
        return response.status_code, data

    def both(self, method: str, path: str, schema: dict[str, Any], **kwargs: Any) -> Any:
        """The same read in JSON and in XML: both valid, and saying the same."""
        status, as_json = self.call(method, path, "json", schema, **kwargs)
        xml_status, as_xml = self.call(method, path, "xml", schema, **kwargs)
        assert status == xml_status == 200, (status, as_json)
        assert as_xml == _as_text(as_json)
        return as_json

    def file(self, fmt: str, form: dict[str, str], **kwargs: Any) -> tuple[int, Any]:
        body = {"api_key": self.api_key, **form} if self.api_key else form
        return self.call("POST", "requests", fmt, CREATED, data=body, **kwargs)


def _closed_by(agent: ApiUser, verifier: ApiUser, ticket_id: str) -> None:
    eventually(
        lambda: any(o["ticket_id"] == ticket_id for o in agent.ok("handling", "GET", "/v1/work-orders")["items"]),
        what="the request in the department's inbox",
    )
    agent.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    agent.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已处置", "photos": []})
    eventually(
        lambda: any(
            v["ticket_id"] == ticket_id
            for v in verifier.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
        ),
        what="a verification task for the community",
    )
    verifier.ok("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True, "comment": "现场已修复"})


def test_a_311_client_files_in_xml_and_json_and_follows_its_requests_to_closed(
    stack: Stack, urls: dict[str, str]
) -> None:
    gateway = stack.gateway_url
    admin = ApiUser(urls={**urls, "gateway": gateway}, sub="admin-311", role=Role.ADMIN, org="QH")
    registered = admin.ok(
        "gateway", "POST", "/v1/open311-clients", json={"name": "市民随手拍", "contact": "临江街道", "area": ["LJ"]}
    )
    assert registered["api_key"] and registered["revoked_at"] is None
    listed = admin.ok("gateway", "GET", "/v1/open311-clients")["items"]
    assert all("api_key" not in c for c in listed) and registered["client_id"] in {c["client_id"] for c in listed}
    app = Client311(gateway, registered["api_key"])
    anonymous = Client311(gateway, None)

    # What one can report
    discovery = app.both("GET", "discovery", DISCOVERY)
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2")
    services = app.both("GET", "services", SERVICES)
    assert {"service_code": "SJ-0101", "service_name": "暴露垃圾"}.items() <= next(
        s for s in services if s["service_code"] == "SJ-0101"
    ).items()
    definition = app.both("GET", "services/SJ-0101", DEFINITION)
    assert [a["code"] for a in definition["attributes"]] == ["priority"]

    # File one in XML and one in JSON, as a 311 client posts: form-encoded
    status, xml_created = app.file(
        "xml", {"service_code": "SJ-0101", "description": "路口垃圾堆积", "address_string": "江畔路口", **IN_LJ01_G1}
    )
    assert status == 200, xml_created
    garbage = xml_created[0]
    form = {"service_code": "BJ-0101", "attribute[priority]": "urgent", "description": "井盖缺失", **IN_LJ01_G1}
    status, json_created = app.file("json", form, headers={"Idempotency-Key": "311-manhole-1"})
    assert status == 200, json_created
    manhole = json_created[0]
    # A retry after a lost answer, with or without the header, is the same request
    assert app.file("json", form, headers={"Idempotency-Key": "311-manhole-1"})[1][0] == manhole
    implied = app.file("json", {"service_code": "SJ-0102", "description": "垃圾桶满溢", **IN_LJ01_G1})[1][0]
    assert app.file("json", {"service_code": "SJ-0102", "description": "垃圾桶满溢", **IN_LJ01_G1})[1][0] == implied

    # The same loop as the app's reports: found by token, dispatched to the departments by the rules
    assert (
        app.both("GET", f"tokens/{garbage['token']}", TOKEN)[0]["service_request_id"] == garbage["service_request_id"]
    )
    cg = ApiUser(urls=urls, sub="agent-cg-311", role=Role.DEPARTMENT_AGENT, org="CG")
    sw = ApiUser(urls=urls, sub="agent-sw-311", role=Role.DEPARTMENT_AGENT, org="SW")
    lj01 = ApiUser(urls=urls, sub="gw-lj01-311", role=Role.GRID_WORKER, org="LJ01")  # the community verifies
    opened = app.both("GET", f"requests/{manhole['service_request_id']}", REQUESTS)[0]
    assert opened["status"] == "open" and opened["service_code"] == "BJ-0101" and opened["lat"] == 30.205
    _closed_by(cg, lj01, garbage["token"])
    _closed_by(sw, lj01, manhole["token"])
    water = admin.ok("directory", "GET", "/v1/directory/departments/SW")["data"]["name"]

    def closed(number: str) -> dict[str, Any] | None:
        # Watched in JSON while it moves; once closed (it stays so) both formats must say the same
        _, [found] = app.call("GET", f"requests/{number}", "json", REQUESTS)
        if found["status"] != "closed":
            return None
        both: dict[str, Any] = app.both("GET", f"requests/{number}", REQUESTS)[0]
        return both

    done = eventually(lambda: closed(manhole["service_request_id"]), what="the manhole request closed")
    assert done["agency_responsible"] == water and done["status_notes"].startswith("已办结")
    assert done["description"] == "井盖缺失" and done["expected_datetime"]
    eventually(lambda: closed(garbage["service_request_id"]), what="the garbage request closed")

    # Lists: by id, by status and service, and for a caller without a key only what came through Open311
    both_ids = f"{garbage['service_request_id']},{manhole['service_request_id']}"
    by_id = app.both("GET", "requests", REQUESTS, params={"service_request_id": both_ids})
    assert {r["service_request_id"] for r in by_id} == set(both_ids.split(","))
    closed_sj = app.both("GET", "requests", REQUESTS, params={"status": "closed", "service_code": "SJ-0101"})
    assert garbage["service_request_id"] in {r["service_request_id"] for r in closed_sj}
    assert all(r["status"] == "closed" and r["service_code"] == "SJ-0101" for r in closed_sj)
    worker = ApiUser(urls=urls, sub="gw-lj01-own", role=Role.GRID_WORKER, org="LJ01")
    own = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0101", "description": "网格员自报", "grid_code": "LJ01-G1"},
    )
    public = anonymous.both("GET", "requests", REQUESTS)
    numbers = {r["service_request_id"] for r in public}
    assert set(both_ids.split(",")) <= numbers and own["ticket_number"] not in numbers
    in_area = app.both("GET", "requests", REQUESTS, params={"api_key": registered["api_key"]})
    assert own["ticket_number"] in {r["service_request_id"] for r in in_area}


def test_open311_errors_are_the_specifications_list_and_change_nothing(stack: Stack, urls: dict[str, str]) -> None:
    gateway = stack.gateway_url
    admin = ApiUser(urls={**urls, "gateway": gateway}, sub="admin-311e", role=Role.ADMIN, org="QH")
    key = admin.ok("gateway", "POST", "/v1/open311-clients", json={"name": "错误测试应用", "area": ["LJ01"]})
    app = Client311(gateway, key["api_key"])

    def held() -> set[str]:
        listed = app.call("GET", "requests", "json", REQUESTS, params={"api_key": key["api_key"]})[1]
        return {r["service_request_id"] for r in listed}

    before = held()
    cases: list[tuple[str, dict[str, str], int]] = [
        ("json", {"service_code": "SJ-0101", **IN_WH}, 403),  # outside the application's area
        ("xml", {"service_code": "SJ-0101", "address_string": "江畔路1号"}, 400),  # no geocoder: a point is needed
        ("json", {"service_code": "XX-0000", **IN_LJ01_G1}, 404),
        ("xml", {**IN_LJ01_G1}, 400),  # no service_code
        ("json", {"service_code": "SJ-0101", "lat": "north", "long": "120.1"}, 400),
        ("json", {"service_code": "SJ-0101", "attribute[priority]": "now", **IN_LJ01_G1}, 400),
        ("json", {"service_code": "SJ-0101", "jurisdiction_id": "elsewhere", **IN_LJ01_G1}, 404),
    ]
    for fmt, form, expected in cases:
        status, errors = app.file(fmt, form)
        assert status == expected, (form, errors)
        assert int(errors[0]["code"]) == expected and errors[0]["description"]
    assert Client311(gateway, "o311_forged").file("xml", {"service_code": "SJ-0101", **IN_LJ01_G1})[0] == 403
    assert Client311(gateway, None).file("json", {"service_code": "SJ-0101", **IN_LJ01_G1})[0] == 403
    assert app.call("GET", "services", "yaml", SERVICES)[0] == 404
    assert app.call("GET", "requests/QH-19990101-00001", "xml", REQUESTS)[0] == 404
    assert app.call("GET", "requests", "json", REQUESTS, params={"start_date": "yesterday"})[0] == 400
    # Nothing was filed by any of them
    assert held() == before
    # A revoked key files nothing
    admin.ok("gateway", "DELETE", f"/v1/open311-clients/{key['client_id']}")
    assert app.file("json", {"service_code": "SJ-0101", **IN_LJ01_G1})[0] == 403
