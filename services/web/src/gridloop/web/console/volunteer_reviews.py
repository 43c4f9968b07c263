"""在职党员 pages: 年度评议 and 双向反馈.

The community worker sees the year's figures of its members and of the units that reported to it,
grades each (a member who never reported cannot be graded 合格 or above: cobuild refuses it and the
page says why), and downloads the yearly sheets. A unit's admin reads the quarter's feedback card
of its members (downloadable), and grades the communities its unit reported to. Every figure and
every rule is cobuild's; the page shows and posts."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.api.reviews import GradeRequest
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Grade, Role
from gridloop.web.clients.base import Download, Refused, body_of
from gridloop.web.clients.reviews import ReviewsClient
from gridloop.web.console.cobuild import text
from gridloop.web.deps import CobuildDesk, CommunityWorker, Form, Pages, UnitAdmin, client_of
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/volunteer", include_in_schema=False)
Reviews = Annotated[ReviewsClient, Depends(client_of(ReviewsClient))]
GRADES = {
    Grade.EXCELLENT.value: "优秀",
    Grade.PASS.value: "合格",
    Grade.BASIC.value: "基本合格",
    Grade.FAIL.value: "不合格",
}
STATUS = {
    "pending": "待确认",
    "reported": "已报到",
    "active": "在岗",
    "lapsed": "失效",
    "inactive": "已注销",
    "transferred": "已转出",
}
SHEETS = {"units": "单位评议表", "members": "党员评议表", "communities": "社区评议表"}
FORMATS = ("xlsx", "csv", "pdf")


def _now_year_quarter(pages: ConsolePages) -> tuple[int, int]:
    now = pages.clock.now().astimezone(CITY_ZONE)
    return now.year, (now.month - 1) // 3 + 1


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and low <= int(value) <= high else default


def _file(found: Download) -> Response:
    return Response(
        found.content, media_type=found.content_type, headers={"Content-Disposition": found.disposition or "attachment"}
    )


def _context(person: Staff, year: int, refusal: dict[str, Any] | None, request: Request) -> dict[str, Any]:
    return {
        "year": year,
        "grades": GRADES,
        "statuses": STATUS,
        "sheets": SHEETS,
        "formats": FORMATS,
        "refusal": refusal,
        "done": request.query_params.get("done", ""),
    }


async def _reviews_page(
    request: Request, pages: Pages, reviews: ReviewsClient, person: Staff, year: int, refusal: dict[str, Any] | None
) -> Response:
    found = await reviews.indicators(year)
    comments = {(r.subject_kind.value, r.subject_code): r.comment for r in (await reviews.reviews(year)).items}
    context = {**_context(person, year, refusal, request), "figures": found, "comments": comments}
    return pages.render(
        request,
        person,
        "console/volunteer/reviews_community.html",
        context,
        status=refusal["status"] if refusal else 200,
    )


@router.get("/reviews", response_class=HTMLResponse)
async def community_reviews(request: Request, pages: Pages, reviews: Reviews, person: CommunityWorker) -> Response:
    """年度评议: the year's members and units with their figures and a grade for each."""
    this_year, _ = _now_year_quarter(pages)
    year = _int(request, "year", this_year, 2000, this_year)
    return await _reviews_page(request, pages, reviews, person, year, None)


def _grade_body(form: FormData) -> GradeRequest:
    year = text(form, "year")
    return body_of(
        GradeRequest,
        year=int(year) if year.isdigit() else None,
        subject_kind=text(form, "subject_kind") or None,
        subject_code=text(form, "subject_code"),
        grade=text(form, "grade") or None,
        comment=text(form, "comment"),
    )


@router.post("/reviews/grade")
async def grade(request: Request, form: Form, pages: Pages, reviews: Reviews, person: CobuildDesk) -> Response:
    """评议 one subject; refused grades are shown beside the subject's row."""
    back = "/console/volunteer/reviews" if person.user.role == Role.COMMUNITY_WORKER else "/console/volunteer/feedback"
    try:
        body = _grade_body(form)
        await reviews.grade(body)
    except Refused as exc:
        refusal = {
            "subject": text(form, "subject_code"),
            "message": "请选择评议等级" if exc.code == "validation_error" else exc.chinese,
            "status": exc.status,
        }
        this_year, quarter = _now_year_quarter(pages)
        year = int(text(form, "year")) if text(form, "year").isdigit() else this_year
        if person.user.role == Role.COMMUNITY_WORKER:
            return await _reviews_page(request, pages, reviews, person, year, refusal)
        return await _feedback_page(request, pages, reviews, person, year, quarter, refusal)
    return RedirectResponse(f"{back}?year={body.year}&done={body.subject_code}", status_code=303)


@router.get("/reviews/sheets/{which}")
async def sheet(which: str, request: Request, pages: Pages, reviews: Reviews, person: CobuildDesk) -> Response:
    """年度评议表 to download, in the reader's own scope (cobuild decides which rows)."""
    this_year, _ = _now_year_quarter(pages)
    year = _int(request, "year", this_year, 2000, this_year)
    file_format = request.query_params.get("format", "xlsx")
    if which not in SHEETS or file_format not in FORMATS:
        return Response("未知的评议表", status_code=404, media_type="text/plain; charset=utf-8")
    return _file(await reviews.sheet(which, year, file_format))


async def _feedback_page(
    request: Request,
    pages: Pages,
    reviews: ReviewsClient,
    person: Staff,
    year: int,
    quarter: int,
    refusal: dict[str, Any] | None,
) -> Response:
    card = await reviews.feedback_card(person.user.org, year, quarter)
    figures = await reviews.indicators(year)
    comments = {(r.subject_kind.value, r.subject_code): r.comment for r in (await reviews.reviews(year)).items}
    context = {
        **_context(person, year, refusal, request),
        "quarter": quarter,
        "card": card,
        "figures": figures,
        "comments": comments,
    }
    return pages.render(
        request, person, "console/volunteer/reviews_unit.html", context, status=refusal["status"] if refusal else 200
    )


@router.get("/feedback", response_class=HTMLResponse)
async def unit_feedback(request: Request, pages: Pages, reviews: Reviews, person: UnitAdmin) -> Response:
    """反馈与评议: the quarter's feedback card of the unit's members, and its grades of communities."""
    this_year, this_quarter = _now_year_quarter(pages)
    year = _int(request, "year", this_year, 2000, this_year)
    quarter = _int(request, "quarter", this_quarter if year == this_year else 4, 1, 4)
    return await _feedback_page(request, pages, reviews, person, year, quarter, None)


@router.get("/feedback/card")
async def feedback_file(request: Request, pages: Pages, reviews: Reviews, person: UnitAdmin) -> Response:
    this_year, this_quarter = _now_year_quarter(pages)
    year = _int(request, "year", this_year, 2000, this_year)
    quarter = _int(request, "quarter", this_quarter, 1, 4)
    file_format = request.query_params.get("format", "xlsx")
    if file_format not in FORMATS:
        return Response("未知的文件格式", status_code=404, media_type="text/plain; charset=utf-8")
    return _file(await reviews.feedback_file(person.user.org, year, quarter, file_format))
