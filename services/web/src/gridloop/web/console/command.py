"""指挥中心 (command centre): indicators for a window and scope, the 红黑榜, turnaround by
department, the district map by grid, overdue and escalated tickets, one ticket's timeline and
the monthly evaluation sheet. Every figure comes from supervision; nothing is counted here, and
no list is searched here: supervision selects what a page shows."""

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.directory import Grid
from gridloop.web.clients.supervision import Unit, Window
from gridloop.web.deps import Directory, Pages, Supervision, Supervisor, WebClock

router = APIRouter(prefix="/console/command", include_in_schema=False)
UNITS: dict[str, Unit] = {
    "departments": "departments",
    "streets": "streets",
    "communities": "communities",
    "grids": "grids",
}
OVERDUE_PAGE = 50  # overdue tickets per page; the page links to the next with supervision's cursor


def window(request: Request, today: date) -> tuple[Window, dict[str, str]]:
    """[from, to) from the page's date fields (city days); by default this month so far, `today`
    being the clock's day in the city."""
    try:
        start = date.fromisoformat(request.query_params.get("from", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = date.fromisoformat(request.query_params.get("to", ""))
    except ValueError:
        end = today
    if end < start:
        start, end = end, start
    shown = {"from": start.isoformat(), "to": end.isoformat()}
    return Window(_midnight(start), _midnight(end + timedelta(days=1))), shown


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), CITY_ZONE).astimezone(UTC)


@router.get("", response_class=HTMLResponse)
async def command(
    request: Request,
    pages: Pages,
    clock: WebClock,
    supervision: Supervision,
    directory: Directory,
    person: Supervisor,
) -> Response:
    now = clock.now().astimezone(CITY_ZONE)
    span, shown = window(request, now.date())
    unit = UNITS.get(request.query_params.get("unit", ""), "departments")
    totals, departments, board, places, grids, volunteering = await asyncio.gather(
        supervision.stats("districts", span),
        supervision.stats("departments", span),
        supervision.ranking(unit, span),
        supervision.map(limit=1000),
        directory.grids(),
        supervision.volunteering("streets", now.year),  # 双报到: this year's figures by street
    )
    chart = {
        "names": [d.name for d in departments.items],
        "links": [f"/console/command/departments/{d.code}" for d in departments.items],
        "series": [
            {"name": "接单用时中位数", "values": [d.accept_minutes_median for d in departments.items]},
            {"name": "办结用时中位数", "values": [d.resolve_minutes_median for d in departments.items]},
        ],
    }
    counts = {g.grid_code: {"open": g.open, "overdue": g.overdue} for g in places.grids}
    points = [p.model_dump(mode="json") for p in places.points]
    return pages.render(
        request,
        person,
        "console/command.html",
        {
            "totals": totals.items[0] if totals.items else None,
            "departments": departments.items,
            "board": board,
            "unit": unit,
            "shown": shown,
            "chart": json.dumps(chart, ensure_ascii=False),
            "chart_has_data": any(d.accept_minutes_median is not None or d.resolve_minutes_median is not None
                                  for d in departments.items),
            "grids": json.dumps([_shape(g) for g in grids], ensure_ascii=False),
            "counts": json.dumps(counts),
            "points": json.dumps(points, ensure_ascii=False),
            "month": now.strftime("%Y-%m"),
            "volunteering": volunteering,
        },
    )  # fmt: skip


def _shape(grid: Grid) -> dict[str, object]:
    return {"code": grid.code, "name": grid.name, "geometry": grid.geometry.model_dump(mode="json")}


@router.get("/overdue", response_class=HTMLResponse)
async def overdue(request: Request, pages: Pages, supervision: Supervision, person: Supervisor) -> Response:
    """Overdue and escalated tickets, longest overdue first, a page at a time (of one department when named)."""
    department = request.query_params.get("department", "") or None
    listed = await supervision.overdue(department=department, limit=OVERDUE_PAGE, cursor=_cursor(request))
    return pages.render(
        request,
        person,
        "console/command_list.html",
        {"items": listed.items, "heading": "超期与督办工单", "more": _more(request, listed.next_cursor)},
    )


@router.get("/departments/{code}", response_class=HTMLResponse)
async def department(
    request: Request, code: str, pages: Pages, clock: WebClock, supervision: Supervision, person: Supervisor
) -> Response:
    """From the chart: the department's figures, then its overdue tickets, a page at a time."""
    span, _ = window(request, clock.now().astimezone(CITY_ZONE).date())
    stats, listed = await asyncio.gather(
        supervision.stats("departments", span, code=code),
        supervision.overdue(department=code, limit=OVERDUE_PAGE, cursor=_cursor(request)),
    )
    row = stats.items[0] if stats.items else None
    return pages.render(
        request,
        person,
        "console/command_list.html",
        {
            "items": listed.items,
            "row": row,
            "heading": f"{row.name if row else code} · 超期工单",
            "more": _more(request, listed.next_cursor),
        },
    )


def _cursor(request: Request) -> str | None:
    return request.query_params.get("cursor", "") or None


def _more(request: Request, next_cursor: str | None) -> str:
    """The link to the list's next page: this page's query with supervision's cursor; none on the last page."""
    if not next_cursor:
        return ""
    query = {k: v for k, v in request.query_params.items() if k != "cursor"}
    return f"{request.url.path}?{urlencode({**query, 'cursor': next_cursor})}"


@router.get("/grids/{code}", response_class=HTMLResponse)
async def grid(request: Request, code: str, pages: Pages, supervision: Supervision, person: Supervisor) -> Response:
    """From the map: the grid's open tickets."""
    places = await supervision.map(grid=code, limit=1000)
    return pages.render(request, person, "console/command_grid.html", {"code": code, "points": places.points})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket(
    request: Request, ticket_id: str, pages: Pages, supervision: Supervision, person: Supervisor
) -> Response:
    found = await supervision.ticket(ticket_id)
    return pages.render(
        request, person, "console/command_ticket.html", {"ticket": found.ticket, "timeline": found.timeline}
    )


@router.get("/sheet")
async def sheet(request: Request, supervision: Supervision, person: Supervisor) -> Response:
    month = request.query_params.get("month", "")
    found = await supervision.evaluation_sheet(month, csv=request.query_params.get("format") == "csv")
    return Response(
        found.content,
        media_type=found.content_type,
        headers={"Content-Disposition": found.disposition or "attachment"},
    )
