"""Routes of 评议 under /v1/cobuild: the year's indicators, a yearly grade, the grades, the
quarterly feedback card of a unit and the yearly sheets (CSV, XLSX, PDF). Out of the caller's
part: 403; a unit's card the caller does not see: 404; a grade the rules refuse, or a subject not
in the grader's reach: 422."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from gridloop.cobuild.deps import CurrentUser, ReferenceData, ServiceDatabase
from gridloop.cobuild.reviews import commands, sheets, views
from gridloop.cobuild.reviews.domain import Minimum, ReviewRefused
from gridloop.cobuild.reviews.sheets import SheetFormat, Table
from gridloop.cobuild.reviews.views import NotYours, UnknownSubject
from gridloop.shared.api.reviews import FeedbackCard, GradeRequest, Indicators, Review, ReviewList
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Actor, Role

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)

Year = Annotated[int, Query(ge=2000, le=2099, description="评议年度 (the city's year)")]
Code = Annotated[str | None, Query(min_length=1, max_length=32)]
FILE = {"schema": {"type": "string", "format": "binary"}}
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {sheets.CSV_TYPE: FILE, sheets.XLSX_TYPE: FILE, sheets.PDF_TYPE: FILE},
        "description": "the sheet as an attachment (CSV in UTF-8 with a BOM, XLSX or PDF), in Chinese column names",
    }
}


class CardFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


def minimum(request: Request) -> Minimum:
    """The yearly minimum of a member's service, from the settings."""
    settings = request.app.state.settings
    return Minimum(
        services=int(getattr(settings, "min_services_per_year", 2)),
        minutes=int(getattr(settings, "min_minutes_per_year", 480)),
    )


YearlyMinimum = Annotated[Minimum, Depends(minimum)]


@contextmanager
def review_errors() -> Iterator[None]:
    try:
        yield
    except NotYours as exc:
        raise ApiError(403, "forbidden", "无权查看或评议 (not yours to read or grade)") from exc
    except ReviewRefused as exc:
        raise ApiError(422, exc.code, str(exc)) from exc


def _download(table: Table, sheet_format: SheetFormat) -> Response:
    file = sheets.as_file(table, sheet_format)
    return Response(
        file.body,
        media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )


def _scope_line(user: Actor, year: int, community: str | None, street: str | None) -> str:
    """The sheet's scope as the reader got it (their own community, street or unit when they named none)."""
    if user.role is Role.COMMUNITY_WORKER:
        community = community or user.org
    if user.role is Role.STREET_DISPATCHER:
        street = street or user.org
    where = f"社区 {community}" if community else f"街道 {street}" if street else "全部"
    if user.role is Role.UNIT_ADMIN:
        where = f"单位 {user.org}" + (f"（社区 {community}）" if community else "")
    return f"评议年度：{year}年　范围：{where}"


def _yearly_sheet(
    user: Actor,
    year: int,
    community: str | None,
    street: str | None,
    *,
    subject: str,
    stem: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    sheet_format: SheetFormat,
) -> Response:
    """A year's 评议表 of `subject` as an attachment: the scope the reader got, the file named `stem`-year."""
    table = Table(
        title=f"{year}年度 {subject}评议表",
        headers=headers,
        rows=rows,
        lines=[_scope_line(user, year, community, street)],
        filename=f"{stem}-{year}",
    )
    return _download(table, sheet_format)


@router.get("/reviews/indicators", summary="年度评议指标: what a community worker or a unit admin grades on")
async def indicators(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, year: Year, yearly: YearlyMinimum
) -> Indicators:
    with review_errors():
        return await views.indicators(database, refdata, user, year=year, minimum=yearly)


