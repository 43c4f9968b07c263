"""The event contract as an AsyncAPI 3.0 document, generated from the event models.

Every (event_type, version) the registry knows becomes a message of the tickets channel: its
Kafka key, its headers and its envelope with the payload's own schema. The directory's compacted
topic carries `DirectoryRecord`s, the sessions topic `SessionEnded`s; each consumer group's
dead-letter topic carries the original message with the `dlq_*` headers. `gridloop-asyncapi`
writes the document (docs/asyncapi.json is the committed copy, compared with the models by the
tests); the web service serves it.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import (
    DIRECTORY_TOPIC,
    NEEDS_TOPIC,
    TICKETS_TOPIC,
    VOLUNTEERING_TOPIC,
    Actor,
    Payload,
    payload_types,
)
from gridloop.shared.revocations import SESSIONS_RETENTION_MS, SESSIONS_TOPIC, SessionEnded

SCHEMAS = "#/components/schemas/{model}"
CONTRACT_VERSION = "1.0.0"


def message_id(event_type: str, version: int) -> str:
    """The message's key in the document: the wire contract, `ticket.dispatched.v1`."""
    return f"{event_type}.v{version}"


def _schemas(payloads: dict[tuple[str, int], type[Payload]]) -> dict[str, Any]:
    models: list[type[BaseModel]] = [Actor, DirectoryRecord, SessionEnded, *payloads.values()]
    _, top = models_json_schema([(m, "serialization") for m in models], ref_template=SCHEMAS)
    return dict(top.get("$defs", {}))


def _schema_name(model: type[BaseModel]) -> str:
    return model.__name__


