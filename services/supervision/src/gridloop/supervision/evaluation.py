"""The monthly evaluation sheet (街道评议部门): one row per department, in Chinese column names,
as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese) or XLSX. A name that
would start a formula stays text in both (an administrator types the directory's names)."""

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from gridloop.shared.spreadsheets import CsvWriter

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


# (field of a ranked indicator row, column heading, kind): rates are shown as percentages; the
# name is the directory's, not whatever the row carries.
COLUMNS: Sequence[tuple[str, str, str]] = (
    ("rank", "排名", "int"),
    ("code", "部门编码", "text"),
    ("name", "部门名称", "name"),
    ("dispatched", "派遣数", "int"),
    ("dispatched_manual", "人工派遣数", "int"),
    ("rejected", "退单数", "int"),
    ("rejection_rate", "退单率(%)", "rate"),
    ("responded", "响应数", "int"),
    ("responded_on_time", "按时响应数", "int"),
    ("response_rate", "响应率(%)", "rate"),
    ("accept_minutes_median", "响应时长中位数(工作分钟)", "int"),
    ("accept_minutes_p90", "响应时长P90(工作分钟)", "int"),
    ("resolved", "处置数", "int"),
    ("resolved_on_time", "按期处置数", "int"),
    ("on_time_resolution_rate", "按期处置率(%)", "rate"),
    ("resolve_minutes_median", "处置时长中位数(工作分钟)", "int"),
    ("resolve_minutes_p90", "处置时长P90(工作分钟)", "int"),
    ("reopened", "返工数", "int"),
    ("rework_rate", "返工率(%)", "rate"),
    ("closed", "结案数", "int"),
    ("resolution_rate", "解决率(%)", "rate"),
    ("overdue", "超期数", "int"),
    ("rated", "评价数", "int"),
    ("satisfied", "满意数", "int"),
    ("basically_satisfied", "基本满意数", "int"),
    ("unsatisfied", "不满意数", "int"),
    ("satisfaction_rate", "满意率(%)", "rate"),
    ("score", "综合得分", "number"),
    ("unadmitted_tasks", "未准入事项", "int"),  # tasks communities flagged as sent without admission (准入)
)


@dataclass(frozen=True)
class Sheet:
    body: bytes
    media_type: str
    filename: str


def _cell(item: Mapping[str, Any], key: str, kind: str, names: Mapping[str, str]) -> Any:
    if kind == "name":  # the code only for a department the directory does not know
        return names.get(item["code"]) or item["code"]
    value = item.get(key)
    if value is None:
        return ""
    if kind == "rate":
        return round(100 * value, 2)
    return value


def rows(items: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> list[list[Any]]:
    """The sheet's rows, in the order given; `names` maps department codes to the directory's names."""
    return [[_cell(item, key, kind, names) for key, _, kind in COLUMNS] for item in items]


def to_csv(items: Sequence[Mapping[str, Any]], *, names: Mapping[str, str]) -> bytes:
    out = io.StringIO()
    writer = CsvWriter(out, lineterminator="\r\n")
    writer.writerow([heading for _, heading, _ in COLUMNS])
    writer.writerows(rows(items, names))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(items: Sequence[Mapping[str, Any]], *, names: Mapping[str, str], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # the sheet-name limit
    sheet.append([heading for _, heading, _ in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(items, names):
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl takes any text starting with = for a formula
                cell.data_type = "s"
    for index, (_, heading, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, 2 * len(heading))
    sheet.freeze_panes = "D2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(
    month: str, items: Sequence[Mapping[str, Any]], *, names: Mapping[str, str], sheet_format: SheetFormat
) -> Sheet:
    """The month's sheet as a file to download, in the format asked for."""
    filename = f"evaluation-{month}.{sheet_format.value}"
    if sheet_format is SheetFormat.CSV:
        return Sheet(to_csv(items, names=names), CSV_TYPE, filename)
    return Sheet(to_xlsx(items, names=names, title=f"{month} 部门考核"), XLSX_TYPE, filename)
