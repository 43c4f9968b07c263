"""The rebuild's replay of the needs topic: the 共建 records it writes give the figures the live
projection gave, and the service carries on from where it stopped without counting twice."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridloop.shared.events import (
    NEEDS_TOPIC,
    Claimant,
    ClaimantKind,
    Envelope,
    NeedClaimed,
    NeedKind,
    NeedPublished,
    NeedReviewed,
    NeedSource,
    NeedSubmitted,
    Payload,
    Role,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, make_event, ok
from gridloop.supervision.app import SupervisionSettings
from gridloop.supervision.rebuild import rebuild

pytestmark = pytest.mark.integration
T0 = datetime(2033, 8, 1, 9, 0, tzinfo=UTC)  # a window of its own on the shared topic
WINDOW = {"from": T0.isoformat(), "to": (T0 + timedelta(days=2)).isoformat(), "code": "SL01"}
PLACE = {"grid_code": "SL01-G1", "community_code": "SL01", "street_code": "SL", "district_code": "QH"}


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


def _publish(bus: Bus, events: list[Envelope]) -> None:
    bus.publish(NEEDS_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in events])


def _community(service: RunningService) -> dict[str, Any]:
    chief = service.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    items = ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/communities", params=WINDOW))["items"]
    return items[0] if items else {}


def test_a_rebuilt_cobuild_projection_equals_the_live_one_and_the_service_carries_on(
    servers: Servers, bus: Bus, service_logs: Path
) -> None:
    unit = Claimant(kind=ClaimantKind.UNIT, code="U-SL-CORP")
    reviewed = NeedReviewed(summary="楼道灯坏了", category_code="NC-REPAIR")
    live = launch("supervision", servers, service_logs)
    try:
        _publish(
            bus,
            [
                *_need(T0, reviewed, NeedPublished(claim_deadline=T0 + timedelta(days=10))),
                *_need(
                    T0,
                    reviewed,
                    NeedPublished(claim_deadline=T0 + timedelta(days=10)),
                    NeedClaimed(claimant=unit, contact_deadline=T0 + timedelta(days=7)),
                ),
            ],
        )
        before = eventually(
            lambda: (lambda c: c if (c.get("needs_offered"), c.get("needs_claimed")) == (2, 1) else None)(
                _community(live)
            ),
            what="projected",
        )
    finally:
        live.process.stop()
    assert before["claim_rate"] == 0.5
    settings = SupervisionSettings(
        kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri, work_calendar="always_open"
    )
    report = asyncio.run(rebuild(settings))
    assert report.cobuild_events >= 7 and report.cobuild_records >= 2
    again = launch("supervision", servers, service_logs)
    try:
        assert _community(again) == before
        # the service resumes after the replay's end: a new need counts once, the old ones are not added again
        _publish(bus, _need(T0 + timedelta(hours=1)))
        after = eventually(
            lambda: (lambda c: c if c.get("needs_collected") == 3 else None)(_community(again)), what="new need"
        )
        assert (after["needs_offered"], after["needs_claimed"], after["claim_rate"]) == (2, 1, 0.5)
    finally:
        again.process.stop()