def _envelope(event_type: str, version: int, payload: type[Payload]) -> dict[str, Any]:
    """The envelope every event travels in (events.Envelope), with this event's payload."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "event_id",
            "event_type",
            "version",
            "occurred_at",
            "ticket_id",
            "producer",
            "actor",
            "correlation_id",
            "payload",
        ],
        "properties": {
            "event_id": {"type": "string", "description": "unique and time-ordered (UUIDv7)"},
            "event_type": {"const": event_type},
            "version": {"const": version},
            "occurred_at": {"type": "string", "format": "date-time", "description": "UTC"},
            "ticket_id": {"type": "string", "description": "the ticket; also the Kafka key"},
            "producer": {"type": "string", "description": "the service that wrote the event"},
            "actor": {"$ref": SCHEMAS.format(model="Actor")},
            "correlation_id": {"type": "string", "description": "the request or event chain it belongs to"},
            "causation_id": {
                "type": ["string", "null"],
                "description": "the event whose handling caused this one; null for a person's action",
            },
            "payload": {"$ref": SCHEMAS.format(model=_schema_name(payload))},
        },
    }


def _ticket_headers(event_type: str, version: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["event_type", "version", "ticket_id", "correlation_id"],
        "properties": {
            "event_type": {"const": event_type},
            "version": {"const": str(version), "description": "the payload's version, as text"},
            "ticket_id": {"type": "string"},
            "correlation_id": {"type": "string"},
        },
    }


def _summary(payload: type[Payload]) -> str:
    doc = (payload.__doc__ or "").strip()
    return " ".join(doc.split()) if doc and doc != (Payload.__doc__ or "").strip() else payload.EVENT_TYPE


def document() -> dict[str, Any]:
    """The whole AsyncAPI 3.0 document, from the models this build holds."""
    payloads = dict(sorted(payload_types().items()))
    messages: dict[str, Any] = {}
    for (event_type, version), payload in payloads.items():
        messages[message_id(event_type, version)] = {
            "name": event_type,
            "title": f"{event_type} v{version}",
            "summary": _summary(payload),
            "contentType": "application/json",
            "headers": _ticket_headers(event_type, version),
            "payload": _envelope(event_type, version, payload),
            "bindings": {"kafka": {"key": {"type": "string", "description": "ticket_id"}, "bindingVersion": "0.5.0"}},
        }
    messages["directory.record"] = {
        "name": "directory.record",
        "title": "directory record",
        "summary": "One reference-data record (区划, 网格, 部门, 类别, 派遣规则, 时限, 节假日), keyed by kind:code;"
        " a `snapshot` record marks the end of a full announcement.",
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string", "description": "the record's kind, or `snapshot`"}},
        },
        "payload": {"$ref": SCHEMAS.format(model="DirectoryRecord")},
        "bindings": {"kafka": {"key": {"type": "string", "description": "kind:code"}, "bindingVersion": "0.5.0"}},
    }
    messages["session.ended.v1"] = {
        "name": "session.ended",
        "title": "session.ended v1",
        "summary": "A person signed out: every service refuses the session's tokens (its sid, each jti) until"
        " they expire.",
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "required": ["event_type"],
            "properties": {"event_type": {"const": "session.ended"}},
        },
        "payload": {"$ref": SCHEMAS.format(model="SessionEnded")},
        "bindings": {"kafka": {"key": {"type": "string", "description": "sid"}, "bindingVersion": "0.5.0"}},
    }
    messages["dead.letter"] = {
        "name": "dead.letter",
        "title": "dead letter",
        "summary": "A message a consumer group could not handle: the original key, value and headers, with why.",
        "headers": {
            "type": "object",
            "required": ["dlq_error", "dlq_source"],
            "properties": {
                "dlq_error": {"type": "string", "description": "the error the handler raised"},
                "dlq_attempts": {"type": "string", "description": "how many times it was tried"},
                "dlq_source": {"type": "string", "description": "topic:partition:offset it came from"},
            },
        },
        "payload": {"description": "the original message's bytes, unchanged"},
    }
    on_topic = {message_id(t, v): p.TOPIC for (t, v), p in payloads.items()}
    ticket_refs = {key: {"$ref": f"#/components/messages/{key}"} for key, t in on_topic.items() if t == TICKETS_TOPIC}
    need_refs = {key: {"$ref": f"#/components/messages/{key}"} for key, t in on_topic.items() if t == NEEDS_TOPIC}
    volunteering_refs = {
        key: {"$ref": f"#/components/messages/{key}"} for key, t in on_topic.items() if t == VOLUNTEERING_TOPIC
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "GridLoop events",
            "version": CONTRACT_VERSION,
            "description": "网格闭环的事件契约: the ticket lifecycle, reference data and dead letters on Kafka."
            " The wire contract is each message's event_type and version; fields added later are optional,"
            " so a consumer of version 1 reads every version 1 message already on a topic.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka-secure",
                "description": "Apache Kafka with TLS and SASL/SCRAM (docker-compose.yml)",
            },
            "embedded": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "`make run`'s broker"},
        },
        "channels": {
            "tickets": {
                "address": TICKETS_TOPIC,
                "description": "Every event of every ticket, keyed by ticket_id: one ticket's events stay in order"
                " on one partition. Kept for ever (read models are rebuilt from it).",
                "messages": ticket_refs,
                "bindings": {"kafka": {"topicConfiguration": {"retention.ms": -1}, "bindingVersion": "0.5.0"}},
            },
            "needs": {
                "address": NEEDS_TOPIC,
                "description": "The 共建 loop: every event of every need (居民需求), resource offer (资源清单) and"
                " project (惠民项目), keyed by its id (the envelope's ticket_id field). No event names, phones or"
                " addresses a beneficiary. Kept for ever.",
                "messages": need_refs,
                "bindings": {"kafka": {"topicConfiguration": {"retention.ms": -1}, "bindingVersion": "0.5.0"}},
            },
            "volunteering": {
                "address": VOLUNTEERING_TOPIC,
                "description": "双报到 and volunteering: units' and members' reports, 公益岗位, activities and service"
                " records (过程纪实), the points ledger (积分), 评议 grades and the 社区事务准入 gate, keyed by the"
                " member's id (or the unit's, activity's or request's for theirs). Events carry ids, never a"
                " person's name, phone or identity number. Kept for ever.",
                "messages": volunteering_refs,
                "bindings": {"kafka": {"topicConfiguration": {"retention.ms": -1}, "bindingVersion": "0.5.0"}},
            },
            "directory": {
                "address": DIRECTORY_TOPIC,
                "description": "Reference data, compacted: the newest record of each kind:code is kept.",
                "messages": {"directory.record": {"$ref": "#/components/messages/directory.record"}},
                "bindings": {
                    "kafka": {
                        "partitions": 1,
                        "topicConfiguration": {"cleanup.policy": ["compact"]},
                        "bindingVersion": "0.5.0",
                    }
                },
            },
            "sessions": {
                "address": SESSIONS_TOPIC,
                "description": "Ended sessions, from web; every instance of every service reads it from its start,"
                " without a consumer group. Kept longer than any token lives.",
                "messages": {"session.ended.v1": {"$ref": "#/components/messages/session.ended.v1"}},
                "bindings": {
                    "kafka": {
                        "partitions": 1,
                        "topicConfiguration": {"retention.ms": SESSIONS_RETENTION_MS},
                        "bindingVersion": "0.5.0",
                    }
                },
            },
            "deadLetters": {
                "address": "gridloop.dlq.{group}",
                "description": "One per consumer group: what it could not handle (`make dlq`).",
                "parameters": {"group": {"description": "the consumer group, e.g. dispatch or intake.directory"}},
                "messages": {"dead.letter": {"$ref": "#/components/messages/dead.letter"}},
            },
        },
        "operations": {
            "publishTicketEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/tickets"},
                "summary": "The services publish through their outbox, after the change commits.",
                "messages": [{"$ref": f"#/channels/tickets/messages/{key}"} for key in ticket_refs],
            },
            "receiveTicketEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/tickets"},
                "summary": "Consumers commit an offset only after their handling is durable; each event is"
                " handled once per consumer.",
                "messages": [{"$ref": f"#/channels/tickets/messages/{key}"} for key in ticket_refs],
            },
            "publishNeedEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/needs"},
                "summary": "cobuild publishes through its outbox, after the change commits.",
                "messages": [{"$ref": f"#/channels/needs/messages/{key}"} for key in need_refs],
            },
            "receiveNeedEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/needs"},
                "summary": "intake files converted needs; supervision counts the 共建 indicators; cobuild's points"
                " ledger pays a 微心愿 done by a member.",
                "messages": [{"$ref": f"#/channels/needs/messages/{key}"} for key in need_refs],
            },
            "publishVolunteeringEvents": {
                "action": "send",
                "channel": {"$ref": "#/channels/volunteering"},
                "summary": "cobuild publishes through its outbox, after the change commits.",
                "messages": [{"$ref": f"#/channels/volunteering/messages/{key}"} for key in volunteering_refs],
            },
            "receiveVolunteeringEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/volunteering"},
                "summary": "supervision counts the 双报到 indicators and the 未准入事项 of the monthly department"
                " sheet; cobuild's points ledger pays approved service and post duty, and takes back a record"
                " rated 不满意.",
                "messages": [{"$ref": f"#/channels/volunteering/messages/{key}"} for key in volunteering_refs],
            },
            "publishDirectory": {
                "action": "send",
                "channel": {"$ref": "#/channels/directory"},
                "messages": [{"$ref": "#/channels/directory/messages/directory.record"}],
            },
            "receiveDirectory": {
                "action": "receive",
                "channel": {"$ref": "#/channels/directory"},
                "messages": [{"$ref": "#/channels/directory/messages/directory.record"}],
            },
            "publishSessionEnded": {
                "action": "send",
                "channel": {"$ref": "#/channels/sessions"},
                "summary": "web publishes through its outbox when a person signs out.",
                "messages": [{"$ref": "#/channels/sessions/messages/session.ended.v1"}],
            },
            "receiveSessionEnded": {
                "action": "receive",
                "channel": {"$ref": "#/channels/sessions"},
                "summary": "Every service instance keeps the ended sessions in memory for its token check.",
                "messages": [{"$ref": "#/channels/sessions/messages/session.ended.v1"}],
            },
            "publishDeadLetters": {
                "action": "send",
                "channel": {"$ref": "#/channels/deadLetters"},
                "messages": [{"$ref": "#/channels/deadLetters/messages/dead.letter"}],
            },
        },
        "components": {"schemas": _schemas(payloads), "messages": messages},
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write GridLoop's AsyncAPI document, generated from the event models")
    parser.add_argument("path", nargs="?", type=Path, help="where to write it (default: print it)")
    args = parser.parse_args()
    if args.path:
        args.path.write_text(render(), encoding="utf-8")
    else:
        print(render(), end="")
