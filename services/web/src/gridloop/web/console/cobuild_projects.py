"""共建 pages, part two: resources, matching and projects (资源清单, 供需匹配, 惠民项目).

A unit's liaison lists what the unit offers (a venue, a service, goods, funds, people, a channel)
and withdraws it; the community accepts or declines offers to it, sees cobuild's suggested
need↔offer pairs with their reasons and the needs nothing matches, and turns a pair into a
project. A project's page carries the actions of each part in it, as cobuild answers them
(`allowed_actions`): the community and its units run it (start, progress, complete), the street
approves and evaluates it."""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.datastructures import FormData

from gridloop.shared.api.cobuild import (
    ApproveRequest,
    CompleteRequest,
    EvaluateRequest,
    Offer,
    OfferAction,
    OfferRequest,
    ProgressRequest,
    ProjectAction,
    ProjectRateRequest,
    ProjectRequest,
    ReasonRequest,
)
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.cobuild_lifecycle import OfferStatus, ProjectStatus
from gridloop.shared.events import Role
from gridloop.web.clients.base import Refused, body_of
from gridloop.web.console.cobuild import Desk, Refusal, category_names, text, unit_names
from gridloop.web.deps import Cobuild, CobuildDesk, CommunityWorker, Directory, Form, Pages, ProjectDesk

router = APIRouter(prefix="/console/cobuild", include_in_schema=False)
PROJECT_FILTERS = tuple(ProjectStatus)


def _offers_desk(request: Request, pages: Pages, cobuild: Cobuild, directory: Directory, person: CobuildDesk) -> Desk:
    return Desk(request, pages, cobuild, directory, person)


def _projects_desk(request: Request, pages: Pages, cobuild: Cobuild, directory: Directory, person: ProjectDesk) -> Desk:
    return Desk(request, pages, cobuild, directory, person)


def _community_desk(
    request: Request, pages: Pages, cobuild: Cobuild, directory: Directory, person: CommunityWorker
) -> Desk:
    return Desk(request, pages, cobuild, directory, person)


OffersDesk = Annotated[Desk, Depends(_offers_desk)]
ProjectsDesk = Annotated[Desk, Depends(_projects_desk)]
CommunityDesk = Annotated[Desk, Depends(_community_desk)]


def _day(value: str, *, end: bool = False) -> datetime | None:
    """A date field (the city's calendar) as the instant its day starts (or ends)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=CITY_ZONE)


# ------------------------------------------------------------------ offers


async def _offers_page(desk: Desk, refusal: Refusal | None = None) -> Response:
    status = desk.request.query_params.get("status", "")
    status = status if status in tuple(OfferStatus) else ""
    cursor = desk.request.query_params.get("cursor") or None
    community = desk.org if desk.role == Role.COMMUNITY_WORKER else None
    found, categories = await asyncio.gather(
        desk.cobuild.offers(status=status or None, community=community, cursor=cursor),
        desk.directory.need_categories(),
    )
    context: dict[str, Any] = {
        "offers": found.items,
        "actions": {offer.id: offer.allowed_actions for offer in found.items},
        "next_cursor": found.next_cursor,
        "paged": cursor is not None,
        "status": status,
        "categories": categories,
        "category_names": category_names(categories),
        "refusal": refusal,
        "unit": None,
        "done": desk.request.query_params.get("done", ""),
    }
    if desk.role == Role.UNIT_ADMIN:
        context["unit"] = await desk.directory.unit(desk.org)
    return desk.render("console/cobuild/offers.html", context, status=refusal.status if refusal else 200)


@router.get("/offers", response_class=HTMLResponse)
async def offers(desk: OffersDesk) -> Response:
    """A unit's own offers and the form for a new one; a community's offers made to it."""
    return await _offers_page(desk)


def _new_offer(form: FormData) -> OfferRequest:
    capacity = text(form, "capacity")
    start, until = _day(text(form, "available_from")), _day(text(form, "available_until"), end=True)
    body = body_of(
        OfferRequest,
        kind=text(form, "kind") or None,
        title=text(form, "title"),
        description=text(form, "description"),
        category_codes=[str(v) for v in form.getlist("category_codes")],
        capacity=int(capacity) if capacity.isdigit() else None,
        community_codes=[str(v) for v in form.getlist("community_codes")],
        available_from=start,
        available_until=until,
    )
    # cobuild's model turns the instants to UTC; the page sends them as the city's days, as before
    return body.model_copy(update={"available_from": start, "available_until": until})


@router.post("/offers")
async def submit_offer(form: Form, desk: OffersDesk) -> Response:
    """发布资源: the unit's offer, to the communities it is paired with that it names."""
    try:
        if desk.role != Role.UNIT_ADMIN:
            raise Refused(403, "forbidden", "只有驻区单位可以发布资源")
        await desk.cobuild.submit_offer(_new_offer(form))
    except Refused as exc:
        return await _offers_page(desk, Refusal.of("offer", exc, form))
    return RedirectResponse("/console/cobuild/offers?done=offer", status_code=303)


