"""The 共建 indicators against the real broker and database: need, offer and project events on
the needs topic, every figure checked against the test's own count, the reader's scope, the
street's board, and a redelivery that changes nothing."""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridloop.shared.events import (
    NEEDS_TOPIC,
    Claimant,
    ClaimantKind,
    Envelope,
    HotspotSolved,
    NeedAssigned,
    NeedClaimed,
    NeedClaimExpired,
    NeedContacted,
    NeedConverted,
    NeedDelivered,
    NeedDone,
    NeedEscalated,
    NeedKind,
    NeedLinked,
    NeedPublished,
    NeedRated,
    NeedRejected,
    NeedReviewed,
    NeedSource,
    NeedSubmitted,
    NeedWithdrawn,
    OfferAccepted,
    OfferDeclined,
    OfferKind,
    OfferSubmitted,
    OfferUsed,
    Payload,
    ProjectApproved,
    ProjectCancelled,
    ProjectCompleted,
    ProjectEvaluated,
    ProjectProposed,
    ProjectStarted,
    Rating,
    Role,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok

pytestmark = pytest.mark.integration
T0 = datetime(2032, 4, 5, 9, 0, tzinfo=UTC)  # a window of its own on the shared topic
WINDOW = {"from": T0.isoformat(), "to": (T0 + timedelta(days=7)).isoformat()}
PLACES = {
    "LJ01": {"grid_code": "LJ01-G1", "community_code": "LJ01", "street_code": "LJ", "district_code": "QH"},
    "LJ02": {"grid_code": "LJ02-G1", "community_code": "LJ02", "street_code": "LJ", "district_code": "QH"},
    "WH01": {"grid_code": "WH01-G1", "community_code": "WH01", "street_code": "WH", "district_code": "QH"},
}
HOSPITAL = Claimant(kind=ClaimantKind.UNIT, code="U-LJ-HOSP")
LATER = T0 + timedelta(days=30)


@pytest.fixture(scope="module")
def supervision(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("supervision", servers, service_logs)
    yield service
    service.process.stop()


class Story:
    """Events of the round, in order per record, each a minute after the one before."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []
        self.minute = 0

    def add(self, record_id: str, *payloads: Payload) -> list[Envelope]:
        added = []
        for payload in payloads:
            self.minute += 1
            added.append(make_event(payload, ticket_id=record_id, at=T0 + timedelta(minutes=self.minute)))
        self.events += added
        return added

    def need(self, community: str, *payloads: Payload) -> list[Envelope]:
        need_id = new_id()
        submitted = NeedSubmitted(
            need_number=f"XQ-{need_id[-6:]}",
            kind=NeedKind.WISH,
            source=NeedSource.APP,
            category_code="NC-ELDER",
            review_deadline=LATER,
            **PLACES[community],
        )
        return self.add(need_id, submitted, *payloads)


def _reviewed() -> NeedReviewed:
    return NeedReviewed(summary="独居老人希望有人陪同就医", category_code="NC-ELDER")


def _delivered() -> list[Payload]:
    return [
        NeedContacted(claimant=HOSPITAL, deliver_deadline=LATER),
        NeedDelivered(claimant=HOSPITAL, note="已陪同就医", confirm_by=LATER),
    ]


def _offer(story: Story, *payloads: Payload) -> tuple[str, list[Envelope]]:
    offer_id = new_id()
    submitted = OfferSubmitted(
        offer_number=f"ZY-{offer_id[-6:]}",
        unit_code="U-LJ-HOSP",
        kind=OfferKind.SERVICE,
        title="社区义诊",
        category_codes=["NC-HEALTH", "NC-ELDER"],
        capacity=4,
        grid_code="LJ01-G1",
        community_codes=["LJ01", "LJ02"],
        street_code="LJ",
        district_code="QH",
        available_from=T0,
        available_until=LATER,
    )
    return offer_id, story.add(offer_id, submitted, *payloads)


def _project(story: Story, *payloads: Payload) -> tuple[str, list[Envelope]]:
    project_id = new_id()
    proposed = ProjectProposed(
        project_number=f"XM-{project_id[-6:]}",
        title="助老陪诊",
        summary="为独居老人陪同就医",
        category_code="NC-ELDER",
        planned_end=LATER,
        **PLACES["LJ01"],
    )
    return project_id, story.add(project_id, proposed, *payloads)


def _solved(project_id: str) -> HotspotSolved:
    return HotspotSolved(project_id=project_id, category_code="NC-ENV", **PLACES["LJ01"])


def _consumed(service: RunningService, outcome: str, event_type: str | None = None) -> int:
    """Events the needs consumer took with this outcome (`duplicate`: handled before), from /metrics."""
    text = httpx.get(f"{service.url}/metrics", timeout=5).text
    pattern = r"^gridloop_events_consumed_total\{([^}]*)\} (\S+)$"
    wanted = ['group="supervision.cobuild"', f'outcome="{outcome}"']
    wanted += [f'event_type="{event_type}"'] if event_type else []
    return sum(
        int(float(value)) for labels, value in re.findall(pattern, text, re.M) if all(w in labels for w in wanted)
    )


def _items(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in body["items"]}


def test_every_cobuild_figure_matches_the_round_and_a_redelivery_changes_nothing(
    supervision: RunningService, bus: Bus
) -> None:
    bus.publish_records(demo_records())  # the board lists the street's communities by the directory
    story = Story()
    # LJ01: six needs
    done_on_time = story.need(
        "LJ01",
        _reviewed(),
        NeedPublished(claim_deadline=LATER),
        NeedClaimed(claimant=HOSPITAL, contact_deadline=LATER),
        *_delivered(),
        NeedDone(on_time=True),
        NeedRated(rating=Rating.SATISFIED),
    )
    story.need(
        "LJ01",
        _reviewed(),
        NeedAssigned(unit_code="U-LJ-HOSP", claim_deadline=LATER),
        NeedClaimed(claimant=HOSPITAL, contact_deadline=LATER),
        *_delivered(),
        NeedDone(on_time=False, auto=True),
        NeedRated(rating=Rating.UNSATISFIED),
    )
    story.need("LJ01", _reviewed(), NeedPublished(claim_deadline=LATER), NeedEscalated(reason="逾期无人认领"))
    story.need(
        "LJ01",
        NeedConverted(
            ticket_category_code="SZ-01", description="楼道水管漏水", address="江畔路1号", grid_code="LJ01-G1"
        ),
        NeedLinked(ticket_id=new_id(), ticket_number="GD-1"),
        NeedRated(rating=Rating.BASICALLY_SATISFIED, ticket_id=new_id()),
    )
    story.need("LJ01", NeedRejected(reason="不属于社区需求"))
    story.need(
        "LJ01",
        _reviewed(),
        NeedPublished(claim_deadline=LATER),
        NeedClaimed(claimant=HOSPITAL, contact_deadline=LATER),
        NeedClaimExpired(claimants=[HOSPITAL], claim_deadline=LATER),
    )
    # LJ02: two needs, one withdrawn; WH01 (another street): one
    story.need("LJ02", NeedWithdrawn(reason="已自行解决"))
    story.need("LJ02", _reviewed())
    story.need("WH01")
    # offers: two accepted by LJ01 (one used), one declined by LJ02
    used_offer, used_offer_events = _offer(story, OfferAccepted(community_code="LJ01"))
    _offer(story, OfferAccepted(community_code="LJ01"))
    _offer(story, OfferDeclined(community_code="LJ02", reason="暂不需要"))
    # projects of LJ01: one completed and evaluated, one under way, one cancelled before approval
    completed, completed_events = _project(
        story,
        ProjectApproved(),
        ProjectStarted(),
        ProjectCompleted(report="陪诊32人次", beneficiaries=30),
        ProjectEvaluated(grade="good"),
    )
    _project(story, ProjectApproved(), ProjectStarted())
    _project(story, ProjectCancelled(reason="资源不足"))
    used = story.add(used_offer, OfferUsed(project_id=completed, amount=2))
    solved = story.add(completed, _solved(completed))
    bus.publish(NEEDS_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in story.events])

    chief = supervision.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")

    expected_lj01 = {
        "name": "江畔社区",
        "needs_collected": 6,
        "needs_offered": 4,  # published or assigned: all but the converted and the rejected one
        "needs_claimed": 3,  # the expired claim counts: claimed at least once
        "needs_converted": 1,
        "needs_rejected": 1,
        "needs_withdrawn": 0,
        "needs_merged": 0,
        "needs_fulfilment_base": 4,
        "needs_done": 2,
        "needs_done_on_time": 1,
        "needs_rated": 3,  # the converted need by its ticket's rating
        "needs_satisfied": 1,
        "needs_basically_satisfied": 1,
        "needs_unsatisfied": 1,
        "offers_accepted": 2,
        "offers_used": 1,
        "projects_approved": 2,
        "projects_completed": 1,
        "beneficiaries_from_projects": 30,
        "beneficiaries_from_needs": 2,
        "beneficiaries": 32,
        "hotspots_solved": 1,
        "claim_rate": 0.75,
        "fulfilment_rate": 0.5,
        "on_time_rate": 0.5,
        "conversion_rate": round(1 / 6, 4),
        "satisfaction_rate": round(2 / 3, 4),
        "offer_use_rate": 0.5,
        "project_completion_rate": 0.5,
    }
    seen: dict[str, dict[str, Any]] = {}

    def communities() -> dict[str, dict[str, Any]] | None:
        """The communities' figures once every event of the round is in (partitions go at their own pace)."""
        response = chief.call("supervision", "GET", "/v1/supervision/cobuild/communities", params=WINDOW)
        seen.update(_items(ok(response)))
        lj01 = seen.get("LJ01", {})
        if {k: lj01.get(k) for k in expected_lj01} != expected_lj01:
            return None
        lj02, wh01 = seen.get("LJ02", {}), seen.get("WH01", {})
        return dict(seen) if lj02.get("needs_withdrawn") == 1 and wh01.get("needs_collected") == 1 else None

    try:
        items = eventually(communities, what="the round projected", timeout=30)
    except AssertionError:
        items = seen
    lj01 = items["LJ01"]
    assert {k: lj01[k] for k in expected_lj01} == expected_lj01
    lj02 = items["LJ02"]
    assert (lj02["needs_collected"], lj02["needs_withdrawn"], lj02["needs_fulfilment_base"]) == (2, 1, 1)
    assert (lj02["fulfilment_rate"], lj02["conversion_rate"]) == (0.0, 0.0)
    assert (lj02["claim_rate"], lj02["satisfaction_rate"], lj02["offer_use_rate"]) == (None, None, None)
    assert (lj02["project_completion_rate"], lj02["on_time_rate"]) == (None, None)

    # the street adds up its communities; the district adds up its streets
    streets = _items(ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/streets", params=WINDOW)))
    assert (streets["LJ"]["needs_collected"], streets["LJ"]["needs_done"]) == (8, 2)
    assert streets["LJ"]["fulfilment_rate"] == 0.4  # 2 of 5: the withdrawn need leaves the base
    assert streets["WH"]["needs_collected"] == 1
    district = ok(
        chief.call("supervision", "GET", "/v1/supervision/cobuild/districts", params={**WINDOW, "code": "QH"})
    )
    assert [(i["code"], i["needs_collected"], i["beneficiaries"]) for i in district["items"]] == [("QH", 9, 32)]
    grid = ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/grids", params={**WINDOW, "code": "LJ01-G1"}))
    assert grid["items"][0]["needs_collected"] == 6 and grid["window"]["from"].startswith("2032-04-05T09:00")

    # scope: a street desk reads its street, a community worker their community, others nothing
    desk = supervision.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    visible = _items(ok(desk.call("supervision", "GET", "/v1/supervision/cobuild/communities", params=WINDOW)))
    assert sorted(visible) == ["LJ01", "LJ02"]
    worker = supervision.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    own = _items(ok(worker.call("supervision", "GET", "/v1/supervision/cobuild/streets", params=WINDOW)))
    assert (list(own), own["LJ"]["needs_collected"]) == (["LJ"], 6)
    resident = supervision.user(sub="res-lj01", role=Role.RESIDENT, org="LJ01")
    assert resident.call("supervision", "GET", "/v1/supervision/cobuild/communities").status_code == 403

    # the street's board: every community of LJ, the small ones 样本不足
    board = ok(desk.call("supervision", "GET", "/v1/supervision/cobuild/board", params=WINDOW))
    assert (board["street"], board["name"], board["min_volume"]) == ("LJ", "临江街道", 5)
    rows = _items(board)
    assert list(rows) == ["LJ01", "LJ02", "LJ03"]
    assert (rows["LJ01"]["insufficient"], rows["LJ01"]["fulfilment_rate"], rows["LJ01"]["note"]) == (False, 0.5, "")
    assert (rows["LJ02"]["insufficient"], rows["LJ02"]["note"], rows["LJ02"]["fulfilment_rate"]) == (
        True,
        "样本不足",
        None,
    )
    assert (rows["LJ03"]["name"], rows["LJ03"]["needs_collected"], rows["LJ03"]["insufficient"]) == (
        "柳岸社区",
        0,
        True,
    )
    lower = ok(desk.call("supervision", "GET", "/v1/supervision/cobuild/board", params={**WINDOW, "min_volume": 2}))
    assert _items(lower)["LJ02"]["fulfilment_rate"] == 0.0
    assert [r["code"] for r in ok(worker.call("supervision", "GET", "/v1/supervision/cobuild/board"))["items"]] == [
        "LJ01"
    ]
    assert chief.call("supervision", "GET", "/v1/supervision/cobuild/board", params=WINDOW).status_code == 422
    assert ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/board", params={**WINDOW, "street": "LJ"}))
    other_desk = supervision.user(sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")
    refused = other_desk.call("supervision", "GET", "/v1/supervision/cobuild/board", params={"street": "LJ"})
    assert refused.status_code == 404

    # the broker delivers events again, and the hotspot is announced a second time: nothing changes
    before = _consumed(supervision, "duplicate")
    again = [done_on_time[0], *done_on_time[-2:], used_offer_events[0], *used, *completed_events[-2:], *solved]
    bus.publish(NEEDS_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in again])
    announced_again = make_event(_solved(completed), ticket_id=completed, at=T0 + timedelta(days=1))
    bus.publish(NEEDS_TOPIC, [(completed, announced_again.to_wire(), announced_again.headers())])
    eventually(
        lambda: _consumed(supervision, "duplicate") >= before + len(again) or None,
        what="the redelivery consumed",
        timeout=30,
    )
    eventually(
        lambda: _consumed(supervision, "handled", "hotspot.solved") >= 2 or None,
        what="the second announcement consumed",
        timeout=30,
    )
    after = _items(ok(chief.call("supervision", "GET", "/v1/supervision/cobuild/communities", params=WINDOW)))
    assert after["LJ01"] == items["LJ01"] and after["LJ02"] == items["LJ02"]
