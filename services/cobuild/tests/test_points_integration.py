"""The points ledger against the real broker and database: approved records, a verified report and
a member's 微心愿 pay; a record rated 不满意 gives its points back (or never pays); every event
handled twice pays once; the shop redeems inside its window and up to the balance; the ledger
sums to zero; and the expiry job moves old unspent points, first in first out, once."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest

from gridloop.cobuild import store as cobuild_store
from gridloop.cobuild.points import domain, jobs
from gridloop.cobuild.points import store as points_store
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import (
    VOLUNTEERING_TOPIC,
    Actor,
    Envelope,
    NeedDone,
    PointsReason,
    Rating,
    RecordApproved,
    RecordRated,
    Role,
    TicketClosed,
)
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import (
    Bus,
    RunningService,
    SetClock,
    demo_records,
    eventually,
    launch,
    make_event,
    member_registration,
    ok,
    register_member,
    reported,
    service_database,
)

pytestmark = pytest.mark.integration
DB = "gridloop_cobuild"


@pytest.fixture(scope="module")
def cobuild(servers: Servers, service_logs: Path, bus: Bus) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    yield service
    service.process.stop()


def _db(servers: Servers) -> "pymongo.MongoClient[dict[str, Any]]":
    return pymongo.MongoClient(servers.mongo_uri, tz_aware=True)


def _approved(record_id: str, member_id: str, minutes: int, post_id: str | None = None) -> Envelope:
    payload = RecordApproved(
        record_id=record_id,
        activity_id="A-" + record_id,
        member_id=member_id,
        unit_code="U-LJ-HOSP",
        community_code="LJ01",
        grid_code="LJ01-G1",
        street_code="LJ",
        district_code="QH",
        service_date=datetime.now(UTC),
        minutes=minutes,
        post_id=post_id,
    )
    return make_event(payload, ticket_id=member_id)


def _rated(record_id: str, member_id: str, rating: Rating) -> Envelope:
    return make_event(RecordRated(record_id=record_id, member_id=member_id, rating=rating), ticket_id=member_id)


def _moved(bus: Bus, member_id: str) -> list[Envelope]:
    events = [Envelope.from_wire(v) for _, v, _ in bus.read(VOLUNTEERING_TOPIC) if v is not None]
    return [e for e in events if e.event_type == "points.moved" and e.ticket_id == member_id]


def test_earning_reversal_redelivery_and_the_shop(cobuild: RunningService, bus: Bus, servers: Servers) -> None:
    tag = new_id()[-6:]
    a, b = f"M-A{tag}", f"M-B{tag}"
    sub_a, sub_b = f"pm-a{tag}", f"pm-b{tag}"
    with _db(servers) as client:
        register_member(client[DB], sub_a, member_id=a, unit_code="U-LJ-HOSP", name="张明")
        register_member(client[DB], sub_b, member_id=b, unit_code="U-LJ-HOSP", name="刘芳")
    me_a = cobuild.user(sub=sub_a, role=Role.MEMBER, org="LJ01")
    me_b = cobuild.user(sub=sub_b, role=Role.MEMBER, org="LJ01")
    cw = cobuild.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    sup = cobuild.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")

    # a: 150 minutes at a post (2 + 1), delivered twice and re-announced under a new event id
    first = _approved(f"R1{tag}", a, 150, post_id="P-1")
    again = make_event(first.payload, ticket_id=a)
    # b: approved then rated 不满意 (given back); a rating that comes first means the record never pays
    events = [
        first,
        first,
        again,
        _approved(f"R2{tag}", b, 120),
        _rated(f"R2{tag}", b, Rating.UNSATISFIED),
        _rated(f"R2{tag}", b, Rating.UNSATISFIED),
        _rated(f"R3{tag}", b, Rating.UNSATISFIED),
        _approved(f"R3{tag}", b, 240),
        _approved(f"R4{tag}", b, 60),
        _rated(f"R4{tag}", b, Rating.SATISFIED),
    ]
    # a's 微心愿 (a member claimant) done, and a unit's: points are members' only
    wish, unit_wish = f"N-{tag}", f"N-U{tag}"
    claimants = {wish: {"kind": "member", "code": sub_a}, unit_wish: {"kind": "unit", "code": "U-LJ-HOSP"}}
    with _db(servers) as client:
        # done needs in a community no other test lists: they stand for what the needs area keeps
        client[DB]["needs"].insert_many(
            [
                {"_id": n, "kind": "wish", "status": "done", "community_code": "PT99", "claimants": [c]}
                for n, c in claimants.items()
            ]
        )
    done = make_event(NeedDone(), ticket_id=wish)
    events += [done, done, make_event(NeedDone(), ticket_id=unit_wish)]
    # a's report closed as verified (+1); b's closed by itself for want of a check (nothing)
    reporter_a = Actor(sub=sub_a, role=Role.MEMBER, org="LJ01")
    reporter_b = Actor(sub=sub_b, role=Role.MEMBER, org="LJ01")
    t_a, t_b = f"T-A{tag}", f"T-B{tag}"
    closed = make_event(TicketClosed(auto=False, comment="核查通过"), ticket_id=t_a)
    events += [
        reported(t_a, reporter=reporter_a),
        reported(t_b, reporter=reporter_b),
        closed,
        closed,
        make_event(TicketClosed(auto=True), ticket_id=t_b),
    ]
    bus.publish_events(events)

    def settled() -> dict[str, Any] | None:
        mine = me_a.call("cobuild", "GET", "/v1/cobuild/points/me")
        theirs = me_b.call("cobuild", "GET", "/v1/cobuild/points/me")
        if mine.status_code != 200 or theirs.status_code != 200:
            return None
        seen = {"a": mine.json(), "b": theirs.json()}
        reasons = {m["reason"] for m in seen["a"]["movements"]} | {m["reason"] for m in seen["b"]["movements"]}
        return seen if {"report_verified", "wish_fulfilled", "reversal"} <= reasons else None

    seen = eventually(settled, timeout=30, interval=0.3, what="points paid")
    assert seen["a"]["balance"] == 2 + 1 + 2 + 1
    assert sorted(m["reason_name"] for m in seen["a"]["movements"]) == sorted(
        ["志愿服务时长", "岗位值守", "认领微心愿", "上报问题核查属实"]
    )
    assert seen["b"]["balance"] == 1  # R2 given back, R3 never paid, R4 (satisfied) pays 1
    assert [m["amount"] for m in seen["b"]["movements"] if m["reason"] == "reversal"] == [-2]
    assert len(_moved(bus, a)) == 4

    # the shop: a window today (city day), items; a redemption up to the balance only
    today = datetime.now(CITY_ZONE).date()
    shop = {
        "items": [{"code": "RICE", "name": "大米5斤", "price": 5}, {"code": "SOAP", "name": "洗衣皂", "price": 1}],
        "windows": [{"kind": "range", "start": today.isoformat(), "end": (today + timedelta(days=1)).isoformat()}],
    }
    assert ok(cw.call("cobuild", "PUT", "/v1/cobuild/shops/LJ01", json=shop))["open_today"] is True
    bad = {**shop, "windows": [{"kind": "monthly", "day": 40}]}
    assert cw.call("cobuild", "PUT", "/v1/cobuild/shops/LJ01", json=bad).status_code == 422
    assert cw.call("cobuild", "PUT", "/v1/cobuild/shops/WH01", json=shop).status_code == 404
    assert me_a.call("cobuild", "PUT", "/v1/cobuild/shops/LJ01", json=shop).status_code == 403
    too_much = {"member_id": a, "items": [{"code": "RICE", "qty": 2}]}
    refused = cw.call("cobuild", "POST", "/v1/cobuild/shops/LJ01/redemptions", json=too_much)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "insufficient_points")
    stranger = {"member_id": "M-nobody", "items": [{"code": "SOAP", "qty": 1}]}
    refused = cw.call("cobuild", "POST", "/v1/cobuild/shops/LJ01/redemptions", json=stranger)
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "unknown_member")
    unknown = {"member_id": a, "items": [{"code": "TV", "qty": 1}]}
    assert cw.call("cobuild", "POST", "/v1/cobuild/shops/LJ01/redemptions", json=unknown).status_code == 422
    body = {"member_id": a, "items": [{"code": "RICE", "qty": 1}]}
    redeemed = cw.call("cobuild", "POST", "/v1/cobuild/shops/LJ01/redemptions", json=body)
    assert redeemed.status_code == 201 and redeemed.json()["spent"] == 5 and redeemed.json()["balance"] == 1
    assert ok(me_a.call("cobuild", "GET", "/v1/cobuild/points/me"))["balance"] == 1
    later = today + timedelta(days=10)
    closed_shop = {**shop, "windows": [{"kind": "range", "start": later.isoformat(), "end": later.isoformat()}]}
    ok(cw.call("cobuild", "PUT", "/v1/cobuild/shops/LJ01", json=closed_shop))
    shut = cw.call(
        "cobuild", "POST", "/v1/cobuild/shops/LJ01/redemptions", json={**body, "items": [{"code": "SOAP", "qty": 1}]}
    )
    assert (shut.status_code, shut.json()["error"]["code"]) == (409, "shop_closed")
    assert later.isoformat() in shut.json()["error"]["message"]

    # reads: the account, the ranking (positive only), the unit's points, the ledger's check
    account = ok(cw.call("cobuild", "GET", f"/v1/cobuild/points/accounts/member:{a}"))
    assert account["balance"] == 1 and account["movements"][0]["reason"] == "redeem"
    assert me_b.call("cobuild", "GET", f"/v1/cobuild/points/accounts/member:{a}").status_code == 404
    period = {"member": a, "from": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    history = ok(cw.call("cobuild", "GET", "/v1/cobuild/points/ledger", params=period))["items"]
    # oldest first: two records' hours and post duty (a record's two movements share their instant), then the shop
    assert sorted(m["amount"] for m in history[:4]) == [1, 1, 2, 2] and history[4]["amount"] == -5
    assert [m["at"] for m in history] == sorted(m["at"] for m in history)
    assert ok(me_a.call("cobuild", "GET", "/v1/cobuild/points/ledger"))["items"] == history
    assert me_b.call("cobuild", "GET", "/v1/cobuild/points/ledger", params={"member": a}).status_code == 404
    assert cw.call("cobuild", "GET", "/v1/cobuild/points/ledger").status_code == 422  # whose?
    assert ok(cw.call("cobuild", "GET", "/v1/cobuild/points/accounts/shop:LJ01"))["balance"] >= 5
    ranking = ok(me_b.call("cobuild", "GET", f"/v1/cobuild/points/ranking?community=LJ01&year={today.year}"))
    lines = {line["member_id"]: line for line in ranking["items"]}
    assert lines[a]["points"] == 6 and lines[a]["name"] == "张*" and lines[b]["points"] == 1
    assert all(line["points"] > 0 for line in ranking["items"]) and len(ranking["items"]) <= 20
    hosp = cobuild.user(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
    unit = ok(hosp.call("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/points"))
    assert {m["member_id"]: m["balance"] for m in unit["members"]}[a] == 1
    assert unit["total"] == sum(m["balance"] for m in unit["members"])
    assert (
        cobuild.user(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
        .call("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/points")
        .status_code
        == 404
    )
    checked = ok(sup.call("cobuild", "GET", "/v1/cobuild/points/check"))
    assert checked == {**checked, "ok": True, "total": 0, "mismatched": []}
    assert cw.call("cobuild", "GET", "/v1/cobuild/points/check").status_code == 403
    newcomer = cobuild.user(sub=f"pm-new{tag}", role=Role.MEMBER, org="LJ01")
    assert ok(newcomer.call("cobuild", "GET", "/v1/cobuild/points/me"))["balance"] == 0


async def test_expiry_moves_old_unspent_points_once(servers: Servers) -> None:
    """The expiry job on a set clock, against a database of the test's own: FIFO across New Year."""
    clock = SetClock(datetime(2025, 12, 20, 4, tzinfo=UTC))
    database = await service_database(servers, producer="cobuild", clock=clock)
    await cobuild_store.ensure_indexes(database.db)
    await database.db["members"].insert_one(member_registration("M-X", "pm-x", unit_code="U-LJ-HOSP"))

    async def pay(ref: str, amount: int) -> None:
        movement = domain.issue(
            PointsReason.SERVICE_HOURS, source_ref=ref, member_id="M-X", community="LJ01", amount=amount
        )
        assert movement is not None

        async def work(uow: Any) -> None:
            await points_store.post(uow, movement)

        await database.transaction(work)

    await pay("R-dec", 10)
    clock.value = datetime(2026, 1, 10, 4, tzinfo=UTC)
    await pay("R-jan", 5)
    clock.value = datetime(2027, 12, 19, 4, tzinfo=UTC)  # nothing is 24 months old yet
    assert await jobs.expire_points(database, months=24) == 0
    clock.value = datetime(2027, 12, 21, 4, tzinfo=UTC)  # December's 10 are
    assert await jobs.expire_points(database, months=24) == 1
    assert await jobs.expire_points(database, months=24) == 0  # the same day again: nothing more
    assert await points_store.balance(database.db, "member:M-X") == 5
    assert await points_store.balance(database.db, "expired:LJ01") == 10
    clock.value = datetime(2028, 1, 11, 4, tzinfo=UTC)  # January's 5, in the new year
    assert await jobs.expire_points(database, months=24) == 1
    assert await points_store.balance(database.db, "member:M-X") == 0
    sums = await points_store.movement_sums(database.db)
    assert domain.check(await points_store.all_balances(database.db), sums).ok
