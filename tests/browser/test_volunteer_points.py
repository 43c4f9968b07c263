"""积分 pages in the browser, on the whole stack: a member's approved service pays points (an event
as the activities' approval announces it), the community worker sets the 积分超市 and registers a
redemption (refused first for too few points), and the member sees the balance and each movement
with its reason in Chinese. Each page is checked at 360 and 1366 px (axe, console errors, the
Content-Security-Policy) and photographed."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest
from playwright.sync_api import expect

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import RecordApproved
from gridloop.shared.ids import new_id
from gridloop.stack.stack import Stack
from gridloop.stack.testing import Bus, make_event, register_member
from tests.browser.conftest import Phone, choose_user

pytestmark = pytest.mark.browser
MEMBER_SUB = "pm-lj01"


def _member_id(stack: Stack) -> str:
    """pm-lj01's registration (报到), made here when no earlier test made it."""
    assert stack.servers is not None
    client: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(stack.servers.mongo_uri) as client:
        member_id = f"M-{new_id().replace('-', '')}"
        return register_member(
            client["gridloop_cobuild"], MEMBER_SUB, member_id=member_id, unit_code="U-LJ-HOSP", name="张明"
        )


def test_a_member_earns_and_redeems_points_through_pages(
    stack: Stack, phone: Phone, desks: Callable[[str], Phone]
) -> None:
    assert stack.servers is not None
    member_id = _member_id(stack)
    approved = RecordApproved(
        record_id=f"R-{new_id()}",
        activity_id=f"A-{new_id()}",
        member_id=member_id,
        unit_code="U-LJ-HOSP",
        community_code="LJ01",
        grid_code="LJ01-G1",
        street_code="LJ",
        district_code="QH",
        service_date=datetime.now(UTC),
        minutes=180,
        post_id="P-browser",
    )
    bus = Bus(stack.servers.kafka_bootstrap)
    with ThreadPoolExecutor(1) as aside:  # Playwright's loop runs in this thread; the producer's runs beside it
        aside.submit(bus.publish_events, [make_event(approved, ticket_id=member_id)]).result()

    # The member's own page shows the points once the approval is in: 3 hours and a post duty.
    phone.go("/signin")
    choose_user(phone.page, MEMBER_SUB)
    phone.page.wait_for_url("**/console/volunteer")  # a member lands on 我的报到
    phone.go("/console/volunteer/points")
    expect(phone.page.get_by_role("heading", level=1, name="我的积分")).to_be_visible()
    for _ in range(60):
        if phone.page.get_by_role("cell", name="岗位值守").count():
            break
        phone.page.wait_for_timeout(500)
        phone.page.reload()
    expect(phone.page.get_by_role("cell", name="志愿服务时长").first).to_be_visible()
    expect(phone.page.get_by_role("cell", name="+3").first).to_be_visible()

    # The community worker opens the shop today and registers a redemption.
    desk = desks("cw-lj01")
    desk.go("/console/volunteer/shop")
    expect(desk.page.get_by_role("heading", level=1, name="积分超市")).to_be_visible()
    desk.check("points-01-shop-empty")
    today = datetime.now(CITY_ZONE).date().isoformat()
    desk.page.get_by_label("商品（每行一个：编码 名称 所需积分）").fill("RICE 大米5斤 500\nSOAP 洗衣皂 1")
    desk.page.get_by_label("每月兑换日（选填，1–31，月底不足按最后一天）").fill("")
    desk.page.get_by_label("集中兑换期开始（选填）").fill(today)
    desk.page.get_by_label("集中兑换期结束").fill(today)
    desk.page.get_by_role("button", name="保存积分超市").click()
    expect(desk.page.get_by_role("status")).to_have_text("积分超市已保存。")
    expect(desk.page.get_by_text("今日开放兑换")).to_be_visible()
    desk.expected_statuses.add(409)
    desk.page.get_by_label("兑换人报到登记号").fill(member_id)
    desk.page.get_by_label("大米5斤（500 分）").fill("1")
    desk.page.get_by_role("button", name="登记兑换").click()
    expect(desk.page.get_by_role("alert")).to_contain_text("积分不足")
    desk.check("points-02-redemption-refused")
    desk.page.get_by_label("大米5斤（500 分）").fill("0")
    desk.page.get_by_label("洗衣皂（1 分）").fill("1")
    desk.page.get_by_role("button", name="登记兑换").click()
    expect(desk.page.get_by_role("status")).to_have_text("兑换已登记，积分已扣减。")
    expect(desk.page.get_by_role("cell", name=member_id)).to_be_visible()  # on the year's ranking
    desk.check("points-03-shop")

    phone.page.reload()
    expect(phone.page.get_by_role("cell", name="积分超市兑换：洗衣皂×1").first).to_be_visible()
    phone.check("points-04-member")
