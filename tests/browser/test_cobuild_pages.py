"""The 共建 pages in the browser, through the gateway and the whole stack with cobuild in it: a
resident's wish goes round the loop through pages only (submitted in the app, reviewed and
published at the community's desk, claimed from the wish wall by a unit, contacted and delivered,
confirmed and rated by the resident), and a unit's offer becomes a project the street approves
and evaluates. Every page is checked at 360 and 1366 px (axe, console errors, the page's
Content-Security-Policy) and photographed."""

import re
import time
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, expect

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack
from tests.browser.conftest import Phone, api_user, choose_user, demo_name

pytestmark = pytest.mark.browser


def unique(text: str) -> str:
    """Text no earlier run against the same stack wrote, so a page is searched for this run's record."""
    return f"{text}（{time.time_ns() % 10**9}）"


def done(desk: Phone, message: str) -> None:
    expect(desk.page.get_by_role("status").filter(has_text=message)).to_be_visible()


def resident_signs_in(phone: Phone, sub: str = "res-lj01") -> None:
    phone.go("/signin")
    choose_user(phone.page, sub)
    phone.page.wait_for_url("**/app/**")
    expect(phone.page.get_by_role("banner").get_by_text(demo_name(sub))).to_be_visible()
    expect(phone.page.get_by_role("heading", name="我的需求")).to_be_visible()


def the_need(desk: Phone, number: str) -> Locator:
    """The need's row in a desk's table, found by its number."""
    return desk.page.get_by_role("row").filter(has=desk.page.get_by_role("link", name=number, exact=True))


def test_a_residents_wish_goes_round_the_loop_through_pages_only(phone: Phone, desks: Callable[[str], Phone]) -> None:
    wish = unique("腿脚不便，想请人每周帮忙买一次菜")
    summary = unique("独居老人每周代买菜")
    # The resident submits it in the app; refused first for what is missing, beside each field.
    resident_signs_in(phone)
    page = phone.page
    phone.check("cobuild-01-resident-needs")
    phone.menu.get_by_role("link", name="提交需求").click()
    form = page.get_by_role("form", name="提交需求")
    form.get_by_role("button", name="提交需求").click()
    expect(page.get_by_label("需求类别")).to_have_accessible_description(re.compile("请选择需求类别"))
    phone.check("cobuild-02-resident-form-refused")
    page.get_by_label("微心愿").check()
    page.get_by_label("需求类别").select_option(label="助老服务")
    page.get_by_label("需求内容").fill(wish)
    page.get_by_label("所在网格").select_option("LJ01-G1")
    form.get_by_role("button", name="提交需求").click()
    expect(page.get_by_role("heading", name="需求已提交")).to_be_visible()
    number = page.get_by_role("status").locator("strong").inner_text()
    phone.check("cobuild-03-resident-filed")

    # The community worker reviews it: the household's own words and identity on the need's page,
    # the public summary it writes on the wall.
    community = desks("cw-lj01")
    community.go("/console/cobuild/needs?status=submitted")
    expect(the_need(community, number)).to_contain_text("待审核")
    community.check("cobuild-04-needs-desk")
    community.page.get_by_role("link", name=number, exact=True).click()
    expect(community.page.get_by_role("heading", level=1, name=number)).to_be_visible()
    expect(community.page.get_by_text(wish)).to_be_visible()
    community.check("cobuild-05-need-submitted")
    community.expected_statuses.add(422)
    summary_field = community.page.get_by_label("公开摘要")
    summary_field.fill("买")
    community.page.get_by_role("button", name="审核通过").click()
    expect(community.page.get_by_role("alert").filter(has_text="审核未完成")).to_be_visible()
    expect(summary_field).to_have_value("买")  # what was typed is put back
    community.check("cobuild-06-review-refused")
    summary_field.fill(summary)
    community.page.get_by_role("button", name="审核通过").click()
    done(community, "已审核")
    community.page.get_by_role("button", name="发布认领").click()
    done(community, "已发布到心愿墙")
    community.check("cobuild-07-need-published")

    # The hospital's liaison claims it from the wall (public summary only) and serves the household.
    unit = desks("ua-hosp")
    unit.go("/console/cobuild/wall")
    card = unit.page.get_by_role("listitem").filter(has_text=summary)
    expect(card).to_be_visible()
    expect(unit.page.get_by_text(wish)).to_have_count(0)
    unit.check("cobuild-08-wish-wall")
    card.get_by_role("button", name=re.compile("^认领")).click()
    done(unit, "已认领")
    expect(unit.page.get_by_text(wish)).to_be_visible()  # a claimant sees what the household asked
    unit.check("cobuild-09-need-claimed")
    unit.page.get_by_label("联系情况").fill("已电话联系，周六上门")
    unit.page.get_by_role("button", name="已联系居民").click()
    done(unit, "已记录联系情况")
    unit.page.get_by_label("兑现情况").fill("志愿者每周六送菜上门，首次已完成")
    unit.page.get_by_role("button", name="已兑现").click()
    done(unit, "已记录兑现情况")
    unit.go("/console/cobuild/needs")
    expect(the_need(unit, number)).to_contain_text("已兑现待确认")
    unit.check("cobuild-10-unit-needs")

    # The resident confirms and rates it.
    phone.go("/app/#/needs")
    page.get_by_role("link", name=re.compile(re.escape(number))).click()
    expect(page.get_by_role("heading", name=number)).to_be_visible()
    page.get_by_label("满意", exact=True).check()
    phone.check("cobuild-11-resident-confirm")
    page.get_by_role("button", name="确认完成并评价").click()
    expect(page.get_by_role("heading", name="感谢评价")).to_be_visible()
    community.go("/console/cobuild/needs?status=done")
    expect(the_need(community, number)).to_contain_text("已完成")


