"""服务活动 pages: members find activities of their community, sign up, check in and out on the spot
with the organiser's rotating code and the phone's position (never a typed one), log by hand after
an activity, and see their hours and certificates; organisers (a community's workers, a unit's
admins) publish activities, show the code, and approve, return, reject and rate records.

cobuild decides everything (`allowed_actions`); the pages show and post."""

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from gridloop.shared.api.activities import (
    RATING_LABELS,
    ActivityRequest,
    ApproveBody,
    ManualLogRequest,
    PresenceRequest,
    RateBody,
    ReasonBody,
    RecordAction,
)
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.web.clients.activities import ActivitiesClient
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.deps import Directory, Form, Pages, client_of, desk_of
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/volunteer", include_in_schema=False)
Activities = Annotated[ActivitiesClient, Depends(client_of(ActivitiesClient))]
Member = Annotated[Staff, Depends(desk_of(Role.MEMBER))]
Organiser = Annotated[Staff, Depends(desk_of(Role.COMMUNITY_WORKER, Role.UNIT_ADMIN))]
HOME = "/console/volunteer/activities"
MANAGE = "/console/volunteer/activities/manage"
FIELD_LABELS = {
    "title": "活动名称", "grid_code": "网格", "place": "活动地点", "lon": "经度", "lat": "纬度",
    "starts_at": "开始时间", "ends_at": "结束时间", "capacity": "招募人数", "code": "签到码",
    "location": "手机定位", "minutes_claimed": "服务时长", "note": "说明", "reason": "理由",
    "minutes": "核定时长", "rating": "评价",
}  # fmt: skip
DONE = {
    "signup": "报名成功。",
    "checkin": "签到成功，活动结束离开时请签退。",
    "checkout": "签退成功，服务记录已提交组织方审核。",
    "log": "补录已提交，待组织方审核。",
    "publish": "活动已发布。",
    "approve": "已审核通过。",
    "return": "已退回，党员/志愿者可更正后重新提交。",
    "reject": "已不予认定。",
    "rate": "已评价。",
    "cancel": "活动已取消。",
    "close": "活动已结项。",
}


@dataclass
class Page:
    request: Request
    pages: ConsolePages
    activities: ActivitiesClient
    directory: DirectoryClient
    person: Staff

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        done = DONE.get(self.request.query_params.get("done", ""), "")
        return self.pages.render(self.request, self.person, template, {"done": done, **context}, status=status)


def _member_page(request: Request, pages: Pages, activities: Activities, directory: Directory, person: Member) -> Page:
    return Page(request, pages, activities, directory, person)


def _organiser_page(
    request: Request, pages: Pages, activities: Activities, directory: Directory, person: Organiser
) -> Page:
    return Page(request, pages, activities, directory, person)


MemberPage = Annotated[Page, Depends(_member_page)]
OrganiserPage = Annotated[Page, Depends(_organiser_page)]


def refusal(exc: ServiceError) -> str:
    """What went wrong, in words the person reads."""
    if exc.code == "validation_error" and exc.fields:
        return "请检查：" + "、".join(FIELD_LABELS.get(name, name) for name in exc.fields)
    return exc.chinese


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _year(page: Page) -> int:
    return page.pages.clock.now().astimezone(CITY_ZONE).year


# ------------------------------------------------------------------ members


async def _member_list(page: Page, error: str = "", status: int = 200) -> Response:
    found = await page.activities.activities()
    return page.render(
        "console/volunteer/activities_list.html",
        {"activities": found.items, "error": error, "values": {}},
        status=status,
    )


@router.get("/activities", response_class=HTMLResponse)
async def member_activities(page: MemberPage) -> Response:
    """服务活动: the community's activities, the member's sign-ups and what they may do in each."""
    return await _member_list(page)


@router.post("/activities/{activity_id}/signup")
async def signup(activity_id: str, form: Form, page: MemberPage) -> Response:
    try:
        await page.activities.signup(activity_id)
    except Refused as exc:
        return await _member_list(page, refusal(exc), exc.status)
    return RedirectResponse(f"{HOME}?done=signup", status_code=303)


async def _presence(page: Page, activity_id: str, error: str = "", status: int = 200) -> Response:
    activity = await page.activities.activity(activity_id)
    return page.render("console/volunteer/activities_presence.html", {"a": activity, "error": error}, status=status)


@router.get("/activities/{activity_id}/presence", response_class=HTMLResponse)
async def presence(activity_id: str, page: MemberPage) -> Response:
    """签到/签退: the code the organiser shows, and the phone's position."""
    return await _presence(page, activity_id)


