"""年度评议表 and the quarterly 反馈卡 as files: rows in Chinese column names, as CSV (UTF-8 with a
byte-order mark, as the monthly 街道评议部门 sheet), XLSX or PDF (landscape). A name that would start
a formula stays text in CSV and XLSX."""

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from gridloop.cobuild.reviews.domain import GRADE_NAMES, STATUS_NAMES
from gridloop.shared.api.reviews import CommunityFigures, MemberFigures, UnitFigures
from gridloop.shared.events import Grade, Rating
from gridloop.shared.pdf import PdfDocument, PdfTable, render
from gridloop.shared.spreadsheets import CsvWriter
from gridloop.shared.volunteering_lifecycle import MemberStatus

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


@dataclass(frozen=True)
class Table:
    title: str  # 2026年度 单位评议表
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    lines: Sequence[str] = ()  # under the title (scope, period) in the PDF
    filename: str = "sheet"  # without the extension


@dataclass(frozen=True)
class File:
    body: bytes
    media_type: str
    filename: str


UNIT_COLUMNS = (
    "单位编码", "单位名称", "社区编码", "报到社区", "报到日期", "回执编号", "在职党员数", "报到党员数", "参与服务人数",
    "参与率(%)", "达标人数", "服务完成率(%)", "服务时长(小时)", "提供资源数", "资源被使用数", "参与项目数",
    "兑现心愿数", "满意", "基本满意", "不满意", "社区评议", "单位评社区",
)  # fmt: skip
MEMBER_COLUMNS = (
    "党员编号", "姓名", "所属单位", "报到社区", "状态", "报到日期", "从未报到", "岗位", "服务次数",
    "服务时长(小时)", "年度获得积分", "积分余额", "满意", "基本满意", "不满意", "达到年度最低要求", "社区评议",
)  # fmt: skip
COMMUNITY_COLUMNS = (
    "社区编码", "社区名称", "需求收集数", "需求兑现数", "转办数", "共建项目数", "报到单位数", "报到党员数",
    "服务时长(小时)", "准入拒绝事项数", "单位评社区-优秀", "单位评社区-合格", "单位评社区-基本合格",
    "单位评社区-不合格",
)  # fmt: skip
CARD_COLUMNS = ("党员编号", "姓名", "服务社区", "服务次数", "服务时长(小时)", "满意", "基本满意", "不满意", "备注")


def percent(value: float | None) -> Any:
    return "" if value is None else round(100 * value, 2)


def grade_name(grade: str | None) -> str:
    return GRADE_NAMES.get(Grade(grade), grade) if grade in tuple(Grade) else ""


def status_name(status: str) -> str:
    return STATUS_NAMES.get(MemberStatus(status), status) if status in tuple(MemberStatus) else status


def ratings(counts: Mapping[str, int]) -> list[int]:
    return [counts.get(r.value, 0) for r in Rating]


def unit_row(u: UnitFigures, *, community_name: str) -> list[Any]:
    return [
        u.unit_code, u.unit_name, u.community_code, community_name, u.reported_at, u.receipt_number,
        "" if u.party_members is None else u.party_members, u.members_reported, u.members_serving,
        percent(u.participation_rate), u.members_meeting_minimum, percent(u.completion_rate), u.hours,
        u.offers_given, u.offers_used, u.projects_led, u.wishes_fulfilled, *ratings(u.ratings),
        grade_name(u.community_grade), grade_name(u.grade_of_community),
    ]  # fmt: skip


def member_row(m: MemberFigures) -> list[Any]:
    return [
        m.member_id, m.name or "", m.unit_code or "", m.community_code, status_name(m.status), m.reported_at,
        "是" if m.never_reported else "否", "、".join(m.posts), m.services, m.hours, m.points_earned, m.balance,
        *ratings(m.ratings), "是" if m.met_minimum else "否", grade_name(m.grade),
    ]  # fmt: skip


def community_row(c: CommunityFigures) -> list[Any]:
    return [
        c.community_code, c.community_name, c.needs_collected, c.needs_done, c.needs_converted, c.projects,
        c.units_reported, c.members_reported, c.hours, c.admissions_refused,
        *[c.grades_from_units.get(g.value, 0) for g in Grade],
    ]  # fmt: skip


def card_row(m: MemberFigures) -> list[Any]:
    return [m.member_id, m.name or "", m.community_code, m.services, m.hours, *ratings(m.ratings), m.remark]


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = CsvWriter(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append(list(table.headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(list(row))
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":  # openpyxl takes any text starting with = for a formula
                cell.data_type = "s"
    for index, heading in enumerate(table.headers, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(10, 2 * len(heading))
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(table: Table) -> bytes:
    return render(
        PdfDocument(
            title=table.title,
            lines=table.lines,
            tables=[PdfTable(headers=table.headers, rows=table.rows)],
            footer=[f"共 {len(table.rows)} 行"],
            wide=True,
        )
    )


def as_file(table: Table, sheet_format: SheetFormat) -> File:
    name = f"{table.filename}.{sheet_format.value}"
    match sheet_format:
        case SheetFormat.CSV:
            return File(to_csv(table), CSV_TYPE, name)
        case SheetFormat.XLSX:
            return File(to_xlsx(table), XLSX_TYPE, name)
    return File(to_pdf(table), PDF_TYPE, name)
