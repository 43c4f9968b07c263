"""共建 (the 三单制 loop) end to end on the shared stack, through HTTP only, in 柳岸社区 (LJ03), a
community no other test collects needs in: one round from collection to rated and evaluated
projects whose every indicator supervision shows must equal what the test works out from what it
did; the two conversions through intake, dispatch, handling and feedback; the beneficiary's
identity and the household's words found nowhere on the topics, in the logs, on the wall or in
the lists; and bad input refused with nothing changed."""

import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gridloop.shared.events import NEEDS_TOPIC, TICKETS_TOPIC, Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import Stack
from gridloop.stack.testing import Bus, eventually

pytestmark = pytest.mark.e2e

COMMUNITY = "LJ03"  # 柳岸社区: paired with 国网临江供电所 (U-LJ-POWER), as LJ02 is
STREET = "LJ"
G1, G2, G3 = "LJ03-G1", "LJ03-G2", "LJ03-G3"
POWER = "U-LJ-POWER"
HOSPITAL = "U-LJ-HOSP"  # paired with LJ01 and LJ02 only
SW_CATEGORY = "BJ-0102"  # 污水井盖: the demo rules send it to 水务 (SW)
UNROUTED_CATEGORY = "SJ-0701"  # 群租房: no rule, it waits in the street's queue

PRIVATE: list[str] = []
"""Every beneficiary's name, phone and address and every household's own words the tests filed:
none may leave cobuild (test_no_beneficiary_or_household_words_leave_cobuild)."""


def token() -> str:
    return secrets.token_hex(4).upper()


def household(tag: str) -> dict[str, Any]:
    """A beneficiary and the household's own words, each distinctive and remembered as private."""
    mark = token()
    person = {
        "name": f"柏{mark}",
        "phone": f"139{secrets.randbelow(10**8):08d}",
        "address": f"柳岸新村{secrets.randbelow(900) + 100}幢{mark}室",
    }
    words = f"{tag}：家里情况特殊，暗记{mark}{token()}，请尽快帮忙"
    PRIVATE.extend([person["name"], person["phone"], person["address"], words])
    return {"beneficiary": person, "description": words}


@dataclass
class People:
    worker: ApiUser  # 社区工作者 of LJ03
    resident: ApiUser
    neighbour: ApiUser  # another resident of LJ03
    grid_worker: ApiUser
    desk: ApiUser  # 临江街道 desk
    power: ApiUser  # 国网临江供电所's liaison
    hospital: ApiUser  # 区人民医院's liaison (not paired with LJ03)
    water: ApiUser  # 水务's department agent
    chief: ApiUser  # district supervisor

    def all(self) -> list[ApiUser]:
        return list(vars(self).values())


@pytest.fixture
def people(urls: dict[str, str]) -> Iterator[People]:
    found = People(
        worker=ApiUser(
            urls=urls, sub="cw-lj03-round", role=Role.COMMUNITY_WORKER, org=COMMUNITY, name="柳岸社区工作者"
        ),
        resident=ApiUser(urls=urls, sub="res-lj03-round", role=Role.RESIDENT, org=COMMUNITY, name="柳岸居民"),
        neighbour=ApiUser(urls=urls, sub="res-lj03-round-b", role=Role.RESIDENT, org=COMMUNITY, name="柳岸邻居"),
        grid_worker=ApiUser(urls=urls, sub="gw-lj03-round", role=Role.GRID_WORKER, org=COMMUNITY, name="柳岸网格员"),
        desk=ApiUser(urls=urls, sub="sd-lj-round", role=Role.STREET_DISPATCHER, org=STREET),
        power=ApiUser(urls=urls, sub="ua-power-round", role=Role.UNIT_ADMIN, org=POWER),
        hospital=ApiUser(urls=urls, sub="ua-hosp-round", role=Role.UNIT_ADMIN, org=HOSPITAL),
        water=ApiUser(urls=urls, sub="agent-sw-round", role=Role.DEPARTMENT_AGENT, org="SW"),
        chief=ApiUser(urls=urls, sub="sup-qh-round", role=Role.SUPERVISOR, org="QH"),
    )
    yield found
    for user in found.all():
        user.close()


