"""共建 pages, part one: the community's needs desk (需求受理) and the wish wall (心愿墙).

The community worker reviews what residents, grid workers and the hotline collected, writes the
public summary, publishes it for claiming or sends it to a unit (派单), turns down or converts
(转办) what is not a household's need, approves a claimant's release and confirms and rates on the
household's behalf. A unit's liaison claims needs from the wall (alone or in a group claim) and
works its own: contact the household, deliver, ask to be released.

Which actions a need offers is cobuild's answer (`allowed_actions`, decided on the need and the
caller's part in it); each is a route of its own here. The service decides, the page shows and posts."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from gridloop.shared.api.cobuild import (
    AssignNeedRequest,
    ClaimRequest,
    ConvertRequest,
    DeliverRequest,
    NeedAction,
    NoteRequest,
    RateNeedRequest,
    ReasonRequest,
    ReviewRequest,
    SubmitNeedRequest,
)
from gridloop.shared.cobuild_lifecycle import NeedStatus
from gridloop.shared.events import Role
from gridloop.shared.limits import TEXT_MIN
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.cobuild import CobuildClient
from gridloop.web.clients.directory import DirectoryClient, NeedCategoryEntry, UnitEntry
from gridloop.web.deps import Cobuild, CobuildDesk, CommunityWorker, Directory, Form, Pages
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/cobuild", include_in_schema=False)
PAGE_SIZE = 25
NEED_FILTERS = (
    NeedStatus.SUBMITTED, NeedStatus.REVIEWED, NeedStatus.PUBLISHED, NeedStatus.ASSIGNED, NeedStatus.CLAIMED,
    NeedStatus.IN_SERVICE, NeedStatus.DELIVERED, NeedStatus.ESCALATED, NeedStatus.DONE,
)  # fmt: skip
FIELD_NAMES = {  # what a refused field is called beside the form
    "summary": "公开摘要", "reason": "理由", "note": "说明", "description": "描述", "unit_code": "承接单位",
    "ticket_category_code": "案件类别", "address": "地址", "rating": "评价", "comment": "评价意见",
    "category_code": "类别", "percent": "进度", "milestone": "进展说明", "report": "结项报告",
    "beneficiaries": "受益人次", "grade": "评估等级", "title": "名称", "category_codes": "适用需求类别",
    "community_codes": "服务社区", "capacity": "可服务数量", "available_from": "开始日期",
    "available_until": "结束日期", "kind": "类型", "grid_code": "网格", "planned_end": "计划完成日期",
    "name": "服务对象姓名", "phone": "联系电话",
}  # fmt: skip
TEXT_FIELDS = {"summary", "reason", "note", "description", "milestone", "report", "title"}


@dataclass
class Desk:
    """What every 共建 page is given: the request, the templates, cobuild and the directory as the
    signed-in person, and the person."""

    request: Request
    pages: ConsolePages
    cobuild: CobuildClient
    directory: DirectoryClient
    person: Staff

    @property
    def role(self) -> Role:
        return self.person.user.role

    @property
    def org(self) -> str:
        return self.person.user.org

    def render(self, template: str, context: dict[str, Any], status: int = 200) -> Response:
        return self.pages.render(self.request, self.person, template, context, status=status)


def _desk(request: Request, pages: Pages, cobuild: Cobuild, directory: Directory, person: CobuildDesk) -> Desk:
    return Desk(request, pages, cobuild, directory, person)


def _community_desk(
    request: Request, pages: Pages, cobuild: Cobuild, directory: Directory, person: CommunityWorker
) -> Desk:
    return Desk(request, pages, cobuild, directory, person)


NeedsDesk = Annotated[Desk, Depends(_desk)]
CommunityDesk = Annotated[Desk, Depends(_community_desk)]


@dataclass
class Refusal:
    """A refused action, as the page shows it: the summary at the top links to each field in
    error, and each message stands beside its field; what the person typed is put back."""

    action: str
    message: str
    fields: dict[str, str]
    values: dict[str, str]
    status: int
    chosen: dict[str, list[str]]  # each field's values, for the checkboxes of a list

    @classmethod
    def of(cls, action: str, exc: ServiceError, form: FormData | None) -> "Refusal":
        fields: dict[str, str] = {}
        if exc.code == "validation_error":
            for name in exc.fields:
                label = FIELD_NAMES.get(name, name)
                short = f"请填写{label}（至少 {TEXT_MIN} 个字）"
                fields[name] = short if name in TEXT_FIELDS else f"请填写或选择{label}"
        values = {key: str(value) for key, value in (form or {}).items() if key != "csrf"}
        chosen = {key: [str(v) for v in form.getlist(key)] for key in values} if form else {}
        message = "请检查以下各项后重试。" if fields else exc.chinese
        return cls(action=action, message=message, fields=fields, values=values, status=exc.status, chosen=chosen)


def field_errors(exc: ServiceError) -> dict[str, str]:
    """Each refused field's message, as `Refusal` words it."""
    return Refusal.of("", exc, None).fields


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def unit_names(units: list[UnitEntry]) -> dict[str, str]:
    return {unit.code: unit.name for unit in units}


