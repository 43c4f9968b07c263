"""Supervision routes: a ticket's full timeline, indicators by unit and window, the ranking
(红黑榜), the monthly evaluation sheet and the overdue list. Each parses the request, calls a
handler and maps its errors; the rules live in kpi.py and handlers.py."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from gridloop.shared.api.supervision import CommandMap, OverdueTickets, Ranking, Stats, TicketTimeline
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.supervision import handlers
from gridloop.supervision.deps import IndicatorModel, Reader, ReferenceData, RequestedWindow, Scoring, ServiceDatabase
from gridloop.supervision.evaluation import CSV_TYPE, XLSX_TYPE, SheetFormat
from gridloop.supervision.kpi import Unit

router = APIRouter(prefix="/v1/supervision", tags=["supervision"], responses=ERROR_RESPONSES)
FILE = {"schema": {"type": "string", "format": "binary"}}


@router.get(
    "/tickets/{ticket_id}",
    summary="A ticket's record and its full timeline: who did what, when",
    response_model_exclude_unset=True,  # a record's later fields only once an event set them
)
async def ticket(reader: Reader, database: ServiceDatabase, ticket_id: str) -> TicketTimeline:
    try:
        view = await handlers.ticket_timeline(database=database, reader=reader, ticket_id=ticket_id)
    except handlers.UnknownTicket as exc:
        raise NotFound("ticket", ticket_id) from exc
    return TicketTimeline.model_validate(view)


@router.get("/stats/{unit}", summary="Indicators per department, street, community or grid in a window [from, to)")
async def stats(
    reader: Reader,
    window: RequestedWindow,
    database: ServiceDatabase,
    refdata: ReferenceData,
    model: IndicatorModel,
    scoring: Scoring,
    unit: Unit,
    code: Annotated[
        str | None, Query(min_length=1, max_length=32, description="只看该单位的 (only this unit's figures)")
    ] = None,
) -> Stats:
    figures = await handlers.stats(
        database=database,
        refdata=refdata,
        model=model,
        reader=reader,
        unit=unit,
        window=window,
        weights=scoring.weights,
        code=code,
    )
    return Stats.model_validate(figures)


@router.get("/ranking/{unit}", summary="Units ranked by composite score, with the 红榜 and 黑榜 (红黑榜)")
async def ranking(
    reader: Reader,
    window: RequestedWindow,
    database: ServiceDatabase,
    refdata: ReferenceData,
    model: IndicatorModel,
    scoring: Scoring,
    unit: Unit,
    min_volume: Annotated[int | None, Query(ge=1, description="dispatches before a unit is ranked")] = None,
) -> Ranking:
    board = await handlers.ranking(
        database=database,
        refdata=refdata,
        model=model,
        reader=reader,
        unit=unit,
        window=window,
        evaluation=scoring,
        min_volume=min_volume,
    )
    return Ranking.model_validate(board)


@router.get(
    "/evaluation/{month}",
    summary="The monthly evaluation of departments (街道评议部门) as CSV or XLSX, in Chinese column names",
    response_class=Response,
    responses={
        200: {
            "content": {CSV_TYPE: FILE, XLSX_TYPE: FILE},
            "description": "the sheet, as an attachment named evaluation-YYYY-MM.csv or .xlsx",
        }
    },
)
async def evaluation_sheet(
    reader: Reader,
    database: ServiceDatabase,
    refdata: ReferenceData,
    model: IndicatorModel,
    scoring: Scoring,
    month: Annotated[str, Path(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 2000 to 2099")],
    format: SheetFormat = SheetFormat.XLSX,
) -> Response:
    sheet = await handlers.evaluation_sheet(
        database=database,
        refdata=refdata,
        model=model,
        reader=reader,
        evaluation=scoring,
        month=month,
        sheet_format=format,
    )
    return Response(
        sheet.body,
        media_type=sheet.media_type,
        headers={"Content-Disposition": f'attachment; filename="{sheet.filename}"'},
    )


@router.get(
    "/overdue",
    summary="Open tickets past their accept or resolve deadline, longest overdue first (one department's, when named)",
    response_model_exclude_unset=True,  # a record's later fields only once an event set them
)
async def overdue(
    reader: Reader,
    database: ServiceDatabase,
    department: Annotated[
        str | None, Query(min_length=1, max_length=32, description="只看该牵头部门的 (only this lead department's)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="每页条数 (tickets per page)")] = 200,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="上一页的 next_cursor (the next_cursor of the previous page)"),
    ] = None,
) -> OverdueTickets:
    try:
        found = await handlers.overdue(
            database=database, reader=reader, department=department, limit=limit, cursor=cursor
        )
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc
    return OverdueTickets.model_validate(found)


@router.get("/map", summary="指挥中心地图: open and overdue tickets per grid, and open tickets as points")
async def command_map(
    reader: Reader,
    database: ServiceDatabase,
    model: IndicatorModel,
    grid: Annotated[
        str | None, Query(max_length=64, description="只看该网格的点 (only this grid's points: drill-down)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=2000, description="最多返回的点数 (at most this many points)")] = 500,
) -> CommandMap:
    found = await handlers.command_map(database=database, model=model, reader=reader, grid=grid, limit=limit)
    return CommandMap.model_validate(found)
