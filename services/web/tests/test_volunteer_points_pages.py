"""The 积分 pages against a cobuild that answers as its API says: what the shop form sends (items a
line, a monthly day, a range of days), a redemption's quantities, a refusal shown above the form,
and a member's movements with their reasons in Chinese."""

from typing import Any

import pytest

from gridloop.shared.events import Role
from services.web.tests.test_cobuild_pages import NOW, Upstream, console, post, refused

pytestmark = pytest.mark.unit
SHOP = "/v1/cobuild/shops/LJ01"


def _shop(**changes: Any) -> dict[str, Any]:
    return {
        "community_code": "LJ01",
        "items": [{"code": "RICE", "name": "大米5斤", "price": 5}, {"code": "SOAP", "name": "洗衣皂", "price": 1}],
        "windows": [{"kind": "monthly", "day": 15}],
        "open_today": False,
        "next_open": "2027-03-15",
        **changes,
    }


@pytest.fixture
def shop_upstream() -> Upstream:
    up = Upstream()
    up.answers[("GET", SHOP)] = (200, _shop())
    up.answers[("PUT", SHOP)] = (200, _shop())
    ranking = {
        "community_code": "LJ01",
        "year": 2027,
        "items": [{"rank": 1, "member_id": "M-1", "name": "张*", "points": 6}],
    }
    up.answers[("GET", "/v1/cobuild/points/ranking")] = (200, ranking)
    return up


def test_the_shop_form_sends_items_and_windows(shop_upstream: Upstream) -> None:
    desk = console(shop_upstream, Role.COMMUNITY_WORKER, "LJ01")
    page = desk.get("/console/volunteer/shop")
    assert page.status_code == 200 and "下一个兑换日：2027-03-15" in page.text and "张*" in page.text
    answer = post(
        desk,
        "/console/volunteer/shop",
        items="RICE 大米5斤 5\nOIL，食用油，3",
        monthly_day="15",
        range_start="2027-06-01",
        range_end="2027-06-07",
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console/volunteer/shop?done=shop"
    assert shop_upstream.body(SHOP) == {
        "items": [{"code": "RICE", "name": "大米5斤", "price": 5}, {"code": "OIL", "name": "食用油", "price": 3}],
        "windows": [{"kind": "monthly", "day": 15}, {"kind": "range", "start": "2027-06-01", "end": "2027-06-07"}],
    }
    bad = post(desk, "/console/volunteer/shop", items="大米 很多", monthly_day="15")
    assert bad.status_code == 422 and "每行写：编码 名称 积分" in bad.text
    assert len(shop_upstream.asked(SHOP)) == 3  # two looks and one save: the bad form reached nobody


def test_a_redemption_sends_the_quantities_and_a_refusal_says_why(shop_upstream: Upstream) -> None:
    desk = console(shop_upstream, Role.COMMUNITY_WORKER, "LJ01")
    path = f"{SHOP}/redemptions"
    shop_upstream.answers[("POST", path)] = refused(
        409, "shop_closed", "积分超市今日不开放兑换（下次兑换日：2027-03-15）"
    )
    answer = post(desk, "/console/volunteer/shop/redemptions", member_id="M-1", **{"qty-RICE": "1", "qty-SOAP": "0"})
    assert answer.status_code == 409 and "下次兑换日：2027-03-15" in answer.text
    assert shop_upstream.body(path) == {"member_id": "M-1", "items": [{"code": "RICE", "qty": 1}]}
    nothing = post(desk, "/console/volunteer/shop/redemptions", member_id="M-1", **{"qty-RICE": "0"})
    assert nothing.status_code == 422 and "请填写要兑换的商品数量" in nothing.text
    assert len(shop_upstream.asked(path)) == 1


def test_a_member_sees_each_movement_with_its_reason() -> None:
    up = Upstream()
    movement = {
        "id": "X1", "at": NOW.isoformat(), "reason": "redeem", "reason_name": "积分超市兑换", "source_ref": "R",
        "member_id": "M-1", "community_code": "LJ01", "amount": -5, "entries": [],
        "items": [{"code": "RICE", "name": "大米5斤", "price": 5, "qty": 1}],
    }  # fmt: skip
    mine = {
        "account": "member:M-1",
        "balance": 1,
        "movements": [movement],
        "member_id": "M-1",
        "community_code": "LJ01",
    }
    up.answers[("GET", "/v1/cobuild/points/me")] = (200, mine)
    page = console(up, Role.MEMBER, "LJ01").get("/console/volunteer/points")
    assert page.status_code == 200 and "积分超市兑换：大米5斤×1" in page.text and "-5" in page.text
    assert (
        console(up, Role.COMMUNITY_WORKER, "LJ01").get("/console/volunteer/points", follow_redirects=False).status_code
        != 200
    )
