"""街道工作台 (street desk): the queue, one ticket's pane, dispatch by hand (吹哨), cancel, merge,
extensions, and hotline (12345) or walk-in reports registered for a caller."""

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridloop.shared.api.dispatch import AssignRequest, CancelRequest, DecideRequest, QueueItem
from gridloop.shared.api.intake import ReportRequest, ReportView
from gridloop.shared.directory import Department
from gridloop.shared.events import CancelReason
from gridloop.shared.limits import TEXT_MIN
from gridloop.web import labels
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.clients.dispatch import DispatchClient
from gridloop.web.clients.intake import IntakeClient
from gridloop.web.deps import Directory, Dispatch, Dispatcher, Form, Intake, Pages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/desk", include_in_schema=False)
HOTLINE_FIELDS = {
    "unknown_category": "category_code",
    "unknown_grid": "grid_code",
    "outside_your_area": "grid_code",
    "caller_not_allowed": "caller",
}


def _reason(request: Request) -> str:
    reason = request.query_params.get("reason", "")
    return reason if reason in labels.QUEUE_REASON else ""


async def _queue(dispatch: DispatchClient, reason: str) -> list[QueueItem]:
    return (await dispatch.queue(reason=reason or None, limit=200)).items


async def _departments(directory: DirectoryClient, person: Staff) -> list[Department]:
    """The dropdown's departments: those the directory says serve the desk's street (dispatch refuses the others)."""
    return await directory.departments(serving=person.user.org)


@router.get("", response_class=HTMLResponse)
async def desk(
    request: Request, pages: Pages, dispatch: Dispatch, directory: Directory, person: Dispatcher
) -> Response:
    reason = _reason(request)
    queue, extensions, departments = await asyncio.gather(
        _queue(dispatch, reason), dispatch.extensions(), _departments(directory, person)
    )
    return pages.render(
        request,
        person,
        "console/desk.html",
        {"queue": queue, "reason": reason, "extensions": extensions.items, "departments": departments},
    )


@router.get("/queue", response_class=HTMLResponse)
async def queue_rows(request: Request, pages: Pages, dispatch: Dispatch, person: Dispatcher) -> Response:
    """The queue's rows alone: the page asks again every 10 s, so new tickets appear by themselves."""
    reason = _reason(request)
    queue = await _queue(dispatch, reason)
    return pages.render(request, person, "console/desk_queue.html", {"queue": queue, "reason": reason})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket(
    request: Request,
    ticket_id: str,
    pages: Pages,
    intake: Intake,
    dispatch: Dispatch,
    directory: Directory,
    person: Dispatcher,
) -> Response:
    return await _ticket_page(request, ticket_id, pages, intake, dispatch, directory, person)


