"""Supervision routes: a ticket's full timeline, indicators by unit and window, the ranking
(红黑榜), the monthly evaluation sheet and the overdue list."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from gridloop.shared.access import place_filter, sees_ticket
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.clock import IsoDatetime, as_utc
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.service import Runtime
from gridloop.supervision import evaluation as sheets
from gridloop.supervision import kpi, store
from gridloop.supervision.readmodel import ReadModel

router = APIRouter(prefix="/v1/supervision", tags=["supervision"], responses=ERROR_RESPONSES)
READERS = (Role.SUPERVISOR, Role.STREET_DISPATCHER)  # each within their district or street


class Unit(StrEnum):
    DEPARTMENTS = "departments"
    STREETS = "streets"
    COMMUNITIES = "communities"
    GRIDS = "grids"


DIRECTORY_KINDS = {
    Unit.DEPARTMENTS: "department",
    Unit.STREETS: "street",
    Unit.COMMUNITIES: "community",
    Unit.GRIDS: "grid",
}
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Evaluation:
    """How units are scored and ranked, from the service's settings."""

    weights: kpi.ScoreWeights
    min_volume: int
    board_size: int


def _evaluation(request: Request) -> Evaluation:
    evaluation: Evaluation = request.app.state.evaluation
    return evaluation


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"ticket_id": doc.pop("_id"), **{k: v for k, v in doc.items() if k != "version"}}


@router.get("/tickets/{ticket_id}", summary="A ticket's record and its full timeline: who did what, when")
async def ticket(request: Request, user: CurrentUser, ticket_id: str) -> dict[str, Any]:
    require_role(user, *READERS)
    db = _runtime(request).database.db
    doc = await store.get_ticket(db, ticket_id)
    if doc is None or not sees_ticket(
        user,
        reporter=None,
        community=doc["community_code"],
        street=doc["street_code"],
        district=doc["district_code"],
    ):
        raise NotFound("ticket", ticket_id)
    events = await store.timeline(db, ticket_id)
    return {
        "ticket": _view(doc),
        "timeline": [
            {
                "event_id": e["_id"],
                "event_type": e["event_type"],
                "occurred_at": e["occurred_at"],
                "actor": e["actor"],
                "department": e["department"],
                "correlation_id": e["correlation_id"],
                "payload": e["payload"],
            }
            for e in events
        ],
    }


Window = tuple[datetime, datetime]


def _window(request: Request, start: datetime | None, end: datetime | None) -> Window:
    end = as_utc(end) if end else _runtime(request).clock.now()
    for value in (start, end):
        if value is not None and not kpi.EARLIEST <= as_utc(value) <= kpi.LATEST:
            raise ApiError(
                422,
                "window_out_of_range",
                f"时间须在 {kpi.EARLIEST.year} 至 {kpi.LATEST.year} 年之间 (from and to must lie in those years)",
            )
    start = as_utc(start) if start else end - timedelta(days=30)
    if start >= end:
        raise ApiError(422, "invalid_window", "开始时间须早于结束时间 (from must be before to)")
    return start, end


def _window_echo(window: Window) -> dict[str, Any]:
    return {"from": window[0], "to": window[1], "timestamp": "occurred_at", "time_zone": str(kpi.ZONE)}


async def _indicators(request: Request, user: CurrentUser, unit: Unit, window: Window) -> list[dict[str, Any]]:
    """Every unit's indicators in the window, within the reader's scope, with its name."""
    runtime = _runtime(request)
    db = runtime.database.db
    scope = place_filter(user, street="street_code", district="district_code")
    model: ReadModel = request.app.state.read_model
    now = runtime.clock.now()
    tallies = await model.window_tallies(db, unit=unit.value, start=window[0], end=window[1], scope=scope, now=now)
    backlog = await model.backlog(db, unit=unit.value, scope=scope, now=now)
    weights = _evaluation(request).weights
    names = {r["code"]: r.get("name", r["code"]) for r in await runtime.refdata.all(DIRECTORY_KINDS[unit])}
    items = []
    for code in sorted(tallies.keys() | backlog.keys()):
        open_now, overdue_now = backlog.get(code, (0, 0))
        items.append(
            {
                "code": code,
                "name": names.get(code, code),
                **kpi.indicators(tallies.get(code, kpi.Tally()), weights),
                "open_now": open_now,
                "overdue_now": overdue_now,
            }
        )
    return items


