"""The staff console in the browser: the whole loop driven through pages only, and each person
sees only what is theirs."""

from collections.abc import Callable
from pathlib import Path

import pytest

from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually
from tests.browser.conftest import Phone, photo_file

pytestmark = pytest.mark.browser


def file_unrouted_report(phone: Phone, description: str, place: int) -> str:
    """群租房 (SJ-0701) has no routing rule: it waits at the street desk."""
    page = phone.page
    phone.sign_in("gw-lj01")
    page.fill("#category-search", "群租")
    page.select_option("#category", "SJ-0701")
    page.fill("#description", description)
    phone.locate(place)
    page.click("button[type=submit]")
    page.wait_for_selector("h2:has-text('上报成功')")
    return page.inner_text(".card strong")


def open_order(desk: Phone, number: str) -> None:
    page = desk.page
    desk.go("/console/inbox")
    page.click(f"a:has-text('{number}')")
    page.wait_for_selector("h1")


def test_the_whole_loop_through_pages_only(
    phone: Phone, desks: Callable[[str], Phone], stack: Stack, tmp_path: Path
) -> None:
    number = file_unrouted_report(phone, "江畔小区 3 栋疑似群租，楼道堆物", place=20)

    # The street desk: the ticket appears in the queue without a reload, and is whistled.
    desk = desks("sd-lj")
    page = desk.page
    page.wait_for_selector("#queue-rows")
    page.wait_for_selector(f"#queue-rows a:has-text('{number}')", timeout=30000)
    desk.check("20-desk-queue")
    page.click(f"#queue-rows a:has-text('{number}')")
    page.wait_for_selector("form[action$='/assign']")
    desk.check("21-desk-ticket")
    page.select_option("#lead", "CG")
    page.check("input[name=assisting_departments][value=SW]")
    page.click("form[action$='/assign'] button[type=submit]")
    page.wait_for_selector("text=已派遣")

    # The command centre sees it on the district map while it is open; its point opens its timeline.
    ticket_id = page.url.split("/console/desk/tickets/")[1].split("?")[0]
    watcher = desks("sup-qh")

    def on_the_map() -> bool:
        watcher.go("/console/command")
        watcher.page.wait_for_selector(".leaflet-container")
        return watcher.page.locator(f"path.ticket-{ticket_id}").count() == 1

    eventually(on_the_map, timeout=30, what="the ticket's point on the command centre's map")
    watcher.page.locator(f"path.ticket-{ticket_id}").click(force=True)
    watcher.page.wait_for_url(f"**/console/command/tickets/{ticket_id}")
    assert "派遣" in watcher.page.inner_text("main")

    # The lead accepts.
    city = desks("agent-cg")
    eventually(
        lambda: (
            city.page.goto(f"{city.gateway}/console/inbox") and city.page.locator(f"a:has-text('{number}')").count()
        ),
        timeout=30,
        what="the order in 城管's inbox",
    )
    open_order(city, number)
    city.page.click("form[action$='/accept'] button")
    city.page.wait_for_selector("text=已接单")
    city.check("23-work-order")
    # The assisting department reports its part.
    water = desks("agent-sw")
    eventually(
        lambda: (
            water.page.goto(f"{water.gateway}/console/inbox") and water.page.locator(f"a:has-text('{number}')").count()
        ),
        timeout=30,
        what="the order in 水务's inbox",
    )
    water.check("22-inbox")
    open_order(water, number)
    eventually(lambda: (water.page.reload(), water.page.locator("#part-note").count())[1], timeout=30, what="part form")
    water.page.fill("#part-note", "已排查楼道供水管线，无私接")
    water.page.click("form[action$='/part'] button[type=submit]")
    water.page.wait_for_selector("text=协办情况已反馈")

    # The lead resolves with a photo.
    evidence = photo_file(city.page, tmp_path / "after.jpg", 1600, 1200, 90)

    def resolve(note: str) -> None:
        city.page.fill("#resolve-note", note)
        city.page.set_input_files("#resolve-photos", str(evidence))
        city.page.click("form[action$='/resolve'] button[type=submit]")
        city.page.wait_for_selector("text=已办结，等待网格员核查")

    resolve("已清理楼道堆物，责令整改")

    # The worker fails the check; the lead takes it up again and resolves; the worker passes and rates.
    worker = phone.page

    def verify(passed: bool, comment: str) -> None:
        def task_listed() -> bool:
            phone.go("/app/#/tasks/again")
            phone.go("/app/#/tasks")
            worker.wait_for_selector("h3:has-text('待核查')")
            return worker.locator(f"a.card:has-text('{number}')").count() > 0

        eventually(task_listed, timeout=30, what="the verification task")
        worker.click(f"a.card:has-text('{number}')")
        worker.check("#pass" if passed else "#fail")
        worker.fill("#comment", comment)
        worker.click("#verify button[type=submit]")
        worker.wait_for_selector("text=核查通过" if passed else "text=核查未通过")

    verify(False, "楼道仍有堆物")
    eventually(
        lambda: (
            city.page.goto(f"{city.gateway}/console/inbox/{ticket_id}") and city.page.locator("text=需返工").count()
        ),
        timeout=30,
        what="the rework in 城管's order",
    )
    city.page.click("form[action$='/accept'] button")
    city.page.wait_for_selector("text=已接单")
    resolve("堆物已全部清走")
    verify(True, "已清理干净")
    eventually(
        lambda: (phone.go("/app/#/tasks"), worker.locator(f"a.card:has-text('{number}')").count())[1], timeout=30
    )
    worker.click(f"a.card:has-text('{number}')")
    worker.check("#r-satisfied")
    worker.click("#rate button[type=submit]")
    worker.wait_for_selector("text=感谢评价")

    # The supervisor sees it counted, opens its timeline from the map, and downloads the sheet.
    boss = desks("sup-qh")
    boss.page.wait_for_selector(".tiles")
    boss.go("/console/command?from=2020-01-01&to=2020-01-31")  # a month before any ticket
    assert "暂无数据" in boss.page.inner_text("main")
    assert boss.page.locator("[data-chart]").count() == 0, "an empty chart instead of 暂无数据"

    def counted() -> bool:
        boss.go("/console/command")
        row = boss.page.locator("tr:has(a:has-text('区城市管理局'))")
        return row.count() == 1 and int(row.locator("td").nth(1).inner_text()) >= 1

    eventually(counted, timeout=30, what="城管's dispatches counted in the command centre")
    boss.check("24-command")
    # From the map: the grid, then the ticket's point, to its whole timeline.
    boss.go(f"/console/command/tickets/{ticket_id}")
    timeline = boss.page.inner_text("main")
    for step in ("上报立案", "派遣", "接单", "办结", "核查未通过，返工", "结案", "评价"):
        assert step in timeline, step
    boss.check("25-ticket-timeline")
    boss.go("/console/command")
    with boss.page.expect_download() as download:
        boss.page.click("form[action='/console/command/sheet'] button[type=submit]")
    assert download.value.suggested_filename.endswith(".xlsx")