async def _ticket_page(
    request: Request,
    ticket_id: str,
    pages: Pages,
    intake: IntakeClient,
    dispatch: DispatchClient,
    directory: DirectoryClient,
    person: Staff,
    refusal: ServiceError | None = None,
) -> Response:
    """The ticket's pane; after a refused action, with the reason and the refusal's status."""
    report, queued, departments = await asyncio.gather(
        intake.report(ticket_id), dispatch.queued(ticket_id), _departments(directory, person)
    )
    nearby = await asyncio.gather(*(_maybe_report(intake, other) for other in report.possible_duplicates))
    return pages.render(
        request,
        person,
        "console/desk_ticket.html",
        {
            "report": report,
            "queued": queued,
            "departments": departments,
            "nearby": [n for n in nearby if n],
            "error": refusal.chinese if refusal else "",
            "done": request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else 200,
    )


async def _maybe_report(intake: IntakeClient, ticket_id: str) -> ReportView | None:
    """A possible duplicate, unless the desk may not read it (another street's)."""
    try:
        return await intake.report(ticket_id)
    except Refused:
        return None


def _done(ticket_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/desk/tickets/{ticket_id}?done={done}", status_code=303)


@router.post("/tickets/{ticket_id}/assign")
async def assign(
    request: Request,
    ticket_id: str,
    form: Form,
    pages: Pages,
    intake: Intake,
    dispatch: Dispatch,
    directory: Directory,
    person: Dispatcher,
) -> Response:
    lead = str(form.get("lead_department", ""))
    try:
        if not lead:
            raise Refused(422, "no_lead_department", "请选择主办部门")
        assisting = [str(v) for v in form.getlist("assisting_departments") if v != lead]
        body = body_of(AssignRequest, lead_department=lead, assisting_departments=assisting)
        await dispatch.assign(ticket_id, body)
    except Refused as exc:
        return await _ticket_page(request, ticket_id, pages, intake, dispatch, directory, person, exc)
    return _done(ticket_id, "assigned")


@router.post("/tickets/{ticket_id}/cancel")
async def cancel(
    request: Request,
    ticket_id: str,
    form: Form,
    pages: Pages,
    intake: Intake,
    dispatch: Dispatch,
    directory: Directory,
    person: Dispatcher,
) -> Response:
    fields: dict[str, Any] = {"reason": str(form.get("reason", "")), "comment": str(form.get("comment", "")).strip()}
    if fields["reason"] == CancelReason.DUPLICATE:
        fields["duplicate_of"] = str(form.get("duplicate_of", "")) or None
    try:
        await dispatch.cancel(ticket_id, body_of(CancelRequest, **fields))
    except Refused as exc:
        return await _ticket_page(request, ticket_id, pages, intake, dispatch, directory, person, exc)
    return _done(ticket_id, "cancelled")


@router.post("/bulk-assign")
async def bulk_assign(form: Form, dispatch: Dispatch, person: Dispatcher) -> Response:
    """派遣 several queued tickets to one lead department at once; reports which ones were refused."""
    lead = str(form.get("lead_department", ""))
    chosen = [str(v) for v in form.getlist("ticket_ids")]
    if not lead or not chosen:
        return RedirectResponse("/console/desk?bulk=empty", status_code=303)
    refused = 0
    for ticket_id in chosen:
        try:
            await dispatch.assign(ticket_id, body_of(AssignRequest, lead_department=lead, assisting_departments=[]))
        except Refused:
            refused += 1
    return RedirectResponse(f"/console/desk?bulk={len(chosen) - refused}&refused={refused}", status_code=303)


@router.post("/extensions/{ticket_id}/decide")
async def decide(ticket_id: str, form: Form, dispatch: Dispatch, person: Dispatcher) -> Response:
    try:
        approved, comment = form.get("approved") == "true", str(form.get("comment", "")).strip()
        await dispatch.decide_extension(ticket_id, body_of(DecideRequest, approved=approved, comment=comment))
    except Refused as exc:
        return RedirectResponse(f"/console/desk?extension_error={exc.code}", status_code=303)
    return RedirectResponse("/console/desk?extension=decided", status_code=303)


async def _hotline_form(directory: DirectoryClient, person: Staff) -> dict[str, Any]:
    categories, grids = await asyncio.gather(directory.categories(), directory.grids(street=person.user.org))
    return {
        "categories": categories,
        "grids": grids,
        "key": str(uuid.uuid4()),
    }


@router.get("/hotline", response_class=HTMLResponse)
async def hotline(request: Request, pages: Pages, directory: Directory, person: Dispatcher) -> Response:
    context = await _hotline_form(directory, person)
    return pages.render(request, person, "console/desk_hotline.html", {**context, "values": {}, "errors": {}})


@router.post("/hotline")
async def register(
    request: Request, form: Form, pages: Pages, intake: Intake, directory: Directory, person: Dispatcher
) -> Response:
    """12345 热线 or walk-in: the desk files the caller's report (safe to submit twice: one key per form)."""
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("channel", "caller", "category_code", "grid_code", "address", "description", "key")
    }
    channel = "12345热线" if values["channel"] == "hotline" else "来访"
    try:
        # The caller's name and number go in a field of their own, which intake shows this street's
        # desk alone; the description travels to departments, webhooks and Open311.
        body = body_of(
            ReportRequest,
            category_code=values["category_code"],
            grid_code=values["grid_code"] or None,
            address=values["address"],
            description=f"{values['description']}（{channel}）" if values["description"] else "",
            caller=values["caller"] or None,
        )
        filed = await intake.file_report(body, key=values["key"] or str(uuid.uuid4()))
    except Refused as exc:
        context = await _hotline_form(directory, person)
        errors = {HOTLINE_FIELDS.get(exc.code, "form"): exc.chinese}
        if exc.code == "validation_error":
            errors = {field: f"请填写此项（至少 {TEXT_MIN} 个字）" for field in exc.fields} or {"form": exc.chinese}
        return pages.render(
            request,
            person,
            "console/desk_hotline.html",
            {**context, "key": values["key"], "values": values, "errors": errors},
            status=exc.status,
        )
    return RedirectResponse(f"/console/desk/tickets/{filed.ticket_id}?done=registered", status_code=303)