WindowStart = Annotated[
    IsoDatetime | None, Query(alias="from", description="start of the window, inclusive (default: 30 days before to)")
]
WindowEnd = Annotated[IsoDatetime | None, Query(alias="to", description="end of the window, exclusive (default: now)")]


@router.get("/stats/{unit}", summary="Indicators per department, street, community or grid in a window [from, to)")
async def stats(
    request: Request, user: CurrentUser, unit: Unit, start: WindowStart = None, end: WindowEnd = None
) -> dict[str, Any]:
    require_role(user, *READERS)
    window = _window(request, start, end)
    return {
        "unit": unit.value,
        "window": _window_echo(window),
        "items": await _indicators(request, user, unit, window),
    }


@router.get("/ranking/{unit}", summary="Units ranked by composite score, with the 红榜 and 黑榜 (红黑榜)")
async def ranking(
    request: Request,
    user: CurrentUser,
    unit: Unit,
    start: WindowStart = None,
    end: WindowEnd = None,
    min_volume: Annotated[int | None, Query(ge=1, description="dispatches before a unit is ranked")] = None,
) -> dict[str, Any]:
    require_role(user, *READERS)
    window = _window(request, start, end)
    evaluation = _evaluation(request)
    volume = min_volume or evaluation.min_volume
    items = await _indicators(request, user, unit, window)
    board = kpi.ranking(items, min_volume=volume, board_size=evaluation.board_size)
    return {
        "unit": unit.value,
        "window": _window_echo(window),
        "weights": evaluation.weights.model_dump(),
        "min_volume": volume,
        **board,
        "unranked": [i["code"] for i in items if i["code"] not in {r["code"] for r in board["ranked"]}],
    }


class SheetFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@router.get(
    "/evaluation/{month}",
    summary="The monthly evaluation of departments (街道评议部门) as CSV or XLSX, in Chinese column names",
    response_class=Response,
    responses={200: {"content": {CSV_TYPE: {}, XLSX_TYPE: {}}, "description": "the sheet"}},
)
async def evaluation_sheet(
    request: Request,
    user: CurrentUser,
    month: Annotated[str, Path(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM, 2000 to 2099")],
    format: SheetFormat = SheetFormat.XLSX,
) -> Response:
    require_role(user, *READERS)
    window = kpi.month_window(month)
    items = await _indicators(request, user, Unit.DEPARTMENTS, window)
    evaluation = _evaluation(request)
    ranked = {
        r["code"]: r["rank"] for r in kpi.ranking(items, min_volume=evaluation.min_volume, board_size=1)["ranked"]
    }
    rows = sorted(({**i, "rank": ranked.get(i["code"])} for i in items), key=lambda i: (i["rank"] or 10**9, i["code"]))
    filename = f"evaluation-{month}.{format.value}"
    if format is SheetFormat.CSV:
        body, media_type = sheets.to_csv(rows), CSV_TYPE
    else:
        body, media_type = sheets.to_xlsx(rows, title=f"{month} 部门考核"), XLSX_TYPE
    return Response(body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/overdue", summary="Open tickets past their accept or resolve deadline")
async def overdue(
    request: Request, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> dict[str, Any]:
    require_role(user, *READERS)
    runtime = _runtime(request)
    scope = place_filter(user, street="street_code", district="district_code")
    docs = await store.overdue(runtime.database.db, now=runtime.clock.now(), limit=limit, scope=scope)
    return {"items": [_view(d) for d in docs]}
