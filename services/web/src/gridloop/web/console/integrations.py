"""系统对接 (connecting other systems): a department connects its own system by webhook (the
endpoint, the events it wants, its delivery log, replay, a new secret), inside the addresses the
admin allows it; the admin keeps those allow-lists, oversees every department's endpoints
(switches one off, deletes it) and registers Open311 client applications (their key shown once,
revoked here). The events on offer are handling's (the event registry's), named from the labels."""

import asyncio
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.api.handling import AllowListRequest, EndpointChange, EndpointRequest, ReplayRequest
from gridloop.shared.api.intake import ClientList, ClientRequest
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.directory import Department
from gridloop.shared.events import Role
from gridloop.web import labels
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.clients.handling import HandlingClient
from gridloop.web.clients.intake import IntakeClient
from gridloop.web.deps import Admin, Connector, Directory, Form, Handling, Intake, Pages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/integrations", include_in_schema=False)
SUGGESTED = ("ticket.dispatched", "ticket.reopened", "ticket.overdue", "ticket.escalated", "ticket.extension_decided")
FIELDS = {
    "url": "接收地址（http:// 或 https:// 开头）", "event_types": "至少选择一类事件", "name": "应用名称",
    "area": "区域编码", "entries": "允许范围（每项不超过 300 字符，至多 200 项）", "since": "从何时起重发",
}  # fmt: skip


class Shown:
    """A secret shown once (a signing secret, an API key), with what it belongs to."""

    def __init__(self, title: str, label: str, value: str, about: str) -> None:
        self.title, self.label, self.value, self.about = title, label, value, about


async def _overview(
    request: Request, pages: Pages, handling: HandlingClient, intake: IntakeClient, directory: DirectoryClient,
    person: Staff, *, shown: Shown | None = None, refusal: ServiceError | None = None, status: int = 200,
    typed: tuple[str, str] | None = None,
) -> Response:  # fmt: skip
    """`typed`: an allow-list the admin sent and the service refused (department, text), shown again as typed."""
    admin = person.user.role == Role.ADMIN
    endpoints, allow_lists, event_types, clients, departments = await asyncio.gather(
        handling.endpoints(),
        handling.allow_lists(),
        handling.event_types(),
        intake.open311_clients() if admin else _no_clients(),
        directory.departments() if admin else _no_departments(),
    )
    allowed = {a.department: "\n".join(a.entries) for a in allow_lists.items}
    return pages.render(
        request,
        person,
        "console/integrations.html",
        {
            "admin": admin,
            "endpoints": endpoints.items,
            "allowed": allowed | dict([typed] if typed else []),
            "refused_list": typed[0] if typed else "",
            "own_allowed": [line for line in allowed.get(person.user.org, "").split("\n") if line],
            "clients": clients.items,
            "departments": departments,
            "event_types": labels.events_in_order(e.event_type for e in event_types.items),
            "suggested": SUGGESTED,
            "shown": shown,
            "error": _message(refusal) if refusal else "",
            "done": request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else status,
    )


async def _no_clients() -> ClientList:
    return ClientList(items=[])


async def _no_departments() -> list[Department]:
    return []


def _message(refusal: ServiceError) -> str:
    if refusal.code == "validation_error":
        return "请填写完整：" + "、".join(dict.fromkeys(FIELDS.get(name, name) for name in refusal.fields))
    return refusal.chinese


@router.get("", response_class=HTMLResponse)
async def overview(
    request: Request, pages: Pages, handling: Handling, intake: Intake, directory: Directory, person: Connector
) -> Response:
    return await _overview(request, pages, handling, intake, directory, person)


def _endpoint_body(form: FormData) -> EndpointRequest:
    return body_of(
        EndpointRequest,
        url=str(form.get("url", "")).strip(),
        event_types=[str(v) for v in form.getlist("event_types")],
        description=str(form.get("description", "")).strip(),
    )


@router.post("/webhooks")
async def register_endpoint(
    request: Request,
    form: Form,
    pages: Pages,
    handling: Handling,
    intake: Intake,
    directory: Directory,
    person: Connector,
) -> Response:
    try:
        created = await handling.register_endpoint(_endpoint_body(form))
    except Refused as exc:
        return await _overview(request, pages, handling, intake, directory, person, refusal=exc)
    shown = Shown("已登记接收地址", "签名密钥", created.secret, created.url)
    return await _overview(request, pages, handling, intake, directory, person, shown=shown, status=201)


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse)
async def endpoint(request: Request, endpoint_id: str, pages: Pages, handling: Handling, person: Connector) -> Response:
    return await _endpoint_page(request, endpoint_id, pages, handling, person)


