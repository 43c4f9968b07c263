"""Offers, matching, projects and hotspots against the real broker and database: a unit's offer
accepted by the community, matched with a need, made a project and taken to evaluation; a spot
where tickets keep coming back raised as a project idea; the no-recurrence count on a set clock."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from gridloop.cobuild import store as cobuild_store
from gridloop.cobuild.projects import jobs, store
from gridloop.cobuild.projects.hotspots import Thresholds
from gridloop.shared.clock import as_utc
from gridloop.shared.events import NEEDS_TOPIC, Envelope, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import OUTBOX
from gridloop.shared.refdata import RefData
from gridloop.shared.worktime import around_the_clock
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, SetClock, demo_records, eventually, launch, ok, service_database

pytestmark = pytest.mark.integration
HOT_GRID, HOT_TICKET = "LJ02-G2", "QH-T-HOT"
DB = "gridloop_cobuild"


def _client(servers: Servers) -> "pymongo.MongoClient[dict[str, Any]]":
    return pymongo.MongoClient(servers.mongo_uri, tz_aware=True)


@pytest.fixture(scope="module")
def cobuild(servers: Servers, bus: Bus, service_logs: Path) -> Iterator[RunningService]:
    bus.publish_records(demo_records())  # with the units (驻区单位) and need categories
    service = launch("cobuild", servers, service_logs, env={"GRIDLOOP_HOTSPOT_INTERVAL_SECONDS": "0.5"})
    with _client(servers) as client:
        loaded = client[DB]["ref_data"]
        eventually(lambda: loaded.count_documents({"kind": "snapshot"}), what="the directory read to its end")
    yield service
    service.process.stop()
    with _client(servers) as client:  # other modules' cobuild shares the database: leave them no hotspot
        db = client[DB]
        db["ticket_facts"].delete_many({"ticket_number": HOT_TICKET})
        db["needs"].delete_many(
            {"$or": [{"need_number": {"$regex": "^XQ-T-"}}, {"source": "hotspot", "grid_code": HOT_GRID}]}
        )
        db["hotspots"].delete_many({"grid_code": HOT_GRID})


def _need(category: str, grid: str, *, status: str = "published", **more: Any) -> dict[str, Any]:
    need_id = new_id()
    now = datetime.now(UTC)
    return {
        "_id": need_id,
        "need_number": f"XQ-T-{need_id[-6:]}",
        "kind": "service",
        "source": "app",
        "status": status,
        "category_code": category,
        "grid_code": grid,
        "community_code": grid[:4],
        "street_code": grid[:2],
        "district_code": "QH",
        "location": None,
        "summary": "独居老人需要定期上门体检",
        "claim_deadline": now + timedelta(days=10),
        "ticket_ids": [],
        "version": 1,
        "created_at": now,
        "updated_at": now,
        **more,
    }


def _needs_events(bus: Bus, record_id: str) -> list[Envelope]:
    parsed = [Envelope.from_wire(v) for _, v, _ in bus.read(NEEDS_TOPIC) if v is not None]
    return [e for e in parsed if e.ticket_id == record_id]


def _offer_body(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "kind": "service",
        "title": "医护志愿者上门体检",
        "description": "每周二下午",
        "category_codes": ["NC-ELDER"],
        "capacity": 2,
        "community_codes": ["LJ01", "LJ02"],
        "available_from": (now - timedelta(hours=1)).isoformat(),
        "available_until": (now + timedelta(days=90)).isoformat(),
        **changes,
    }


def test_an_offer_accepted_is_matched_made_a_project_and_taken_to_evaluation(
    cobuild: RunningService, bus: Bus, servers: Servers
) -> None:
    hospital = cobuild.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
    school = cobuild.user(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
    stranger = cobuild.user(sub="ua-nope", role=Role.UNIT_ADMIN, org="U-NOPE")
    worker = cobuild.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    elsewhere = cobuild.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01")
    desk = cobuild.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    resident = cobuild.user(sub="res-lj01", role=Role.RESIDENT, org="LJ01")

    unpaired = hospital.call("cobuild", "POST", "/v1/cobuild/offers", json=_offer_body(community_codes=["WH01"]))
    assert (unpaired.status_code, unpaired.json()["error"]["code"]) == (422, "community_not_paired")
    unknown = stranger.call("cobuild", "POST", "/v1/cobuild/offers", json=_offer_body())
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "unknown_unit")
    offer = ok(hospital.call("cobuild", "POST", "/v1/cobuild/offers", json=_offer_body()), 201)
    assert (offer["status"], offer["kind_label"], offer["remaining"]) == ("submitted", "服务", 2)
    assert offer["offer_number"].startswith("ZY-")
    assert worker.call("cobuild", "GET", f"/v1/cobuild/offers/{offer['id']}").json()["allowed_actions"] == [
        "accept",
        "decline",
    ]
    refused = elsewhere.call("cobuild", "POST", f"/v1/cobuild/offers/{offer['id']}/accept", json={})
    assert refused.status_code == 404
    assert (
        school.call(
            "cobuild", "POST", f"/v1/cobuild/offers/{offer['id']}/withdraw", json={"reason": "不再提供"}
        ).status_code
        == 404
    )
    accepted = ok(worker.call("cobuild", "POST", f"/v1/cobuild/offers/{offer['id']}/accept", json={}))
    assert accepted["status"] == "accepted"
    assert worker.call("cobuild", "POST", f"/v1/cobuild/offers/{offer['id']}/accept", json={}).status_code == 409
    listed = ok(worker.call("cobuild", "GET", "/v1/cobuild/offers", params={"status": "accepted"}))["items"]
    assert offer["id"] in [o["id"] for o in listed]

    elder, legal = _need("NC-ELDER", "LJ01-G1"), _need("NC-LEGAL", "LJ01-G2")
    with _client(servers) as client:
        client[DB]["needs"].insert_many([elder, legal])
    found = ok(worker.call("cobuild", "GET", "/v1/cobuild/matches"))
    [pair] = [m for m in found["matches"] if m["need_id"] == elder["_id"]]
    assert pair["offer_id"] == offer["id"] and "同一网格" in pair["reasons"]
    [left] = [u for u in found["unmatched"] if u["need_id"] == legal["_id"]]
    assert left["reason"] == "无同类资源"
    assert elsewhere.call("cobuild", "GET", "/v1/cobuild/matches", params={"community": "LJ01"}).status_code == 403

    body = {
        "title": "独居老人健康关爱",
        "summary": "医院医护志愿者每周上门体检",
        "category_code": "NC-ELDER",
        "grid_code": "LJ01-G1",
        "need_ids": [elder["_id"]],
        "offer_ids": [offer["id"]],
        "planned_end": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
    }
    project = ok(worker.call("cobuild", "POST", "/v1/cobuild/projects", json=body), 201)
    assert (project["status"], project["unit_codes"]) == ("proposed", ["U-LJ-HOSP"])
    again = worker.call("cobuild", "POST", "/v1/cobuild/projects", json=body)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "need_in_project")
    assert ok(hospital.call("cobuild", "GET", f"/v1/cobuild/offers/{offer['id']}"))["remaining"] == 1
    [used] = [e for e in _needs_events(bus, offer["id"]) if e.event_type == "offer.used"]
    assert used.payload.project_id == project["id"]  # type: ignore[attr-defined]
    after = ok(worker.call("cobuild", "GET", "/v1/cobuild/matches"))
    assert elder["_id"] not in [m["need_id"] for m in after["matches"]]

    pid = project["id"]
    assert worker.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/start", json={}).status_code == 409
    assert worker.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/approve", json={}).status_code == 403
    ok(desk.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/approve", json={"comment": "同意实施"}))
    ok(hospital.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/start", json={}))
    ok(
        hospital.call(
            "cobuild", "POST", f"/v1/cobuild/projects/{pid}/progress", json={"percent": 50, "milestone": "首轮体检完成"}
        )
    )
    backwards = worker.call(
        "cobuild", "POST", f"/v1/cobuild/projects/{pid}/progress", json={"percent": 10, "milestone": "倒退"}
    )
    assert backwards.status_code == 422
    ok(worker.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/suspend", json={"reason": "寒潮暂停上门"}))
    ok(worker.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/resume", json={}))
    done = ok(
        worker.call(
            "cobuild",
            "POST",
            f"/v1/cobuild/projects/{pid}/complete",
            json={"report": "体检老人36人次", "beneficiaries": 36},
        )
    )
    assert (done["status"], done["percent"], done["beneficiaries"]) == ("completed", 100, 36)
    ok(resident.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/rate", json={"rating": "satisfied"}))
    assert (
        resident.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/rate", json={"rating": "satisfied"}).status_code
        == 409
    )
    evaluated = ok(desk.call("cobuild", "POST", f"/v1/cobuild/projects/{pid}/evaluate", json={"grade": "excellent"}))
    assert evaluated["status"] == "evaluated" and evaluated["evaluation"]["grade_label"] == "优秀"
    assert [m["milestone"] for m in evaluated["milestones"]] == ["首轮体检完成"]
    types = [e.event_type for e in _needs_events(bus, pid)]
    assert types == [
        "project.proposed",
        "project.approved",
        "project.started",
        "project.progressed",
        "project.suspended",
        "project.resumed",
        "project.completed",
        "project.rated",
        "project.evaluated",
    ]
    assert ok(resident.call("cobuild", "GET", "/v1/cobuild/projects"))["items"][0]["id"] == pid
    assert school.call("cobuild", "GET", f"/v1/cobuild/projects/{pid}").status_code == 404


def _fact(grid: str, category: str, *, days_ago: float, now: datetime, **more: Any) -> dict[str, Any]:
    reported = now - timedelta(days=days_ago)
    return {
        "_id": new_id(),
        "ticket_number": HOT_TICKET,
        "category_code": category,
        "grid_code": grid,
        "community_code": grid[:4],
        "street_code": grid[:2],
        "district_code": "QH",
        "description": "垃圾堆放",
        "address": "",
        "location": None,
        "reported_at": reported,
        "status": "closed",
        "closed_at": reported + timedelta(hours=20),
        "reworks": 0,
        "send_backs": 0,
        "origin_need_id": None,
        **more,
    }


def test_a_spot_where_tickets_keep_returning_becomes_one_project_idea_in_the_communitys_needs(
    cobuild: RunningService, bus: Bus, servers: Servers
) -> None:
    now = datetime.now(UTC)
    facts = [_fact(HOT_GRID, "SJ-0102", days_ago=d, now=now) for d in (80, 60, 40, 20, 5)]
    with _client(servers) as client:
        needs = client[DB]["needs"]
        client[DB]["ticket_facts"].insert_many(facts)

        def raised() -> list[dict[str, Any]] | None:
            return needs.find({"source": "hotspot", "grid_code": HOT_GRID}).to_list() or None

        [idea] = eventually(raised, what="a project idea from the hotspot")
        assert (idea["kind"], idea["status"], idea["category_code"]) == ("project_idea", "submitted", "NC-ENV")
        assert sorted(idea["ticket_ids"]) == sorted(f["_id"] for f in facts)
        assert as_utc(idea["review_deadline"]) > now
        client[DB]["ticket_facts"].insert_one(_fact(HOT_GRID, "SJ-0102", days_ago=1, now=now))
        time.sleep(1.5)  # three passes of the job
        [submitted] = [e for e in _needs_events(bus, idea["_id"]) if e.event_type == "need.submitted"]
        assert submitted.payload.ticket_ids == idea["ticket_ids"]  # type: ignore[attr-defined]
        assert needs.count_documents({"source": "hotspot", "grid_code": HOT_GRID}) == 1
    worker = cobuild.user(sub="cw-lj02", role=Role.COMMUNITY_WORKER, org="LJ02")
    body = {
        "title": "背街小巷环境整治",
        "summary": "垃圾反复堆放点位改造",
        "category_code": "NC-ENV",
        "grid_code": HOT_GRID,
        "need_ids": [idea["_id"]],
        "planned_end": (now + timedelta(days=30)).isoformat(),
    }
    project = ok(worker.call("cobuild", "POST", "/v1/cobuild/projects", json=body), 201)
    assert (project["ticket_category_code"], sorted(project["ticket_ids"])) == ("SJ-0102", sorted(idea["ticket_ids"]))


async def test_a_hotspots_project_quiet_for_the_set_days_counts_as_solved_once(servers: Servers) -> None:
    """One pass on a set clock, against a database of the test's own."""
    clock = SetClock(datetime(2026, 9, 1, 9, 0, tzinfo=UTC))
    database = await service_database(servers, producer="cobuild", clock=clock)
    await cobuild_store.ensure_indexes(database.db)
    policy = jobs.Policy(thresholds=Thresholds(), quiet_days=90, default_category="NC-REPAIR")
    refdata = RefData(database.db, cache_seconds=0)
    for record in demo_records():
        await refdata.apply(record)
    start = clock.value
    await database.db[store.TICKET_FACTS].insert_many(
        [_fact("LJ01-G2", "SJ-0101", days_ago=d, now=start, reworks=1) for d in (30, 10)]
    )
    first = await jobs.run_pass(database=database, refdata=refdata, policy=policy, calendar=around_the_clock())
    assert len(first.raised) == 1
    assert (await jobs.run_pass(database=database, refdata=refdata, policy=policy, calendar=None)).raised == []
    idea = await database.db[store.NEEDS].find_one({"_id": first.raised[0]})
    assert idea is not None and as_utc(idea["review_deadline"]) == start + timedelta(days=3)

    completed = start + timedelta(days=20)
    await database.db[store.PROJECTS].insert_one(
        {
            "_id": "p-hot",
            "project_number": "XM-T",
            "status": "completed",
            "need_ids": [idea["_id"]],
            "grid_code": "LJ01-G2",
            "community_code": "LJ01",
            "street_code": "LJ",
            "district_code": "QH",
            "ticket_category_code": "SJ-0101",
            "completed_at": completed,
            "hotspot_solved_at": None,
            "recurred_at": None,
            "version": 1,
        }
    )
    clock.value = completed + timedelta(days=89)
    assert (await jobs.run_pass(database=database, refdata=refdata, policy=policy, calendar=None)).solved == []
    clock.value = completed + timedelta(days=90)
    assert (await jobs.run_pass(database=database, refdata=refdata, policy=policy, calendar=None)).solved == ["p-hot"]
    assert (await jobs.run_pass(database=database, refdata=refdata, policy=policy, calendar=None)).solved == []
    rows = await database.db[OUTBOX].find({"key": "p-hot"}).to_list(None)
    assert [r["event_type"] for r in rows] == ["hotspot.solved"]
    solved = Envelope.from_wire(rows[0]["value"]).payload
    assert (solved.grid_code, solved.category_code) == ("LJ01-G2", "SJ-0101")  # type: ignore[attr-defined]
