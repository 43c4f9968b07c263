"""The published event contract: docs/asyncapi.json is what the models generate, it is a valid
AsyncAPI 3.0 document, every reference in it resolves, it lists every event the code can
publish, and the events the services build validate against it."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from gridloop.shared import asyncapi
from gridloop.shared.events import (
    Actor,
    GeoPoint,
    Payload,
    Role,
    TicketDispatched,
    TicketReported,
    UnknownEventType,
    envelope,
    payload_types,
)

pytestmark = pytest.mark.unit
ROOT = Path(__file__).parents[1]
COMMITTED = ROOT / "docs" / "asyncapi.json"
# The AsyncAPI Initiative's own JSON Schema of the 3.0 specification, pinned in services/web/package-lock.json
SPEC_SCHEMA = ROOT / "services/web/node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"
AT = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
WORKER = Actor(sub="gw-1", name="王网格", role=Role.GRID_WORKER, org="LJ01")


def _all_payload_classes(cls: type[Payload] = Payload) -> set[type[Payload]]:
    found: set[type[Payload]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_payload_classes(sub)} if "EVENT_TYPE" in vars(sub) else _all_payload_classes(sub)
    return found


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _message_schema(doc: dict[str, Any], message: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for({**doc, "$ref": f"#/components/messages/{message}/payload"})


def test_the_committed_document_is_what_the_models_generate() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi.render(), (
        "docs/asyncapi.json is out of date: run .venv/bin/gridloop-asyncapi docs/asyncapi.json"
    )


def test_the_document_is_valid_asyncapi_3() -> None:
    validator = jsonschema_rs.validator_for(json.loads(SPEC_SCHEMA.read_text(encoding="utf-8")))
    doc = asyncapi.document()
    assert [e.message for e in validator.iter_errors(doc)] == []
    assert doc["asyncapi"] == "3.0.0"
    unresolved = [ref for ref in _refs(doc) if not ref.startswith("#/") or _resolve_or_none(doc, ref) is None]
    assert unresolved == []
    broken = {**doc, "operations": {"x": {"action": "publish", "channel": {"$ref": "#/channels/tickets"}}}}
    assert list(validator.iter_errors(broken)), "the specification's schema does not catch a 2.x action"


def _resolve_or_none(doc: dict[str, Any], ref: str) -> Any:
    try:
        return _resolve(doc, ref)
    except KeyError:
        return None


def test_every_event_the_code_can_publish_is_listed_and_nothing_else() -> None:
    doc = asyncapi.document()
    listed = {
        (m["payload"]["properties"]["event_type"]["const"], m["payload"]["properties"]["version"]["const"])
        for key, m in doc["components"]["messages"].items()
        if "event_type" in m["payload"].get("properties", {})
    }
    defined = {(cls.EVENT_TYPE, cls.VERSION) for cls in _all_payload_classes()}
    assert listed == set(payload_types()) == defined
    on_channels = {m for channel in ("tickets", "needs", "volunteering") for m in doc["channels"][channel]["messages"]}
    assert on_channels == {asyncapi.message_id(t, v) for t, v in defined}
    assert len(listed) >= 15  # the lifecycle's 14 events and the deadline revision


def test_an_event_outside_the_contract_cannot_be_built() -> None:
    class Unlisted(Payload):
        EVENT_TYPE = "ticket.teleported"

    with pytest.raises(UnknownEventType):
        envelope(
            Unlisted(),
            event_id="e1",
            ticket_id="t1",
            producer="intake",
            actor=WORKER,
            occurred_at=AT,
            correlation_id="c",
        )


def test_events_as_the_services_build_them_validate_against_their_messages() -> None:
    doc = asyncapi.document()
    reported = envelope(
        TicketReported(
            ticket_number="QH-20270101-00001",
            category_code="SJ-0101",
            category_name="暴露垃圾",
            description="跨年夜的垃圾",
            location=GeoPoint(lon=120.1, lat=30.2),
            address="江畔路1号",
            grid_code="LJ01-G1",
            community_code="LJ01",
            street_code="LJ",
            district_code="QH",
        ),
        event_id="e1",
        ticket_id="t1",
        producer="intake",
        actor=WORKER,
        occurred_at=AT,
        correlation_id="c1",
    )
    dispatched = envelope(
        TicketDispatched(
            round=1, lead_department="CG", accept_deadline=AT, resolve_deadline=AT, manual=False, rule_id="r1"
        ),
        event_id="e2",
        ticket_id="t1",
        producer="dispatch",
        actor=WORKER,
        occurred_at=AT,
        correlation_id="c1",
        causation_id="e1",
    )
    for event, message in ((reported, "ticket.reported.v1"), (dispatched, "ticket.dispatched.v1")):
        wire = json.loads(event.to_wire())
        assert [e.message for e in _message_schema(doc, message).iter_errors(wire)] == []
        headers = {k: v.decode() for k, v in event.headers()}
        header_schema = jsonschema_rs.validator_for(doc["components"]["messages"][message]["headers"])
        assert [e.message for e in header_schema.iter_errors(headers)] == []
    # A dispatched event is not a valid reported one: the schemas tell the messages apart.
    assert list(_message_schema(doc, "ticket.reported.v1").iter_errors(json.loads(dispatched.to_wire())))
