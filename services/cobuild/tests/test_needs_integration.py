"""cobuild's needs against the real broker and database, through HTTP: one need's whole loop from
collection to rating, a need converted to a ticket and back, a ticket the street desk cancelled
becoming a need; and no beneficiary's name, phone or address on the needs topic."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridloop.shared.events import (
    NEEDS_TOPIC,
    Actor,
    CancelReason,
    Envelope,
    Rating,
    Role,
    TicketCancelled,
    TicketRated,
    TicketReported,
)
from gridloop.shared.ids import new_id
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.settings import DEV_PHOTO_KEY
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok, reported

pytestmark = pytest.mark.integration
BENEFICIARY = {"name": "张秀英", "phone": "13912345678", "address": "江畔小区5栋302室"}
HOUSEHOLD_WORDS = "张阿姨独居，腿脚不便，希望每周有人陪同去区医院复查"
SECRETS = [*BENEFICIARY.values(), "腿脚不便", "王阿姨家住7栋", "刘小明", "双职工"]


@pytest.fixture(scope="module")
def cobuild(servers: Servers, service_logs: Path, bus: Bus) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    yield service
    service.process.stop()


def _users(service: RunningService) -> dict[str, ApiUser]:
    return {
        "cw": service.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01"),
        "cw-wh": service.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01"),
        "hosp": service.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP"),
        "school": service.user(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL"),
        "res": service.user(sub="res-lj01", role=Role.RESIDENT, org="LJ01"),
        "res-b": service.user(sub="res-lj01b", role=Role.RESIDENT, org="LJ01"),
    }


def _need_events(bus: Bus, need_id: str | None = None) -> list[Envelope]:
    parsed = [Envelope.from_wire(v) for _, v, _ in bus.read(NEEDS_TOPIC) if v is not None]
    return [e for e in parsed if need_id is None or e.ticket_id == need_id]


def _wait_for(bus: Bus, need_id: str, event_type: str) -> Envelope:
    def probe() -> Envelope | None:
        return next((e for e in _need_events(bus, need_id) if e.event_type == event_type), None)

    return eventually(probe, interval=0.3, what=f"{event_type} of need {need_id}")


def _submit(user: ApiUser, body: dict[str, Any]) -> Any:
    # the directory's grids reach the service a moment after it starts
    return eventually(
        lambda: (r := user.call("cobuild", "POST", "/v1/cobuild/needs", json=body)).status_code == 201 and r.json(),
        what="need submitted",
    )


def _act(user: ApiUser, need_id: str, action: str, body: dict[str, Any] | None = None) -> Any:
    return user.call("cobuild", "POST", f"/v1/cobuild/needs/{need_id}/{action}", json=body or {})


def test_one_need_from_collection_to_rating(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    need = _submit(
        u["cw"],
        {
            "kind": "wish",
            "category_code": "NC-ELDER",
            "description": HOUSEHOLD_WORDS,
            "grid_code": "LJ01-G1",
            "beneficiary": BENEFICIARY,
        },
    )
    need_id = need["id"]
    assert need["status"] == "submitted" and need["source"] == "wish_wall" and need["beneficiary"] == BENEFICIARY
    assert need["need_number"].startswith("XQ-") and need["allowed_actions"][0] == "review"
    # bad input: a clear 4xx and nothing changed
    before = ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/needs"))["items"]
    unnamed = {"kind": "wish", "category_code": "NC-ELDER", "description": "需要帮助", "grid_code": "LJ01-G1"}
    refused = u["cw"].call("cobuild", "POST", "/v1/cobuild/needs", json=unnamed)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "beneficiary_required")
    elsewhere = u["cw"].call("cobuild", "POST", "/v1/cobuild/needs", json={**unnamed, "grid_code": "WH01-G1"})
    assert elsewhere.status_code == 403
    unknown = u["cw"].call("cobuild", "POST", "/v1/cobuild/needs", json={**unnamed, "grid_code": "XX-G9"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_grid")
    assert u["hosp"].call("cobuild", "POST", "/v1/cobuild/needs", json=unnamed).status_code == 403
    assert ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/needs"))["items"] == before

    # out of sight: another community, a unit before it is published
    assert u["cw-wh"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}").status_code == 404
    assert _act(u["cw-wh"], need_id, "review", {"summary": "外社区审核"}).status_code == 404
    assert u["hosp"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}").status_code == 404
    assert _act(u["cw"], need_id, "publish").status_code == 409  # not reviewed yet
    assert _act(u["cw"], need_id, "review", {"summary": "x"}).status_code == 422  # too short

    ok(_act(u["cw"], need_id, "review", {"summary": "独居老人希望每周有人陪同就医"}))
    published = ok(_act(u["cw"], need_id, "publish"))
    assert published["status"] == "published" and published["claim_deadline"]

    wall = ok(u["hosp"].call("cobuild", "GET", "/v1/cobuild/wall"))
    [item] = [i for i in wall["items"] if i["id"] == need_id]
    assert item["summary"] == "独居老人希望每周有人陪同就医" and item["claimants"] == 0
    seen = ok(u["hosp"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}"))
    assert seen["beneficiary"] is None and seen["description"] is None and seen["allowed_actions"] == ["claim"]
    assert u["hosp"].call("cobuild", "GET", "/v1/cobuild/needs").json()["items"] == []  # not its own yet

    claimed = ok(_act(u["hosp"], need_id, "claim", {"group": False}))
    assert claimed["status"] == "claimed" and claimed["beneficiary"] == BENEFICIARY
    assert claimed["description"] == HOUSEHOLD_WORDS
    assert _act(u["school"], need_id, "claim", {"group": True}).status_code == 404  # off the wall: no group claim
    assert _act(u["cw"], need_id, "deliver", {"note": "已送达"}).status_code == 403  # not a claimant
    assert _act(u["hosp"], need_id, "deliver", {"note": "已陪同"}).status_code == 409  # not contacted yet
    ok(_act(u["hosp"], need_id, "contact", {"note": "已电话联系张阿姨"}))
    # evidence names only the claimant's own uploads: another person's photo or a made-up id changes nothing
    seal = PhotoSeal(DEV_PHOTO_KEY)
    foreign = seal.seal("photo-of-someone-else", "gw-lj01")
    for photos in ([foreign], ["张秀英 13912345678"]):
        refused = _act(u["hosp"], need_id, "deliver", {"note": "已陪同", "photos": photos})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "unknown_photos")
    assert ok(u["hosp"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}"))["status"] == "in_service"
    own = seal.seal("photo-of-the-visit", "ua-hosp")
    delivered = ok(_act(u["hosp"], need_id, "deliver", {"note": "已陪同复查四次", "photos": [own]}))
    assert delivered["status"] == "delivered" and delivered["on_time"] is True
    assert _act(u["hosp"], need_id, "confirm").status_code == 403
    ok(_act(u["cw"], need_id, "confirm"))
    rated = ok(_act(u["cw"], need_id, "rate", {"rating": "satisfied", "comment": "老人很满意"}))
    assert rated["rating"] == "satisfied" and rated["status"] == "done"
    assert (_act(u["cw"], need_id, "rate", {"rating": "unsatisfied"})).status_code == 409

    _wait_for(bus, need_id, "need.rated")
    assert [e.event_type for e in _need_events(bus, need_id)] == [
        "need.submitted",
        "need.reviewed",
        "need.published",
        "need.claimed",
        "need.contacted",
        "need.delivered",
        "need.done",
        "need.rated",
    ]
    mine = ok(u["hosp"].call("cobuild", "GET", "/v1/cobuild/needs"))["items"]
    assert [n["id"] for n in mine] == [need_id] and mine[0]["beneficiary"] is None


def test_a_group_claim_is_joined_released_and_the_need_assigned(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    need_id = _submit(
        u["cw"],
        {
            "kind": "service",
            "category_code": "NC-CHILD",
            "description": "双职工家庭孩子放学后无人辅导",
            "grid_code": "LJ01-G3",
            "beneficiary": {"name": "刘小明", "phone": "", "address": ""},
        },
    )["id"]
    ok(_act(u["cw"], need_id, "review", {"summary": "小学生课后辅导"}))
    ok(_act(u["cw"], need_id, "publish"))
    assert ok(_act(u["hosp"], need_id, "claim", {"group": True}))["group"] is True
    [item] = [i for i in ok(u["school"].call("cobuild", "GET", "/v1/cobuild/wall"))["items"] if i["id"] == need_id]
    assert (item["claimants"], item["group"]) == (1, True)
    joined = ok(_act(u["school"], need_id, "claim", {"group": False}))
    assert [c["code"] for c in joined["claimants"]] == ["U-LJ-HOSP", "U-LJ-SCHOOL"]
    assert _act(u["school"], need_id, "claim", {"group": True}).status_code == 403  # a claimant already

    ok(_act(u["school"], need_id, "request-release", {"reason": "学期末教师不足"}))
    twice = _act(u["hosp"], need_id, "request-release", {"reason": "也想退出"})
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "release_already_requested")
    assert _act(u["cw-wh"], need_id, "approve-release").status_code == 404
    assert _act(u["hosp"], need_id, "approve-release").status_code == 403
    released = ok(_act(u["cw"], need_id, "approve-release"))
    assert released["status"] == "published" and released["claimants"] == []
    assert u["hosp"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}").json()["beneficiary"] is None

    unknown = _act(u["cw"], need_id, "assign", {"unit_code": "U-NOWHERE"})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_unit")
    ok(_act(u["cw"], need_id, "assign", {"unit_code": "U-LJ-SCHOOL"}))
    assert u["hosp"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}").status_code == 404  # off the wall
    accepted = ok(_act(u["school"], need_id, "accept-assignment"))
    assert accepted["status"] == "claimed" and accepted["beneficiary"]["name"] == "刘小明"
    tail = ["need.release_requested", "need.claim_released", "need.assigned", "need.claimed"]
    eventually(lambda: [e.event_type for e in _need_events(bus, need_id)][-4:] == tail, what="the claim's events")


def test_a_need_converted_to_a_ticket_takes_the_tickets_rating(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    need = _submit(
        u["res"],
        {
            "kind": "service",
            "category_code": "NC-REPAIR",
            "description": "王阿姨家住7栋，楼道灯坏了一个月",
            "grid_code": "LJ01-G2",
        },
    )
    need_id = need["id"]
    assert need["source"] == "app" and need["beneficiary"]["name"] == "res-lj01"
    # a retry on a poor network files once; the same key with another body is refused
    wish = {"kind": "wish", "category_code": "NC-CULTURE", "description": "想学太极拳", "grid_code": "LJ01-G2"}
    key = {"Idempotency-Key": new_id()}
    first = ok(u["res"].call("cobuild", "POST", "/v1/cobuild/needs", json=wish, headers=key), 201)
    again = ok(u["res"].call("cobuild", "POST", "/v1/cobuild/needs", json=wish, headers=key), 200)
    assert again["id"] == first["id"] and again["need_number"] == first["need_number"]
    other = u["res"].call("cobuild", "POST", "/v1/cobuild/needs", json={**wish, "description": "想学书法"}, headers=key)
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert u["res-b"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}").status_code == 404
    assert [n["id"] for n in ok(u["res-b"].call("cobuild", "GET", "/v1/cobuild/needs"))["items"]] == []
    mine = ok(u["res"].call("cobuild", "GET", "/v1/cobuild/needs"))["items"]
    assert [n["id"] for n in mine] == [first["id"], need_id]  # newest first
    bad = _act(
        u["cw"], need_id, "convert", {"ticket_category_code": "XX-9999", "description": "楼道灯损坏", "address": "7栋"}
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "unknown_category")
    converted = ok(
        _act(
            u["cw"],
            need_id,
            "convert",
            {"ticket_category_code": "BJ-0201", "description": "7栋楼道灯损坏", "address": "江畔小区7栋"},
        )
    )
    assert converted["status"] == "converted"
    event = _wait_for(bus, need_id, "need.converted")
    assert event.payload.ticket_category_code == "BJ-0201" and event.actor.sub == "cw-lj01"  # type: ignore[attr-defined]

    # intake files the ticket as the street desk's hotline report would, with the need as its origin
    ticket_id = new_id()
    filed = reported(ticket_id, reporter=Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01"), grid="LJ01-G2")
    assert isinstance(filed.payload, TicketReported)
    filed = make_event(filed.payload.model_copy(update={"origin_need_id": need_id}), ticket_id=ticket_id)
    bus.publish_events([filed])
    linked = _wait_for(bus, need_id, "need.linked")
    assert linked.payload.ticket_id == ticket_id  # type: ignore[attr-defined]
    rate = _act(u["res"], need_id, "rate", {"rating": "satisfied"})
    assert (rate.status_code, rate.json()["error"]["code"]) == (409, "rated_by_ticket")
    bus.publish_events([make_event(TicketRated(rating=Rating.BASICALLY_SATISFIED), ticket_id=ticket_id)])
    rated = _wait_for(bus, need_id, "need.rated")
    assert rated.payload.ticket_id == ticket_id and rated.payload.rating == "basically_satisfied"  # type: ignore[attr-defined]
    shown = ok(u["res"].call("cobuild", "GET", f"/v1/cobuild/needs/{need_id}"))
    assert (shown["ticket_id"], shown["rating"]) == (ticket_id, "basically_satisfied")


def test_a_ticket_cancelled_as_a_households_need_becomes_one(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    desk = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    ticket_id = new_id()
    bus.publish_events(
        [
            reported(ticket_id, reporter=desk, grid="LJ01-G3", address="江畔小区9栋"),
            make_event(
                TicketCancelled(reason=CancelReason.CONVERTED_TO_NEED, comment="居民家电维修"),
                ticket_id=ticket_id,
                actor=desk,
            ),
        ]
    )

    def made() -> Any:
        items = ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/needs", params={"status": "submitted"}))["items"]
        return next((n for n in items if n["origin_ticket_id"] == ticket_id), None)

    need = eventually(made, what="the need made of the ticket")
    assert (need["source"], need["kind"], need["category_code"]) == ("ticket", "service", "NC-REPAIR")
    assert need["ticket_id"] == ticket_id and need["grid_code"] == "LJ01-G3"
    shown = ok(u["cw"].call("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}"))
    assert shown["description"] == "测试上报" and shown["beneficiary"]["address"] == "江畔小区9栋"
    assert [e.event_type for e in _need_events(bus, need["id"])] == ["need.submitted", "need.linked"]


def test_no_event_on_the_needs_topic_names_a_beneficiary(cobuild: RunningService, bus: Bus) -> None:
    raw = [v for _, v, _ in bus.read(NEEDS_TOPIC) if v is not None]
    assert raw, "the needs topic is empty: the other tests of this module ran first"
    for secret in SECRETS:
        assert not any(secret.encode() in value for value in raw), secret
