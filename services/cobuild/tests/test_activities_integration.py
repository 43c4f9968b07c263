"""Activities and service records against the real broker and database, through HTTP: a community's
activity published, signed up for, its rotating code read by the organiser only, a check-in refused
too far away, a check-out under way counted by the rules and approved by the organiser alone; a
unit's activity logged by hand, returned, corrected and approved, then closed; and the certificate
each organiser issues for its own records only (谁记录谁证明)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pypdfium2  # type: ignore[import-untyped]
import pytest

from gridloop.shared.events import VOLUNTEERING_TOPIC, Envelope, Role
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, ok, register_member

pytestmark = pytest.mark.integration
DB = "gridloop_cobuild"
PLACE = {"lon": 116.3975, "lat": 39.9087}
NEAR = {"lon": 116.3975, "lat": 39.9095}  # ~90 m
FAR = {"lon": 116.3975, "lat": 39.9187}  # ~1.1 km
TAG = new_id()[-8:]


def _client(servers: Servers) -> "pymongo.MongoClient[dict[str, Any]]":
    return pymongo.MongoClient(servers.mongo_uri, tz_aware=True)


@pytest.fixture(scope="module")
def cobuild(servers: Servers, service_logs: Path, bus: Bus) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    with _client(servers) as client:
        db = client[DB]
        register_member(db, f"pm-a-{TAG}", member_id=f"M-A{TAG}", unit_code="U-LJ-SCHOOL", name="张明")
        register_member(db, f"pm-b-{TAG}", member_id=f"M-B{TAG}", unit_code="U-LJ-SCHOOL")
        register_member(db, f"pm-p-{TAG}", member_id=f"M-P{TAG}", unit_code="U-LJ-SCHOOL", status="pending")
    yield service
    service.process.stop()
    with _client(servers) as client:
        db = client[DB]
        ids = [f"M-A{TAG}", f"M-B{TAG}", f"M-P{TAG}"]
        db["members"].delete_many({"_id": {"$in": ids}})
        db["member_private"].delete_many({"_id": {"$in": ids}})


def _events(bus: Bus, key: str, event_type: str) -> list[Envelope]:
    parsed = [Envelope.from_wire(v) for _, v, _ in bus.read(VOLUNTEERING_TOPIC) if v is not None]
    return [e for e in parsed if e.ticket_id == key and e.event_type == event_type]


def _insert_activity(
    servers: Servers, *, start: datetime, end: datetime, kind: str, code: str, signups: list[str]
) -> str:
    activity_id = new_id()
    now = datetime.now(UTC)
    with _client(servers) as client:
        client[DB]["activities"].insert_one(
            {
                "_id": activity_id,
                "title": "敬老院探访" if kind == "unit" else "楼道清理",
                "organizer_kind": kind,
                "organizer_code": code,
                "community_code": "LJ01",
                "grid_code": "LJ01-G1",
                "street_code": "LJ",
                "district_code": "QH",
                "place": PLACE,
                "starts_at": start,
                "ends_at": end,
                "capacity": 5,
                "signups": signups,
                "post_id": None,
                "need_id": None,
                "project_id": None,
                "status": "published",
                "cancel_reason": "",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    return activity_id


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_activities_from_publishing_to_certificate(cobuild: RunningService, servers: Servers, bus: Bus) -> None:
    worker = cobuild.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    elsewhere = cobuild.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01")
    hospital = cobuild.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
    school = cobuild.user(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
    a = cobuild.user(sub=f"pm-a-{TAG}", role=Role.MEMBER, org="LJ01")
    b = cobuild.user(sub=f"pm-b-{TAG}", role=Role.MEMBER, org="LJ01")
    pending = cobuild.user(sub=f"pm-p-{TAG}", role=Role.MEMBER, org="LJ01")
    nobody = cobuild.user(sub=f"pm-x-{TAG}", role=Role.MEMBER, org="LJ01")
    now = datetime.now(UTC)
    body = {
        "title": "垃圾分类宣传",
        "grid_code": "LJ01-G1",
        "place": PLACE,
        "starts_at": (now + timedelta(minutes=10)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "capacity": 1,
    }

    # publishing: the window, the community, the pairing
    assert _error(
        worker.call("cobuild", "POST", "/v1/cobuild/activities", json={**body, "ends_at": body["starts_at"]})
    ) == (422, "bad_window")
    assert elsewhere.call("cobuild", "POST", "/v1/cobuild/activities", json=body).status_code == 403
    assert _error(school.call("cobuild", "POST", "/v1/cobuild/activities", json={**body, "grid_code": "LJ02-G1"})) == (
        422,
        "community_not_paired",
    )
    assert a.call("cobuild", "POST", "/v1/cobuild/activities", json=body).status_code == 403
    activity = ok(worker.call("cobuild", "POST", "/v1/cobuild/activities", json=body), 201)
    path = f"/v1/cobuild/activities/{activity['id']}"
    assert (activity["status"], activity["organizer_kind"], activity["signed_up"]) == ("published", "community", 0)
    eventually(lambda: _events(bus, activity["id"], "activity.published"), what="activity.published")

    # signing up: a registration on the roll, once, within capacity
    assert _error(nobody.call("cobuild", "POST", f"{path}/signup", json={})) == (409, "not_reported")
    assert _error(pending.call("cobuild", "POST", f"{path}/signup", json={})) == (409, "not_reported")
    signed = ok(a.call("cobuild", "POST", f"{path}/signup", json={}))
    assert signed["mine"]["signed_up"] and signed["allowed_actions"] == ["checkin"]
    assert _error(a.call("cobuild", "POST", f"{path}/signup", json={})) == (409, "already_signed_up")
    assert _error(b.call("cobuild", "POST", f"{path}/signup", json={})) == (409, "full")
    assert worker.call("cobuild", "POST", f"{path}/signup", json={}).status_code == 403
    assert elsewhere.call("cobuild", "POST", f"{path}/signup", json={}).status_code == 404
    eventually(lambda: _events(bus, f"M-A{TAG}", "activity.signed_up"), what="activity.signed_up")

    # the rotating code is the organiser's; a check-in far away is refused
    code = ok(worker.call("cobuild", "GET", f"{path}/code"))
    assert len(code["code"]) == 6 and code["window_seconds"] == 60
    assert a.call("cobuild", "GET", f"{path}/code").status_code == 403
    assert elsewhere.call("cobuild", "GET", f"{path}/code").status_code == 404
    assert _error(a.call("cobuild", "POST", f"{path}/checkin", json={"code": code["code"], "location": FAR})) == (
        422,
        "too_far",
    )
    wrong = "000000" if code["code"] != "000000" else "111111"
    assert _error(a.call("cobuild", "POST", f"{path}/checkin", json={"code": wrong, "location": NEAR})) == (
        422,
        "bad_code",
    )
    checked = ok(a.call("cobuild", "POST", f"{path}/checkin", json={"code": code["code"], "location": NEAR}))
    assert checked["distance_m"] < 300
    assert ok(a.call("cobuild", "GET", path))["allowed_actions"] == ["checkout"]
    cancelled = ok(worker.call("cobuild", "POST", f"{path}/cancel", json={"reason": "暴雨预警，活动延期"}))
    assert cancelled["status"] == "cancelled"

    # an activity under way: checked in 100 minutes ago, out now -> 90 minutes by the rules
    under_way = _insert_activity(
        servers,
        start=now - timedelta(hours=2),
        end=now + timedelta(hours=1),
        kind="community",
        code="LJ01",
        signups=[f"M-A{TAG}"],
    )
    with _client(servers) as client:
        client[DB]["checkins"].insert_one(
            {
                "_id": f"{under_way}:M-A{TAG}",
                "activity_id": under_way,
                "member_id": f"M-A{TAG}",
                "checkin_at": now - timedelta(minutes=100),
            }
        )
    code = ok(worker.call("cobuild", "GET", f"/v1/cobuild/activities/{under_way}/code"))
    record = ok(
        a.call(
            "cobuild",
            "POST",
            f"/v1/cobuild/activities/{under_way}/checkout",
            json={"code": code["code"], "location": NEAR},
        ),
        201,
    )
    assert (record["method"], record["minutes_claimed"], record["status"]) == ("checkin", 90, "submitted")
    rpath = f"/v1/cobuild/records/{record['id']}"
    assert elsewhere.call("cobuild", "POST", f"{rpath}/approve", json={}).status_code == 404
    assert hospital.call("cobuild", "POST", f"{rpath}/approve", json={}).status_code == 404
    assert a.call("cobuild", "POST", f"{rpath}/approve", json={}).status_code == 403
    assert _error(worker.call("cobuild", "POST", f"{rpath}/approve", json={"minutes": 120})) == (422, "over_rule")
    approved = ok(worker.call("cobuild", "POST", f"{rpath}/approve", json={"minutes": 60}))
    assert (approved["status"], approved["minutes"]) == ("approved", 60)
    event = eventually(lambda: _events(bus, f"M-A{TAG}", "record.approved"), what="record.approved")[0]
    assert (event.payload.minutes, event.payload.unit_code, event.payload.grid_code) == (60, "U-LJ-SCHOOL", "LJ01-G1")  # type: ignore[attr-defined]
    rated = ok(worker.call("cobuild", "POST", f"{rpath}/rate", json={"rating": "satisfied"}))
    assert rated["rating_label"] == "满意"
    assert _error(worker.call("cobuild", "POST", f"{rpath}/rate", json={"rating": "satisfied"})) == (
        409,
        "already_rated",
    )

    # a unit's activity that ended: logged by hand, returned, corrected, approved within its window
    ended = _insert_activity(
        servers,
        start=now - timedelta(hours=5),
        end=now - timedelta(hours=2),
        kind="unit",
        code="U-LJ-HOSP",
        signups=[f"M-A{TAG}"],
    )
    logged = ok(
        a.call(
            "cobuild",
            "POST",
            f"/v1/cobuild/activities/{ended}/records",
            json={"minutes_claimed": 600, "note": "手机没电未签退"},
        ),
        201,
    )
    assert (logged["method"], logged["minutes_by_rule"]) == ("manual", 180)
    mpath = f"/v1/cobuild/records/{logged['id']}"
    assert worker.call("cobuild", "POST", f"{mpath}/approve", json={}).status_code == 403  # sees it, did not run it
    ok(hospital.call("cobuild", "POST", f"{mpath}/return", json={"reason": "请写明服务内容"}))
    ok(
        a.call(
            "cobuild",
            "POST",
            f"/v1/cobuild/activities/{ended}/records",
            json={"minutes_claimed": 200, "note": "陪老人聊天、打扫房间"},
        ),
        201,
    )
    assert _error(hospital.call("cobuild", "POST", f"/v1/cobuild/activities/{ended}/close", json={})) == (
        409,
        "records_pending",
    )
    approved = ok(hospital.call("cobuild", "POST", f"{mpath}/approve", json={}))
    assert approved["minutes"] == 180
    assert ok(hospital.call("cobuild", "POST", f"/v1/cobuild/activities/{ended}/close", json={}))["status"] == "closed"

    mine = ok(a.call("cobuild", "GET", "/v1/cobuild/records", params={"member": "me", "year": now.year}))
    assert mine["approved_minutes"] == 240 and len(mine["items"]) == 2
    assert b.call("cobuild", "GET", "/v1/cobuild/records", params={"member": f"M-A{TAG}"}).status_code == 403

    # 谁记录谁证明: each organiser certifies its own records only
    cert = f"/v1/cobuild/members/M-A{TAG}/certificate.pdf"
    assert _error(a.call("cobuild", "GET", cert)) == (422, "organizer_required")
    pdf = a.call("cobuild", "GET", cert, params={"organizer": "unit:U-LJ-HOSP", "year": now.year})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pypdfium2.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert "合计 3 小时" in text and "张明" in text and "敬老院探访" in text and "楼道清理" not in text
    community = worker.call("cobuild", "GET", cert)
    text = pypdfium2.PdfDocument(community.content)[0].get_textpage().get_text_range()
    assert "合计 1 小时" in text and "楼道清理" in text and "敬老院探访" not in text
    assert b.call("cobuild", "GET", cert, params={"organizer": "community:LJ01"}).status_code == 404
    assert worker.call("cobuild", "GET", cert, params={"organizer": "unit:U-LJ-HOSP"}).status_code == 403
    assert elsewhere.call("cobuild", "GET", cert).status_code == 404
