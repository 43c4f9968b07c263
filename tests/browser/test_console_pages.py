"""The console's other pages: the hotline desk, the directory admin's live edit and history, the
command centre's lists; each checked at 1366×768 and 360×740."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


def test_a_hotline_call_is_registered_at_the_desk_and_bad_input_is_named_beside_its_field(
    desks: Callable[[str], Phone],
) -> None:
    desk = desks("sd-lj")
    page = desk.page
    desk.go("/console/desk/hotline")
    page.get_by_label("问题类别").select_option("SJ-0102")
    page.get_by_label("网格", exact=True).select_option("LJ02-G1")
    desk.expected_statuses.add(422)
    register = page.get_by_role("button", name="登记上报")
    register.click()  # no description
    expect(page.get_by_label("问题描述")).to_have_accessible_description(re.compile("请填写"))
    desk.check("26-hotline")
    page.get_by_label("来电人").fill("王先生 138****0000")
    page.get_by_label("问题描述").fill("码头路沿街店铺门前污水横流")
    register.click()
    expect(page.get_by_role("status").filter(has_text="已登记")).to_be_visible()
    # The caller's contact stands on its own for the desk, not in the description departments read.
    facts = page.get_by_role("definition")
    expect(facts.filter(has_text="王先生")).to_have_text("王先生 138****0000")
    expect(facts.filter(has_text="码头路")).to_have_text("码头路沿街店铺门前污水横流（12345热线）")


def test_the_admin_edits_a_time_limit_live_and_sees_its_history(desks: Callable[[str], Phone]) -> None:
    admin = desks("admin")
    page = admin.page
    admin.go("/console/admin?collection=slas")
    admin.check("27-admin")
    page.get_by_role("link", name="default", exact=True).click()
    data = page.get_by_label("内容（JSON）")
    record = data.input_value()
    admin.expected_statuses.add(422)
    save = page.get_by_role("button", name="保存并发布")
    data.fill(record.replace('"accept"', '"accept_typo"', 1))
    save.click()
    expect(page.get_by_role("alert").filter(has_text="目录数据不合法")).to_be_visible()
    data.fill("{ not json")
    save.click()
    expect(page.get_by_role("alert").filter(has_text="不是合法的 JSON")).to_be_visible()
    shown = re.search(r"第 (\d+) 版", page.get_by_role("heading", level=1).inner_text())
    assert shown is not None
    revision = int(shown[1])
    changed = (
        record.replace('"within": ', '"within": 1', 1)
        if '"within": 1' not in record
        else record.replace('"within": 1', '"within": 2', 1)
    )
    data.fill(changed)
    save.click()
    expect(page.get_by_role("status").filter(has_text=f"已保存并发布为第 {revision + 1} 版")).to_be_visible()
    rows = page.get_by_role("table", name="修改记录").get_by_role("row")
    expect(rows).to_have_count(1 + revision + 1)  # the header, then every revision
    expect(rows.nth(1)).to_contain_text("系统管理员")
    admin.check("28-admin-record")


def test_the_command_centres_lists_render(desks: Callable[[str], Phone]) -> None:
    boss = desks("sup-qh")
    boss.go("/console/command/overdue")
    expect(boss.page.get_by_role("heading", level=1, name="超期")).to_be_visible()
    boss.check("29-overdue")
    boss.go("/console/command/grids/LJ01-G1")
    expect(boss.page.get_by_role("heading", level=1, name="LJ01-G1")).to_be_visible()
    boss.check("30-grid")
