"""The browser layer: Playwright driving Debian's Chromium (never a downloaded browser) against a
whole stack reached through its gateway, as a phone would. Every page checked is checked at 360 px
and at 1366 px with axe-core (every rule it runs by default: WCAG 2.x A and AA and its best
practices; any violation fails), for console errors and for anything the page's
Content-Security-Policy refused (which fails the test that provoked it); screenshots of both
widths go to var/screenshots/."""

import base64
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Geolocation,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack
from gridloop.web.signin import DEMO_USERS

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "services/web/node_modules/axe-core/axe.min.js"
SCREENSHOTS = ROOT / "var/screenshots"
LAST_PAGES = ROOT / "var/browser-last-pages"
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
# Every document reports what its Content-Security-Policy refused to the test (a binding, which the
# policy does not govern, as it does not govern the test's own evaluate calls).
CSP_WATCH = """document.addEventListener('securitypolicyviolation', (e) => window.__gridloopCspViolation(
  `${e.effectiveDirective} refused ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber}) ${e.sample}`));"""
# What a person waits for on a busy machine (the shared CPU of a test run): as long as a page's own wait.
expect.set_options(timeout=30_000)
# Inside 江畔社区第1网格 (LJ01-G1); each report gets its own point so no duplicate hint holds it.
GRID_ORIGIN = (120.1005, 30.2005)


def point(n: int) -> Geolocation:
    """The n-th report's own place: 120 m apart, all inside LJ01-G1."""
    return {
        "longitude": GRID_ORIGIN[0] + 0.0012 * (n % 8),
        "latitude": GRID_ORIGIN[1] + 0.0012 * (n // 8),
        "accuracy": 8,
    }


# The stack is the whole stack the end-to-end and fuzz layers share (tests/conftest.py), started before
# Playwright: sync Playwright holds an event loop open in this thread while it runs, and a stack
# starts with asyncio. Playwright and the browser stop when this layer's tests are done.
@pytest.fixture(scope="package")
def gateway(stack: Stack) -> str:
    return stack.gateway_url


def api_user(stack: Stack, sub: str, role: Role, org: str) -> ApiUser:
    return ApiUser(urls={name: stack.url(name) for name in SERVICES}, sub=sub, role=role, org=org)


@pytest.fixture(scope="package")
def playwright(stack: Stack) -> Iterator[Playwright]:
    # Requests a service worker makes are seen (and can be cut) only with this set.
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-first-run",
            "--disable-sync",
            "--disable-component-update",
            "--disable-background-networking",
            "--disable-quic",
            "--disable-gpu",
        ],
    )
    yield launched
    launched.close()


@dataclass
class Phone:
    """One grid worker's phone: a browser context with its own storage, GPS and network."""

    context: BrowserContext
    page: Page
    gateway: str
    errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    offline: bool = False
    # Requests cut by a simulated outage fail with ERR_INTERNET_DISCONNECTED, and the browser may log
    # one after the network is back (the message trails the request): only an outage causes it here.
    cut_off_once: bool = False
    # HTTP answers a scenario provokes on purpose (a refusal, an expired token): the browser logs them.
    expected_statuses: set[int] = field(default_factory=set)
    expected_network_errors: set[str] = field(default_factory=set)

    def go(self, path: str) -> None:
        self.page.goto(f"{self.gateway}{path}")

    def sign_in(self, sub: str) -> None:
        self.go("/signin")
        choose_user(self.page, sub)
        self.page.wait_for_url("**/app/**")
        expect(self.page.get_by_role("banner").get_by_text(demo_name(sub))).to_be_visible()
        # the form's reference data, now kept on the phone
        expect(self.page.get_by_label("问题类别").get_by_role("option").first).to_be_attached()

    @property
    def menu(self) -> Locator:
        """The app's menu at the foot of the screen."""
        return self.page.get_by_role("navigation", name="主菜单")

    def locate(self, n: int) -> None:
        self.context.set_geolocation(point(n))
        self.page.get_by_role("button", name="使用当前定位").click()
        expect(self.page.get_by_text("精度约")).to_be_visible()

    def set_offline(self, offline: bool) -> None:
        """Cut the network for the page and its service worker alike."""
        # Marked first: the browser's report of a request the outage cuts can arrive while the
        # calls below are still waiting on the browser.
        self.cut_off_once = self.cut_off_once or offline
        if offline and not self.offline:
            self.context.route("**/*", lambda route: route.abort("internetdisconnected"))
        if not offline and self.offline:
            self.context.unroute("**/*")
        self.context.set_offline(offline)
        self.offline = offline

    def check(self, name: str) -> None:
        """The screen as it stands, at a phone's width (360 px) and at a desk's (1366 px): no console
        errors, every field labelled, axe-core finds no WCAG 2.1 AA violation at either width; a
        screenshot of each is saved for a person to look at. The page is left at its own width."""
        assert not self.csp_violations, f"refused by the Content-Security-Policy on {name}: {set(self.csp_violations)}"
        unlabelled = self.page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                 .map((el) => el.id || el.name || el.outerHTML.slice(0, 60))"""
        )
        assert unlabelled == [], f"fields without a label on {name}: {unlabelled}"
        own: ViewportSize = self.page.viewport_size or PHONE
        found: dict[str, list[dict[str, Any]]] = {}
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # The page's own width first, so what a test did last is seen as it was left.
        sizes: list[tuple[ViewportSize, str]] = [(PHONE, "phone"), (DESKTOP, "desktop")]
        for size, width in sorted(sizes, key=lambda s: s[0] != own):
            if self.page.viewport_size != size:
                self.page.set_viewport_size(size)
                self.page.wait_for_timeout(200)  # maps and charts redraw on resize
            assert not self.errors, f"console errors on {name} at {size['width']} px: {self.errors}"
            violations = axe(self.page)
            if violations:
                found[f"{size['width']} px"] = violations
            self.screenshot(SCREENSHOTS / f"{name}-{width}.png")
        if self.page.viewport_size != own:
            self.page.set_viewport_size(own)
        assert found == {}, f"accessibility violations on {name}: {found}"
        assert not self.csp_violations, f"refused by the Content-Security-Policy on {name}: {set(self.csp_violations)}"

    def screenshot(self, path: Path) -> None:
        # A full-page picture would show the sticky menu wherever the viewport stood: put it at the end
        # (through the element's style object, which the page's policy allows; a <style> it refuses).
        self.page.evaluate(
            """() => document.querySelectorAll('.tabs')
                 .forEach((el) => el.style.setProperty('position', 'static', 'important'))"""
        )
        self.page.screenshot(path=str(path), full_page=True)
        self.page.evaluate(
            """() => document.querySelectorAll('.tabs').forEach((el) => el.style.removeProperty('position'))"""
        )


def demo_name(sub: str) -> str:
    """The name a demo user signs in under (the sign-in page lists people by name, not by id)."""
    return next(user.name for user in DEMO_USERS if user.sub == sub)


def choose_user(page: Page, sub: str) -> None:
    """On the sign-in page: the button of the demo user `sub`, found by the person's name."""
    page.get_by_role("list", name="演示用户").get_by_role("button", name=demo_name(sub)).click()


