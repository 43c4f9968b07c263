"""评议 in the browser, through the gateway and the whole stack: the community worker grades its
members and units on the year's figures (a member who never reported is refused 合格, beside the
member's row) and downloads the member sheet; the hospital's admin reads the quarter's feedback
card and grades the community. Every page is checked at 360 and 1366 px and photographed.

The members and their service records are put in as the members and activities areas keep them."""

import csv
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pymongo
import pytest
from playwright.sync_api import expect

from gridloop.stack.stack import Stack
from gridloop.stack.testing import register_member, service_record
from tests.browser.conftest import Phone

pytestmark = pytest.mark.browser


def _seed(stack: Stack) -> tuple[str, str]:
    """Two of 区人民医院's members in 江畔社区: one confirmed who served twice this year, one never confirmed."""
    assert stack.servers is not None
    run = time.time_ns() % 10**9
    served, unconfirmed = f"M-BR-{run}-A", f"M-BR-{run}-C"
    now = datetime.now(UTC)
    year_start = datetime(now.year, 1, 2, 4, 0, tzinfo=UTC)
    with pymongo.MongoClient(stack.servers.mongo_uri, tz_aware=True) as client:
        db = client["gridloop_cobuild"]
        db["units_reported"].update_one(
            {"_id": "U-LJ-HOSP:LJ01"},
            {"$setOnInsert": {"unit_code": "U-LJ-HOSP", "community_code": "LJ01", "street_code": "LJ",
                              "district_code": "QH", "receipt_number": "HZ-BR-1", "reported_at": year_start}},
            upsert=True,
        )  # fmt: skip
        register_member(
            db, f"sub-{served}", member_id=served, name=f"王建国{run}", unit_code="U-LJ-HOSP", at=year_start
        )
        register_member(
            db,
            f"sub-{unconfirmed}",
            member_id=unconfirmed,
            name=f"陈志远{run}",
            unit_code="U-LJ-HOSP",
            status="pending",
            grid=None,
            at=year_start,
            reported_at=None,
            placed_at=None,
            last_return_at=None,
        )
        db["records"].insert_many(
            [
                service_record(
                    f"R-BR-{run}-{n}", served, minutes=250, day=now, unit_code="U-LJ-HOSP", rating="satisfied"
                )
                for n in (1, 2)
            ]
        )
    return f"王建国{run}", f"陈志远{run}"


def test_community_grades_members_and_units_and_the_unit_grades_back(
    stack: Stack, desks: Callable[[str], Phone]
) -> None:
    served, unconfirmed = _seed(stack)
    community = desks("cw-lj01")
    page = community.page
    community.go("/console/volunteer/reviews")
    expect(page.get_by_role("heading", level=1)).to_contain_text("年度评议")
    member = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=served))
    expect(member).to_contain_text("服务 2 次 · 8.3 小时")
    expect(member).to_contain_text("已达年度最低要求")
    never = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=unconfirmed))
    expect(never).to_contain_text("从未报到")
    community.check("reviews-01-community-year")

    # 合格 for a member who never reported: refused beside that member
    community.expected_statuses.add(422)
    never.get_by_label("评议等级").select_option(label="合格")
    never.get_by_role("button", name="评议").click()
    never = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=unconfirmed))
    expect(never.get_by_role("alert")).to_contain_text("从未到社区报到")
    community.check("reviews-02-never-reported-refused")

    member = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=served))
    member.get_by_label("评议等级").select_option(label="优秀")
    member.get_by_label("评语").fill("服务积极，群众满意")
    member.get_by_role("button", name="评议").click()
    expect(page.get_by_role("status").filter(has_text=f"已评议：{served}")).to_be_visible()
    hospital = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name="区人民医院"))
    hospital.get_by_label("评议等级").select_option(label="合格")
    hospital.get_by_role("button", name="评议").click()
    expect(page.get_by_role("status").filter(has_text="已评议：区人民医院")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("listitem").filter(has_text="党员评议表").get_by_role("link", name="CSV").click()
    rows = csv.DictReader(io.StringIO(download.value.path().read_bytes().decode("utf-8-sig")))
    row = next(r for r in rows if r["姓名"] == served)
    assert (row["从未报到"], row["服务次数"], row["达到年度最低要求"], row["社区评议"]) == ("否", "2", "是", "优秀")

    unit = desks("ua-hosp")
    unit.go("/console/volunteer/feedback")
    expect(unit.page.get_by_role("heading", level=1, name="反馈与评议")).to_be_visible()
    expect(unit.page.get_by_role("table", name="党员服务情况")).to_contain_text(served)
    card = unit.page.get_by_role("listitem").filter(has=unit.page.get_by_role("heading", name="LJ01"))
    expect(card).to_contain_text("社区评本单位：合格")
    unit.check("reviews-03-unit-feedback")
    card.get_by_label("评议等级").select_option(label="优秀")
    card.get_by_role("button", name="评议").click()
    expect(unit.page.get_by_role("status").filter(has_text="已评议：社区 LJ01")).to_be_visible()
