"""街道工作台 (street desk): the queue, one ticket's pane, dispatch by hand (吹哨), cancel, merge,
extensions, and hotline (12345) or walk-in reports registered for a caller."""

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridloop.shared.events import Role
from gridloop.web.console import labels
from gridloop.web.console.client import ServiceError, Services
from gridloop.web.console.deps import Form, Pages, ServiceClient, Staff, desk_of
from gridloop.web.console.render import page

router = APIRouter(prefix="/console/desk", include_in_schema=False)
Dispatcher = desk_of(Role.STREET_DISPATCHER)


async def _queue(services: Services, person: Staff, reason: str) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 200}
    if reason:
        params["reason"] = reason
    result = await services.call(person.token, "dispatch", "GET", "/v1/dispatch/queue", params=params)
    items: list[dict[str, Any]] = result["items"]
    return items


async def _departments(services: Services, person: Staff) -> list[dict[str, Any]]:
    result = await services.call(person.token, "directory", "GET", "/v1/directory/departments")
    serving = [d for d in result["items"] if not d.get("serves") or person.user.org in d["serves"]]
    return sorted(serving, key=lambda d: d["code"])


@router.get("", response_class=HTMLResponse)
async def desk(request: Request, pages: Pages, services: ServiceClient, person: Staff = Dispatcher) -> Response:
    reason = request.query_params.get("reason", "")
    if reason and reason not in labels.QUEUE_REASON:
        reason = ""
    queue, extensions, departments = await asyncio.gather(
        _queue(services, person, reason),
        services.call(person.token, "dispatch", "GET", "/v1/dispatch/extensions"),
        _departments(services, person),
    )
    return page(
        request,
        pages,
        person,
        "console/desk.html",
        {"queue": queue, "reason": reason, "extensions": extensions["items"], "departments": departments},
    )