@router.post(
    "/reviews",
    summary="年度评议: grade a member or a unit (community worker) or a community (unit admin); again replaces it",
)
async def grade(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: GradeRequest, yearly: YearlyMinimum
) -> Review:
    with review_errors():
        try:
            return await commands.grade(database=database, refdata=refdata, actor=user, body=body, minimum=yearly)
        except UnknownSubject as exc:
            raise ApiError(
                422,
                "unknown_subject",
                f"评议对象不在本社区或未向其报到 (not a subject you may grade: {body.subject_code})",
                {"subject_code": body.subject_code},
            ) from exc


@router.get("/reviews", summary="The year's grades in the caller's part")
async def listing(database: ServiceDatabase, user: CurrentUser, year: Year, community: Code = None) -> ReviewList:
    with review_errors():
        return await views.reviews(database, user, year=year, community=community)


@router.get(
    "/units/{unit}/feedback-cards",
    summary="双向反馈卡: a unit's members' quarter (JSON, or format=csv|xlsx|pdf)",
    response_model=FeedbackCard,
    responses=FILES,
)
async def feedback_card(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    unit: str,
    year: Year,
    quarter: Annotated[int, Query(ge=1, le=4)],
    yearly: YearlyMinimum,
    format: CardFormat = CardFormat.JSON,
) -> FeedbackCard | Response:
    with review_errors():
        try:
            card = await views.feedback_card(
                database, refdata, user, unit=unit, year=year, quarter=quarter, minimum=yearly
            )
        except UnknownSubject as exc:
            raise NotFound("unit", unit) from exc
    if format is CardFormat.JSON:
        return card
    table = Table(
        title=f"{year}年第{quarter}季度 在职党员服务反馈卡",
        headers=sheets.CARD_COLUMNS,
        rows=[sheets.card_row(m) for m in card.members],
        lines=[f"单位：{card.unit_name}（{unit}）　社区：{'、'.join(card.communities)}"],
        filename=f"feedback-{unit}-{year}-Q{quarter}",
    )
    return _download(table, SheetFormat(format.value))


@router.get("/sheets/units", summary="年度评议表（单位）", response_class=Response, responses=FILES)
async def unit_sheet(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    year: Year,
    yearly: YearlyMinimum,
    community: Code = None,
    street: Code = None,
    format: SheetFormat = SheetFormat.XLSX,
) -> Response:
    with review_errors():
        rows = await views.units(database, refdata, user, year=year, community=community, street=street, minimum=yearly)
    community_names = {u.community_code: await views.name_of(refdata, "community", u.community_code) for u in rows}
    return _yearly_sheet(
        user, year, community, street,
        subject="驻区单位", stem="units", headers=sheets.UNIT_COLUMNS,
        rows=[sheets.unit_row(u, community_name=community_names[u.community_code]) for u in rows],
        sheet_format=format,
    )  # fmt: skip


@router.get("/sheets/members", summary="年度评议表（在职党员）", response_class=Response, responses=FILES)
async def member_sheet(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    year: Year,
    yearly: YearlyMinimum,
    community: Code = None,
    format: SheetFormat = SheetFormat.XLSX,
) -> Response:
    with review_errors():
        rows = await views.members(database, refdata, user, year=year, community=community, minimum=yearly)
    return _yearly_sheet(
        user, year, community, None,
        subject="在职党员", stem="members", headers=sheets.MEMBER_COLUMNS,
        rows=[sheets.member_row(m) for m in rows],
        sheet_format=format,
    )  # fmt: skip


@router.get("/sheets/communities", summary="年度评议表（社区）", response_class=Response, responses=FILES)
async def community_sheet(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    year: Year,
    community: Code = None,
    street: Code = None,
    format: SheetFormat = SheetFormat.XLSX,
) -> Response:
    with review_errors():
        rows = await views.communities(database, refdata, user, year=year, community=community, street=street)
    return _yearly_sheet(
        user, year, community, street,
        subject="社区", stem="communities", headers=sheets.COMMUNITY_COLUMNS,
        rows=[sheets.community_row(c) for c in rows],
        sheet_format=format,
    )  # fmt: skip