async def _mark(page: Page, activity_id: str, form: FormData, action: str) -> Response:
    lon, lat = _number(_text(form, "lon")), _number(_text(form, "lat"))
    try:
        if lon is None or lat is None:
            raise Refused(422, "no_position", "未取得手机定位，请允许本页使用定位后重试")
        body = body_of(PresenceRequest, code=_text(form, "code"), location={"lon": lon, "lat": lat})
        if action == "checkin":
            await page.activities.checkin(activity_id, body)
        else:
            await page.activities.checkout(activity_id, body)
    except Refused as exc:
        return await _presence(page, activity_id, refusal(exc), exc.status)
    target = f"{HOME}/{activity_id}/presence" if action == "checkin" else f"{HOME}/records"
    return RedirectResponse(f"{target}?done={action}", status_code=303)


@router.post("/activities/{activity_id}/checkin")
async def checkin(activity_id: str, form: Form, page: MemberPage) -> Response:
    return await _mark(page, activity_id, form, "checkin")


@router.post("/activities/{activity_id}/checkout")
async def checkout(activity_id: str, form: Form, page: MemberPage) -> Response:
    return await _mark(page, activity_id, form, "checkout")


@router.post("/activities/{activity_id}/log")
async def log(activity_id: str, form: Form, page: MemberPage) -> Response:
    """补录 after the activity (or the correction of a returned record)."""
    minutes = _text(form, "minutes_claimed")
    try:
        body = body_of(
            ManualLogRequest,
            minutes_claimed=int(minutes) if minutes.isdigit() else None,
            note=_text(form, "note"),
        )
        await page.activities.log(activity_id, body)
    except Refused as exc:
        return await _member_list(page, refusal(exc), exc.status)
    return RedirectResponse(f"{HOME}/records?done=log", status_code=303)


@router.get("/activities/records", response_class=HTMLResponse)
async def my_records(page: MemberPage) -> Response:
    """我的服务记录: this year's records, the approved hours, a certificate from each organiser."""
    year = _year(page)
    found = await page.activities.records(member="me", year=year)
    organisers: dict[str, str] = {}
    for record in found.items:
        if record.status == "approved":
            organisers[f"{record.organizer_kind}:{record.organizer_code}"] = record.organizer_code
    member_id = found.items[0].member_id if found.items else ""
    names = await _organiser_names(page.directory, organisers)
    return page.render(
        "console/volunteer/activities_records.html",
        {
            "records": found.items,
            "year": year,
            "hours": found.approved_minutes / 60,
            "organisers": names,
            "member_id": member_id,
        },
    )


async def _organiser_names(directory: DirectoryClient, organisers: dict[str, str]) -> dict[str, str]:
    """Each organiser key (community:LJ01, unit:U-…) with the name the directory gives it."""
    if not organisers:
        return {}
    units, tree = await asyncio.gather(directory.units(), directory.tree())
    names = {f"unit:{u.code}": u.name for u in units}
    for district in tree.districts:
        for street in district.streets:
            names.update({f"community:{c.code}": c.name for c in street.communities})
    return {key: names.get(key, code) for key, code in organisers.items()}


def _pdf(found: Any) -> Response:
    headers = {"Content-Disposition": found.disposition} if found.disposition else {}
    return Response(found.content, media_type=found.content_type, headers=headers)


@router.get("/activities/certificate.pdf")
async def my_certificate(page: MemberPage) -> Response:
    """志愿服务证明 from one organiser (谁记录谁证明), for the member themself."""
    query = page.request.query_params
    member_id, organizer = query.get("member", ""), query.get("organizer") or None
    return _pdf(await page.activities.certificate(member_id, organizer=organizer, year=_year(page)))


# ------------------------------------------------------------------ organisers


async def _grids(page: Page) -> list[Any]:
    if page.person.user.role == Role.COMMUNITY_WORKER:
        communities = {page.person.user.org}
    else:
        communities = set((await page.directory.unit(page.person.user.org)).communities)
    return [g for g in await page.directory.grids() if g.community in communities]


async def _manage(page: Page, error: str = "", values: dict[str, str] | None = None, status: int = 200) -> Response:
    found, grids = await asyncio.gather(page.activities.activities(), _grids(page))
    mine = [a for a in found.items if a.organizer_code == page.person.user.org]
    others = [a for a in found.items if a.organizer_code != page.person.user.org]
    return page.render(
        "console/volunteer/activities_manage.html",
        {"mine": mine, "others": others, "grids": grids, "error": error, "values": values or {}},
        status=status,
    )