def test_an_offer_matched_to_a_need_becomes_a_project_the_street_evaluates(
    stack: Stack, desks: Callable[[str], Phone]
) -> None:
    title = unique("每月助老义诊")
    # A need of the same category, reviewed and published (its pages are the other test's).
    resident = api_user(stack, "res-lj01b", Role.RESIDENT, "LJ01")
    worker = api_user(stack, "cw-lj01", Role.COMMUNITY_WORKER, "LJ01")
    need = resident.ok(
        "cobuild", "POST", "/v1/cobuild/needs",
        json={"kind": "service", "category_code": "NC-ELDER", "description": unique("想请医生上门量血压"),
              "grid_code": "LJ01-G1"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    need_id = need.get("id") or need["need_id"]
    worker.ok("cobuild", "POST", f"/v1/cobuild/needs/{need_id}/review", json={"summary": unique("老人上门量血压")})
    worker.ok("cobuild", "POST", f"/v1/cobuild/needs/{need_id}/publish", json={})

    # The hospital lists an offer; refused first for what is missing.
    unit = desks("ua-hosp")
    unit.go("/console/cobuild/offers")
    unit.expected_statuses.add(422)
    unit.page.get_by_role("button", name="发布资源").click()
    expect(unit.page.get_by_role("alert").filter(has_text="发布资源未完成")).to_be_visible()
    unit.check("cobuild-12-offers-refused")
    unit.page.get_by_label("资源类型").select_option(label="服务")
    unit.page.get_by_label("名称", exact=True).fill(title)
    unit.page.get_by_label("说明（选填）").fill("内科医生每月进社区一次，工会王主任联系")
    unit.page.get_by_role("group", name="适用需求类别").get_by_label("助老服务").check()
    unit.page.get_by_label("可服务数量（人次或份）").fill("40")
    unit.page.get_by_label("结束日期").fill("2099-12-31")
    unit.page.get_by_role("button", name="发布资源").click()
    done(unit, "资源已发布")
    expect(unit.page.get_by_role("listitem").filter(has_text=title)).to_contain_text("待社区确认")
    unit.check("cobuild-13-offers")

    # The community accepts it, and the match is suggested with its reasons.
    community = desks("cw-lj01")
    community.go("/console/cobuild/offers?status=submitted")
    offer = community.page.get_by_role("listitem").filter(has_text=title)
    offer.get_by_role("button", name=re.compile("^接受")).click()
    done(community, "已接受该资源")
    community.check("cobuild-14-community-offers")
    community.go("/console/cobuild/matches")
    pair = community.page.get_by_role("row").filter(has_text=title).first
    expect(pair).to_be_visible()
    community.check("cobuild-15-matches")
    pair.get_by_role("link", name=re.compile("^立项")).click()
    expect(community.page.get_by_role("heading", level=1, name="新建惠民项目")).to_be_visible()
    community.page.get_by_label("项目名称").fill(title)
    community.page.get_by_label("计划完成日期").fill("2099-06-30")
    community.check("cobuild-16-project-new")
    community.page.get_by_role("button", name="提交立项").click()
    done(community, "已立项")
    project_url = community.page.url

    # The street approves it; the community runs it; the street evaluates it.
    street = desks("sd-lj")
    street.go("/console/" + project_url.split("/console/", 1)[1].split("?", 1)[0])
    street.page.get_by_role("button", name="批准").click()
    done(street, "已批准")
    community.page.reload()
    community.page.get_by_role("button", name="开始实施").click()
    done(community, "已开始实施")
    community.page.get_by_label("完成百分比").fill("60")
    community.page.get_by_label("进展说明").fill("首批 20 位老人已量血压")
    community.page.get_by_role("button", name="更新进度").click()
    done(community, "已更新进度")
    community.check("cobuild-17-project-running")
    community.page.get_by_label("结项报告").fill("全年 12 次义诊，建立健康档案 40 份")
    community.page.get_by_label("受益人次").fill("40")
    community.page.get_by_role("button", name="完成结项").click()
    done(community, "已完成结项")
    street.page.reload()
    street.page.get_by_label("评估等级").select_option(label="优秀")
    street.page.get_by_role("button", name="提交评估").click()
    done(street, "已评估")
    street.check("cobuild-18-project-evaluated")
    unit.go("/console/cobuild/projects")
    expect(unit.page.get_by_role("row").filter(has_text=title)).to_contain_text("已评估")
    unit.check("cobuild-19-unit-projects")


def test_the_community_registers_a_paper_wish_card(desks: Callable[[str], Phone]) -> None:
    wish = unique("想要一台收音机听戏")
    community = desks("cw-lj01")
    community.go("/console/cobuild/needs")
    community.page.get_by_role("link", name="登记需求").click()
    expect(community.page.get_by_role("heading", level=1, name="登记需求")).to_be_visible()
    community.page.get_by_label("需求类别").select_option(label="助老服务")
    community.page.get_by_label("所在网格").select_option("LJ01-G1")
    community.page.get_by_label("姓名").fill("李奶奶")
    community.expected_statuses.add(422)
    community.page.get_by_role("button", name="登记").click()  # no description
    expect(community.page.get_by_role("alert").filter(has_text="登记需求未完成")).to_be_visible()
    expect(community.page.get_by_label("姓名")).to_have_value("李奶奶")
    community.check("cobuild-20-need-new-refused")
    community.page.get_by_label("需求内容（居民原话）").fill(wish)
    community.page.get_by_role("button", name="登记").click()
    done(community, "已登记")
    expect(community.page.get_by_text(wish)).to_be_visible()
    expect(community.page.get_by_role("definition").filter(has_text="李奶奶")).to_be_visible()
    expect(community.page.get_by_role("definition").filter(has_text="心愿墙登记")).to_be_visible()