async def _endpoint_page(
    request: Request, endpoint_id: str, pages: Pages, handling: HandlingClient, person: Staff, *,
    shown: Shown | None = None, refusal: ServiceError | None = None,
) -> Response:  # fmt: skip
    found, log = await asyncio.gather(handling.endpoint(endpoint_id), handling.deliveries(endpoint_id, limit=100))
    return pages.render(
        request,
        person,
        "console/integrations_endpoint.html",
        {
            "endpoint": found,
            "deliveries": log.items,
            "shown": shown,
            "error": _message(refusal) if refusal else "",
            "done": request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else 200,
    )


def _endpoint_done(endpoint_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/integrations/webhooks/{endpoint_id}?done={done}", status_code=303)


async def _switch(
    request: Request, endpoint_id: str, pages: Pages, handling: HandlingClient, person: Staff, *, on: bool
) -> Response:
    try:
        await handling.change_endpoint(endpoint_id, EndpointChange(enabled=on))
    except Refused as exc:
        return await _endpoint_page(request, endpoint_id, pages, handling, person, refusal=exc)
    return _endpoint_done(endpoint_id, "enable" if on else "disable")


@router.post("/webhooks/{endpoint_id}/enable")
async def enable_endpoint(
    request: Request, endpoint_id: str, form: Form, pages: Pages, handling: Handling, person: Connector
) -> Response:
    """On again: its waiting deliveries go out."""
    return await _switch(request, endpoint_id, pages, handling, person, on=True)


@router.post("/webhooks/{endpoint_id}/disable")
async def disable_endpoint(
    request: Request, endpoint_id: str, form: Form, pages: Pages, handling: Handling, person: Connector
) -> Response:
    return await _switch(request, endpoint_id, pages, handling, person, on=False)


@router.post("/webhooks/{endpoint_id}/rotate")
async def rotate_secret(
    request: Request, endpoint_id: str, form: Form, pages: Pages, handling: Handling, person: Connector
) -> Response:
    """A new signing secret, shown once; the old one signs beside it for a while."""
    try:
        rotated = await handling.rotate_secret(endpoint_id)
    except Refused as exc:
        return await _endpoint_page(request, endpoint_id, pages, handling, person, refusal=exc)
    until = labels.local(rotated.previous_secret_valid_until)
    shown = Shown("已更换签名密钥", "新密钥", rotated.secret, f"旧密钥在 {until} 前仍同时签名")
    return await _endpoint_page(request, endpoint_id, pages, handling, person, shown=shown)


@router.post("/webhooks/{endpoint_id}/replay")
async def replay(
    request: Request, endpoint_id: str, form: Form, pages: Pages, handling: Handling, person: Connector
) -> Response:
    """Send again every delivery queued from a time on (city time)."""
    try:
        since = _city_time(str(form.get("since", "")))
        if since is None:
            raise Refused(422, "no_time", "请选择从何时起重发")
        queued = await handling.replay(endpoint_id, body_of(ReplayRequest, since=since))
    except Refused as exc:
        return await _endpoint_page(request, endpoint_id, pages, handling, person, refusal=exc)
    return _endpoint_done(endpoint_id, f"replay-{queued.queued}")


@router.post("/webhooks/{endpoint_id}/delete")
async def delete_endpoint(
    request: Request, endpoint_id: str, form: Form, pages: Pages, handling: Handling, person: Connector
) -> Response:
    try:
        await handling.delete_endpoint(endpoint_id)
    except Refused as exc:
        return await _endpoint_page(request, endpoint_id, pages, handling, person, refusal=exc)
    return RedirectResponse("/console/integrations?done=deleted", status_code=303)


@router.post("/allow-lists/{department}")
async def keep_allow_list(
    request: Request,
    department: str,
    form: Form,
    pages: Pages,
    handling: Handling,
    intake: Intake,
    directory: Directory,
    person: Admin,
) -> Response:
    typed = str(form.get("entries", ""))
    entries = [line.strip() for line in typed.replace("，", "\n").replace(",", "\n").splitlines() if line.strip()]
    try:
        await handling.keep_allow_list(department, body_of(AllowListRequest, entries=entries))
    except Refused as exc:
        return await _overview(
            request, pages, handling, intake, directory, person, refusal=exc, typed=(department, typed)
        )
    return RedirectResponse(f"/console/integrations?done=allowed-{department}#allow-{department}", status_code=303)


def _city_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=CITY_ZONE)
    except ValueError:
        return None


@router.post("/open311")
async def register_client(
    request: Request,
    form: Form,
    pages: Pages,
    handling: Handling,
    intake: Intake,
    directory: Directory,
    person: Admin,
) -> Response:
    area = [code.strip() for code in str(form.get("area", "")).replace("，", ",").split(",") if code.strip()]
    name, contact = str(form.get("name", "")).strip(), str(form.get("contact", "")).strip()
    try:
        created = await intake.register_client(body_of(ClientRequest, name=name, contact=contact, area=area))
    except Refused as exc:
        return await _overview(request, pages, handling, intake, directory, person, refusal=exc)
    shown = Shown("已登记第三方应用", "api_key", created.api_key, created.name)
    return await _overview(request, pages, handling, intake, directory, person, shown=shown, status=201)


@router.post("/open311/{client_id}/revoke")
async def revoke_client(
    request: Request,
    client_id: str,
    form: Form,
    pages: Pages,
    handling: Handling,
    intake: Intake,
    directory: Directory,
    person: Admin,
) -> Response:
    try:
        await intake.revoke_client(client_id)
    except Refused as exc:
        return await _overview(request, pages, handling, intake, directory, person, refusal=exc)
    return RedirectResponse("/console/integrations?done=revoked", status_code=303)
