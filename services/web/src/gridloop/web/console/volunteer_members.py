"""双报到 pages: a member reports to their community (我要报到), sees their status and posts and
claims one; a unit's admin reports the unit to its paired communities and confirms its Party
members' headcount (单位报到) and sees its members (本单位党员); the community worker confirms
reports, places members in a grid and a squad and publishes posts (报到管理).

The service decides; the page shows and posts, and a refusal is shown beside the form."""

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.api.members import (
    EmptyRequest,
    HeadcountRequest,
    PlaceRequest,
    PostCategory,
    PublishPostRequest,
    RegisterRequest,
    UnitReportRequest,
)
from gridloop.shared.events import Role
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.clients.members import MembersClient
from gridloop.web.console.cobuild import text
from gridloop.web.deps import CommunityWorker, Directory, Form, Pages, UnitAdmin, client_of, desk_of
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/volunteer", include_in_schema=False)
Members = Annotated[MembersClient, Depends(client_of(MembersClient))]
Member = Annotated[Staff, Depends(desk_of(Role.MEMBER))]
FIELD_NAMES = {
    "name": "姓名", "phone": "手机号码", "id_number": "身份证号码", "availability": "可服务时间",
    "grid_code": "网格", "squad": "服务小队", "title": "岗位名称", "duties": "岗位职责", "headcount": "需要人数",
    "category": "岗位类别", "party_members": "在职党员人数", "community_code": "报到社区",
}  # fmt: skip
POST_CATEGORIES = [c.value for c in PostCategory]


@dataclass
class Refusal:
    """What was refused: the message, each field's own, and what was typed (put back)."""

    action: str
    message: str
    fields: dict[str, str]
    values: dict[str, str]
    status: int
    chosen: list[str]  # the service types ticked

    @classmethod
    def of(cls, action: str, exc: ServiceError, form: FormData | None) -> "Refusal":
        fields = {name: f"请正确填写{FIELD_NAMES.get(name, name)}" for name in exc.fields}
        if exc.code == "invalid_id_number":
            fields["id_number"] = "身份证号码无效，请核对后重新填写"
        values = {k: str(v) for k, v in (form or {}).items() if k not in ("csrf", "id_number")}
        message = "请检查以下各项后重试。" if fields else exc.chinese
        chosen = [str(v) for v in form.getlist("service_types")] if form else []
        return cls(action=action, message=message, fields=fields, values=values, status=exc.status, chosen=chosen)


@dataclass
class Page:
    request: Request
    pages: ConsolePages
    members: MembersClient
    directory: DirectoryClient
    person: Staff

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        return self.pages.render(self.request, self.person, template, context, status=status)

    @property
    def done(self) -> str:
        return self.request.query_params.get("done", "")


def _member_page(request: Request, pages: Pages, members: Members, directory: Directory, person: Member) -> Page:
    return Page(request, pages, members, directory, person)


def _unit_page(request: Request, pages: Pages, members: Members, directory: Directory, person: UnitAdmin) -> Page:
    return Page(request, pages, members, directory, person)


def _desk_page(request: Request, pages: Pages, members: Members, directory: Directory, person: CommunityWorker) -> Page:
    return Page(request, pages, members, directory, person)


MemberPage = Annotated[Page, Depends(_member_page)]
UnitPage = Annotated[Page, Depends(_unit_page)]
DeskPage = Annotated[Page, Depends(_desk_page)]


# ------------------------------------------------------------------ the member


async def _mine(page: Page, refusal: Refusal | None = None) -> Response:
    try:
        me = await page.members.me()
    except Refused as exc:
        if exc.status != 404:
            raise
        me = None
    ended = me is not None and me.status.value in ("inactive", "transferred")
    if ended:
        me = None  # the earlier registration ended: the person reports again
    categories, units = await asyncio.gather(page.directory.need_categories(), page.directory.units())
    posts = (await page.members.posts(status="open")).items if me else []
    return page.render(
        "console/volunteer/members_mine.html",
        {
            "me": me,
            "ended": ended,
            "posts": posts,
            "held": set(me.posts) if me else set(),
            "categories": categories,
            "category_names": {c.code: c.name for c in categories},
            "units": units,
            "refusal": refusal,
            "done": page.done,
        },
        status=refusal.status if refusal else 200,
    )


@router.get("", response_class=HTMLResponse)
async def mine(page: MemberPage) -> Response:
    """我的报到: the form until the person has reported; then their status, posts and the community's posts."""
    return await _mine(page)


@router.post("/register")
async def register(form: Form, page: MemberPage) -> Response:
    try:
        party = text(form, "party_member") == "yes"
        body = body_of(
            RegisterRequest,
            party_member=party,
            unit_code=(text(form, "unit_code") or None) if party else None,
            name=text(form, "name"),
            phone=text(form, "phone"),
            id_number=text(form, "id_number").upper(),
            skills=[s for s in text(form, "skills").replace("，", ",").split(",") if s.strip()],
            service_types=[str(v) for v in form.getlist("service_types")],
            availability=text(form, "availability"),
            channel="online",
        )
        await page.members.register(body)
    except Refused as exc:
        return await _mine(page, Refusal.of("register", exc, form))
    return RedirectResponse("/console/volunteer?done=registered", status_code=303)


