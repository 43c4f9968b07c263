"""社区事务准入 in the browser, through the gateway and the whole stack: a department files a task
for a street's communities (refused first when it starts too soon), the district admits it on its
审核 page, and the community finds it among its admitted tasks, checks a certificate a resident asks
for (refused with who issues it instead) and flags a task that came without admission. Every page
is checked at 360 and 1366 px (axe, console errors, the page's Content-Security-Policy) and
photographed."""

import re
import time
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


def unique(text: str) -> str:
    return f"{text}（{time.time_ns() % 10**9}）"


def done(desk: Phone, message: str) -> None:
    expect(desk.page.get_by_role("status").filter(has_text=message)).to_be_visible()


def test_a_task_is_admitted_by_the_district_and_reaches_the_community(desks: Callable[[str], Phone]) -> None:
    title = unique("沿街商户门前三包责任书签订")
    department = desks("agent-cg")
    department.go("/console/admission/requests")
    expect(department.page.get_by_role("heading", level=1, name="社区事务准入申请")).to_be_visible()
    form = department.page.get_by_role("region", name="提交准入申请")
    form.get_by_label("事项类型").select_option(label="台账报表")
    form.get_by_label("事项名称").fill(title)
    form.get_by_label("承接街道（该街道全部社区）").select_option(label="临江街道")
    form.get_by_label("随事下沉的经费、人员（费随事转）").fill("工作经费每社区2000元")
    wanted = form.get_by_label("开始日期").input_value()
    # too soon first: the service names the first day it may start
    form.get_by_label("开始日期").fill((date.fromisoformat(wanted) - timedelta(days=50)).isoformat())
    department.expected_statuses.add(422)
    form.get_by_role("button", name="提交申请").click()
    expect(department.page.get_by_role("alert")).to_contain_text("至少30个工作日")
    department.check("admission-01-department-refused")
    form = department.page.get_by_role("region", name="提交准入申请")
    form.get_by_label("开始日期").fill(wanted)
    form.get_by_role("button", name="提交申请").click()
    done(department, "准入申请已提交")
    mine = department.page.get_by_role("listitem").filter(has_text=title)
    expect(mine).to_contain_text("待审核")
    department.check("admission-02-department-requests")

    district = desks("sup-qh")
    district.go("/console/admission/review")
    pending = district.page.get_by_role("listitem").filter(has_text=title)
    expect(pending).to_contain_text("审核时限")
    district.check("admission-03-district-review")
    pending.get_by_role("button", name=re.compile("^准入")).click()
    done(district, "已准入")
    expect(district.page.get_by_role("region", name="已准入").get_by_role("heading", name=title)).to_be_visible()

    community = desks("cw-lj01")
    community.go("/console/admission/community")
    inbox = community.page.get_by_role("region", name="已准入的工作任务")
    expect(inbox.get_by_role("heading", name=title)).to_be_visible()
    certificates = community.page.get_by_role("region", name="可出具证明事项")
    expect(certificates.get_by_role("listitem")).to_have_count(6)
    certificates.get_by_label("居民要开的证明").fill("亲属关系证明")
    certificates.get_by_role("button", name="核对").click()
    expect(community.page.get_by_role("status").filter(has_text="户籍所在地公安派出所")).to_be_visible()
    community.check("admission-04-community-certificate-refused")
    flag = community.page.get_by_role("region", name="报告未准入事项")
    flag.get_by_label("下派部门").select_option(label="区城市管理局")
    flag.get_by_label("事项类型").select_option(label="调查统计")
    flagged = unique("微信群下发的临时摸排表")
    flag.get_by_label("事项名称").fill(flagged)
    flag.get_by_label("说明（如通过何种渠道下派）").fill("工作群直接下发，未经准入")
    flag.get_by_role("button", name="报告").click()
    done(community, "已报告未准入事项")
    expect(community.page.get_by_text(flagged)).to_be_visible()
    community.check("admission-05-community-flagged")