def category_names(categories: list[NeedCategoryEntry]) -> dict[str, str]:
    return {category.code: category.name for category in categories}


def paired_units(units: list[UnitEntry], community: str) -> list[UnitEntry]:
    """The units paired with a community (the directory lists them by street; pairing is per unit)."""
    return [unit for unit in units if community in unit.communities]


# ------------------------------------------------------------------ the needs desk


def _status(request: Request) -> str:
    status = request.query_params.get("status", "")
    return status if status in NEED_FILTERS else ""


@router.get("/needs", response_class=HTMLResponse)
async def needs(desk: NeedsDesk) -> Response:
    """The community's needs by status (a unit's: those assigned to or claimed by it), a page at a time."""
    status = _status(desk.request)
    cursor = desk.request.query_params.get("cursor") or None
    found, categories = await asyncio.gather(
        desk.cobuild.needs(status=status or None, cursor=cursor, limit=PAGE_SIZE), desk.directory.need_categories()
    )
    return desk.render(
        "console/cobuild/needs.html",
        {
            "needs": found.items,
            "next_cursor": found.next_cursor,
            "paged": cursor is not None,
            "status": status,
            "filters": NEED_FILTERS,
            "categories": category_names(categories),
        },
    )


async def _need_page(desk: Desk, need_id: str, refusal: Refusal | None = None) -> Response:
    """One need with the details its community (or claimant) may see, and the actions it offers now;
    after a refused action, with the reason beside that action's form."""
    need, categories = await asyncio.gather(desk.cobuild.need(need_id), desk.directory.need_categories())
    actions = need.allowed_actions
    units = await desk.directory.units(street=need.street_code or None)
    ticket_categories = await desk.directory.categories() if "convert" in actions else []
    return desk.render(
        "console/cobuild/need.html",
        {
            "need": need,
            "actions": actions,
            "categories": categories,
            "category_names": category_names(categories),
            "units": paired_units(units, need.community_code),
            "unit_names": unit_names(units),
            "ticket_categories": ticket_categories,
            "refusal": refusal,
            "done": desk.request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else 200,
    )


async def _new_need_page(desk: Desk, refusal: Refusal | None = None) -> Response:
    """The form for a need the community collected itself: a paper wish card, a visit, a call."""
    categories, grids = await asyncio.gather(desk.directory.need_categories(), desk.directory.grids())
    return desk.render(
        "console/cobuild/need_new.html",
        {
            "categories": categories,
            # the community's own grids (the directory lists them by street, which the desk does not know)
            "grids": [grid for grid in grids if grid.community == desk.org],
            "key": refusal.values.get("key", "") if refusal else str(uuid.uuid4()),
            "refusal": refusal,
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/needs/new", response_class=HTMLResponse)
async def new_need(desk: CommunityDesk) -> Response:
    return await _new_need_page(desk)


@router.post("/needs")
async def submit_need(form: Form, desk: CommunityDesk) -> Response:
    """登记需求: typed in by the community for its household (safe to submit twice: one key per form)."""
    try:
        beneficiary = {"name": text(form, "name"), "phone": text(form, "phone"), "address": text(form, "address")}
        body = body_of(
            SubmitNeedRequest,
            kind=text(form, "kind") or None,
            category_code=text(form, "category_code"),
            description=text(form, "description"),
            grid_code=text(form, "grid_code"),
            beneficiary=beneficiary if any(beneficiary.values()) else None,
        )
        filed = await desk.cobuild.submit_need(body, key=text(form, "key") or str(uuid.uuid4()))
    except Refused as exc:
        return await _new_need_page(desk, Refusal.of("need", exc, form))
    return RedirectResponse(f"/console/cobuild/needs/{filed.id}?done=submitted", status_code=303)


@router.get("/needs/{need_id}", response_class=HTMLResponse)
async def need(need_id: str, desk: NeedsDesk) -> Response:
    return await _need_page(desk, need_id)


async def _act(
    desk: Desk, need_id: str, action: NeedAction, form: FormData, body: Callable[[], BaseModel | None]
) -> Response:
    """Take the action; refused, the need's page again with the reason beside the action's form."""
    try:
        await desk.cobuild.act(need_id, action, body())
    except Refused as exc:
        return await _need_page(desk, need_id, Refusal.of(action, exc, form))
    return RedirectResponse(f"/console/cobuild/needs/{need_id}?done={action}", status_code=303)


@router.post("/needs/{need_id}/review")
async def review(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """审核: the public summary (no name, phone or address of the household) and, if wrong, the category."""
    category = text(form, "category_code") or None
    return await _act(
        desk, need_id, NeedAction.REVIEW, form,
        lambda: body_of(ReviewRequest, summary=text(form, "summary"), category_code=category),
    )  # fmt: skip


@router.post("/needs/{need_id}/publish")
async def publish(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """发布认领: on the wish wall, open for units to claim."""
    return await _act(desk, need_id, NeedAction.PUBLISH, form, lambda: None)


@router.post("/needs/{need_id}/assign")
async def assign(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """派单: to one unit paired with the community, which accepts or returns it."""
    return await _act(
        desk, need_id, NeedAction.ASSIGN, form, lambda: body_of(AssignNeedRequest, unit_code=text(form, "unit_code"))
    )


@router.post("/needs/{need_id}/reject")
async def reject(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """不予受理, with the reason the submitter is told."""
    return await _act(
        desk, need_id, NeedAction.REJECT, form, lambda: body_of(ReasonRequest, reason=text(form, "reason"))
    )


@router.post("/needs/{need_id}/convert")
async def convert(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """转为案件: a department's job, filed in intake as a report with this need as its origin."""
    return await _act(
        desk, need_id, NeedAction.CONVERT, form,
        lambda: body_of(
            ConvertRequest, ticket_category_code=text(form, "ticket_category_code"),
            description=text(form, "description"), address=text(form, "address"),
            grid_code=text(form, "grid_code") or None,
        ),
    )  # fmt: skip


@router.post("/needs/{need_id}/approve-release")
async def approve_release(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """同意退出认领: the claimant is let go and the need is open for claiming again."""
    return await _act(desk, need_id, NeedAction.APPROVE_RELEASE, form, lambda: None)


@router.post("/needs/{need_id}/confirm")
async def confirm(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """确认完成, on the household's behalf (they told the community)."""
    return await _act(desk, need_id, NeedAction.CONFIRM, form, lambda: None)


@router.post("/needs/{need_id}/rate")
async def rate(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """评价, recording the household's rating."""
    return await _act(
        desk, need_id, NeedAction.RATE, form,
        lambda: body_of(RateNeedRequest, rating=text(form, "rating") or None, comment=text(form, "comment")),
    )  # fmt: skip


@router.post("/needs/{need_id}/accept-assignment")
async def accept_assignment(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """接单: the unit takes on the need the community sent it."""
    return await _act(desk, need_id, NeedAction.ACCEPT_ASSIGNMENT, form, lambda: None)


@router.post("/needs/{need_id}/return")
async def return_assignment(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """退回派单, saying why: the community reviews it again."""
    return await _act(
        desk, need_id, NeedAction.RETURN, form, lambda: body_of(ReasonRequest, reason=text(form, "reason"))
    )


@router.post("/needs/{need_id}/claim")
async def claim(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """认领 from the need's page (the wall has its own form)."""
    group = form.get("group") == "true"
    return await _act(desk, need_id, NeedAction.CLAIM, form, lambda: body_of(ClaimRequest, group=group))


@router.post("/needs/{need_id}/contact")
async def contact(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """已联系居民: the claim holds and the service starts."""
    return await _act(desk, need_id, NeedAction.CONTACT, form, lambda: body_of(NoteRequest, note=text(form, "note")))


@router.post("/needs/{need_id}/request-release")
async def request_release(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """申请退出认领, with a reason the community approves."""
    return await _act(
        desk, need_id, NeedAction.REQUEST_RELEASE, form, lambda: body_of(ReasonRequest, reason=text(form, "reason"))
    )


@router.post("/needs/{need_id}/deliver")
async def deliver(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """已兑现: what was done; the household (or the community) confirms."""
    return await _act(desk, need_id, NeedAction.DELIVER, form, lambda: body_of(DeliverRequest, note=text(form, "note")))


# ------------------------------------------------------------------ the wish wall


async def _wall_page(desk: Desk, refusal: Refusal | None = None, refused_need: str = "") -> Response:
    query = desk.request.query_params
    kind = query.get("kind", "")
    cursor = query.get("cursor") or None
    community = desk.org if desk.role == Role.COMMUNITY_WORKER else (query.get("community") or None)
    found, categories = await asyncio.gather(
        desk.cobuild.wall(community=community, kind=kind or None, cursor=cursor), desk.directory.need_categories()
    )
    return desk.render(
        "console/cobuild/wall.html",
        {
            "items": found.items,
            "next_cursor": found.next_cursor,
            "paged": cursor is not None,
            "kind": kind,
            "community": community or "",
            "categories": category_names(categories),
            "can_claim": desk.role == Role.UNIT_ADMIN,
            "refusal": refusal,
            "refused_need": refused_need,
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/wall", response_class=HTMLResponse)
async def wall(desk: NeedsDesk) -> Response:
    """The published needs, public summaries only (a unit's: its paired communities by default)."""
    return await _wall_page(desk)


@router.post("/wall/{need_id}/claim")
async def claim_from_wall(need_id: str, form: Form, desk: NeedsDesk) -> Response:
    """认领 (or join a group claim) from the wall; the need's page follows, with the household's details."""
    try:
        await desk.cobuild.act(need_id, NeedAction.CLAIM, body_of(ClaimRequest, group=form.get("group") == "true"))
    except Refused as exc:
        return await _wall_page(desk, Refusal.of("claim", exc, form), need_id)
    return RedirectResponse(f"/console/cobuild/needs/{need_id}?done=claim", status_code=303)
