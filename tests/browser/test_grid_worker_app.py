"""The grid worker's app on a phone: file with a photo, file without signal, verify and rate."""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, expect

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually
from tests.browser.conftest import Phone, api_user, choose_user, demo_name, jpeg_size, photo_file
from tests.browser.test_console import receipt_number

pytestmark = pytest.mark.browser


def fill_report(phone: Phone, *, search: str, category: str, description: str, place: int) -> None:
    page = phone.page
    # A fresh form, opened from the menu as a worker would; wait for it, not for the one shown before.
    shown_before = page.get_by_role("form", name="上报问题").element_handles()
    phone.menu.get_by_role("link", name="上报", exact=True).click()
    for form in shown_before:
        form.wait_for_element_state("hidden")
    expect(page.get_by_label("问题类别").get_by_role("option").first).to_be_attached()
    page.get_by_label("搜索类别").fill(search)
    page.get_by_label("问题类别").select_option(category)
    page.get_by_label("问题描述").fill(description)
    phone.locate(place)
    expect(page.get_by_text("所在网格：江畔社区第1网格")).to_be_visible()


def submit(phone: Phone) -> None:
    phone.page.get_by_role("button", name="提交上报").click()


def heading(phone: Phone, name: str) -> Locator:
    return phone.page.get_by_role("main").get_by_role("heading", name=name)


def queue_banner(phone: Phone) -> Locator:
    """The bar above the screen that says what waits on the phone (hidden when nothing does)."""
    return phone.page.get_by_role("status", name="本机待发送的上报")


def outbox_card(phone: Phone, text: str) -> Locator:
    return phone.page.get_by_role("main").get_by_role("listitem").filter(has_text=text)