@router.post("/posts/{post_id}/{action}")
async def post_step(post_id: str, action: str, form: Form, page: MemberPage) -> Response:
    if action not in ("claim", "release"):
        return RedirectResponse("/console/volunteer", status_code=303)
    try:
        await page.members.post_step(post_id, action)
    except Refused as exc:
        return await _mine(page, Refusal.of(action, exc, form))
    return RedirectResponse(f"/console/volunteer?done={action}", status_code=303)


@router.post("/return")
async def return_to_community(form: Form, page: MemberPage) -> Response:
    try:
        me = await page.members.me()
        await page.members.step(me.id, "return")
    except Refused as exc:
        return await _mine(page, Refusal.of("return", exc, form))
    return RedirectResponse("/console/volunteer?done=returned", status_code=303)


# ------------------------------------------------------------------ the unit


async def _unit(page: Page, refusal: Refusal | None = None) -> Response:
    reports = await page.members.unit_reports(page.person.user.org)
    reported = {r.community_code: r for r in reports.reports}
    return page.render(
        "console/volunteer/members_unit.html",
        {"reports": reports, "reported": reported, "refusal": refusal, "done": page.done},
        status=refusal.status if refusal else 200,
    )


@router.get("/unit", response_class=HTMLResponse)
async def unit(page: UnitPage) -> Response:
    """单位报到: to each paired community (the receipt at once) and the Party members' headcount."""
    return await _unit(page)


@router.post("/unit/reports")
async def report(form: Form, page: UnitPage) -> Response:
    try:
        body = body_of(UnitReportRequest, community_code=text(form, "community_code"))
        await page.members.report(page.person.user.org, body)
    except Refused as exc:
        return await _unit(page, Refusal.of("report", exc, form))
    return RedirectResponse("/console/volunteer/unit?done=reported", status_code=303)


@router.post("/unit/headcount")
async def headcount(form: Form, page: UnitPage) -> Response:
    try:
        body = body_of(HeadcountRequest, party_members=text(form, "party_members") or None)
        await page.members.headcount(page.person.user.org, body)
    except Refused as exc:
        return await _unit(page, Refusal.of("headcount", exc, form))
    return RedirectResponse("/console/volunteer/unit?done=headcount", status_code=303)


@router.get("/unit/members", response_class=HTMLResponse)
async def unit_members(page: UnitPage) -> Response:
    """本单位党员: the unit's own staff who reported, with their names and statuses."""
    found = await page.members.unit_members(page.person.user.org)
    return page.render("console/volunteer/members_staff.html", {"members": found.items})


# ------------------------------------------------------------------ the community


async def _desk(page: Page, refusal: Refusal | None = None) -> Response:
    org = page.person.user.org
    found, posts, grids = await asyncio.gather(page.members.members(), page.members.posts(), page.directory.grids())
    by_status: dict[str, list[Any]] = {}
    for m in found.items:
        by_status.setdefault(m.status.value, []).append(m)
    return page.render(
        "console/volunteer/members_desk.html",
        {
            "pending": by_status.get("pending", []),
            "reported": by_status.get("reported", []),
            "on_roll": by_status.get("active", []) + by_status.get("lapsed", []),
            "posts": posts.items,
            "names": {m.id: m.name or "（已删除）" for m in found.items},
            "grids": [g for g in grids if g.community == org],
            "categories": POST_CATEGORIES,
            "refusal": refusal,
            "done": page.done,
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/desk", response_class=HTMLResponse)
async def desk(page: DeskPage) -> Response:
    """报到管理: reports to confirm, members to place, members on the roll, posts and their holders."""
    return await _desk(page)


@router.post("/desk/members/{member_id}/confirm")
async def confirm(member_id: str, form: Form, page: DeskPage) -> Response:
    try:
        await page.members.step(member_id, "confirm", EmptyRequest())
    except Refused as exc:
        return await _desk(page, Refusal.of("confirm", exc, form))
    return RedirectResponse("/console/volunteer/desk?done=confirmed", status_code=303)


@router.post("/desk/members/{member_id}/place")
async def place(member_id: str, form: Form, page: DeskPage) -> Response:
    try:
        body = body_of(PlaceRequest, grid_code=text(form, "grid_code"), squad=text(form, "squad"))
        await page.members.step(member_id, "place", body)
    except Refused as exc:
        return await _desk(page, Refusal.of(f"place-{member_id}", exc, form))
    return RedirectResponse("/console/volunteer/desk?done=placed", status_code=303)


@router.post("/desk/posts")
async def publish(form: Form, page: DeskPage) -> Response:
    try:
        body = body_of(
            PublishPostRequest,
            grid_code=text(form, "grid_code"),
            category=text(form, "category"),
            title=text(form, "title"),
            duties=text(form, "duties"),
            headcount=text(form, "headcount") or None,
        )
        await page.members.publish_post(body)
    except Refused as exc:
        return await _desk(page, Refusal.of("post", exc, form))
    return RedirectResponse("/console/volunteer/desk?done=published", status_code=303)


@router.post("/desk/posts/{post_id}/close")
async def close(post_id: str, form: Form, page: DeskPage) -> Response:
    try:
        await page.members.post_step(post_id, "close")
    except Refused as exc:
        return await _desk(page, Refusal.of("close", exc, form))
    return RedirectResponse("/console/volunteer/desk?done=closed", status_code=303)
