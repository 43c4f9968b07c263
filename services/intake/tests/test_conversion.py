"""转办: a resident's need that cobuild converts (`need.converted` on gridloop.needs.v1) is filed in
intake as the street desk files a hotline report, once, with the need as its origin."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gridloop.shared.events import NEEDS_TOPIC, Actor, Envelope, GeoPoint, NeedConverted, Role, TicketDispatched
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok

pytestmark = pytest.mark.integration
COMMUNITY_WORKER = Actor(sub="cw-lj01", name="江畔社区工作者", role=Role.COMMUNITY_WORKER, org="LJ01")
IN_LJ01_G2 = GeoPoint(lon=120.115, lat=30.205)


@pytest.fixture(scope="module")
def intake(servers: Servers, bus: Bus, service_logs: Path) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("intake", servers, service_logs)
    yield service
    service.process.stop()


def converted(need_id: str, *, by: Actor = COMMUNITY_WORKER, **changes: object) -> Envelope:
    payload = NeedConverted.model_validate(
        {
            "ticket_category_code": "BJ-0101",
            "description": "居民反映楼前上水井盖缺失，夜间有坠落危险",
            "address": "江畔路12号楼前",
            "grid_code": "LJ01-G2",
            "location": None,
            **changes,
        }
    )
    return make_event(payload, ticket_id=need_id, actor=by)


def filed_from(bus: Bus, need_id: str) -> list[Envelope]:
    return [
        e
        for e in bus.events()
        if e.event_type == "ticket.reported" and getattr(e.payload, "origin_need_id", None) == need_id
    ]


def conversions_consumed(intake: RunningService) -> float:
    """need.converted events intake's consumer has finished with (handled, or found handled before)."""
    text = httpx.get(f"{intake.url}/metrics").text
    lines = re.findall(r"^gridloop_events_consumed_total\{([^}]*)\} (\S+)$", text, flags=re.MULTILINE)
    return sum(float(value) for labels, value in lines if 'event_type="need.converted"' in labels)


def test_a_converted_need_is_filed_once_as_the_community_workers_report_with_its_origin(
    intake: RunningService, bus: Bus
) -> None:
    need_id = new_id()
    before = conversions_consumed(intake)
    first = converted(need_id)
    # delivered twice, then announced again under a new event id (cobuild's outbox retried)
    bus.publish_events([first, first, converted(need_id)])

    [reported] = eventually(lambda: filed_from(bus, need_id), what="the need filed as a ticket")
    eventually(lambda: conversions_consumed(intake) >= before + 3, what="every copy of the conversion consumed")
    assert len(filed_from(bus, need_id)) == 1  # filed once
    ticket = reported.payload
    assert reported.actor.sub == "cw-lj01" and reported.actor.role == Role.COMMUNITY_WORKER
    assert (ticket.category_code, ticket.category_name) == ("BJ-0101", "上水井盖")
    assert (ticket.grid_code, ticket.community_code, ticket.street_code) == ("LJ01-G2", "LJ01", "LJ")
    assert ticket.address == "江畔路12号楼前" and "上水井盖缺失" in ticket.description
    assert re.fullmatch(r"QH-\d{8}-\d{5}", ticket.ticket_number)
    assert reported.causation_id == first.event_id and reported.correlation_id == first.correlation_id

    # The street desk reads it as any report of its street, with where it came from.
    desk = intake.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    report = ok(desk.call("intake", "GET", f"/v1/reports/{reported.ticket_id}"))
    assert report["origin_need_id"] == need_id and report["status"] == "reported"
    assert report["reporter"]["sub"] == "cw-lj01" and report["caller"] is None
    # and it follows the ticket as every report does
    bus.publish_events(
        [
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department="SW",
                    manual=False,
                    accept_deadline=reported.occurred_at,
                    resolve_deadline=reported.occurred_at,
                ),
                ticket_id=reported.ticket_id,
            )
        ]
    )
    eventually(
        lambda: ok(desk.call("intake", "GET", f"/v1/reports/{reported.ticket_id}"))["status"] == "dispatched",
        what="the converted report following its ticket",
    )


def test_a_need_with_a_point_is_filed_at_that_point(intake: RunningService, bus: Bus) -> None:
    need_id = new_id()
    bus.publish_events([converted(need_id, location=IN_LJ01_G2.model_dump(), grid_code="LJ01-G2")])
    [reported] = eventually(lambda: filed_from(bus, need_id), what="the need filed as a ticket")
    assert reported.payload.location == IN_LJ01_G2


def dead_letters(bus: Bus, need_id: str) -> list[dict[str, str]]:
    return [
        {k: v.decode() for k, v in headers}
        for key, _, headers in bus.read("gridloop.dlq.intake")
        if key == need_id.encode()
    ]


@pytest.mark.parametrize(
    ("by", "changes", "error"),
    [
        # a community worker of 湖滨 cannot have a report filed in 江畔's grid
        (Actor(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01"), {}, "outside_your_area"),
        (COMMUNITY_WORKER, {"ticket_category_code": "NC-REPAIR"}, "unknown_category"),
        (COMMUNITY_WORKER, {"description": "x"}, "cannot be filed as a report"),
    ],
)
def test_a_conversion_intake_cannot_file_goes_to_dead_letters_and_files_nothing(
    intake: RunningService, bus: Bus, by: Actor, changes: dict[str, object], error: str
) -> None:
    need_id = new_id()
    bus.publish_events([converted(need_id, by=by, **changes)])
    [letter] = eventually(lambda: dead_letters(bus, need_id), what="the conversion dead-lettered")
    assert error in letter["dlq_error"] and letter["dlq_source"].startswith(f"{NEEDS_TOPIC}:")
    assert filed_from(bus, need_id) == []