def axe(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # not a <script> tag: the page's policy refuses inline script
    result: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document)).violations
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}))"""
    )
    return result


def watch_csp(context: BrowserContext) -> list[str]:
    """What the Content-Security-Policy of any page in `context` refuses, as it happens."""
    violations: list[str] = []
    context.expose_binding("__gridloopCspViolation", lambda _source, report: violations.append(report))
    context.add_init_script(script=CSP_WATCH)
    return violations


def open_device(browser: Browser, gateway: str, *, viewport: ViewportSize, mobile: bool) -> Phone:
    """A person's browser: its own storage, GPS and network; console errors and failures recorded."""
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if mobile else 1,
        is_mobile=mobile,
        has_touch=mobile,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation=point(0),
        permissions=["geolocation"],
        service_workers="allow",
        accept_downloads=True,
    )
    page = context.new_page()
    device = Phone(context=context, page=page, gateway=gateway, csp_violations=watch_csp(context))

    def console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        provoked = any(f"status of {status}" in text for status in device.expected_statuses) or any(
            error in text for error in device.expected_network_errors
        )
        if not (provoked or (device.cut_off_once and "ERR_INTERNET_DISCONNECTED" in text)):
            device.errors.append(text)

    page.on("console", console)
    page.on("pageerror", lambda exc: device.errors.append(f"uncaught: {exc}"))
    return device


@pytest.fixture
def phone(browser: Browser, gateway: str) -> Iterator[Phone]:
    device = open_device(browser, gateway, viewport=PHONE, mobile=True)
    yield device
    device.context.close()
    assert not device.csp_violations, f"refused by the Content-Security-Policy: {set(device.csp_violations)}"


@pytest.fixture
def desks(browser: Browser, gateway: str) -> Iterator[Callable[[str], Phone]]:
    """Staff at their desks (1366×768), one browser each, signed in by their demo user id."""
    opened: list[Phone] = []

    def sign_in(sub: str) -> Phone:
        device = open_device(browser, gateway, viewport=DESKTOP, mobile=False)
        device.go("/signin")
        choose_user(device.page, sub)
        device.page.wait_for_url("**/console/**")
        opened.append(device)
        return device

    yield sign_in
    for n, device in enumerate(opened):
        # Where each person's page stood at the end: what to look at when a scenario fails.
        LAST_PAGES.mkdir(parents=True, exist_ok=True)
        device.page.screenshot(path=str(LAST_PAGES / f"desk-{n}.png"), full_page=True)
        device.context.close()
    refused = {report for device in opened for report in device.csp_violations}
    assert not refused, f"refused by the Content-Security-Policy: {refused}"


def photo_file(page: Page, path: Path, width: int, height: int, hue: int = 200) -> Path:
    """A camera-sized JPEG drawn by the browser itself (a gradient, so it does not compress to nothing)."""
    data_url = page.evaluate(
        """([w, h, hue]) => { const c = document.createElement('canvas'); c.width = w; c.height = h;
             const g = c.getContext('2d'); const grad = g.createLinearGradient(0, 0, w, h);
             grad.addColorStop(0, `hsl(${hue},70%,40%)`); grad.addColorStop(1, `hsl(${hue + 90},70%,70%)`);
             g.fillStyle = grad; g.fillRect(0, 0, w, h); return c.toDataURL('image/jpeg', 0.92); }""",
        [width, height, hue],
    )
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    return path


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise ValueError("no start-of-frame marker")