@router.get("/activities/manage", response_class=HTMLResponse)
async def manage(page: OrganiserPage) -> Response:
    """活动与纪实: publish an activity; the organiser's activities."""
    return await _manage(page)


@router.get("/activities/manage/certificate.pdf")
async def organiser_certificate(page: OrganiserPage) -> Response:
    """The organiser's certificate for one member: only its own records (谁记录谁证明)."""
    member_id = page.request.query_params.get("member", "")
    return _pdf(await page.activities.certificate(member_id, organizer=None, year=_year(page)))


def _instant(day: str, clock: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=CITY_ZONE)
    except ValueError:
        return None


@router.post("/activities/manage")
async def publish(form: Form, page: OrganiserPage) -> Response:
    values = {k: str(v) for k, v in form.items() if k != "csrf"}
    starts = _instant(_text(form, "day"), _text(form, "starts"))
    ends = _instant(_text(form, "day"), _text(form, "ends"))
    if starts and ends and ends <= starts:
        ends += timedelta(days=1)  # an evening into the night: it ends the next day
    capacity = _text(form, "capacity")
    try:
        body = body_of(
            ActivityRequest,
            title=_text(form, "title"),
            grid_code=_text(form, "grid_code"),
            place={"lon": _number(_text(form, "lon")), "lat": _number(_text(form, "lat"))},
            starts_at=starts,
            ends_at=ends,
            capacity=int(capacity) if capacity.isdigit() else None,
        )
        created = await page.activities.publish(body)
    except Refused as exc:
        return await _manage(page, refusal(exc), values, exc.status)
    return RedirectResponse(f"{MANAGE}/{created.id}?done=publish", status_code=303)


async def _organise(page: Page, activity_id: str, error: str = "", status: int = 200) -> Response:
    activity, records = await asyncio.gather(
        page.activities.activity(activity_id), page.activities.records(activity=activity_id)
    )
    code = None
    if "code" in activity.allowed_actions:
        code = await page.activities.code(activity_id)
    return page.render(
        "console/volunteer/activities_organise.html",
        {"a": activity, "records": records.items, "code": code, "error": error, "ratings": RATING_LABELS},
        status=status,
    )


@router.get("/activities/manage/{activity_id}", response_class=HTMLResponse)
async def organise(activity_id: str, page: OrganiserPage) -> Response:
    """One activity: the rotating code while check-in is open, and its records to decide."""
    return await _organise(page, activity_id)


@router.get("/activities/manage/{activity_id}/code", response_class=HTMLResponse)
async def code_panel(activity_id: str, page: OrganiserPage) -> Response:
    """The code panel alone (htmx refreshes it)."""
    code = await page.activities.code(activity_id)
    return page.render("console/volunteer/activities_code.html", {"code": code, "activity_id": activity_id})


@router.post("/activities/manage/{activity_id}/cancel")
async def cancel(activity_id: str, form: Form, page: OrganiserPage) -> Response:
    try:
        await page.activities.cancel(activity_id, body_of(ReasonBody, reason=_text(form, "reason")))
    except Refused as exc:
        return await _organise(page, activity_id, refusal(exc), exc.status)
    return RedirectResponse(f"{MANAGE}/{activity_id}?done=cancel", status_code=303)


@router.post("/activities/manage/{activity_id}/close")
async def close(activity_id: str, form: Form, page: OrganiserPage) -> Response:
    try:
        await page.activities.close(activity_id)
    except Refused as exc:
        return await _organise(page, activity_id, refusal(exc), exc.status)
    return RedirectResponse(f"{MANAGE}/{activity_id}?done=close", status_code=303)


@router.post("/activities/manage/{activity_id}/records/{record_id}/{action}")
async def decide(activity_id: str, record_id: str, action: RecordAction, form: Form, page: OrganiserPage) -> Response:
    """审核通过 (with the minutes), 退回, 不予认定, 评价."""
    try:
        body: BaseModel
        if action is RecordAction.APPROVE:
            minutes = _text(form, "minutes")
            body = body_of(ApproveBody, minutes=int(minutes) if minutes.isdigit() else None)
        elif action is RecordAction.RATE:
            body = body_of(RateBody, rating=_text(form, "rating") or None)
        else:
            body = body_of(ReasonBody, reason=_text(form, "reason"))
        await page.activities.act_on_record(record_id, action, body)
    except Refused as exc:
        return await _organise(page, activity_id, refusal(exc), exc.status)
    return RedirectResponse(f"{MANAGE}/{activity_id}?done={action.value}", status_code=303)