def test_another_street_and_another_department_see_none_of_it(
    phone: Phone, desks: Callable[[str], Phone], stack: Stack
) -> None:
    number = file_unrouted_report(phone, "另一处群租线索", place=21)
    ticket_id = phone.page.get_attribute("a:has-text('查看进展')", "href").rsplit("/", 1)[1]  # type: ignore[union-attr]
    other_desk = desks("sd-wh")
    other_desk.page.wait_for_selector("#queue-rows")
    assert other_desk.page.locator(f"text={number}").count() == 0
    other_desk.expected_statuses.add(404)
    other_desk.go(f"/console/desk/tickets/{ticket_id}")
    assert "未找到" in other_desk.page.inner_text("main")
    desk = desks("sd-lj")
    desk.page.wait_for_selector(f"#queue-rows a:has-text('{number}')", timeout=30000)
    desk.page.click(f"#queue-rows a:has-text('{number}')")
    desk.page.select_option("#lead", "CG")
    desk.page.click("form[action$='/assign'] button[type=submit]")
    desk.page.wait_for_selector("text=已派遣")
    water = desks("agent-sw")  # not a part of this ticket
    water.expected_statuses.add(404)
    assert water.page.locator(f"text={number}").count() == 0
    water.go(f"/console/inbox/{ticket_id}")
    assert "未找到" in water.page.inner_text("main")
    # A page of another desk sends the person to their own.
    water.go("/console/command")
    assert water.page.url.endswith("/console/inbox")