def submit(user: ApiUser, *, kind: str, category: str, grid: str, tag: str, named: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": kind, "category_code": category, "grid_code": grid}
    private = household(tag)
    body["description"] = private["description"]
    if named:
        body["beneficiary"] = private["beneficiary"]
    need: dict[str, Any] = user.ok("cobuild", "POST", "/v1/cobuild/needs", json=body)
    assert need["status"] == "submitted" and need["community_code"] == COMMUNITY
    return need


def act(user: ApiUser, need: dict[str, Any], action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    done: dict[str, Any] = user.ok("cobuild", "POST", f"/v1/cobuild/needs/{need['id']}/{action}", json=body or {})
    return done


def project_step(user: ApiUser, project: dict[str, Any], action: str, body: dict[str, Any] | None = None) -> Any:
    return user.ok("cobuild", "POST", f"/v1/cobuild/projects/{project['id']}/{action}", json=body or {})


def offer(user: ApiUser, *, kind: str, title: str, categories: list[str], grid: str, capacity: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "kind": kind,
        "title": title,
        "description": f"{title}，面向柳岸社区",
        "category_codes": categories,
        "capacity": capacity,
        "grid_code": grid,
        "community_codes": [COMMUNITY],
        "available_from": (now - timedelta(hours=1)).isoformat(),
        "available_until": (now + timedelta(days=60)).isoformat(),
    }
    made: dict[str, Any] = user.ok("cobuild", "POST", "/v1/cobuild/offers", json=body)
    assert made["status"] == "submitted"
    return made


# ---- the ground truth: what the test did, counted by the definitions of docs/metrics.md ----------------


@dataclass
class NeedTruth:
    grid: str
    offered: bool = False
    claimed: bool = False
    exit: str | None = None  # converted, rejected, withdrawn, merged
    done: bool = False
    on_time: bool = False
    rating: str | None = None


@dataclass
class Truth:
    needs: dict[str, NeedTruth] = field(default_factory=dict)
    offers: dict[str, tuple[str, bool, bool]] = field(default_factory=dict)  # grid, accepted, used
    projects: dict[str, tuple[str, bool, int | None]] = field(default_factory=dict)  # grid, approved, beneficiaries

    def figures(self, keep: Callable[[str], bool]) -> dict[str, Any]:
        needs = [n for n in self.needs.values() if keep(n.grid)]
        offers = [(accepted, used) for grid, accepted, used in self.offers.values() if keep(grid) and accepted]
        projects = [(approved, b) for grid, approved, b in self.projects.values() if keep(grid) and approved]
        exits = {e: sum(n.exit == e for n in needs) for e in ("converted", "rejected", "withdrawn", "merged")}
        done = [n for n in needs if n.done]
        rated = [n.rating for n in needs if n.rating]
        c: dict[str, Any] = {
            "needs_collected": len(needs),
            "needs_offered": sum(n.offered for n in needs),
            "needs_claimed": sum(n.claimed for n in needs),
            **{f"needs_{e}": count for e, count in exits.items()},
            "needs_fulfilment_base": len(needs) - sum(exits.values()),
            "needs_done": len(done),
            "needs_done_on_time": sum(n.on_time for n in done),
            "needs_rated": len(rated),
            "needs_satisfied": rated.count("satisfied"),
            "needs_basically_satisfied": rated.count("basically_satisfied"),
            "needs_unsatisfied": rated.count("unsatisfied"),
            "offers_accepted": len(offers),
            "offers_used": sum(used for _, used in offers),
            "projects_approved": len(projects),
            "projects_completed": sum(b is not None for _, b in projects),
            "beneficiaries_from_projects": sum(b or 0 for _, b in projects),
            "beneficiaries_from_needs": len(done),
            "hotspots_solved": 0,
        }
        c["beneficiaries"] = c["beneficiaries_from_projects"] + c["beneficiaries_from_needs"]

        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        c |= {
            "claim_rate": rate(c["needs_claimed"], c["needs_offered"]),
            "fulfilment_rate": rate(c["needs_done"], c["needs_fulfilment_base"]),
            "on_time_rate": rate(c["needs_done_on_time"], c["needs_done"]),
            "conversion_rate": rate(c["needs_converted"], c["needs_collected"]),
            "satisfaction_rate": rate(c["needs_satisfied"] + c["needs_basically_satisfied"], len(rated)),
            "offer_use_rate": rate(c["offers_used"], c["offers_accepted"]),
            "project_completion_rate": rate(c["projects_completed"], c["projects_approved"]),
        }
        return c


def indicators(reader: ApiUser, unit: str, code: str, start: datetime) -> dict[str, Any] | None:
    window = {"code": code, "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
    items = reader.ok("supervision", "GET", f"/v1/supervision/cobuild/{unit}", params=window)["items"]
    found: dict[str, Any] | None = next((i for i in items if i["code"] == code), None)
    return found


def settle(reader: ApiUser, unit: str, code: str, start: datetime, expected: dict[str, Any]) -> None:
    """Supervision's figures for the unit reach what the test expects (they follow the topic)."""
    last: dict[str, Any] = {}

    def probe() -> bool:
        nonlocal last
        last = indicators(reader, unit, code, start) or {}
        return {k: last.get(k) for k in expected} == expected

    try:
        eventually(probe, timeout=20, interval=0.3, what=f"{unit} {code} figures")
    except AssertionError:
        assert {k: last.get(k) for k in expected} == expected, (start, last)  # shows which figures differ
    assert set(last) - {"code", "name"} == set(expected)  # every indicator supervision shows is checked


def wall_ids(reader: ApiUser) -> set[str]:
    items = reader.ok("cobuild", "GET", "/v1/cobuild/wall", params={"community": COMMUNITY, "limit": 200})["items"]
    return {i["id"] for i in items}


# ---- 1. one round ---------------------------------------------------------------------------------------


def test_one_round_from_collection_to_rated_projects_counts_exactly_what_happened(people: People) -> None:
    p = people
    start = datetime.now(UTC)
    truth = Truth()

    # Collection from every source: the resident's app, a grid worker's visit, the hotline, the wish wall.
    wish = submit(p.resident, kind="wish", category="NC-ELDER", grid=G1, tag="想要助行器", named=False)
    assert wish["source"] == "app"
    visit = submit(p.grid_worker, kind="service", category="NC-REPAIR", grid=G1, tag="走访：电路老化")
    assert visit["source"] == "visit"
    hotline = submit(p.desk, kind="service", category="NC-HEALTH", grid=G2, tag="热线：需要上门体检")
    assert hotline["source"] == "hotline"
    paper = submit(p.worker, kind="wish", category="NC-CHILD", grid=G2, tag="心愿墙：想要一套课外书")
    assert paper["source"] == "wish_wall"
    withdrawn = submit(p.neighbour, kind="service", category="NC-CULTURE", grid=G1, tag="想学太极", named=False)
    open_need = submit(p.worker, kind="service", category="NC-ENV", grid=G1, tag="心愿墙：楼道需要粉刷")
    duplicate = submit(p.worker, kind="service", category="NC-ENV", grid=G1, tag="心愿墙：楼道墙皮脱落")
    converted = submit(p.grid_worker, kind="service", category="NC-REPAIR", grid=G3, tag="走访：井盖松动")
    waiting = submit(p.resident, kind="service", category="NC-LEGAL", grid=G3, tag="想咨询继承问题", named=False)
    for need in (wish, visit, hotline, paper, withdrawn, open_need, duplicate, converted, waiting):
        truth.needs[need["id"]] = NeedTruth(grid=need["grid_code"])
    # the community's desk lists them without the household's words (those are in each need's own page)
    assert all(n["description"] is None for n in p.worker.ok("cobuild", "GET", "/v1/cobuild/needs")["items"])

    # Review: the community writes the public summaries.
    for need, summary in [
        (wish, "独居老人需要一台助行器"),
        (visit, "老旧住宅电路需要检修"),
        (hotline, "行动不便老人需要上门体检"),
        (paper, "困难家庭孩子需要课外读物"),
        (open_need, "老楼楼道需要粉刷"),
        (duplicate, "老楼楼道墙面修补"),
        (converted, "小区道路井盖松动"),
        (waiting, "居民需要遗产继承法律咨询"),
    ]:
        assert act(p.worker, need, "review", {"summary": summary})["summary"] == summary

    # A rejection (with the reason the submitter reads), a withdrawal, a merge, a conversion.
    rejected = act(p.worker, paper, "reject", {"reason": "已由学校统一发放，不再重复受理"})
    assert rejected["status"] == "rejected" and rejected["reject_reason"].startswith("已由学校")
    truth.needs[paper["id"]].exit = "rejected"
    assert act(p.neighbour, withdrawn, "withdraw", {"reason": "已报名社区老年大学"})["status"] == "withdrawn"
    truth.needs[withdrawn["id"]].exit = "withdrawn"
    merged = act(p.worker, duplicate, "merge", {"into": open_need["id"]})
    assert merged["status"] == "merged" and merged["merged_into"] == open_need["id"]
    truth.needs[duplicate["id"]].exit = "merged"
    turned = act(
        p.worker,
        converted,
        "convert",
        {
            "ticket_category_code": SW_CATEGORY,
            "description": "柳岸社区3号路口井盖松动，车辆通过有响声",
            "address": "柳岸路3号路口",
        },
    )
    assert turned["status"] == "converted"
    truth.needs[converted["id"]].exit = "converted"

    # Publish (open claiming) and assign (派单).
    for need in (wish, hotline, open_need):
        published = act(p.worker, need, "publish")
        assert published["status"] == "published" and published["claim_deadline"]
        truth.needs[need["id"]].offered = True
    assert {wish["id"], hotline["id"], open_need["id"]} <= wall_ids(p.power)
    assert not {waiting["id"], paper["id"], visit["id"]} & wall_ids(p.power)
    assert act(p.worker, visit, "assign", {"unit_code": POWER})["status"] == "assigned"
    truth.needs[visit["id"]].offered = True

    # The wish: claimed from the wall, the household contacted, delivered, confirmed and rated by the resident.
    claimed = act(p.power, wish, "claim", {"group": False})
    assert claimed["status"] == "claimed" and claimed["contact_deadline"]
    assert claimed["description"] is not None  # a claimant serves the household
    assert wish["id"] not in wall_ids(p.power)
    truth.needs[wish["id"]].claimed = True
    assert act(p.power, wish, "contact", {"note": "已电话联系，约定周六送达"})["status"] == "in_service"
    assert act(p.power, wish, "deliver", {"note": "助行器已送到家中"})["status"] == "delivered"
    assert act(p.resident, wish, "confirm")["status"] == "done"
    rated = act(p.resident, wish, "rate", {"rating": "satisfied", "comment": "谢谢供电所"})
    assert rated["rating"] == "satisfied" and rated["on_time"] is True
    truth.needs[wish["id"]] = NeedTruth(G1, offered=True, claimed=True, done=True, on_time=True, rating="satisfied")

    # The visit's need: the assigned unit accepts (接单), serves, and the community confirms and rates.
    assert act(p.power, visit, "accept-assignment")["status"] == "claimed"
    act(p.power, visit, "contact", {"note": "已上门查看线路"})
    act(p.power, visit, "deliver", {"note": "更换了老化电线和空开"})
    act(p.worker, visit, "confirm")
    assert act(p.worker, visit, "rate", {"rating": "basically_satisfied"})["rating"] == "basically_satisfied"
    truth.needs[visit["id"]] = NeedTruth(
        G1, offered=True, claimed=True, done=True, on_time=True, rating="basically_satisfied"
    )

    # The hotline's need: claimed, released with the community's approval, claimed again, served.
    act(p.power, hotline, "claim", {"group": False})
    asked = act(p.power, hotline, "request-release", {"reason": "医务人员本周不足，无法按时上门"})
    assert asked["release_request"]["reason"].startswith("医务人员")
    released = act(p.worker, hotline, "approve-release")
    assert released["status"] == "published" and released["claimants"] == []
    assert hotline["id"] in wall_ids(p.power)
    act(p.power, hotline, "claim", {"group": False})
    act(p.power, hotline, "contact", {"note": "已联系家属"})
    act(p.power, hotline, "deliver", {"note": "已上门完成体检"})
    act(p.worker, hotline, "confirm")
    act(p.worker, hotline, "rate", {"rating": "unsatisfied", "comment": "等待时间较长"})
    truth.needs[hotline["id"]] = NeedTruth(
        G2, offered=True, claimed=True, done=True, on_time=True, rating="unsatisfied"
    )

    # Offers: two accepted (one used by a project, one not), one declined.
    painting = offer(
        p.power, kind="service", title="党员志愿粉刷队", categories=["NC-ENV", "NC-REPAIR"], grid=G1, capacity=5
    )
    goods = offer(p.power, kind="goods", title="爱心助老物资", categories=["NC-ELDER"], grid=G1, capacity=10)
    hall = offer(p.power, kind="venue", title="供电所活动室", categories=["NC-CULTURE"], grid=G2, capacity=20)
    assert (
        p.worker.ok("cobuild", "POST", f"/v1/cobuild/offers/{painting['id']}/accept", json={})["status"] == "accepted"
    )
    assert p.worker.ok("cobuild", "POST", f"/v1/cobuild/offers/{hall['id']}/accept", json={})["status"] == "accepted"
    declined = p.worker.ok(
        "cobuild", "POST", f"/v1/cobuild/offers/{goods['id']}/decline", json={"reason": "本月助老物资已足够"}
    )
    assert declined["status"] == "declined"
    truth.offers = {painting["id"]: (G1, True, False), hall["id"]: (G2, True, False), goods["id"]: (G1, False, False)}

    # Matching: the painting team for the open stairwell need, in the same grid; the legal question unmatched.
    found = p.worker.ok("cobuild", "GET", "/v1/cobuild/matches", params={"community": COMMUNITY})
    pair = next(m for m in found["matches"] if m["need_id"] == open_need["id"])
    assert pair["offer_id"] == painting["id"] and "同一网格" in pair["reasons"]
    unmatched = next(u for u in found["unmatched"] if u["need_id"] == waiting["id"])
    assert unmatched["reason"] == "无同类资源"

    # A project from the match: proposed → approved → in progress → completed → rated → evaluated.
    planned_end = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    project = p.worker.ok(
        "cobuild",
        "POST",
        "/v1/cobuild/projects",
        json={
            "title": "柳岸老楼楼道焕新",
            "summary": "供电所党员志愿队粉刷老楼楼道",
            "category_code": "NC-ENV",
            "grid_code": G1,
            "need_ids": [open_need["id"]],
            "offer_ids": [painting["id"]],
            "unit_codes": [POWER],
            "planned_end": planned_end,
        },
    )
    assert project["status"] == "proposed" and project["unit_codes"] == [POWER]
    truth.offers[painting["id"]] = (G1, True, True)
    assert project_step(p.desk, project, "approve", {"comment": "同意实施"})["status"] == "approved"
    assert project_step(p.worker, project, "start")["status"] == "in_progress"
    assert project_step(p.power, project, "progress", {"percent": 50, "milestone": "1-3号楼完成"})["percent"] == 50
    completed = project_step(p.power, project, "complete", {"report": "6栋楼道全部粉刷完成", "beneficiaries": 120})
    assert completed["status"] == "completed" and completed["beneficiaries"] == 120
    project_step(p.resident, project, "rate", {"rating": "satisfied", "comment": "楼道亮堂了"})
    again = p.resident.call(
        "cobuild", "POST", f"/v1/cobuild/projects/{project['id']}/rate", json={"rating": "satisfied"}
    )
    assert again.status_code == 409
    recorded = project_step(p.worker, project, "rate", {"rating": "basically_satisfied", "comment": "居民会议代录"})
    assert [r["recorded_by_community"] for r in recorded["ratings"]] == [False, True]
    evaluated = project_step(p.desk, project, "evaluate", {"grade": "good", "comment": "效果良好"})
    assert evaluated["status"] == "evaluated" and evaluated["evaluation"]["grade_label"] == "良好"
    truth.projects[project["id"]] = (G1, True, 120)

    # A second project, approved and then cancelled: it stays in the completion rate's base.
    second = p.worker.ok(
        "cobuild",
        "POST",
        "/v1/cobuild/projects",
        json={
            "title": "柳岸文体角",
            "summary": "在二网格建设居民文体角",
            "category_code": "NC-CULTURE",
            "grid_code": G2,
            "planned_end": planned_end,
        },
    )
    project_step(p.desk, second, "approve")
    assert project_step(p.worker, second, "cancel", {"reason": "场地另作他用"})["status"] == "cancelled"
    truth.projects[second["id"]] = (G2, True, None)

    # The conversion is linked to its ticket once intake has filed it.
    eventually(
        lambda: p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{converted['id']}")["ticket_number"],
        what="the converted need linked to its ticket",
    )

    # Every indicator of the community and of each of its grids, against the test's own count.
    expected = truth.figures(lambda _: True)
    settle(p.worker, "communities", COMMUNITY, start, expected)
    window = {"from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
    board = p.worker.ok("supervision", "GET", "/v1/supervision/cobuild/board", params=window)
    assert board["street"] == STREET and [row["code"] for row in board["items"]] == [COMMUNITY]
    row = board["items"][0]
    assert row["insufficient"] is False and {k: row[k] for k in expected} == expected  # 9 needs: above 5
    for grid in (G1, G2, G3):
        settle(p.chief, "grids", grid, start, truth.figures(grid.__eq__))


# ---- 2. the two conversions --------------------------------------------------------------------------------


def test_a_need_becomes_a_ticket_and_a_ticket_becomes_a_need(people: People, stack: Stack) -> None:
    p = people
    start = datetime.now(UTC)
    bus = Bus(stack.servers.kafka_bootstrap if stack.servers else "")

    # need → ticket: the community converts, intake files it, the rules send it to 水务.
    need = submit(p.grid_worker, kind="service", category="NC-REPAIR", grid=G3, tag="走访：下水井盖缺失")
    act(p.worker, need, "review", {"summary": "小区下水井盖缺失"})
    act(
        p.worker,
        need,
        "convert",
        {
            "ticket_category_code": SW_CATEGORY,
            "description": "柳岸社区北门下水井盖缺失，存在安全隐患",
            "address": "柳岸路北门",
        },
    )

    def linked() -> dict[str, Any] | None:
        shown: dict[str, Any] = p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}")
        return shown if shown["ticket_id"] else None

    shown = linked() or eventually(linked, what="the need linked to the ticket intake filed")
    ticket_id = shown["ticket_id"]
    reported = bus.wait_for(ticket_id, "ticket.reported")[0]
    assert reported.payload.origin_need_id == need["id"]  # type: ignore[attr-defined]
    assert reported.actor.sub == p.worker.sub and reported.payload.grid_code == G3  # type: ignore[attr-defined]

    def order() -> dict[str, Any] | None:
        items = p.water.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
        return next((o for o in items if o["ticket_id"] == ticket_id and o["status"] == "dispatched"), None)

    eventually(order, what="the ticket in 水务's inbox")
    p.water.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    p.water.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已补装井盖", "photos": []})

    # A community worker's report is checked by the community's grid workers (feedback's verifier rule).
    def task() -> bool:
        pending = p.grid_worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
        return any(v["ticket_id"] == ticket_id for v in pending)

    eventually(task, what="the verification task of the community's grid worker")
    p.grid_worker.ok("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True, "comment": "已补装"})
    p.grid_worker.ok("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "satisfied"})

    def rated() -> dict[str, Any] | None:
        shown: dict[str, Any] = p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}")
        return shown if shown["rating"] else None

    final = eventually(rated, what="the ticket's rating on the need")
    assert final["rating"] == "satisfied" and final["status"] == "converted"
    assert "rate" not in final["allowed_actions"]
    again = p.worker.call("cobuild", "POST", f"/v1/cobuild/needs/{need['id']}/rate", json={"rating": "unsatisfied"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "rated_by_ticket"
    assert p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}")["rating"] == "satisfied"

    # ticket → need: a grid worker's report that is a household's need; the street desk converts it.
    report = p.grid_worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={
            "category_code": UNROUTED_CATEGORY,
            "description": "独居老人家中灯具损坏，无力自行更换",
            "grid_code": G2,
            "address": "柳岸路12号",
        },
    )
    reported_id = report["ticket_id"]

    def cancelled() -> dict[str, Any] | None:
        response = p.desk.call(
            "dispatch",
            "POST",
            f"/v1/dispatch/tickets/{reported_id}/cancel",
            json={"reason": "converted_to_need", "comment": "属居民生活需求，转社区"},
        )
        return response.json() if response.status_code == 200 else None

    eventually(cancelled, what="the street desk cancels the queued ticket as a need")

    def taken() -> dict[str, Any] | None:
        items = p.worker.ok("cobuild", "GET", "/v1/cobuild/needs", params={"community": COMMUNITY})["items"]
        return next((n for n in items if n["origin_ticket_id"] == reported_id and n["ticket_number"]), None)

    from_ticket = eventually(taken, what="the need made of the ticket in the community's desk")
    assert from_ticket["source"] == "ticket" and from_ticket["kind"] == "service"
    assert from_ticket["status"] == "submitted" and from_ticket["grid_code"] == G2
    assert from_ticket["category_code"] == "NC-REPAIR" and from_ticket["ticket_number"] == report["ticket_number"]
    one = p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{from_ticket['id']}")
    assert one["description"] == "独居老人家中灯具损坏，无力自行更换"

    # Both count: two needs collected, one converted and rated by its ticket.
    truth = Truth(
        needs={
            need["id"]: NeedTruth(G3, exit="converted", rating="satisfied"),
            from_ticket["id"]: NeedTruth(G2),
        }
    )
    settle(p.worker, "communities", COMMUNITY, start, truth.figures(lambda _: True))


# ---- 4. bad input --------------------------------------------------------------------------------------


def test_bad_input_is_refused_clearly_and_changes_nothing(people: People) -> None:
    p = people
    need = submit(p.grid_worker, kind="wish", category="NC-ELDER", grid=G1, tag="走访：想要一台收音机")
    act(p.worker, need, "review", {"summary": "独居老人想要一台收音机"})

    def state() -> tuple[Any, ...]:
        one = p.worker.ok("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}")
        listed = p.worker.ok("cobuild", "GET", "/v1/cobuild/needs", params={"community": COMMUNITY, "limit": 200})
        return (
            one["status"],
            one["summary"],
            one["updated_at"],
            one["claimants"],
            sorted((n["id"], n["status"], n["updated_at"]) for n in listed["items"]),
        )

    before = state()
    unlisted = household("走访：电话写错的心愿")
    url = f"/v1/cobuild/needs/{need['id']}"
    refusals: list[tuple[ApiUser, str, str, dict[str, Any], int, str | None]] = [
        # a summary too short, a category that does not exist, a unit not paired with the community
        (p.worker, "POST", f"{url}/review", {"summary": "x"}, 422, None),
        (p.worker, "POST", f"{url}/assign", {"unit_code": HOSPITAL}, 422, "unit_not_paired"),
        (
            p.worker,
            "POST",
            f"{url}/convert",
            {"ticket_category_code": "XX-9999", "description": "无此类别的转办", "address": "柳岸路"},
            422,
            "unknown_category",
        ),
        # the wrong state: rated before it is done, delivered before it is claimed, reviewed twice
        (p.worker, "POST", f"{url}/rate", {"rating": "satisfied"}, 409, "transition_not_allowed"),
        (p.worker, "POST", f"{url}/review", {"summary": "再次审核同一需求"}, 409, "transition_not_allowed"),
        # not theirs: a unit not paired with LJ03 neither sees nor claims it, a stranger does not withdraw it,
        # and the grid worker who filed it does not publish it
        (p.hospital, "POST", f"{url}/claim", {"group": False}, 404, None),
        (p.resident, "POST", f"{url}/withdraw", {"reason": "不是我提交的"}, 404, None),
        (p.grid_worker, "POST", f"{url}/publish", {}, 403, "forbidden"),  # its submitter, not its community
        # an unknown field, a new need in another community's grid, an unknown need category
        (p.worker, "POST", f"{url}/publish", {"now": True}, 422, None),
        (
            p.resident,
            "POST",
            "/v1/cobuild/needs",
            {"kind": "wish", "category_code": "NC-ELDER", "description": "别的社区的心愿", "grid_code": "LJ01-G1"},
            403,
            "outside_your_area",
        ),
        (
            p.resident,
            "POST",
            "/v1/cobuild/needs",
            {"kind": "wish", "category_code": "NC-NOPE", "description": "不存在的类别", "grid_code": G1},
            422,
            None,
        ),
        # a phone that is no number (its name, address and words must not reach a log either), a
        # wish the grid worker files for nobody
        (
            p.grid_worker,
            "POST",
            "/v1/cobuild/needs",
            {
                "kind": "wish",
                "category_code": "NC-ELDER",
                "grid_code": G1,
                "description": unlisted["description"],
                "beneficiary": {**unlisted["beneficiary"], "phone": "请打座机"},
            },
            422,
            "validation_error",
        ),
        (
            p.grid_worker,
            "POST",
            "/v1/cobuild/needs",
            {"kind": "wish", "category_code": "NC-ELDER", "grid_code": G1, "description": "走访：想要一个台灯"},
            422,
            None,
        ),
    ]
    for user, method, path, body, status, code in refusals:
        response = user.call("cobuild", method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        error = response.json()["error"]
        assert error["message"], response.text
        if code:
            assert error["code"] == code, response.text
        assert state() == before, (path, body)


# ---- 3. nothing private leaves cobuild -------------------------------------------------------------------


def readable(raw: bytes) -> str:
    """The text of a message or a log line as a reader would search it: JSON's escaped characters
    unescaped (a value written with ensure_ascii hides Chinese behind \\uXXXX)."""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, value) for where, text in texts.items() for value in PRIVATE if value in text]


def test_no_beneficiary_or_household_words_leave_cobuild(people: People, stack: Stack) -> None:
    p = people
    # one more need of each kind of submitter, served as far as a claim (its claimant reads the household)
    need = submit(p.desk, kind="wish", category="NC-ELDER", grid=G2, tag="热线：想要一个电饭煲")
    act(p.worker, need, "review", {"summary": "独居老人需要一个电饭煲"})
    act(p.worker, need, "publish")
    act(p.power, need, "claim", {"group": True})
    served = act(p.power, need, "contact", {"note": "已联系服务对象"})
    assert served["beneficiary"]["name"] in PRIVATE  # the claimant sees whom to serve …
    assert p.hospital.call("cobuild", "GET", f"/v1/cobuild/needs/{need['id']}").status_code == 404  # … a stranger not

    # the wall and every list, as each of their readers gets them
    shown: dict[str, str] = {}
    for user in (p.worker, p.resident, p.grid_worker, p.power, p.chief):
        response = user.call("cobuild", "GET", "/v1/cobuild/wall", params={"community": COMMUNITY, "limit": 200})
        if response.status_code == 200:
            shown[f"wall as {user.sub}"] = response.text
    for user in (p.worker, p.resident, p.neighbour, p.grid_worker, p.desk, p.power, p.chief):
        response = user.call("cobuild", "GET", "/v1/cobuild/needs", params={"limit": 200})
        assert response.status_code == 200, response.text
        shown[f"needs as {user.sub}"] = readable(response.content)
    shown["matches"] = readable(p.worker.call("cobuild", "GET", "/v1/cobuild/matches").content)
    assert {"wall as cw-lj03-round", "wall as ua-power-round", "needs as cw-lj03-round"} <= set(shown)
    assert leaks({k: readable(v.encode()) for k, v in shown.items()}) == []

    # every event on both topics, once the last one is out
    assert stack.servers is not None
    bus = Bus(stack.servers.kafka_bootstrap)

    def contacted_out() -> list[str] | None:
        found = [readable(v) for _, v, _ in bus.read(NEEDS_TOPIC) if v and need["id"].encode() in v]
        return found if any('"need.contacted"' in text for text in found) else None

    eventually(contacted_out, what="the last need event on the topic")
    messages: dict[str, str] = {}
    for topic in (NEEDS_TOPIC, TICKETS_TOPIC):
        for n, (key, value, headers) in enumerate(bus.read(topic)):
            parts = [key or b"", value or b"", *(h for _, h in headers)]
            messages[f"{topic}#{n}"] = " ".join(readable(part) for part in parts)
    assert any(need["id"] in text for text in messages.values())
    assert leaks(messages) == []

    # and the stack's log files
    assert stack.config.log_dir is not None
    logs = {
        str(path): "\n".join(readable(line) for line in path.read_bytes().splitlines())
        for path in Path(stack.config.log_dir).rglob("*")
        if path.is_file()
    }
    assert {"cobuild.log", "intake.log", "supervision.log"} <= {Path(where).name for where in logs}
    assert leaks(logs) == []
