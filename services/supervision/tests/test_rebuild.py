"""The rebuild against the real broker and database: the read models it writes from the tickets
topic, and the 共建 records from the needs topic, equal the ones the live projections built, and the
service carries on from where it stopped without counting anything twice."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gridloop.shared.events import (
    NEEDS_TOPIC,
    Actor,
    Claimant,
    ClaimantKind,
    Envelope,
    GeoPoint,
    NeedClaimed,
    NeedKind,
    NeedPublished,
    NeedReviewed,
    NeedSource,
    NeedSubmitted,
    Payload,
    Rating,
    Role,
    TicketAccepted,
    TicketClosed,
    TicketDispatched,
    TicketRated,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, make_event, ok, reported
from gridloop.supervision.app import SupervisionSettings
from gridloop.supervision.rebuild import rebuild

pytestmark = pytest.mark.integration
T0 = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)  # a window of its own on the shared topic
DEPARTMENT = "TEST-RB"
WINDOW = {"from": T0.isoformat(), "to": (T0 + timedelta(days=2)).isoformat()}
N0 = datetime(2033, 8, 1, 9, 0, tzinfo=UTC)  # the needs' window of its own on the shared needs topic
NEEDS_WINDOW = {"from": N0.isoformat(), "to": (N0 + timedelta(days=2)).isoformat(), "code": "SL01"}
PLACE = {"grid_code": "SL01-G1", "community_code": "SL01", "street_code": "SL", "district_code": "QH"}


def _ticket(start: datetime, rating: Rating) -> list:  # type: ignore[type-arg]
    ticket_id = new_id()
    agent = Actor(sub="agent-rb", role=Role.DEPARTMENT_AGENT, org=DEPARTMENT)
    return [
        reported(ticket_id, reporter=Actor(sub="gw-rb", role=Role.GRID_WORKER, org="LJ01"), grid="LJ01-G1", at=start),
        make_event(
            TicketDispatched(
                round=1,
                lead_department=DEPARTMENT,
                accept_deadline=start + timedelta(minutes=10),
                resolve_deadline=start + timedelta(hours=2),
                manual=False,
            ),
            ticket_id=ticket_id,
            at=start,
        ),
        make_event(
            TicketAccepted(department=DEPARTMENT, round=1),
            ticket_id=ticket_id,
            actor=agent,
            at=start + timedelta(minutes=5 + 10 * (rating == Rating.UNSATISFIED)),
        ),
        make_event(
            TicketResolved(department=DEPARTMENT, round=1, note="好了"),
            ticket_id=ticket_id,
            actor=agent,
            at=start + timedelta(hours=1),
        ),
        make_event(TicketClosed(), ticket_id=ticket_id, at=start + timedelta(hours=1, minutes=5)),
        make_event(TicketRated(rating=rating), ticket_id=ticket_id, at=start + timedelta(hours=1, minutes=6)),
    ]


def _department(service: RunningService) -> dict:  # type: ignore[type-arg]
    chief = service.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    items = ok(chief.call("supervision", "GET", "/v1/supervision/stats/departments", params=WINDOW))["items"]
    return next((i for i in items if i["code"] == DEPARTMENT), {})


def _need(at: datetime, *payloads: Payload) -> list[Envelope]:
    need_id = new_id()
    submitted = NeedSubmitted(
        need_number=f"XQ-{need_id[-6:]}",
        kind=NeedKind.SERVICE,
        source=NeedSource.VISIT,
        category_code="NC-REPAIR",
        review_deadline=at + timedelta(days=3),
        **PLACE,
    )
    return [
        make_event(p, ticket_id=need_id, at=at + timedelta(minutes=n)) for n, p in enumerate([submitted, *payloads])
    ]


def _publish_needs(bus: Bus, events: list[Envelope]) -> None:
    bus.publish(NEEDS_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in events])


def _community(service: RunningService) -> dict:  # type: ignore[type-arg]
    chief = service.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    items = ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/communities", params=NEEDS_WINDOW))["items"]
    return items[0] if items else {}


def _points(service: RunningService) -> list[dict]:  # type: ignore[type-arg]
    """The map of a street of its own (RB), where one open ticket was filed with a GPS point."""
    chief = service.user(sub="sup-rb", role=Role.SUPERVISOR, org="RB")
    return ok(chief.call("supervision", "GET", "/v1/supervision/map"))["points"]  # type: ignore[no-any-return]


def test_a_rebuilt_projection_equals_the_live_one_and_the_service_carries_on(
    servers: Servers, bus: Bus, service_logs: Path
) -> None:
    live = launch("supervision", servers, service_logs)
    unit = Claimant(kind=ClaimantKind.UNIT, code="U-SL-CORP")
    reviewed = NeedReviewed(summary="楼道灯坏了", category_code="NC-REPAIR")
    published = NeedPublished(claim_deadline=N0 + timedelta(days=10))
    placed = reported(new_id(), reporter=Actor(sub="gw-rb", role=Role.GRID_WORKER, org="RB01"), grid="RB01-G1")
    placed = placed.model_copy(
        update={"payload": placed.payload.model_copy(update={"location": GeoPoint(lon=120.15, lat=30.25)})}
    )
    try:
        events = _ticket(T0, Rating.SATISFIED) + _ticket(T0 + timedelta(hours=3), Rating.UNSATISFIED)
        bus.publish_events([*events, placed])
        before = eventually(lambda: (lambda d: d if d.get("rated") == 2 else None)(_department(live)), what="projected")
        on_map = eventually(lambda: _points(live), what="the placed ticket on the map")
        claimed = NeedClaimed(claimant=unit, contact_deadline=N0 + timedelta(days=7))
        _publish_needs(bus, [*_need(N0, reviewed, published), *_need(N0, reviewed, published, claimed)])
        needs_before = eventually(
            lambda: (lambda c: c if (c.get("needs_offered"), c.get("needs_claimed")) == (2, 1) else None)(
                _community(live)
            ),
            what="the needs projected",
        )
    finally:
        live.process.stop()
    assert needs_before["claim_rate"] == 0.5
    assert [(p["ticket_id"], p["lon"], p["lat"]) for p in on_map] == [(placed.ticket_id, 120.15, 30.25)]
    assert (before["responded_on_time"], before["satisfaction_rate"]) == (1, 0.5)
    settings = SupervisionSettings(
        kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri, work_calendar="always_open"
    )
    report = asyncio.run(rebuild(settings, timeline=True))
    assert report.events >= len(events) and report.tickets >= 2
    assert report.cobuild_events >= 7 and report.cobuild_records >= 2
    again = launch("supervision", servers, service_logs)
    try:
        assert {k: v for k, v in _department(again).items() if k not in ("open_now", "overdue_now")} == {
            k: v for k, v in before.items() if k not in ("open_now", "overdue_now")
        }
        assert _points(again) == on_map  # the replay keeps where each report was filed
        assert _community(again) == needs_before
        # the service resumes after the replay's end: a new ticket counts once, the old ones are not added again
        bus.publish_events(_ticket(T0 + timedelta(hours=6), Rating.SATISFIED))
        after = eventually(
            lambda: (lambda d: d if d.get("rated") == 3 else None)(_department(again)), what="new ticket"
        )
        assert (after["dispatched"], after["responded"], after["satisfied"]) == (3, 3, 2)
        _publish_needs(bus, _need(N0 + timedelta(hours=1)))
        needs_after = eventually(
            lambda: (lambda c: c if c.get("needs_collected") == 3 else None)(_community(again)), what="new need"
        )
        assert (needs_after["needs_offered"], needs_after["needs_claimed"], needs_after["claim_rate"]) == (2, 1, 0.5)
    finally:
        again.process.stop()