def inbox(stack: Stack, department: str, agent: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api_user(stack, agent, Role.DEPARTMENT_AGENT, department).ok(
        "handling", "GET", "/v1/work-orders?limit=200"
    )["items"]
    return items


def test_a_grid_worker_signs_in_and_files_a_report_with_a_photo_that_reaches_the_inbox(
    phone: Phone, stack: Stack, tmp_path: Path
) -> None:
    page = phone.page
    phone.go("/signin")
    phone.check("01-signin")
    phone.sign_in("gw-lj01")
    fill_report(phone, search="垃圾", category="SJ-0101", description="江畔路口垃圾堆积，无人清运", place=1)
    expect(page.get_by_text("精度约 ±8 米")).to_be_visible()
    camera_photo = photo_file(page, tmp_path / "camera.jpg", 4000, 3000)
    page.get_by_label("从相册选择").set_input_files(str(camera_photo))
    expect(page.get_by_role("list", name="已选照片").get_by_role("img")).to_have_count(1)
    phone.check("02-new-report")
    submit(phone)
    expect(heading(phone, "上报成功")).to_be_visible()
    number = receipt_number(phone)
    assert number.startswith("QH-")
    phone.check("03-receipt")

    order = eventually(
        lambda: next((o for o in inbox(stack, "CG", "agent-cg") if o["ticket_number"] == number), None),
        timeout=30,
        what=f"{number} in 城管's inbox",
    )
    # The photo travelled shrunk: long side at most 2048 px.
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    report = worker.ok("intake", "GET", f"/v1/reports/{order['ticket_id']}")
    [photo_id] = report["photos"]
    stored = worker.call("intake", "GET", f"/v1/attachments/{photo_id}").content
    assert max(jpeg_size(stored)) == 2048 and len(stored) < camera_photo.stat().st_size

    page.get_by_role("link", name="查看进展").click()
    expect(page.get_by_role("list", name="照片", exact=True).get_by_role("img")).to_have_count(1)
    expect(page.get_by_role("list", name="进展").get_by_role("listitem").first).to_be_visible()
    phone.check("04-report-detail")
    phone.menu.get_by_role("link", name="我的上报").click()
    expect(page.get_by_role("main").get_by_role("link", name=number)).to_be_visible()
    phone.check("05-my-reports")

    # The same problem reported again at the same place: intake flags it, and the app says so.
    fill_report(phone, search="垃圾", category="SJ-0101", description="江畔路口垃圾堆积（再次上报）", place=1)
    submit(phone)
    expect(page.get_by_role("alert").filter(has_text=f"可能重复：{number}")).to_be_visible()
    phone.check("05b-duplicate-hint")


def test_the_app_is_installable_and_its_shell_is_served_by_its_service_worker(phone: Phone) -> None:
    page = phone.page
    phone.sign_in("gw-lj01")
    # The manifest a browser installs the app from (a link in the page's head: nothing a person sees).
    manifest = page.evaluate("async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()")
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/app/")
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    for icon in manifest["icons"]:
        assert page.evaluate("async (src) => (await fetch(src)).ok", icon["src"]), icon["src"]
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("/app/sw.js")
    # Nothing the app loads comes from another origin (no CDN).
    origins = page.evaluate(
        "() => [...new Set(performance.getEntriesByType('resource').map((e) => new URL(e.name).origin))]"
    )
    assert origins == [phone.gateway]


def test_a_screen_still_loading_never_replaces_the_one_the_worker_has_moved_to(phone: Phone) -> None:
    """On a weak cell the form's reference data can come long after the worker has tapped another
    tab: the late answer must not draw the old screen over the new one."""
    page = phone.page
    phone.sign_in("gw-lj01")
    held: list[Any] = []

    def hold(route: Any) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    phone.context.route("**/v1/directory/categories*", hold)
    with page.expect_request("**/v1/directory/categories*"):
        page.reload()  # the app starts afresh on its form, and the form asks for its categories
    phone.menu.get_by_role("link", name="我的上报").click()
    expect(heading(phone, "我的上报")).to_be_visible()
    assert len(held) == 1
    with page.expect_response("**/v1/directory/categories*"):
        held[0].continue_()
    page.wait_for_timeout(500)  # the late answer handled: the old screen would draw now
    expect(page.get_by_role("main").get_by_role("heading", level=2)).to_have_text("我的上报")
    assert page.get_by_role("form", name="上报问题").count() == 0, "the form came back over 我的上报"


def test_reports_filed_without_signal_wait_through_a_reload_and_each_reaches_the_inbox_exactly_once(
    phone: Phone, stack: Stack, tmp_path: Path
) -> None:
    page = phone.page
    phone.sign_in("gw-lj01")
    phone.go("/app/#/new")
    # categories and grids are now kept on the phone
    expect(page.get_by_label("问题类别").get_by_role("option").first).to_be_attached()
    page.evaluate("() => navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    phone.set_offline(True)
    page.reload()  # the shell now comes from the service worker's cache
    expect(page.get_by_role("status").filter(has_text="当前无网络")).to_be_visible()
    reports = [
        ("井盖", "BJ-0101", "上水井盖破损，有坠落风险", 2, [(3000, 2000, 30), (2000, 3000, 120)]),
        ("垃圾", "SJ-0101", "绿化带内暴露垃圾", 3, []),
        ("井盖", "BJ-0101", "井盖缺失，已放置警示", 4, [(1600, 1200, 260)]),
    ]
    for n, (search, category, description, place, photos) in enumerate(reports):
        fill_report(phone, search=search, category=category, description=description, place=place)
        if photos:
            files = [
                str(photo_file(page, tmp_path / f"p{n}-{i}.jpg", w, h, hue)) for i, (w, h, hue) in enumerate(photos)
            ]
            page.get_by_label("从相册选择").set_input_files(files)
            expect(page.get_by_role("list", name="已选照片").get_by_role("img")).to_have_count(len(files))
        submit(phone)
        expect(heading(phone, "已保存在本机")).to_be_visible()
    expect(queue_banner(phone)).to_contain_text("3 条上报待发送")
    phone.check("06-saved-offline")

    page.reload()  # closing the app loses nothing
    expect(queue_banner(phone)).to_contain_text("3 条上报待发送")
    phone.menu.get_by_role("link", name="待发送").click()
    expect(outbox_card(phone, "上水井盖破损")).to_be_visible()
    phone.check("07-outbox-offline")

    # Signal returns, but the answer to the first filing is lost on the way back: intake filed it,
    # the phone never heard. The phone sends it again with the same key; intake answers the first answer.
    lost: list[str] = []

    def lose_first_answer(route: Any) -> None:
        if not lost:
            route.fetch()
            lost.append(route.request.headers["idempotency-key"])
            route.abort("connectionreset")
        else:
            route.continue_()

    phone.expected_network_errors.add("ERR_CONNECTION_RESET")
    phone.context.route("**/v1/reports", lose_first_answer)
    phone.set_offline(False)
    # The app notices by itself (it tries again every 10 s) and sends; the first answer is lost.
    for _ in range(150):
        if lost:
            break
        page.wait_for_timeout(100)
    assert lost, "the app sent what waited once the network returned"
    expect(queue_banner(phone)).to_contain_text("3 条上报待发送")  # no answer, so nothing left the outbox
    queue_banner(phone).get_by_role("button", name="立即发送").click()  # the worker does not wait for the next try
    expect(queue_banner(phone)).to_be_hidden(timeout=30000)

    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    mine = worker.ok("intake", "GET", "/v1/reports?mine=true&limit=200")["items"]
    assert sum(r["description"] == reports[0][2] for r in mine) == 1, "the filing whose answer was lost"
    for _, category, description, _, photos in reports:
        filed = [r for r in mine if r["description"] == description]
        assert len(filed) == 1, f"{description!r} filed {len(filed)} times"
        assert len(filed[0]["photos"]) == len(photos)
        department, agent = ("SW", "agent-sw") if category == "BJ-0101" else ("CG", "agent-cg")
        ticket_id = filed[0]["ticket_id"]

        def in_inbox(d: str = department, a: str = agent, t: str = ticket_id) -> bool:
            return any(o["ticket_id"] == t for o in inbox(stack, d, a))

        eventually(in_inbox, timeout=30, what=f"{description} in {department}'s inbox")
    phone.check("08-outbox-sent")


def test_a_resolved_ticket_is_verified_failed_then_passed_after_rework_and_rated(phone: Phone, stack: Stack) -> None:
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    agent = api_user(stack, "agent-cg", Role.DEPARTMENT_AGENT, "CG")
    lon, lat = 120.1085, 30.2085
    ticket = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0102", "description": "沿街乱堆物料", "location": {"lon": lon, "lat": lat}},
    )
    ticket_id = ticket["ticket_id"]

    def fix() -> None:
        eventually(lambda: any(o["ticket_id"] == ticket_id for o in inbox(stack, "CG", "agent-cg")), timeout=30)
        agent.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
        agent.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已清理完毕"})

    def pending() -> bool:
        tasks = worker.ok("feedback", "GET", "/v1/verifications?status=pending")["items"]
        return any(t["ticket_id"] == ticket_id for t in tasks)

    fix()
    eventually(pending, timeout=30, what="a verification task")
    page = phone.page
    phone.sign_in("gw-lj01")
    number = ticket["ticket_number"]
    phone.menu.get_by_role("link", name="核查评价").click()
    page.get_by_role("link", name=number).click()
    check = page.get_by_role("form", name="现场核查")
    check.get_by_label("未通过（返工）").check()
    check.get_by_role("button", name="提交核查").click()
    # a failed check needs its reason
    expect(check.get_by_label("核查意见")).to_have_accessible_description(re.compile("请写明原因"))
    phone.check("09-verify")
    check.get_by_label("核查意见").fill("仍有部分物料未清理")
    check.get_by_role("button", name="提交核查").click()
    expect(page.get_by_text("核查未通过，工单已退回部门返工")).to_be_visible()
    eventually(lambda: worker.ok("intake", "GET", f"/v1/reports/{ticket_id}")["status"] == "reopened", what="reopened")

    fix()  # the department takes it up again and resolves it
    eventually(pending, timeout=30, what="a second verification task")
    phone.menu.get_by_role("link", name="核查评价").click()
    page.get_by_role("link", name=number).click()
    page.get_by_label("通过", exact=True).check()
    page.get_by_label("核查意见").fill("已清理干净")
    page.get_by_role("button", name="提交核查").click()
    expect(page.get_by_text("核查通过，工单已结案")).to_be_visible()

    def unrated() -> bool:
        return any(
            t["ticket_id"] == ticket_id
            for t in worker.ok("feedback", "GET", "/v1/verifications?status=passed&rated=false")["items"]
        )

    eventually(unrated, timeout=30, what="the rating task")
    phone.menu.get_by_role("link", name="核查评价").click()
    page.get_by_role("link", name=number).click()
    rate = page.get_by_role("form", name="评价")
    expect(rate).to_be_visible()
    phone.check("10-rate")
    rate.get_by_label("满意", exact=True).check()
    rate.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢评价")).to_be_visible()
    rated = worker.ok("feedback", "GET", "/v1/verifications?rated=true")["items"]
    assert any(t["ticket_id"] == ticket_id and t["rating"]["rating"] == "satisfied" for t in rated)
    assert next(t for t in rated if t["ticket_id"] == ticket_id)["reworks"] == 1

    phone.menu.get_by_role("link", name="通知").click()
    expect(page.get_by_role("main").get_by_role("listitem").first).to_be_visible()
    phone.check("11-notifications")


def test_a_refused_report_shows_the_reason_beside_its_field_and_is_kept_to_correct(phone: Phone, stack: Stack) -> None:
    page = phone.page
    phone.expected_statuses.add(403)
    phone.sign_in("gw-lj01")  # the app opens on its form
    submit(phone)  # nothing filled in: told what is missing, field by field
    expect(page.get_by_label("问题类别")).to_have_accessible_description(re.compile("请选择问题类别"))
    expect(page.get_by_label("问题描述")).to_have_accessible_description(re.compile("请填写问题描述"))
    page.get_by_label("问题类别").select_option("SJ-0101")
    page.get_by_label("问题描述").fill("临河社区的垃圾")
    phone.context.set_geolocation({"longitude": 120.105, "latitude": 30.225, "accuracy": 10})  # LJ02, not theirs
    page.get_by_role("button", name="使用当前定位").click()
    expect(page.get_by_text("所在网格：")).to_be_visible()
    submit(phone)
    address = page.get_by_label("地址（选填）")
    expect(address).to_have_accessible_description(re.compile("只能在本人负责的范围内上报"))
    expect(address).to_have_attribute("aria-invalid", "true")
    phone.check("12-refused")
    phone.menu.get_by_role("link", name="待发送").click()
    expect(outbox_card(phone, "未能上报")).to_be_visible()
    phone.check("13-outbox-refused")
    # Corrected (their own grid), it is filed under a new key and leaves the outbox.
    page.get_by_role("link", name="修改后重新提交").click()
    expect(address).to_have_accessible_description(re.compile("只能在本人负责的范围内上报"))
    phone.locate(9)
    submit(phone)
    expect(heading(phone, "上报成功")).to_be_visible()
    expect(queue_banner(phone)).to_be_hidden()


def test_a_session_ended_elsewhere_asks_to_sign_in_again_and_keeps_what_waits(phone: Phone, stack: Stack) -> None:
    page = phone.page
    phone.expected_statuses.add(401)
    phone.sign_in("gw-lj01")
    # A report saved without signal; meanwhile the session is ended from elsewhere (its cookie,
    # copied, signs out): the phone's token is refused, and the server knows no session for it.
    phone.set_offline(True)
    fill_report(phone, search="垃圾", category="SJ-0101", description="会话结束期间的上报", place=12)
    submit(phone)
    expect(heading(phone, "已保存在本机")).to_be_visible()
    cookies = {c["name"]: c["value"] for c in phone.context.cookies()}
    assert httpx.post(f"{phone.gateway}/signout", cookies=cookies).status_code == 303
    refused_everywhere(stack, kept_token(page))  # within a fraction of a second of the sign-out
    phone.set_offline(False)
    expired = page.get_by_role("alert").filter(has_text="登录已失效")
    expect(expired).to_be_visible()
    expect(queue_banner(phone)).to_contain_text("1 条上报待发送")
    # the app no longer goes on as the person it cached
    expect(page.get_by_role("banner")).not_to_contain_text(demo_name("gw-lj01"))
    phone.check("14-session-expired")
    expired.get_by_role("link", name="重新登录").click()
    choose_user(page, "gw-lj01")
    page.wait_for_url("**/app/**")
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")

    def filed() -> list[str]:
        mine = worker.ok("intake", "GET", "/v1/reports?mine=true&limit=200")["items"]
        return [r["ticket_id"] for r in mine if r["description"] == "会话结束期间的上报"]

    assert len(eventually(filed, timeout=30, what="the report that waited, filed")) == 1
    expect(queue_banner(phone)).to_be_hidden()
    expect(page.get_by_role("alert").filter(has_text="登录已失效")).to_be_hidden()


def kept_token(page: Any) -> str:
    """The bearer token the app keeps for its session."""
    token: str = page.evaluate(
        "async () => (await (await import('/app/vendor/idb-keyval/index.js')).get('session')).token"
    )
    return token


def refused_everywhere(stack: Stack, token: str) -> None:
    """Every service that takes grid workers' calls refuses `token` within a few seconds."""
    calls = {"intake": "/v1/reports?mine=true", "feedback": "/v1/notifications", "directory": "/v1/directory/tree"}

    def refused() -> bool:
        return all(
            httpx.get(f"{stack.url(name)}{path}", headers={"Authorization": f"Bearer {token}"}).status_code == 401
            for name, path in calls.items()
        )

    eventually(refused, timeout=3, what="every service refusing the signed-out token")


def descriptions(stack: Stack, sub: str) -> list[str]:
    mine = api_user(stack, sub, Role.GRID_WORKER, "LJ01").ok("intake", "GET", "/v1/reports?mine=true&limit=200")
    return [r["description"] for r in mine["items"]]


def test_signing_out_ends_the_session_and_a_waiting_report_goes_out_only_under_its_author(
    phone: Phone, stack: Stack
) -> None:
    page = phone.page
    phone.expected_statuses.update({401, 503})
    phone.sign_in("gw-lj01")

    # intake is busy: the report waits on the phone. (A route of the page, not of the context: the
    # context's would take the service worker's requests too, and hold up a later page's start.)
    def answer_busy(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"error": {"code": "unavailable", "message": "服务暂时不可用", "details": None}}),
        )

    page.route("**/v1/reports", answer_busy)
    fill_report(phone, search="垃圾", category="SJ-0101", description="交接班前未发出的上报", place=14)
    submit(phone)
    expect(heading(phone, "已保存在本机")).to_be_visible()
    token = kept_token(page)
    cookies = {c["name"]: c["value"] for c in phone.context.cookies()}
    phone.check("16-before-sign-out")

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/signin")
    # The session is over on the server: a copy of its cookie, and its token, open nothing.
    assert httpx.get(f"{phone.gateway}/session", cookies=cookies).status_code == 401
    refused_everywhere(stack, token)
    # The phone forgot the person, not the report.
    kept = page.evaluate(
        """async () => { const idb = await import('/app/vendor/idb-keyval/index.js');
             const drafts = idb.createStore('gridloop-outbox', 'drafts');
             return { session: (await idb.get('session')) ?? null, mine: (await idb.get('mine')) ?? null,
                      drafts: (await idb.values(drafts)).map((d) => [d.owner, d.report.description]) }; }"""
    )
    assert kept == {"session": None, "mine": None, "drafts": [["gw-lj01", "交接班前未发出的上报"]]}
    page.unroute("**/v1/reports")

    # Another worker takes the phone: the report is not sent under their name, nor shown to them.
    choose_user(page, "gw-lj01b")
    page.wait_for_url("**/app/**")
    expect(queue_banner(phone)).to_contain_text("本机另有 1 条其他网格员的上报")
    expect(phone.menu.get_by_role("link", name="待发送")).to_have_accessible_name("待发送")  # no count of theirs
    phone.menu.get_by_role("link", name="待发送").click()
    expect(page.get_by_role("main").get_by_text("本机另有 1 条其他网格员的上报")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("交接班前未发出的上报")
    phone.check("17-another-worker")
    page.wait_for_timeout(1500)  # the app's own sending at start has had its chance
    assert "交接班前未发出的上报" not in descriptions(stack, "gw-lj01b")
    assert "交接班前未发出的上报" not in descriptions(stack, "gw-lj01")

    # Its author signs in again: it goes out, once, under their name.
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/signin")
    choose_user(page, "gw-lj01")
    page.wait_for_url("**/app/**")
    eventually(
        lambda: descriptions(stack, "gw-lj01").count("交接班前未发出的上报") == 1,
        timeout=30,
        what="the waiting report, filed under its author",
    )
    expect(queue_banner(phone)).to_be_hidden()
    assert "交接班前未发出的上报" not in descriptions(stack, "gw-lj01b")


def test_a_busy_server_keeps_the_report_waiting_and_it_is_filed_once_when_it_answers_again(
    phone: Phone, stack: Stack
) -> None:
    """503 (the database saturated) and 429 (too fast) mean "later", never "refused"."""
    page = phone.page
    phone.expected_statuses.update({503, 429})
    phone.sign_in("gw-lj01")
    busy = [
        (503, "unavailable", "服务暂时不可用，请稍后重试 (temporarily unavailable; retry)", "1"),
        (429, "rate_limited", "操作过于频繁，请 1 秒后再试 (too many requests; retry in 1 s)", "1"),
    ]
    keys: list[str] = []

    def answer_busy_twice(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.header_value("idempotency-key") or "")
        if len(keys) > len(busy):
            route.continue_()
            return
        status, code, message, retry_after = busy[len(keys) - 1]
        route.fulfill(
            status=status,
            headers={"Retry-After": retry_after},
            content_type="application/json",
            body=json.dumps({"error": {"code": code, "message": message, "details": None}}),
        )

    phone.context.route("**/v1/reports", answer_busy_twice)
    fill_report(phone, search="垃圾", category="SJ-0101", description="服务繁忙时的上报", place=13)
    submit(phone)
    expect(heading(phone, "已保存在本机")).to_be_visible()
    expect(queue_banner(phone)).to_contain_text(re.compile(r"^\s*1 条上报待发送"))
    phone.menu.get_by_role("link", name="待发送").click()
    expect(outbox_card(phone, "服务繁忙时的上报")).to_be_visible()
    assert outbox_card(phone, "未能上报").count() == 0
    phone.check("15-server-busy")
    # The worker presses 立即发送 (or the app's own retry comes first): 429 this time, still waiting;
    # then intake answers and the report leaves the queue.
    send_now = queue_banner(phone).get_by_role("button", name="立即发送")
    for _ in range(60):
        if queue_banner(phone).is_hidden():
            break
        if send_now.is_visible():
            send_now.click()
        page.wait_for_timeout(500)
    expect(queue_banner(phone)).to_be_hidden(timeout=30000)
    assert len(keys) == 3, f"answered 503, 429, then filed: {len(keys)} tries"
    assert len(set(keys)) == 1, "every try carries the report's own Idempotency-Key"
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    mine = worker.ok("intake", "GET", "/v1/reports?mine=true&limit=200")["items"]
    assert sum(r["description"] == "服务繁忙时的上报" for r in mine) == 1
