"""双报到 and 公益岗位 against the real broker and database, through HTTP: a unit reports and gets
its receipt, three people register, are confirmed and placed, claim and release posts; who sees
whose name; a person's data exported and erased (by the admin route and the command); and the lapse
job on a set clock across a year boundary. No name, phone or identity number on the topic."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from gridloop.cobuild import store as cobuild_store
from gridloop.cobuild.members import jobs, store
from gridloop.cobuild.members.domain import Rules
from gridloop.shared.events import VOLUNTEERING_TOPIC, Envelope, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import OUTBOX
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, SetClock, demo_records, eventually, launch, ok, service_database

pytestmark = pytest.mark.integration
DB = "gridloop_cobuild"
ID_ZHANG, ID_LIU, ID_ZHAO = "11010519491231002X", "440524188001010014", "110101199003074477"
SECRETS = ["张明测", "刘芳测", "赵强测", "13800001111", "13800002222", "13800003333", ID_ZHANG, ID_LIU, ID_ZHAO]


@pytest.fixture(scope="module")
def cobuild(servers: Servers, service_logs: Path, bus: Bus) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    with pymongo.MongoClient(servers.mongo_uri, tz_aware=True) as client:
        loaded = client[DB]["ref_data"]
        eventually(lambda: loaded.count_documents({"kind": "snapshot"}), what="the directory read to its end")
    yield service
    service.process.stop()


def _people(service: RunningService) -> dict[str, ApiUser]:
    tag = new_id()[-6:]  # the database is shared with other modules: a person of this run only
    return {
        "cw": service.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01"),
        "cw-wh": service.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01"),
        "hosp": service.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP"),
        "school": service.user(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL"),
        "zhang": service.user(sub=f"pm-a-{tag}", role=Role.MEMBER, org="LJ01"),
        "liu": service.user(sub=f"pm-b-{tag}", role=Role.MEMBER, org="LJ01"),
        "zhao": service.user(sub=f"vol-{tag}", role=Role.MEMBER, org="LJ01"),
        "admin": service.user(sub="admin", role=Role.ADMIN, org=""),
    }


def _body(name: str, phone: str, id_number: str, **more: Any) -> dict[str, Any]:
    return {
        "name": name,
        "phone": phone,
        "id_number": id_number,
        "skills": ["急救", "理发"],
        "service_types": ["NC-ELDER"],
        "availability": "周末上午",
        "channel": "online",
        **more,
    }


def _post(user: ApiUser, path: str, body: dict[str, Any] | None = None) -> Any:
    return user.call("cobuild", "POST", f"/v1/cobuild{path}", json=body or {})


def test_units_and_members_report_are_placed_and_hold_posts(
    cobuild: RunningService, bus: Bus, servers: Servers
) -> None:
    u = _people(cobuild)
    # 单位报到: a paired community only; the receipt at once; asked again, the same receipt
    assert _post(u["hosp"], "/units/U-LJ-HOSP/reports", {"community_code": "WH01"}).status_code == 422
    assert _post(u["school"], "/units/U-LJ-HOSP/reports", {"community_code": "LJ01"}).status_code == 404
    receipt = ok(_post(u["hosp"], "/units/U-LJ-HOSP/reports", {"community_code": "LJ02"}), 201)
    assert re.fullmatch(r"HZ-LJ02-\d{4}-\d{4}", receipt["receipt_number"]) and receipt["street_code"] == "LJ"
    again = ok(_post(u["hosp"], "/units/U-LJ-HOSP/reports", {"community_code": "LJ02"}), 201)
    assert again["receipt_number"] == receipt["receipt_number"]
    count = u["hosp"].call("cobuild", "PUT", "/v1/cobuild/units/U-LJ-HOSP/headcount", json={"party_members": 42})
    assert ok(count)["party_members"] == 42
    reports = ok(u["hosp"].call("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/reports"))
    assert reports["headcount"]["party_members"] == 42 and reports["paired_communities"] == ["LJ01", "LJ02"]

    # 个人报到: a bad identity number, an unknown unit or service type changes nothing
    bad = _post(u["zhang"], "/members", _body("张明测", "13800001111", "110105194912310021"))
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_id_number")
    bad = _post(u["zhang"], "/members", _body("张明测", "13800001111", ID_ZHANG, party_member=True, unit_code="U-NO"))
    assert bad.json()["error"]["code"] == "unknown_unit"
    assert u["zhang"].call("cobuild", "GET", "/v1/cobuild/members/me").status_code == 404
    zhang = ok(
        _post(
            u["zhang"], "/members", _body("张明测", "13800001111", ID_ZHANG, party_member=True, unit_code="U-LJ-HOSP")
        ),
        201,
    )
    assert (zhang["status"], zhang["name"], zhang["id_tail"]) == ("pending", "张明测", "002X")
    twice = _post(u["zhang"], "/members", _body("张明测", "13800001111", ID_ZHANG))
    assert (twice.status_code, twice.json()["error"]["code"]) == (409, "already_registered")
    liu = ok(
        _post(u["liu"], "/members", _body("刘芳测", "13800002222", ID_LIU, party_member=True, unit_code="U-LJ-HOSP")),
        201,
    )
    zhao = ok(_post(u["zhao"], "/members", _body("赵强测", "13800003333", ID_ZHAO, channel="desk")), 201)

    # the community confirms and places; another community does not see them
    assert _post(u["cw-wh"], f"/members/{zhang['id']}/confirm").status_code == 404
    assert _post(u["zhang"], f"/members/{zhang['id']}/confirm").status_code == 403
    assert _post(u["cw"], f"/members/{zhang['id']}/place", {"grid_code": "LJ01-G1", "squad": "一队"}).status_code == 409
    for m in (zhang, liu, zhao):
        assert ok(_post(u["cw"], f"/members/{m['id']}/confirm"))["status"] == "reported"
    wrong_grid = _post(u["cw"], f"/members/{zhang['id']}/place", {"grid_code": "WH01-G1", "squad": "一队"})
    assert wrong_grid.json()["error"]["code"] == "grid_not_in_community"
    placed = ok(_post(u["cw"], f"/members/{zhang['id']}/place", {"grid_code": "LJ01-G1", "squad": "一队"}))
    assert (placed["status"], placed["post_note"]) == ("active", "未认领岗位")

    # posts: published in the community's grid; claimed within headcount, once; never the last one released
    post = {
        "grid_code": "LJ01-G1",
        "category": "安全宣传",
        "title": "楼道安全巡查",
        "duties": "每周巡查消防通道",
        "headcount": 2,
    }
    assert _post(u["cw"], "/posts", {**post, "grid_code": "WH01-G1"}).status_code == 422
    assert _post(u["cw"], "/posts", {**post, "category": "巡逻"}).status_code == 422
    patrol = ok(_post(u["cw"], "/posts", post), 201)
    legal = ok(_post(u["cw"], "/posts", {**post, "category": "法律咨询", "title": "法律咨询岗", "headcount": 1}), 201)
    assert _post(u["cw-wh"], f"/posts/{patrol['id']}/claim").status_code == 403  # a worker does not claim
    assert ok(_post(u["zhang"], f"/posts/{patrol['id']}/claim"))["holders"] == [zhang["id"]]
    assert _post(u["zhang"], f"/posts/{patrol['id']}/claim").json()["error"]["code"] == "already_claimed"
    ok(_post(u["liu"], f"/posts/{patrol['id']}/claim"))  # reported members may claim too
    full = _post(u["zhao"], f"/posts/{patrol['id']}/claim")
    assert (full.status_code, full.json()["error"]["code"]) == (409, "post_full")
    last = _post(u["zhang"], f"/posts/{patrol['id']}/release")
    assert (last.status_code, last.json()["error"]["code"]) == (409, "last_post")
    ok(_post(u["zhang"], f"/posts/{legal['id']}/claim"))
    assert ok(_post(u["zhang"], f"/posts/{patrol['id']}/release"))["holders"] == [liu["id"]]
    me = ok(u["zhang"].call("cobuild", "GET", "/v1/cobuild/members/me"))
    assert (me["posts"], me["post_note"]) == ([legal["id"]], None)
    ok(_post(u["cw"], f"/posts/{legal['id']}/close"))
    assert _post(u["zhao"], f"/posts/{legal['id']}/claim").json()["error"]["code"] == "post_closed"
    listed = ok(u["zhang"].call("cobuild", "GET", "/v1/cobuild/posts?status=open"))
    assert patrol["id"] in [p["id"] for p in listed["items"]] and legal["id"] not in [p["id"] for p in listed["items"]]

    # who sees whose name: the unit its own staff, the community worker its community's, nobody else
    staff = ok(u["hosp"].call("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/members"))["items"]
    assert {m["name"] for m in staff if m["id"] in (zhang["id"], liu["id"])} == {"张明测", "刘芳测"}
    assert zhao["id"] not in [m["id"] for m in staff]
    assert u["school"].call("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/members").status_code == 404
    desk = ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/members?status=reported"))["items"]
    assert {m["id"] for m in desk} >= {liu["id"], zhao["id"]} and zhang["id"] not in {m["id"] for m in desk}
    assert ok(u["cw-wh"].call("cobuild", "GET", "/v1/cobuild/members"))["items"] == [] or all(
        m["community_code"] == "WH01" for m in ok(u["cw-wh"].call("cobuild", "GET", "/v1/cobuild/members"))["items"]
    )
    assert u["zhang"].call("cobuild", "GET", f"/v1/cobuild/members/{liu['id']}").status_code == 404

    # return, deactivate; a person who left registers again
    assert _post(u["zhang"], f"/members/{zhang['id']}/return").status_code == 200
    assert ok(_post(u["zhang"], f"/posts/{patrol['id']}/claim"))["holders"] == [liu["id"], zhang["id"]]
    ok(_post(u["cw"], f"/members/{zhang['id']}/transfer", {"to_community_code": "LJ02"}))
    posts_now = ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/posts?status=open&limit=200"))["items"]
    assert next(p for p in posts_now if p["id"] == patrol["id"])["holders"] == [liu["id"]]  # the place freed
    ok(_post(u["cw"], f"/members/{zhao['id']}/deactivate", {"reason": "搬离本社区"}))
    again_zhao = ok(_post(u["zhao"], "/members", _body("赵强测", "13800003333", ID_ZHAO)), 201)
    assert again_zhao["id"] != zhao["id"] and again_zhao["status"] == "pending"

    # privacy: export names the person; erase keeps the id, drops the name, announces it
    assert u["cw"].call("cobuild", "GET", f"/v1/cobuild/members/{liu['id']}/export").status_code == 403
    export = ok(u["admin"].call("cobuild", "GET", f"/v1/cobuild/members/{liu['id']}/export"))
    assert export["private"]["name"] == "刘芳测" and export["posts"] == [patrol["id"]]
    assert ID_LIU not in str(export) and export["private"]["id_tail"] == "0014"
    erased = ok(_post(u["admin"], f"/members/{liu['id']}/erase"))
    assert erased["private"] is None and erased["member"]["erased"] is True and erased["member"]["skills"] == []
    assert ok(u["cw"].call("cobuild", "GET", f"/v1/cobuild/members/{liu['id']}"))["name"] is None
    assert _post(u["admin"], f"/members/{liu['id']}/erase").status_code == 409  # once

    # the command does the same from a shell
    env = {**os.environ, "GRIDLOOP_MONGO_URI": servers.mongo_uri}
    shown = subprocess.run(
        [sys.executable, "-m", "gridloop.cobuild.privacy", "export", zhang["id"]],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=30,
    )
    assert '"name": "张明测"' in shown.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "gridloop.cobuild.privacy", "erase", "M-nobody"], capture_output=True, text=True, env=env
    )
    assert unknown.returncode == 2

    # the topic: keyed by member, unit, post; never a name, a phone or an identity number
    def events() -> list[Envelope]:
        return [Envelope.from_wire(v) for _, v, _ in bus.read(VOLUNTEERING_TOPIC) if v is not None]

    seen = eventually(lambda: (e := events()) and any(x.event_type == "member.erased" for x in e) and e, what="erased")
    raw = b"".join(v or b"" for _, v, _ in bus.read(VOLUNTEERING_TOPIC)).decode()
    assert not [s for s in SECRETS if s in raw]
    keys = {(e.event_type, e.ticket_id) for e in seen}
    assert ("unit.reported", "U-LJ-HOSP") in keys and ("post.published", patrol["id"]) in keys
    assert ("post.claimed", zhang["id"]) in keys and ("member.placed", zhang["id"]) in keys


async def test_the_lapse_job_across_a_year_boundary(servers: Servers) -> None:
    """Missed returns lapse on the set clock; the year's minimum is judged once, for the year just ended."""
    clock = SetClock(datetime(2026, 12, 31, 15, 0, tzinfo=UTC))  # 23:00 on 31 December in the city
    database = await service_database(servers, producer="cobuild", clock=clock)
    await cobuild_store.ensure_indexes(database.db)
    placed = datetime(2026, 3, 1, tzinfo=UTC)

    def member(member_id: str, **more: Any) -> dict[str, Any]:
        return {
            "_id": member_id,
            "sub": member_id,
            "current_sub": member_id,
            "status": "active",
            "community_code": "LJ01",
            "placed_at": placed,
            "last_return_at": clock.value - timedelta(days=10),
            "version": 1,
            **more,
        }

    await database.db[store.MEMBERS].insert_many(
        [
            member("M-busy"),
            member("M-idle"),
            member("M-late", placed_at=datetime(2026, 10, 1, tzinfo=UTC)),
            member("M-away", last_return_at=clock.value - timedelta(days=184)),
        ]
    )

    def record(member_id: str, minutes: int, day: Any) -> dict[str, Any]:
        # one record per activity and member, as the activities area keeps them
        return {
            "_id": new_id(),
            "activity_id": new_id(),
            "member_id": member_id,
            "status": "approved",
            "minutes": minutes,
            "service_date": day,
        }

    await database.db[store.RECORDS].insert_many(
        [
            record("M-busy", 300, "2026-05-02"),
            record("M-busy", 240, datetime(2026, 12, 31, 15, 30, tzinfo=UTC)),
            record("M-idle", 600, "2026-06-01"),
            record("M-idle", 60, "2027-01-01"),
        ]
    )
    await database.transaction(lambda uow: store.mark_judged(uow.db, 2025, uow.now, uow.session))
    assert await jobs.watch_members(database=database, rules=Rules()) == 1  # only the missed return, in 2026
    clock.value = datetime(2026, 12, 31, 16, 0, 1, tzinfo=UTC)  # the city's new year
    assert await jobs.watch_members(database=database, rules=Rules()) == 1  # M-idle: one service in 2026
    assert await jobs.watch_members(database=database, rules=Rules()) == 0  # judged once
    clock.value += timedelta(days=400)  # a year later the job still runs: the next year is judged
    statuses = {d["_id"]: (d["status"], d.get("lapsed_reason")) async for d in database.db[store.MEMBERS].find()}
    assert statuses == {
        "M-busy": ("active", None),
        "M-idle": ("lapsed", "below_minimum"),
        "M-late": ("active", None),
        "M-away": ("lapsed", "missed_return"),
    }
    assert await jobs.watch_members(database=database, rules=Rules()) == 2  # M-busy and M-late: nothing in 2027
    rows = await database.db[OUTBOX].find({"topic": VOLUNTEERING_TOPIC}).to_list(None)
    assert sorted((r["key"], r["event_type"]) for r in rows)[:2] == [
        ("M-away", "member.lapsed"),
        ("M-busy", "member.lapsed"),
    ]
