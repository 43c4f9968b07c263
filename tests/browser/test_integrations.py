"""系统对接 in the console: the admin allows a department's system's address (an always-refused
one is named back, with what was typed kept), the department connects its system there (the
secret shown once, the delivery log filling as tickets are dispatched to it, replay, a new
secret) and the admin sees it with only the switch-off and delete buttons; the admin registers
and revokes an Open311 client application; each page checked at 1366×768 and 360×740."""

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gridloop.shared.events import Role
from gridloop.stack.servers import free_port
from gridloop.stack.stack import Stack
from tests.browser.conftest import Phone, api_user

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[bytes]]]:
    """The department's own system: takes every POST."""
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], got
    server.shutdown()
    server.server_close()


def test_a_department_connects_its_system_and_reads_what_was_delivered(
    desks: Callable[[str], Phone], stack: Stack, receiver: tuple[int, list[bytes]]
) -> None:
    port, got = receiver
    admin = desks("admin")
    admin.go("/console/integrations")
    admin.expected_statuses.add(422)
    admin.page.wait_for_selector("h2:has-text('接收地址允许范围')")
    assert admin.page.locator("form[action='/console/integrations/webhooks']").count() == 0  # not in its name
    admin.page.fill("#allow-CG", f"127.0.0.1:{port}\n169.254.169.254")
    admin.page.click("button[aria-label='保存 区城市管理局 的允许范围']")
    admin.page.wait_for_selector("#allow-CG-error:has-text('始终禁止')")
    assert admin.page.input_value("#allow-CG") == f"127.0.0.1:{port}\n169.254.169.254"  # nothing typed is lost
    admin.check("30-allow-list-refused")
    admin.page.fill("#allow-CG", f"127.0.0.1:{port}")
    admin.page.click("button[aria-label='保存 区城市管理局 的允许范围']")
    admin.page.wait_for_selector("text=已保存 CG 的接收地址允许范围")

    agent = desks("agent-cg")
    page = agent.page
    agent.go("/console/integrations")
    page.wait_for_selector("h1:has-text('系统对接')")
    page.wait_for_selector(f"#url-hint:has-text('127.0.0.1:{port}')")
    agent.expected_statuses.add(422)
    page.fill("#url", "not an address")
    page.evaluate("document.querySelector('#url').type = 'text'")  # past the browser's own check, to the service's
    page.click("form[action='/console/integrations/webhooks'] button[type=submit]")
    page.wait_for_selector(".error:has-text('接收地址')")
    page.fill("#url", f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/gridloop")
    page.click("form[action='/console/integrations/webhooks'] button[type=submit]")
    page.wait_for_selector(".error:has-text('不在本部门的接收地址允许范围内')")
    page.fill("#url", f"http://127.0.0.1:{port}/gridloop")
    page.fill("#hook-description", "城管业务系统")
    page.click("form[action='/console/integrations/webhooks'] button[type=submit]")
    page.wait_for_selector(".secret code.copy")
    assert page.inner_text(".secret code.copy").startswith("whsec_")
    agent.check("31-integrations-secret")

    worker = api_user(stack, "gw-lj01-hook", Role.GRID_WORKER, "LJ01")
    worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0101", "description": "推送测试", "grid_code": "LJ01-G3"},
    )
    agent.go("/console/integrations")
    page.click("table a:has-text('/gridloop')")
    for _ in range(40):
        if page.locator("td:has-text('已送达')").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert page.locator("td:has-text('已送达')").count() >= 1 and got
    agent.check("32-webhook-log")
    page.fill("#since", "2026-01-01T00:00")
    page.click("form[action$='/replay'] button")
    page.wait_for_selector("text=已安排重发")
    page.click("form[action$='/rotate'] button")
    page.wait_for_selector(".secret:has-text('已更换签名密钥')")
    agent.check("33-webhook-rotated")

    admin.go("/console/integrations")
    admin.page.click("table a:has-text('/gridloop')")
    admin.page.wait_for_selector("h2:has-text('管理')")
    buttons = admin.page.locator("section.actions button").all_inner_texts()
    assert buttons == ["停用", "删除接收地址"]


def test_the_admin_registers_an_open311_application_and_revokes_it(desks: Callable[[str], Phone]) -> None:
    admin = desks("admin")
    page = admin.page
    admin.go("/console/integrations")
    page.wait_for_selector("h2:has-text('第三方应用')")
    admin.expected_statuses.add(422)
    page.fill("#client-name", "市民随手拍")
    page.fill("#client-area", "NOWHERE")
    page.click("form[action='/console/integrations/open311'] button[type=submit]")
    page.wait_for_selector(".error:has-text('区域编码不存在')")
    page.fill("#client-name", "市民随手拍")
    page.fill("#client-contact", "临江街道 王工")
    page.fill("#client-area", "LJ，WH01")
    page.click("form[action='/console/integrations/open311'] button[type=submit]")
    page.wait_for_selector(".secret code.copy")
    assert page.inner_text(".secret code.copy").startswith("o311_")
    admin.check("34-open311-clients")
    page.click("button[aria-label='停用 市民随手拍']")
    page.wait_for_selector("text=已停用该应用的 api_key")
    assert page.locator("td .badge.red:has-text('已停用')").count() >= 1