async def _offer_act(desk: Desk, offer_id: str, action: str, form: FormData, act: Callable[[], Any]) -> Response:
    try:
        await act()
    except Refused as exc:
        refusal = Refusal.of(action, exc, form)
        refusal.values["offer_id"] = offer_id
        return await _offers_page(desk, refusal)
    return RedirectResponse(f"/console/cobuild/offers?done={action}", status_code=303)


@router.post("/offers/{offer_id}/withdraw")
async def withdraw_offer(offer_id: str, form: Form, desk: OffersDesk) -> Response:
    """撤回资源 (the unit), saying why."""

    async def act() -> Offer:
        body = body_of(ReasonRequest, reason=text(form, "reason"))
        return await desk.cobuild.act_on_offer(offer_id, OfferAction.WITHDRAW, body)

    return await _offer_act(desk, offer_id, "withdraw", form, act)


@router.post("/offers/{offer_id}/accept")
async def accept_offer(offer_id: str, form: Form, desk: OffersDesk) -> Response:
    """接受资源 (the community): it may be matched to the community's needs."""
    return await _offer_act(
        desk, offer_id, "accept", form, lambda: desk.cobuild.act_on_offer(offer_id, OfferAction.ACCEPT)
    )


@router.post("/offers/{offer_id}/decline")
async def decline_offer(offer_id: str, form: Form, desk: OffersDesk) -> Response:
    """不接受资源 (the community), saying why."""

    async def act() -> Offer:
        body = body_of(ReasonRequest, reason=text(form, "reason"))
        return await desk.cobuild.act_on_offer(offer_id, OfferAction.DECLINE, body)

    return await _offer_act(desk, offer_id, "decline", form, act)


# ------------------------------------------------------------------ matching


@router.get("/matches", response_class=HTMLResponse)
async def matches(desk: CommunityDesk) -> Response:
    """Suggested need↔offer pairs with their reasons, and the needs nothing matches (with why)."""
    found, units = await asyncio.gather(desk.cobuild.matches(community=desk.org), desk.directory.units())
    return desk.render(
        "console/cobuild/matches.html",
        {"matches": found.matches, "unmatched": found.unmatched, "unit_names": unit_names(units)},
    )


# ------------------------------------------------------------------ projects


@router.get("/projects", response_class=HTMLResponse)
async def projects(desk: ProjectsDesk) -> Response:
    """The projects the person takes part in (the community's, a unit's, the street's), by status."""
    status = desk.request.query_params.get("status", "")
    status = status if status in PROJECT_FILTERS else ""
    cursor = desk.request.query_params.get("cursor") or None
    community = desk.org if desk.role == Role.COMMUNITY_WORKER else None
    found = await desk.cobuild.projects(status=status or None, community=community, cursor=cursor)
    return desk.render(
        "console/cobuild/projects.html",
        {
            "projects": found.items,
            "next_cursor": found.next_cursor,
            "paged": cursor is not None,
            "status": status,
            "filters": PROJECT_FILTERS,
            "can_propose": desk.role == Role.COMMUNITY_WORKER,
        },
    )