@router.get("/queue", response_class=HTMLResponse)
async def queue_rows(request: Request, pages: Pages, services: ServiceClient, person: Staff = Dispatcher) -> Response:
    """The queue's rows alone: the page asks again every 10 s, so new tickets appear by themselves."""
    reason = request.query_params.get("reason", "")
    queue = await _queue(services, person, reason if reason in labels.QUEUE_REASON else "")
    return page(request, pages, person, "console/desk_queue.html", {"queue": queue, "reason": reason})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket(
    request: Request, ticket_id: str, pages: Pages, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    return await _ticket_page(request, ticket_id, pages, services, person)


async def _ticket_page(
    request: Request,
    ticket_id: str,
    pages: Pages,
    services: Services,
    person: Staff,
    error: str = "",
    status: int = 200,
) -> Response:
    report, queue, departments = await asyncio.gather(
        services.call(person.token, "intake", "GET", f"/v1/reports/{ticket_id}"),
        _queue(services, person, ""),
        _departments(services, person),
    )
    queued = next((item for item in queue if item["ticket_id"] == ticket_id), None)
    nearby = await asyncio.gather(
        *(
            _maybe(services.call(person.token, "intake", "GET", f"/v1/reports/{other}"))
            for other in report["possible_duplicates"]
        )
    )
    return page(
        request,
        pages,
        person,
        "console/desk_ticket.html",
        {
            "report": report,
            "queued": queued,
            "departments": departments,
            "nearby": [n for n in nearby if n],
            "error": error,
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


async def _maybe(call: Any) -> Any:
    try:
        return await call
    except ServiceError:
        return None


async def _act(
    request: Request,
    ticket_id: str,
    pages: Pages,
    services: Services,
    person: Staff,
    path: str,
    body: dict[str, Any],
    done: str,
) -> Response:
    try:
        await services.call(person.token, "dispatch", "POST", path, json=body)
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        return await _ticket_page(request, ticket_id, pages, services, person, error=exc.chinese, status=exc.status)
    return RedirectResponse(f"/console/desk/tickets/{ticket_id}?done={done}", status_code=303)


@router.post("/tickets/{ticket_id}/assign")
async def assign(
    request: Request, ticket_id: str, form: Form, pages: Pages, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    body = {
        "lead_department": str(form.get("lead_department", "")),
        "assisting_departments": [
            str(v) for v in form.getlist("assisting_departments") if v != form.get("lead_department")
        ],
    }
    if not body["lead_department"]:
        return await _ticket_page(request, ticket_id, pages, services, person, error="请选择主办部门", status=422)
    return await _act(
        request, ticket_id, pages, services, person, f"/v1/dispatch/tickets/{ticket_id}/assign", body, "assigned"
    )


@router.post("/tickets/{ticket_id}/cancel")
async def cancel(
    request: Request, ticket_id: str, form: Form, pages: Pages, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    body: dict[str, Any] = {"reason": str(form.get("reason", "")), "comment": str(form.get("comment", "")).strip()}
    if body["reason"] == "duplicate":
        body["duplicate_of"] = str(form.get("duplicate_of", "")) or None
    return await _act(
        request, ticket_id, pages, services, person, f"/v1/dispatch/tickets/{ticket_id}/cancel", body, "cancelled"
    )


@router.post("/bulk-assign")
async def bulk_assign(
    request: Request, form: Form, pages: Pages, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    """派遣 several queued tickets to one lead department at once; reports which ones were refused."""
    lead = str(form.get("lead_department", ""))
    chosen = [str(v) for v in form.getlist("ticket_ids")]
    if not lead or not chosen:
        return RedirectResponse("/console/desk?bulk=empty", status_code=303)
    refused = 0
    for ticket_id in chosen:
        try:
            await services.call(
                person.token,
                "dispatch",
                "POST",
                f"/v1/dispatch/tickets/{ticket_id}/assign",
                json={"lead_department": lead, "assisting_departments": []},
            )
        except ServiceError as exc:
            if exc.status >= 500:
                raise
            refused += 1
    return RedirectResponse(f"/console/desk?bulk={len(chosen) - refused}&refused={refused}", status_code=303)


@router.post("/extensions/{ticket_id}/decide")
async def decide(
    request: Request, ticket_id: str, form: Form, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    body = {"approved": form.get("approved") == "true", "comment": str(form.get("comment", "")).strip()}
    try:
        await services.call(person.token, "dispatch", "POST", f"/v1/dispatch/extensions/{ticket_id}/decide", json=body)
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        return RedirectResponse(f"/console/desk?extension_error={exc.code}", status_code=303)
    return RedirectResponse("/console/desk?extension=decided", status_code=303)


async def _hotline_form(services: Services, person: Staff) -> dict[str, Any]:
    categories, grids = await asyncio.gather(
        services.call(person.token, "directory", "GET", "/v1/directory/categories"),
        services.call(person.token, "directory", "GET", "/v1/directory/grids"),
    )
    return {
        "categories": categories["items"],
        "grids": [g for g in grids["items"] if g["street"] == person.user.org],
        "key": str(uuid.uuid4()),
    }


@router.get("/hotline", response_class=HTMLResponse)
async def hotline(request: Request, pages: Pages, services: ServiceClient, person: Staff = Dispatcher) -> Response:
    context = await _hotline_form(services, person)
    return page(request, pages, person, "console/desk_hotline.html", {**context, "values": {}, "errors": {}})


@router.post("/hotline")
async def register(
    request: Request, form: Form, pages: Pages, services: ServiceClient, person: Staff = Dispatcher
) -> Response:
    """12345 热线 or walk-in: the desk files the caller's report (safe to submit twice: one key per form)."""
    values = {
        k: str(form.get(k, "")).strip()
        for k in ("channel", "caller", "category_code", "grid_code", "address", "description", "key")
    }
    channel = "12345热线" if values["channel"] == "hotline" else "来访"
    # The caller's name and number go in a field of their own, which intake shows this street's
    # desk alone; the description travels to departments, webhooks and Open311.
    body = {
        "category_code": values["category_code"],
        "grid_code": values["grid_code"] or None,
        "address": values["address"],
        "description": f"{values['description']}（{channel}）" if values["description"] else "",
        "caller": values["caller"] or None,
    }
    try:
        filed = await services.call(
            person.token, "intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": values["key"]}
        )
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        context = await _hotline_form(services, person)
        field = {
            "unknown_category": "category_code",
            "unknown_grid": "grid_code",
            "outside_your_area": "grid_code",
            "caller_not_allowed": "caller",
        }
        errors = {field.get(exc.code, "form"): exc.chinese}
        if exc.code == "validation_error":
            errors = {str(d["loc"][-1]): "请填写此项（至少 2 个字）" for d in exc.details or [] if d.get("loc")} or {
                "form": exc.chinese
            }
        return page(
            request,
            pages,
            person,
            "console/desk_hotline.html",
            {**context, "key": values["key"], "values": values, "errors": errors},
            status=exc.status,
        )
    return RedirectResponse(f"/console/desk/tickets/{filed['ticket_id']}?done=registered", status_code=303)
