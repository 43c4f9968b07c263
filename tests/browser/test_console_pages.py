"""The console's other pages: the hotline desk, the directory admin's live edit and history, the
command centre's lists; each checked at 1366×768 and 360×740."""

from collections.abc import Callable

import pytest

from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


def test_a_hotline_call_is_registered_at_the_desk_and_bad_input_is_named_beside_its_field(
    desks: Callable[[str], Phone],
) -> None:
    desk = desks("sd-lj")
    page = desk.page
    desk.go("/console/desk/hotline")
    page.select_option("#category_code", "SJ-0102")
    page.select_option("#grid_code", "LJ02-G1")
    desk.expected_statuses.add(422)
    page.click("main form button[type=submit]")  # no description
    page.wait_for_selector("#description-error:has-text('请填写')")
    desk.check("26-hotline")
    page.fill("#caller", "王先生 138****0000")
    page.fill("#description", "码头路沿街店铺门前污水横流")
    page.click("main form button[type=submit]")
    page.wait_for_selector("text=已登记")
    # The caller's contact stands on its own for the desk, not in the description departments read.
    assert page.locator("dt:has-text('来电人') + dd").inner_text() == "王先生 138****0000"
    assert page.locator("dt:has-text('描述') + dd").inner_text() == "码头路沿街店铺门前污水横流（12345热线）"


def test_the_admin_edits_a_time_limit_live_and_sees_its_history(desks: Callable[[str], Phone]) -> None:
    admin = desks("admin")
    page = admin.page
    admin.go("/console/admin?collection=slas")
    admin.check("27-admin")
    page.click("a:has-text('default')")
    page.wait_for_selector("#data")
    record = page.input_value("#data")
    admin.expected_statuses.add(422)
    page.fill("#data", record.replace('"accept"', '"accept_typo"', 1))
    page.click("main form button[type=submit]")
    page.wait_for_selector(".error:has-text('目录数据不合法')")
    page.fill("#data", "{ not json")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".error:has-text('不是合法的 JSON')")
    revision = int(page.inner_text("h1 .tag").strip("第 版"))
    changed = (
        record.replace('"within": ', '"within": 1', 1)
        if '"within": 1' not in record
        else record.replace('"within": 1', '"within": 2', 1)
    )
    page.fill("#data", changed)
    page.click("main form button[type=submit]")
    page.wait_for_selector(f"text=已保存并发布为第 {revision + 1} 版")
    assert page.locator("table tbody tr").count() == revision + 1
    assert "系统管理员" in page.inner_text("table tbody tr >> nth=0")
    admin.check("28-admin-record")


def test_the_command_centres_lists_render(desks: Callable[[str], Phone]) -> None:
    boss = desks("sup-qh")
    boss.go("/console/command/overdue")
    boss.page.wait_for_selector("h1:has-text('超期')")
    boss.check("29-overdue")
    boss.go("/console/command/grids/LJ01-G1")
    boss.page.wait_for_selector("h1:has-text('LJ01-G1')")
    boss.check("30-grid")
