"""Dead letters can be listed, inspected and replayed to their source topic exactly once."""

import asyncio

import pytest

from gridloop.shared.deadletters import pending, replay
from gridloop.shared.events import TICKETS_TOPIC, TicketClosed
from gridloop.shared.ids import new_id
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, make_event

pytestmark = pytest.mark.integration


def test_a_dead_letter_is_replayed_to_its_source_with_its_original_headers(servers: Servers, bus: Bus) -> None:
    settings = ServiceSettings(kafka_bootstrap=servers.kafka_bootstrap)
    event = make_event(TicketClosed(comment="replay me"), ticket_id=new_id())
    headers = [
        *event.headers(),
        ("dlq_error", b"LookupError: unknown ticket"),
        ("dlq_attempts", b"5"),
        ("dlq_source", f"{TICKETS_TOPIC}:3:41".encode()),
        ("dlq_group", b"feedback"),
    ]
    bus.publish("gridloop.dlq.feedback", [(event.ticket_id, event.to_wire(), headers)])

    waiting = [x for x in asyncio.run(pending(settings)) if x.key == event.ticket_id.encode()]
    assert len(waiting) == 1
    assert waiting[0].header("dlq_error") == "LookupError: unknown ticket"
    assert waiting[0].header("dlq_attempts") == "5"

    assert asyncio.run(replay(settings, waiting)) == 1
    replayed = [h for k, v, h in bus.read(TICKETS_TOPIC) if k == event.ticket_id.encode()]
    assert replayed == [event.headers()]
    assert [x for x in asyncio.run(pending(settings)) if x.key == event.ticket_id.encode()] == []
