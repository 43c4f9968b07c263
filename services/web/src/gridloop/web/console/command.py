"""指挥中心 (command centre): indicators for a window and scope, the 红黑榜, turnaround by
department, the district map by grid, overdue and escalated tickets, one ticket's timeline and
the monthly evaluation sheet. Every figure comes from supervision; nothing is counted here."""

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.web.console import labels
from gridloop.web.console.client import ServiceError
from gridloop.web.console.deps import Pages, ServiceClient, Staff, desk_of
from gridloop.web.console.render import page

router = APIRouter(prefix="/console/command", include_in_schema=False)
Supervisor = desk_of(Role.SUPERVISOR)


def _window(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """[from, to) from the page's date fields (city days); by default this month so far."""
    today = datetime.now(CITY_ZONE).date()
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
    return {"from": _midnight(start), "to": _midnight(end + timedelta(days=1))}, {
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


def _midnight(day: date) -> str:
    return datetime.combine(day, time(), CITY_ZONE).astimezone(UTC).isoformat()


@router.get("", response_class=HTMLResponse)
async def command(request: Request, pages: Pages, services: ServiceClient, person: Staff = Supervisor) -> Response:
    window, shown = _window(request)
    unit = request.query_params.get("unit", "departments")
    unit = unit if unit in labels.UNITS else "departments"

    def get(path: str, params: dict[str, Any]) -> Any:
        return services.call(person.token, "supervision", "GET", path, params=params)

    totals, departments, board, places, grids = await asyncio.gather(
        get("/v1/supervision/stats/districts", window),
        get("/v1/supervision/stats/departments", window),
        get(f"/v1/supervision/ranking/{unit}", window),
        get("/v1/supervision/map", {"limit": 1000}),
        services.call(person.token, "directory", "GET", "/v1/directory/grids"),
    )
    chart = {
        "names": [d["name"] for d in departments["items"]],
        "links": [f"/console/command/departments/{d['code']}" for d in departments["items"]],
        "series": [
            {"name": "接单用时中位数", "values": [d["accept_minutes_median"] for d in departments["items"]]},
            {"name": "办结用时中位数", "values": [d["resolve_minutes_median"] for d in departments["items"]]},
        ],
    }
    counts = {g["grid_code"]: {"open": g["open"], "overdue": g["overdue"]} for g in places["grids"]}
    return page(
        request,
        pages,
        person,
        "console/command.html",
        {
            "totals": totals["items"][0] if totals["items"] else None,
            "departments": departments["items"],
            "board": board,
            "unit": unit,
            "shown": shown,
            "chart": json.dumps(chart, ensure_ascii=False),
            "chart_has_data": any(v is not None for series in chart["series"] for v in series["values"]),
            "grids": json.dumps([_shape(g) for g in grids["items"]], ensure_ascii=False),
            "counts": json.dumps(counts),
            "points": json.dumps(places["points"], ensure_ascii=False),
            "month": datetime.now(CITY_ZONE).strftime("%Y-%m"),
        },
    )


def _shape(grid: dict[str, Any]) -> dict[str, Any]:
    return {"code": grid["code"], "name": grid["name"], "geometry": grid["geometry"]}


@router.get("/overdue", response_class=HTMLResponse)
async def overdue(request: Request, pages: Pages, services: ServiceClient, person: Staff = Supervisor) -> Response:
    listed = await services.call(person.token, "supervision", "GET", "/v1/supervision/overdue", params={"limit": 500})
    department = request.query_params.get("department", "")
    items = [t for t in listed["items"] if not department or t.get("lead_department") == department]
    return page(request, pages, person, "console/command_list.html", {"items": items, "heading": "超期与督办工单"})


@router.get("/departments/{code}", response_class=HTMLResponse)
async def department(
    request: Request, code: str, pages: Pages, services: ServiceClient, person: Staff = Supervisor
) -> Response:
    """From the chart: the department's figures, then its overdue tickets."""
    window, _ = _window(request)
    stats, listed = await asyncio.gather(
        services.call(person.token, "supervision", "GET", "/v1/supervision/stats/departments", params=window),
        services.call(person.token, "supervision", "GET", "/v1/supervision/overdue", params={"limit": 500}),
    )
    row = next((d for d in stats["items"] if d["code"] == code), None)
    items = [t for t in listed["items"] if t.get("lead_department") == code]
    return page(
        request,
        pages,
        person,
        "console/command_list.html",
        {"items": items, "row": row, "heading": f"{row['name'] if row else code} · 超期工单"},
    )


@router.get("/grids/{code}", response_class=HTMLResponse)
async def grid(
    request: Request, code: str, pages: Pages, services: ServiceClient, person: Staff = Supervisor
) -> Response:
    """From the map: the grid's open tickets."""
    places = await services.call(
        person.token, "supervision", "GET", "/v1/supervision/map", params={"grid": code, "limit": 1000}
    )
    return page(request, pages, person, "console/command_grid.html", {"code": code, "points": places["points"]})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket(
    request: Request, ticket_id: str, pages: Pages, services: ServiceClient, person: Staff = Supervisor
) -> Response:
    found = await services.call(person.token, "supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")
    return page(
        request,
        pages,
        person,
        "console/command_ticket.html",
        {"ticket": found["ticket"], "timeline": found["timeline"]},
    )


@router.get("/sheet")
async def sheet(request: Request, services: ServiceClient, person: Staff = Supervisor) -> Response:
    month = request.query_params.get("month", "")
    fmt = "csv" if request.query_params.get("format") == "csv" else "xlsx"
    upstream = await services.raw(
        person.token, "supervision", "GET", f"/v1/supervision/evaluation/{month}", params={"format": fmt}
    )
    if upstream.status_code != 200:
        raise ServiceError(upstream.status_code, "sheet_unavailable", "请选择正确的月份（YYYY-MM）")
    return Response(
        upstream.content,
        media_type=upstream.headers["content-type"],
        headers={"Content-Disposition": upstream.headers.get("content-disposition", "attachment")},
    )
