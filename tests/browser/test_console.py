"""The staff console in the browser: the whole loop driven through pages only, and each person
sees only what is theirs."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, expect

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually
from tests.browser.conftest import Phone, api_user, photo_file

TICKET_NUMBER = re.compile(r"^QH-[\w-]+$")

pytestmark = pytest.mark.browser


def file_unrouted_report(phone: Phone, description: str, place: int) -> str:
    """群租房 (SJ-0701) has no routing rule: it waits at the street desk."""
    page = phone.page
    phone.sign_in("gw-lj01")
    page.get_by_label("搜索类别").fill("群租")
    page.get_by_label("问题类别").select_option("SJ-0701")
    page.get_by_label("问题描述").fill(description)
    phone.locate(place)
    page.get_by_role("button", name="提交上报").click()
    expect(page.get_by_role("heading", name="上报成功")).to_be_visible()
    return receipt_number(phone)


def receipt_number(phone: Phone) -> str:
    """The ticket number the receipt gives the grid worker."""
    return phone.page.get_by_role("status").get_by_text(TICKET_NUMBER).inner_text()


def open_order(desk: Phone, number: str) -> None:
    page = desk.page
    desk.go("/console/inbox")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1, name=number)).to_be_visible()


def queue(desk: Phone) -> Locator:
    """The street desk's queue of tickets waiting for a person to dispatch them."""
    return desk.page.get_by_role("table", name="待人工派遣")


def done(desk: Phone, message: str) -> None:
    """The page says the action went through."""
    expect(desk.page.get_by_role("status").filter(has_text=message)).to_be_visible()


def ticket_point(desk: Phone, ticket_id: str) -> Locator:
    """A ticket's point on the command centre's map: a shape in a picture, with no name of its own
    (its tooltip names it on hover), so found by the class the page's script gives it."""
    return desk.page.get_by_role("region", name="全区网格地图").locator(f"path.ticket-{ticket_id}")


def button(desk: Phone, name: str) -> Locator:
    return desk.page.get_by_role("button", name=name, exact=True)


