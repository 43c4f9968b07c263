"""服务活动 in the browser, through the gateway and the whole stack: the community worker publishes an
activity and shows its rotating code in big digits; a volunteer signs up on the phone and checks in
with the code and the phone's position (granted, never typed); on an activity under way the
volunteer checks out, the organiser approves fewer minutes than the rules allow and rates the
record, and the volunteer sees the hours of the year and the certificate's link. Every page is
checked at 360 and 1366 px (axe, console errors, the Content-Security-Policy) and photographed."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
import pytest
from playwright.sync_api import Browser, expect

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.ids import new_id
from gridloop.stack.stack import Stack
from gridloop.stack.testing import register_member
from tests.browser.conftest import GRID_ORIGIN, PHONE, Phone, choose_user, open_device

pytestmark = pytest.mark.browser
VOLUNTEER = "vol-lj01"  # 志愿者赵强, LJ01
PLACE = {"lon": GRID_ORIGIN[0], "lat": GRID_ORIGIN[1]}  # where the phones stand (conftest's point(0))


def _client(uri: str) -> "pymongo.MongoClient[dict[str, Any]]":
    return pymongo.MongoClient(uri, tz_aware=True)


def _under_way(db: Any, member_id: str, title: str) -> str:
    """An activity of LJ01 that began two hours ago, the volunteer checked in 100 minutes ago."""
    now = datetime.now(UTC)
    activity_id = new_id()
    db["activities"].insert_one(
        {
            "_id": activity_id,
            "title": title,
            "organizer_kind": "community",
            "organizer_code": "LJ01",
            "community_code": "LJ01",
            "grid_code": "LJ01-G1",
            "street_code": "LJ",
            "district_code": "QH",
            "place": PLACE,
            "starts_at": now - timedelta(hours=2),
            "ends_at": now + timedelta(hours=1),
            "capacity": 10,
            "signups": [member_id],
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
    db["checkins"].insert_one(
        {
            "_id": f"{activity_id}:{member_id}",
            "activity_id": activity_id,
            "member_id": member_id,
            "checkin_at": now - timedelta(minutes=100),
        }
    )
    return activity_id


def _status(device: Phone, text: str) -> None:
    expect(device.page.get_by_role("status").filter(has_text=text)).to_be_visible()


def test_an_activity_from_publishing_to_the_volunteers_hours(
    browser: Browser, gateway: str, stack: Stack, desks: Callable[[str], Phone]
) -> None:
    assert stack.servers is not None
    stamp = new_id()[-6:]
    title, ongoing = f"垃圾分类宣传{stamp}", f"楼道清理{stamp}"
    with _client(stack.servers.mongo_uri) as client:
        db = client["gridloop_cobuild"]
        member_id = register_member(db, VOLUNTEER, party_member=False)
        ongoing_id = _under_way(db, member_id, ongoing)

    # The community worker publishes an activity starting in ten minutes; its code is on show.
    worker = desks("cw-lj01")
    worker.go("/console/volunteer/activities/manage")
    worker.check("activities-01-manage")
    starts = (datetime.now(UTC) + timedelta(minutes=10)).astimezone(CITY_ZONE)
    ends = starts + timedelta(hours=2)
    page = worker.page
    page.get_by_label("活动名称").fill(title)
    page.get_by_label("网格").select_option("LJ01-G1")
    page.get_by_label("日期").fill(starts.strftime("%Y-%m-%d"))
    page.get_by_label("开始").fill(starts.strftime("%H:%M"))
    page.get_by_label("结束").fill(ends.strftime("%H:%M"))
    page.get_by_label("招募人数").fill("5")
    page.get_by_label("经度").fill(str(PLACE["lon"]))
    page.get_by_label("纬度").fill(str(PLACE["lat"]))
    page.get_by_role("button", name="发布").click()
    _status(worker, "活动已发布")
    code = page.locator(".big-code").inner_text()
    assert re.fullmatch(r"\d{6}", code)
    worker.check("activities-02-code")
    # the panel htmx polls every ten seconds answers with the code of the moment
    panel = page.request.get(f"{gateway}{page.url.split(gateway, 1)[1].split('?')[0]}/code")
    assert panel.ok and re.search(r'class="big-code"[^>]*>\d{6}<', panel.text())

    # The volunteer signs up on the phone and checks in with the code where the activity is.
    phone = open_device(browser, gateway, viewport=PHONE, mobile=True)
    try:
        phone.go("/signin")
        choose_user(phone.page, VOLUNTEER)
        phone.page.wait_for_url("**/console/volunteer")  # a member lands on 我的报到
        phone.go("/console/volunteer/activities")
        card = phone.page.get_by_role("article").filter(has_text=title)
        card.get_by_role("button", name=re.compile("^报名")).click()
        _status(phone, "报名成功")
        phone.check("activities-03-member-list")
        phone.page.get_by_role("article").filter(has_text=title).get_by_role("link", name=re.compile("^签到")).click()
        expect(phone.page.get_by_text("已定位")).to_be_visible()
        phone.page.get_by_label(re.compile("现场签到码")).fill(code)
        phone.check("activities-04-checkin")
        phone.page.get_by_role("button", name="签到").click()
        _status(phone, "签到成功")

        # On the activity under way: the organiser's code, the volunteer's check-out (90 minutes by the rules).
        worker.go(f"/console/volunteer/activities/manage/{ongoing_id}")
        code = worker.page.locator(".big-code").inner_text()
        phone.go(f"/console/volunteer/activities/{ongoing_id}/presence")
        expect(phone.page.get_by_text("已定位")).to_be_visible()
        phone.page.get_by_label(re.compile("现场签到码")).fill(code)
        phone.page.get_by_role("button", name="签退").click()
        _status(phone, "签退成功")

        # The organiser approves 60 of the 90 minutes and rates the record.
        worker.go(f"/console/volunteer/activities/manage/{ongoing_id}")
        record = worker.page.get_by_role("article").filter(has_text=member_id)
        expect(record).to_contain_text("规则核算上限 90 分钟")
        record.get_by_label(re.compile("核定时长")).fill("60")
        worker.check("activities-05-decide")
        record.get_by_role("button", name="审核通过").click()
        _status(worker, "已审核通过")
        worker.page.get_by_role("article").filter(has_text=member_id).get_by_role("button", name="提交评价").click()
        _status(worker, "已评价")
        worker.check("activities-06-decided")

        phone.go("/console/volunteer/activities/records")
        expect(phone.page.get_by_role("row").filter(has_text=ongoing)).to_contain_text("已通过")
        certificate = phone.page.get_by_role("link", name=re.compile("江畔社区 出具的证明"))
        expect(certificate).to_be_visible()
        pdf = phone.page.request.get(f"{gateway}{certificate.get_attribute('href')}")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
        phone.check("activities-07-my-records")
    finally:
        phone.context.close()
