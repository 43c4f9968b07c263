"""系统对接 in the console: the admin allows a department's system's address (an always-refused
one is named back, with what was typed kept), the department connects its system there (the
secret shown once, the delivery log filling as tickets are dispatched to it, replay, a new
secret) and the admin sees it with only the switch-off and delete buttons; the admin registers
and revokes an Open311 client application; each page checked at 1366×768 and 360×740."""

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

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
    expect(admin.page.get_by_role("heading", name="接收地址允许范围")).to_be_visible()
    assert admin.page.get_by_role("heading", name="登记接收地址").count() == 0  # not in its name
    allowed = admin.page.get_by_label("区城市管理局（CG）")
    allowed.fill(f"127.0.0.1:{port}\n169.254.169.254")
    admin.page.get_by_role("button", name="保存 区城市管理局 的允许范围").click()
    expect(admin.page.get_by_role("alert").filter(has_text="CG 的允许范围未保存")).to_contain_text("始终禁止")
    expect(allowed).to_have_accessible_description(re.compile("列入也无效。.+始终禁止"))  # the hint, then why
    expect(allowed).to_have_value(f"127.0.0.1:{port}\n169.254.169.254")  # nothing typed is lost
    admin.check("30-allow-list-refused")
    allowed.fill(f"127.0.0.1:{port}")
    admin.page.get_by_role("button", name="保存 区城市管理局 的允许范围").click()
    expect(admin.page.get_by_role("status").filter(has_text="已保存 CG 的接收地址允许范围")).to_be_visible()

    agent = desks("agent-cg")
    page = agent.page
    agent.go("/console/integrations")
    expect(page.get_by_role("heading", level=1, name="系统对接")).to_be_visible()
    url = page.get_by_label("接收地址", exact=True)
    expect(url).to_have_accessible_description(re.compile(f"127.0.0.1:{port}"))
    register = page.get_by_role("button", name="登记", exact=True)
    agent.expected_statuses.add(422)
    url.fill("not an address")
    url.evaluate("(field) => { field.type = 'text'; }")  # past the browser's own check, to the service's
    register.click()
    expect(page.get_by_role("alert").filter(has_text="接收地址")).to_be_visible()
    url.fill(f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/gridloop")
    register.click()
    expect(page.get_by_role("alert").filter(has_text="不在本部门的接收地址允许范围内")).to_be_visible()
    url.fill(f"http://127.0.0.1:{port}/gridloop")
    page.get_by_label("说明（选填）").fill("城管业务系统")
    register.click()
    expect(page.get_by_text(re.compile(r"^whsec_"))).to_be_visible()
    agent.check("31-integrations-secret")

    worker = api_user(stack, "gw-lj01-hook", Role.GRID_WORKER, "LJ01")
    worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "SJ-0101", "description": "推送测试", "grid_code": "LJ01-G3"},
    )
    agent.go("/console/integrations")
    page.get_by_role("table", name="本部门的接收地址（Webhook）").get_by_role("link", name="/gridloop").click()
    delivered = page.get_by_role("table", name="推送记录").get_by_role("cell").filter(has_text="已送达")
    for _ in range(40):
        if delivered.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    assert delivered.count() >= 1 and got
    agent.check("32-webhook-log")
    page.get_by_label("重发此时间之后的全部推送").fill("2026-01-01T00:00")
    page.get_by_role("button", name="重发", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="已安排重发")).to_be_visible()
    page.get_by_role("button", name="更换签名密钥").click()
    expect(page.get_by_role("status").filter(has_text="已更换签名密钥")).to_be_visible()
    agent.check("33-webhook-rotated")

    admin.go("/console/integrations")
    admin.page.get_by_role("table", name="各部门的接收地址（Webhook）").get_by_role("link", name="/gridloop").click()
    actions = admin.page.get_by_role("region", name="管理", exact=True)
    expect(actions).to_be_visible()
    assert actions.get_by_role("button").all_inner_texts() == ["停用", "删除接收地址"]


def test_the_admin_registers_an_open311_application_and_revokes_it(desks: Callable[[str], Phone]) -> None:
    admin = desks("admin")
    page = admin.page
    admin.go("/console/integrations")
    expect(page.get_by_role("heading", name="第三方应用（Open311）")).to_be_visible()
    admin.expected_statuses.add(422)
    register = page.get_by_role("button", name="登记并生成 api_key")
    page.get_by_label("应用名称").fill("市民随手拍")
    page.get_by_label("可上报的区域编码").fill("NOWHERE")
    register.click()
    expect(page.get_by_role("alert").filter(has_text="区域编码不存在")).to_be_visible()
    page.get_by_label("应用名称").fill("市民随手拍")
    page.get_by_label("联系人（选填）").fill("临江街道 王工")
    page.get_by_label("可上报的区域编码").fill("LJ，WH01")
    register.click()
    expect(page.get_by_text(re.compile(r"^o311_"))).to_be_visible()
    admin.check("34-open311-clients")
    page.get_by_role("button", name="停用 市民随手拍").first.click()
    expect(page.get_by_role("status").filter(has_text="已停用该应用的 api_key")).to_be_visible()
    clients = page.get_by_role("table", name="第三方应用（Open311）")
    expect(clients.get_by_role("cell", name="已停用", exact=True).first).to_be_visible()