def test_the_whole_loop_through_pages_only(
    phone: Phone, desks: Callable[[str], Phone], stack: Stack, tmp_path: Path
) -> None:
    number = file_unrouted_report(phone, "江畔小区 3 栋疑似群租，楼道堆物", place=20)

    # The street desk: the ticket appears in the queue without a reload, and is whistled.
    desk = desks("sd-lj")
    page = desk.page
    expect(queue(desk).get_by_role("link", name=number)).to_be_visible(timeout=30000)
    desk.check("20-desk-queue")
    queue(desk).get_by_role("link", name=number).click()
    expect(button(desk, "派遣")).to_be_visible()
    desk.check("21-desk-ticket")
    page.get_by_label("主办部门", exact=True).select_option("CG")
    page.get_by_role("group", name="协办部门").get_by_label("区水务局").check()
    button(desk, "派遣").click()
    done(desk, "已派遣")

    # The command centre sees it on the district map while it is open; its point opens its timeline.
    ticket_id = page.url.split("/console/desk/tickets/")[1].split("?")[0]
    watcher = desks("sup-qh")

    def on_the_map() -> bool:
        watcher.go("/console/command")
        expect(watcher.page.get_by_role("region", name="全区网格地图")).to_be_visible()
        return ticket_point(watcher, ticket_id).count() == 1

    eventually(on_the_map, timeout=30, what="the ticket's point on the command centre's map")
    ticket_point(watcher, ticket_id).click(force=True)
    watcher.page.wait_for_url(f"**/console/command/tickets/{ticket_id}")
    expect(watcher.page.get_by_role("main")).to_contain_text("派遣")

    # The lead accepts.
    city = desks("agent-cg")
    eventually(
        lambda: city.page.goto(f"{city.gateway}/console/inbox") and city.page.get_by_role("link", name=number).count(),
        timeout=30,
        what="the order in 城管's inbox",
    )
    open_order(city, number)
    button(city, "接单").click()
    done(city, "已接单")
    city.check("23-work-order")
    # The assisting department reports its part.
    water = desks("agent-sw")
    eventually(
        lambda: (
            water.page.goto(f"{water.gateway}/console/inbox") and water.page.get_by_role("link", name=number).count()
        ),
        timeout=30,
        what="the order in 水务's inbox",
    )
    water.check("22-inbox")
    open_order(water, number)
    part = water.page.get_by_label("协办情况")
    eventually(lambda: (water.page.reload(), part.count())[1], timeout=30, what="part form")
    part.fill("已排查楼道供水管线，无私接")
    button(water, "反馈协办完成").click()
    done(water, "协办情况已反馈")

    # The lead resolves with a photo.
    evidence = photo_file(city.page, tmp_path / "after.jpg", 1600, 1200, 90)

    def resolve(note: str) -> None:
        city.page.get_by_label("办结说明").fill(note)
        city.page.get_by_label("处置后照片").set_input_files(str(evidence))
        button(city, "办结").click()
        done(city, "已办结，等待网格员核查")

    resolve("已清理楼道堆物，责令整改")

    # The worker fails the check; the lead takes it up again and resolves; the worker passes and rates.
    worker = phone.page

    def verify(passed: bool, comment: str) -> None:
        def task_listed() -> bool:
            phone.go("/app/#/tasks/again")
            phone.go("/app/#/tasks")
            expect(worker.get_by_role("heading", name="待核查")).to_be_visible()
            return worker.get_by_role("link", name=number).count() > 0

        eventually(task_listed, timeout=30, what="the verification task")
        worker.get_by_role("link", name=number).click()
        worker.get_by_label("通过" if passed else "未通过（返工）", exact=True).check()
        worker.get_by_label("核查意见").fill(comment)
        worker.get_by_role("button", name="提交核查").click()
        expect(worker.get_by_role("status").filter(has_text="核查通过" if passed else "核查未通过")).to_be_visible()

    verify(False, "楼道仍有堆物")
    eventually(
        lambda: city.page.goto(f"{city.gateway}/console/inbox/{ticket_id}") and city.page.get_by_text("需返工").count(),
        timeout=30,
        what="the rework in 城管's order",
    )
    button(city, "接单").click()
    done(city, "已接单")
    resolve("堆物已全部清走")
    verify(True, "已清理干净")

    def rating_listed() -> int:
        phone.go("/app/#/tasks")
        return worker.get_by_role("link", name=number).count()

    eventually(rating_listed, timeout=30, what="the rating task")
    worker.get_by_role("link", name=number).click()
    worker.get_by_label("满意", exact=True).check()
    worker.get_by_role("button", name="提交评价").click()
    expect(worker.get_by_text("感谢评价")).to_be_visible()

    # The supervisor sees it counted, opens its timeline from the map, and downloads the sheet.
    boss = desks("sup-qh")
    expect(boss.page.get_by_role("list", name="指标")).to_be_visible()
    boss.go("/console/command?from=2020-01-01&to=2020-01-31")  # a month before any ticket
    expect(boss.page.get_by_role("main")).to_contain_text("暂无数据")
    chart = boss.page.get_by_role("img", name=re.compile("柱状图"))
    assert chart.count() == 0, "an empty chart instead of 暂无数据"
    # An empty 红黑榜 says what it takes to be ranked: supervision's own minimum of dispatches.
    chief = api_user(stack, "sup-qh", Role.SUPERVISOR, "QH")
    minimum = chief.ok("supervision", "GET", "/v1/supervision/ranking/departments")["min_volume"]
    for board in ("红榜（按部门）", "黑榜（按部门）"):
        expect(boss.page.get_by_role("table", name=board)).to_contain_text(f"派遣满 {minimum} 件")

    def counted() -> bool:
        boss.go("/console/command")
        table = boss.page.get_by_role("table", name="各部门指标")
        row = table.get_by_role("row").filter(has=boss.page.get_by_role("link", name="区城市管理局"))
        return row.count() == 1 and int(row.get_by_role("cell").nth(1).inner_text()) >= 1

    eventually(counted, timeout=30, what="城管's dispatches counted in the command centre")
    # The turnaround is in working minutes, and the chart says why a figure can be 0.
    expect(chart).to_have_accessible_name(re.compile("工作时间分钟"))
    expect(chart).to_have_accessible_description(re.compile("工作时间以外.*计 0 工作时间分钟"))
    boss.check("24-command")
    # From the map: the grid, then the ticket's point, to its whole timeline.
    boss.go(f"/console/command/tickets/{ticket_id}")
    timeline = boss.page.get_by_role("table", name="全程记录").inner_text()
    for step in ("上报立案", "派遣", "接单", "办结", "核查未通过，返工", "结案", "评价"):
        assert step in timeline, step
    boss.check("25-ticket-timeline")
    boss.go("/console/command")
    with boss.page.expect_download() as download:
        boss.page.get_by_role("button", name="下载评议表").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_another_street_and_another_department_see_none_of_it(
    phone: Phone, desks: Callable[[str], Phone], stack: Stack
) -> None:
    number = file_unrouted_report(phone, "另一处群租线索", place=21)
    progress = phone.page.get_by_role("link", name="查看进展").get_attribute("href")
    assert progress is not None
    ticket_id = progress.rsplit("/", 1)[1]
    other_desk = desks("sd-wh")
    expect(queue(other_desk)).to_be_visible()
    assert other_desk.page.get_by_text(number).count() == 0
    other_desk.expected_statuses.add(404)
    other_desk.go(f"/console/desk/tickets/{ticket_id}")
    expect(other_desk.page.get_by_role("main")).to_contain_text("未找到")
    desk = desks("sd-lj")
    expect(queue(desk).get_by_role("link", name=number)).to_be_visible(timeout=30000)
    queue(desk).get_by_role("link", name=number).click()
    desk.page.get_by_label("主办部门", exact=True).select_option("CG")
    button(desk, "派遣").click()
    done(desk, "已派遣")
    water = desks("agent-sw")  # not a part of this ticket
    water.expected_statuses.add(404)
    assert water.page.get_by_text(number).count() == 0
    water.go(f"/console/inbox/{ticket_id}")
    expect(water.page.get_by_role("main")).to_contain_text("未找到")
    # A page of another desk sends the person to their own.
    water.go("/console/command")
    assert water.page.url.endswith("/console/inbox")