async def _new_project_page(desk: Desk, refusal: Refusal | None = None) -> Response:
    """The form for a new project, filled from a suggested match (its need, offer and unit)."""
    query = desk.request.query_params
    values = dict(refusal.values) if refusal else {k: query.get(k, "") for k in ("need_id", "offer_id", "unit_code")}
    need = None
    if values.get("need_id"):
        need = await desk.cobuild.need(values["need_id"])
        if not refusal:
            values.update(
                title=need.summary[:30], summary=need.summary, category_code=need.category_code,
                grid_code=need.grid_code,
            )  # fmt: skip
    categories, grids, units = await asyncio.gather(
        desk.directory.need_categories(),
        desk.directory.grids(street=need.street_code if need and need.street_code else None),
        desk.directory.units(),
    )
    return desk.render(
        "console/cobuild/project_new.html",
        {
            "values": values,
            "need": need,
            "categories": categories,
            # the community's own grids (the directory lists them by street)
            "grids": [grid for grid in grids if grid.community == desk.org],
            "unit_names": unit_names(units),
            "refusal": refusal,
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/projects/new", response_class=HTMLResponse)
async def new_project(desk: CommunityDesk) -> Response:
    return await _new_project_page(desk)


@router.post("/projects")
async def propose_project(form: Form, desk: CommunityDesk) -> Response:
    """立项: a project from the community's needs and the units' offers."""
    try:
        planned_end = _day(text(form, "planned_end"), end=True)
        body = body_of(
            ProjectRequest,
            title=text(form, "title"),
            summary=text(form, "summary"),
            category_code=text(form, "category_code"),
            grid_code=text(form, "grid_code"),
            need_ids=[v for v in [text(form, "need_id")] if v],
            offer_ids=[v for v in [text(form, "offer_id")] if v],
            unit_codes=[v for v in [text(form, "unit_code")] if v],
            planned_end=planned_end,
        )
        body = body.model_copy(update={"planned_end": planned_end})  # the city's day, not turned to UTC
        created = await desk.cobuild.propose_project(body)
    except Refused as exc:
        return await _new_project_page(desk, Refusal.of("project", exc, form))
    return RedirectResponse(f"/console/cobuild/projects/{created.id}?done=proposed", status_code=303)


async def _project_page(desk: Desk, project_id: str, refusal: Refusal | None = None) -> Response:
    project, categories, units = await asyncio.gather(
        desk.cobuild.project(project_id), desk.directory.need_categories(), desk.directory.units()
    )
    return desk.render(
        "console/cobuild/project.html",
        {
            "project": project,
            "actions": project.allowed_actions,
            "category_names": category_names(categories),
            "unit_names": unit_names(units),
            "refusal": refusal,
            "done": desk.request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project(project_id: str, desk: ProjectsDesk) -> Response:
    return await _project_page(desk, project_id)


async def _project_act(
    desk: Desk, project_id: str, action: ProjectAction, form: FormData, body: Callable[[], BaseModel | None]
) -> Response:
    try:
        await desk.cobuild.act_on_project(project_id, action, body())
    except Refused as exc:
        return await _project_page(desk, project_id, Refusal.of(action, exc, form))
    return RedirectResponse(f"/console/cobuild/projects/{project_id}?done={action}", status_code=303)


def _number(form: FormData, name: str) -> int | None:
    value = text(form, name)
    return int(value) if value.isdigit() else None


@router.post("/projects/{project_id}/approve")
async def approve_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    """批准 (the street)."""
    return await _project_act(
        desk, project_id, ProjectAction.APPROVE, form, lambda: body_of(ApproveRequest, comment=text(form, "comment"))
    )


@router.post("/projects/{project_id}/start")
async def start_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    return await _project_act(desk, project_id, ProjectAction.START, form, lambda: None)


@router.post("/projects/{project_id}/progress")
async def progress_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    """进度: the percentage done and the milestone reached."""
    return await _project_act(
        desk, project_id, ProjectAction.PROGRESS, form,
        lambda: body_of(ProgressRequest, percent=_number(form, "percent"), milestone=text(form, "milestone")),
    )  # fmt: skip


@router.post("/projects/{project_id}/suspend")
async def suspend_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    return await _project_act(
        desk, project_id, ProjectAction.SUSPEND, form, lambda: body_of(ReasonRequest, reason=text(form, "reason"))
    )


@router.post("/projects/{project_id}/resume")
async def resume_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    return await _project_act(desk, project_id, ProjectAction.RESUME, form, lambda: None)


@router.post("/projects/{project_id}/complete")
async def complete_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    """结项: the closing report and how many people it served (受益人次)."""
    return await _project_act(
        desk, project_id, ProjectAction.COMPLETE, form,
        lambda: body_of(CompleteRequest, report=text(form, "report"), beneficiaries=_number(form, "beneficiaries")),
    )  # fmt: skip


@router.post("/projects/{project_id}/rate")
async def rate_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    """居民评价, recorded by the community."""
    return await _project_act(
        desk, project_id, ProjectAction.RATE, form,
        lambda: body_of(ProjectRateRequest, rating=text(form, "rating") or None, comment=text(form, "comment")),
    )  # fmt: skip


@router.post("/projects/{project_id}/evaluate")
async def evaluate_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    """评估 (the street): a grade and a comment."""
    return await _project_act(
        desk, project_id, ProjectAction.EVALUATE, form,
        lambda: body_of(EvaluateRequest, grade=text(form, "grade") or None, comment=text(form, "comment")),
    )  # fmt: skip


@router.post("/projects/{project_id}/cancel")
async def cancel_project(project_id: str, form: Form, desk: ProjectsDesk) -> Response:
    return await _project_act(
        desk, project_id, ProjectAction.CANCEL, form, lambda: body_of(ReasonRequest, reason=text(form, "reason"))
    )
