"""双报到 in the browser, through the gateway and the whole stack: a unit reports to a paired
community and gets its receipt, a Party member reports on her phone (refused first for a wrong
identity number), the community confirms her, places her in a grid and a squad and publishes a
post, she claims it and may not release her last one, and her unit sees her status. Every page is
checked at 360 and 1366 px (axe, console errors, the page's Content-Security-Policy) and photographed."""

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack
from tests.browser.conftest import Phone, api_user, choose_user

pytestmark = pytest.mark.browser


def unique(text: str) -> str:
    return f"{text}{time.time_ns() % 10**6}"


def named(verb: str, what: str) -> re.Pattern[str]:
    """A button's name: its verb, and (for a screen reader, not shown) what it acts on."""
    return re.compile(rf"^{verb}\s*：{re.escape(what)}$")


def done(device: Phone, message: str) -> None:
    expect(device.page.get_by_role("status").filter(has_text=message)).to_be_visible()


def test_a_member_reports_is_placed_and_holds_a_post(phone: Phone, desks: Callable[[str], Phone], stack: Stack) -> None:
    # A rerun against the same stack: her earlier registration is ended by the community, so she reports again.
    member_api = api_user(stack, "pm-lj01b", Role.MEMBER, "LJ01")
    earlier = member_api.call("cobuild", "GET", "/v1/cobuild/members/me")
    if earlier.status_code == 200 and earlier.json()["status"] not in ("inactive", "transferred"):
        api_user(stack, "cw-lj01", Role.COMMUNITY_WORKER, "LJ01").ok(
            "cobuild", "POST", f"/v1/cobuild/members/{earlier.json()['id']}/deactivate", json={"reason": "重新报到演示"}
        )
    name, post = unique("刘芳"), unique("楼道安全巡查")

    # 单位报到: the hospital reports to 码头社区 (LJ02) and confirms its Party members
    unit = desks("ua-hosp")
    unit.page.get_by_role("navigation", name="工作台").get_by_role("link", name="单位报到").click()
    report = unit.page.get_by_role("button", name=named("向社区报到", "LJ02"))
    if report.count():
        report.click()
        done(unit, "回执已生成")
    expect(unit.page.get_by_text(re.compile(r"HZ-LJ02-\d{4}-\d{4}"))).to_be_visible()
    unit.page.get_by_label("本单位在职党员人数").fill("36")
    unit.page.get_by_role("button", name="确认人数").click()
    done(unit, "在职党员人数已确认")
    unit.check("volunteer-01-unit-report")

    # 个人报到 on her phone: a wrong identity number is refused beside the field, nothing else lost
    phone.go("/signin")
    choose_user(phone.page, "pm-lj01b")
    phone.page.wait_for_url("**/console/volunteer")
    page = phone.page
    expect(page.get_by_role("heading", name="我要报到")).to_be_visible()
    page.get_by_label("姓名").fill(name)
    page.get_by_label("手机号码").fill("13800002222")
    page.get_by_label("身份证号码").fill("110105194912310021")
    page.get_by_label("在职党员").check()
    page.get_by_label("所在单位（党员选填）").select_option(label="区人民医院")
    page.get_by_label("助老服务").check()
    phone.expected_statuses.update({422, 409})
    page.get_by_role("button", name="提交报到").click()
    expect(page.get_by_label("身份证号码")).to_have_accessible_description(re.compile("身份证号码无效"))
    expect(page.get_by_label("姓名")).to_have_value(name)
    phone.check("volunteer-02-member-refused")
    page.get_by_label("身份证号码").fill("11010519491231002X")
    page.get_by_role("button", name="提交报到").click()
    done(phone, "请等待社区确认")
    expect(page.get_by_text("待社区确认", exact=True)).to_be_visible()
    phone.check("volunteer-03-member-pending")

    # 报到管理: the community confirms, places her and publishes a post
    community = desks("cw-lj01")
    community.go("/console/volunteer/desk")
    community.page.get_by_role("button", name=named("确认报到", name)).click()
    done(community, "已确认报到")
    card = community.page.get_by_role("listitem").filter(has_text=name)
    card.get_by_label("网格").select_option("LJ01-G2")
    card.get_by_label("服务小队").fill("第一小队")
    card.get_by_role("button", name=named("编入", name)).click()
    done(community, "已编入网格和服务小队")
    expect(community.page.get_by_role("row").filter(has_text=name)).to_contain_text("未认领岗位")
    form = community.page.get_by_role("form", name="发布岗位")
    form.get_by_label("网格").select_option("LJ01-G2")
    form.get_by_label("岗位类别").select_option("安全宣传")
    form.get_by_label("岗位名称").fill(post)
    form.get_by_label("岗位职责").fill("每周巡查楼道消防通道，劝离占道杂物")
    form.get_by_label("需要人数").fill("2")
    form.get_by_role("button", name="发布岗位").click()
    done(community, "岗位已发布")
    community.check("volunteer-04-community-desk")

    # she claims the post; her last post may not be released
    page.reload()
    expect(page.get_by_text("在岗服务", exact=True)).to_be_visible()
    expect(page.get_by_text("未认领岗位：请在下方认领一个公益岗位。")).to_be_visible()
    page.get_by_role("button", name=named("认领岗位", post)).click()
    done(phone, "岗位已认领")
    page.get_by_role("button", name=named("释放岗位", post)).click()
    expect(page.get_by_role("alert")).to_contain_text("不能释放最后一个岗位")
    phone.check("volunteer-05-member-post")
    community.page.reload()
    expect(community.page.get_by_role("listitem").filter(has_text=post)).to_contain_text(f"认领人：{name}")

    # her unit sees her, by name, with her status
    unit.page.get_by_role("navigation", name="工作台").get_by_role("link", name="本单位党员").click()
    expect(unit.page.get_by_role("row").filter(has_text=name)).to_contain_text("在岗服务")
    unit.check("volunteer-06-unit-members")