def test_a_work_order_sent_back_counts_down_no_more_and_its_record_shows_the_reason(
    desks: Callable[[str], Phone], stack: Stack
) -> None:
    """退单: the department's page stops counting down (the order owes nothing now) and its 处置记录
    lists the 退单 with the reason given, after the 派遣."""
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    ticket = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0701", "description": "疑似群租，需核实", "grid_code": "LJ01-G2"},
    )
    street = api_user(stack, "sd-lj", Role.STREET_DISPATCHER, "LJ")
    path = f"/v1/dispatch/tickets/{ticket['ticket_id']}/assign"
    eventually(
        lambda: street.call("dispatch", "POST", path, json={"lead_department": "CG"}).status_code < 300,
        timeout=30,
        what="the ticket dispatched by hand to 城管",
    )
    city = desks("agent-cg")
    eventually(
        lambda: (
            city.page.goto(f"{city.gateway}/console/inbox")
            and city.page.get_by_role("link", name=ticket["ticket_number"]).count()
        ),
        timeout=30,
        what="the order in 城管's inbox",
    )
    open_order(city, ticket["ticket_number"])
    facts = city.page.get_by_role("definition")
    # Dispatched: it owes its acceptance, and only that counts down.
    expect(facts.filter(has_text=re.compile(r"(剩|超期) \d"))).to_have_count(1)
    city.page.get_by_label("退单原因").select_option("非本部门职责")
    city.page.get_by_label("补充说明").fill("属住建部门管辖")
    button(city, "退单").click()
    done(city, "已退回街道")
    expect(facts.filter(has_text=re.compile(r"(剩|超期) \d"))).to_have_count(0)
    record = city.page.get_by_role("list", name="处置记录").get_by_role("listitem")
    expect(record.first).to_contain_text("派遣")
    expect(record.last).to_contain_text("退单")
    expect(record.last).to_contain_text("非本部门职责")
    city.check("23b-work-order-sent-back")
