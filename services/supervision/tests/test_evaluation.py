"""The monthly evaluation sheet names each department as the directory does."""

import csv
import io

import pytest
from openpyxl import load_workbook

from gridloop.shared.api.supervision import UnitIndicators
from gridloop.supervision import evaluation, kpi

pytestmark = pytest.mark.unit
NAMES = {"SW": "区水务局", "CG": "区城市管理局"}


def _rows() -> list[dict]:  # type: ignore[type-arg]
    # As the indicators were listed while supervision held no directory: each named by its code.
    figures = kpi.indicators(kpi.Tally(counts={"dispatched": 4, "rejected": 1}))
    return [
        {"rank": 1, "code": "SW", "name": "SW", **figures},
        {"rank": None, "code": "TEST-X", "name": "TEST-X", **figures},
    ]


def test_the_sheet_shows_the_directorys_department_names_not_their_codes() -> None:
    body = evaluation.to_csv(_rows(), names=NAMES)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [(r["部门编码"], r["部门名称"]) for r in rows] == [("SW", "区水务局"), ("TEST-X", "TEST-X")]
    assert (rows[0]["排名"], rows[0]["退单率(%)"], rows[1]["排名"]) == ("1", "25.0", "")
    book = load_workbook(io.BytesIO(evaluation.to_xlsx(_rows(), names=NAMES, title="2026-03 部门考核")))
    sheet = book.active
    assert sheet is not None
    assert [r[:3] for r in sheet.iter_rows(min_row=2, values_only=True)] == [
        (1, "SW", "区水务局"),
        (None, "TEST-X", "TEST-X"),
    ]


def test_a_sheet_is_rendered_as_the_file_asked_for() -> None:
    sheet = evaluation.render("2026-03", _rows(), names=NAMES, sheet_format=evaluation.SheetFormat.CSV)
    assert (sheet.media_type, sheet.filename) == (evaluation.CSV_TYPE, "evaluation-2026-03.csv")
    assert "区水务局" in sheet.body.decode("utf-8-sig")
    xlsx = evaluation.render("2026-03", _rows(), names=NAMES, sheet_format=evaluation.SheetFormat.XLSX)
    assert (xlsx.media_type, xlsx.filename) == (evaluation.XLSX_TYPE, "evaluation-2026-03.xlsx")


def test_the_indicator_model_names_every_figure_the_indicators_return() -> None:
    returned = ["code", "name", *kpi.indicators(kpi.Tally()), "open_now", "overdue_now"]
    assert list(UnitIndicators.model_fields) == returned


def test_a_name_that_would_start_a_formula_stays_text_in_both_formats() -> None:
    # OWASP's CSV injection: a spreadsheet program runs a cell starting with = + - @ (or a tab or CR before one).
    typed = {
        "SW": '=HYPERLINK("http://example.invalid","点此")',
        "CG": "+1",
        "JJ": "-2+3",
        "ZJ": "@SUM(1)",
        "GD": "\t=1",
    }
    figures = kpi.indicators(kpi.Tally(counts={"dispatched": 1}))
    items = [{"rank": n, "code": code, "name": code, **figures} for n, code in enumerate(typed, start=1)]
    rows = list(csv.DictReader(io.StringIO(evaluation.to_csv(items, names=typed).decode("utf-8-sig"))))
    assert [r["部门名称"] for r in rows] == [f"'{name}" for name in typed.values()]
    assert [r["排名"] for r in rows] == ["1", "2", "3", "4", "5"]  # numbers are numbers still
    book = load_workbook(io.BytesIO(evaluation.to_xlsx(items, names=typed, title="2026-03")))
    sheet = book.active
    assert sheet is not None
    names = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert [cell.value for cell in names] == list(typed.values())  # shown exactly as typed,
    assert {cell.data_type for cell in names} == {"s"}  # and never a formula
