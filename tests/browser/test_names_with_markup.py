"""A directory name is text wherever it shows: an administrator who types markup into a grid's or a
category's name sees it printed, in the command centre's map tooltips and on the grid worker's
phone, and no script runs (and the pages' Content-Security-Policy refuses nothing: conftest)."""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, expect

from gridloop.shared.events import Role
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually
from tests.browser.conftest import Phone, api_user

pytestmark = pytest.mark.browser

MARKUP = '<img src=x onerror="window.__xss=1">'
GRID = "LJ01-G4"  # no other browser test files a report here
CATEGORY = "SJ-0203"  # 乱贴乱画, which no other browser test uses


def inside_grid(n: int) -> dict[str, float]:
    """The n-th report's own place in the grid's southern half, 100 m or more from the others (no
    duplicate hint holds it back) and away from the north-west corner, where the grid is hovered."""
    return {"lon": 120.1125 + 0.0015 * (n % 5), "lat": 30.2115 + 0.0012 * (n // 5)}


TRAPS = """() => ({ ran: window.__xss !== undefined, images: document.querySelectorAll('img[src="x"]').length })"""


@pytest.fixture
def marked_up(stack: Stack) -> Iterator[dict[str, str]]:
    """The grid and the category renamed with markup in front, as an administrator would through
    the directory's API; their own names again afterwards."""
    admin = api_user(stack, "admin", Role.ADMIN, "QH")
    kept: dict[str, dict[str, Any]] = {}
    names = {}
    try:
        for collection, code in (("grids", GRID), ("categories", CATEGORY)):
            record = admin.ok("directory", "GET", f"/v1/directory/{collection}/{code}")["data"]
            kept[collection] = record
            names[collection] = f"{MARKUP}{record['name']}"
            admin.ok(
                "directory", "PUT", f"/v1/directory/{collection}/{code}", json={**record, "name": names[collection]}
            )
        yield names
    finally:
        for collection, record in kept.items():
            code = GRID if collection == "grids" else CATEGORY
            admin.ok("directory", "PUT", f"/v1/directory/{collection}/{code}", json=record)
        admin.close()


def tooltips(device: Phone, shapes: Locator, corner: bool = False) -> list[str]:
    """Hover each shape (at its centre, or near its north-west corner) and read its tooltip as a
    person sees it, failing on markup inside one. (A map's shapes are a picture with no names of
    their own, so `shapes` finds them by the class the page's script gives them; their tooltips name them.)"""
    page = device.page
    seen = []
    for n in range(shapes.count()):
        shapes.nth(n).hover(force=True, position={"x": 4, "y": 4} if corner else None)
        tooltip = page.get_by_role("tooltip").last
        tooltip.wait_for()
        assert tooltip.locator("img").count() == 0, tooltip.inner_html()
        seen.append(tooltip.inner_text())
    return seen


def test_a_name_with_markup_shows_as_text_on_the_maps_and_runs_nothing(
    phone: Phone, desks: Callable[[str], Phone], stack: Stack, marked_up: dict[str, str]
) -> None:
    grid_name, category_name = marked_up["grids"], marked_up["categories"]
    worker = api_user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")

    filed: list[dict[str, Any]] = []

    def file_once_intake_knows_the_name() -> dict[str, Any] | None:
        ticket: dict[str, Any] = worker.ok(
            "intake",
            "POST",
            "/v1/reports",
            json={"category_code": CATEGORY, "description": "墙面小广告", "location": inside_grid(len(filed))},
        )
        filed.append(ticket)
        return ticket if ticket["category_name"] == category_name else None

    ticket = eventually(
        file_once_intake_knows_the_name, timeout=20, interval=1, what="intake's copy of the new category name"
    )
    worker.close()
    # 乱贴乱画 in 临江 goes to the street's own team, whose acceptance gives the command centre's chart a bar.
    team = api_user(stack, "agent-zf-lj", Role.DEPARTMENT_AGENT, "ZF-LJ")

    def in_the_inbox() -> bool:
        orders = team.ok("handling", "GET", "/v1/work-orders")["items"]
        return any(o["ticket_id"] == ticket["ticket_id"] for o in orders)

    eventually(in_the_inbox, timeout=30, what="the order in 临江执法队's inbox")
    team.ok("handling", "POST", f"/v1/work-orders/{ticket['ticket_id']}/accept")
    team.close()

    # The command centre: the grid's and the ticket's tooltips carry the names as text.
    boss = desks("sup-qh")

    district = boss.page.get_by_role("region", name="全区网格地图")
    chart = boss.page.get_by_role("img", name=re.compile("柱状图"))

    def on_the_map() -> bool:
        boss.go("/console/command")
        expect(district).to_be_visible()
        on_map = district.locator(f"path.ticket-{ticket['ticket_id']}").count() == 1
        return on_map and chart.count() == 1

    eventually(on_the_map, timeout=30, what="the ticket's point on the command centre's map, and the chart")
    (grid_tip,) = tooltips(boss, district.locator(f"path.grid-{GRID}"), corner=True)
    assert grid_tip.startswith(f"{grid_name}：在办 ")
    (point_tip,) = tooltips(boss, district.locator(f"path.ticket-{ticket['ticket_id']}"))
    assert point_tip == f"{ticket['ticket_number']} {category_name}"
    assert boss.page.evaluate(TRAPS) == {"ran": False, "images": 0}
    chart.hover()  # the chart's tooltip is drawn inside it: nothing the policy refuses
    boss.page.wait_for_timeout(300)
    boss.check("40-command-names-as-text")
    boss.go(f"/console/command/tickets/{ticket['ticket_id']}")
    expect(boss.page.get_by_role("main")).to_contain_text(category_name)
    assert boss.page.evaluate(TRAPS) == {"ran": False, "images": 0}

    # The grid worker's app: the category list and the report form's map.
    page = phone.page
    phone.sign_in("gw-lj01")
    assert category_name in page.get_by_label("问题类别").inner_text()
    form_map = page.get_by_role("application", name="网格地图：点击地图放置位置")
    assert grid_name in tooltips(phone, form_map.locator("path.leaflet-interactive"))
    assert page.evaluate(TRAPS) == {"ran": False, "images": 0}
    phone.check("41-app-names-as-text")
