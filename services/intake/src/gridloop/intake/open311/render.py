"""Open311 answers in either of the specification's formats: the same data as JSON, or as XML
with the element names the specification gives (lists in a plural element, one singular
element per item)."""

import json
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.responses import Response

from gridloop.intake.open311.domain import FORMATS, Open311Error

# A list held in an element of this name has one child per item, named so.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ET.SubElement(element, key), item)
    elif isinstance(value, list):
        child = ITEMS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, child), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return body


def answer(fmt: str, root: str, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`root`: the XML document element (services, service_requests, discovery ...); JSON has none."""
    if fmt == "xml":
        return Response(to_xml(root, data), status_code=status, media_type="text/xml; charset=utf-8", headers=headers)
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def error(fmt: str, exc: Open311Error) -> Response:
    """The specification's error list: each error's code (the HTTP status) and description."""
    return answer(
        fmt if fmt in FORMATS else "json",
        "errors",
        [{"code": exc.status, "description": exc.description}],
        exc.status,
        exc.headers,
    )
