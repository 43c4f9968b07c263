"""系统对接 (connecting other systems): a department connects its own system by webhook (the
endpoint, the events it wants, its delivery log, replay, a new secret), inside the addresses the
admin allows it; the admin keeps those allow-lists, oversees every department's endpoints
(switches one off, deletes it) and registers Open311 client applications (their key shown once,
revoked here)."""

import asyncio
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.web.console import labels
from gridloop.web.console.client import ServiceError, Services
from gridloop.web.console.deps import Form, Pages, ServiceClient, Staff, desk_of
from gridloop.web.console.render import page

router = APIRouter(prefix="/console/integrations", include_in_schema=False)
Connector = desk_of(Role.DEPARTMENT_AGENT, Role.ADMIN)
Admin = desk_of(Role.ADMIN)
HOOKS = "/v1/webhooks/endpoints"
ALLOW_LISTS = "/v1/webhooks/allow-lists"
EVENT_TYPES = [(code, name) for code, name in labels.EVENT.items() if code != "ticket.reported"]
SUGGESTED = ("ticket.dispatched", "ticket.reopened", "ticket.overdue", "ticket.escalated", "ticket.extension_decided")


async def _overview(
    request: Request, pages: Pages, services: Services, person: Staff, *, shown: dict[str, Any] | None = None,
    error: str = "", status: int = 200, typed: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """`typed`: an allow-list the admin sent and the service refused, by department, shown again as typed."""
    admin = person.user.role == Role.ADMIN
    endpoints, allow_lists, clients, departments = await asyncio.gather(
        services.call(person.token, "handling", "GET", HOOKS),
        services.call(person.token, "handling", "GET", ALLOW_LISTS),
        services.call(person.token, "intake", "GET", "/v1/open311-clients") if admin else _nothing(),
        services.call(person.token, "directory", "GET", "/v1/directory/departments") if admin else _nothing(),
    )
    allowed = {a["department"]: "\n".join(a["entries"]) for a in allow_lists["items"]}
    return page(
        request,
        pages,
        person,
        "console/integrations.html",
        {
            "admin": admin,
            "endpoints": endpoints["items"],
            "allowed": allowed | (typed or {}),
            "refused_list": next(iter(typed or {}), ""),
            "own_allowed": [line for line in allowed.get(person.user.org, "").split("\n") if line],
            "clients": (clients or {}).get("items", []),
            "departments": (departments or {}).get("items", []),
            "event_types": EVENT_TYPES,
            "suggested": SUGGESTED,
            "shown": shown,
            "error": error,
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


async def _nothing() -> None:
    return None


def _refused(exc: ServiceError) -> str:
    if exc.status >= 500:
        raise exc
    if exc.code == "validation_error":
        fields = {"url": "接收地址（http:// 或 https:// 开头）", "event_types": "至少选择一类事件", "name": "应用名称",
                  "area": "区域编码", "entries": "允许范围（每项不超过 300 字符，至多 200 项）"}  # fmt: skip
        named = [next((str(p) for p in reversed(d["loc"]) if isinstance(p, str)), "") for d in exc.details or []]
        return "请填写完整：" + "、".join(dict.fromkeys(fields.get(n, n) for n in named))
    return exc.chinese


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, pages: Pages, services: ServiceClient, person: Staff = Connector) -> Response:
    return await _overview(request, pages, services, person)


def _endpoint_body(form: FormData) -> dict[str, Any]:
    return {
        "url": str(form.get("url", "")).strip(),
        "event_types": [str(v) for v in form.getlist("event_types")],
        "description": str(form.get("description", "")).strip(),
    }


@router.post("/webhooks")
async def register_endpoint(
    request: Request, form: Form, pages: Pages, services: ServiceClient, person: Staff = Connector
) -> Response:
    try:
        created = await services.call(person.token, "handling", "POST", HOOKS, json=_endpoint_body(form))
    except ServiceError as exc:
        return await _overview(request, pages, services, person, error=_refused(exc), status=exc.status)
    shown = {"title": "已登记接收地址", "label": "签名密钥", "value": created["secret"], "about": created["url"]}
    return await _overview(request, pages, services, person, shown=shown, status=201)


@router.get("/webhooks/{endpoint_id}", response_class=HTMLResponse)
async def endpoint(
    request: Request, endpoint_id: str, pages: Pages, services: ServiceClient, person: Staff = Connector
) -> Response:
    return await _endpoint_page(request, endpoint_id, pages, services, person)


async def _endpoint_page(
    request: Request, endpoint_id: str, pages: Pages, services: Services, person: Staff, *,
    shown: dict[str, Any] | None = None, error: str = "", status: int = 200,
) -> Response:  # fmt: skip
    found, log = await asyncio.gather(
        services.call(person.token, "handling", "GET", f"{HOOKS}/{endpoint_id}"),
        services.call(person.token, "handling", "GET", f"{HOOKS}/{endpoint_id}/deliveries", params={"limit": 100}),
    )
    return page(
        request,
        pages,
        person,
        "console/integrations_endpoint.html",
        {
            "endpoint": found,
            "deliveries": log["items"],
            "shown": shown,
            "error": error,
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


@router.post("/webhooks/{endpoint_id}/{action}")
async def endpoint_action(
    request: Request,
    endpoint_id: str,
    action: str,
    form: Form,
    pages: Pages,
    services: ServiceClient,
    person: Staff = Connector,
) -> Response:
    path = f"{HOOKS}/{endpoint_id}"
    try:
        match action:
            case "enable" | "disable":
                await services.call(person.token, "handling", "PATCH", path, json={"enabled": action == "enable"})
            case "rotate":
                rotated = await services.call(person.token, "handling", "POST", f"{path}/rotate-secret")
                until = labels.local(rotated["previous_secret_valid_until"])
                shown = {"title": "已更换签名密钥", "label": "新密钥", "value": rotated["secret"],
                         "about": f"旧密钥在 {until} 前仍同时签名"}  # fmt: skip
                return await _endpoint_page(request, endpoint_id, pages, services, person, shown=shown)
            case "replay":
                since = _city_time(str(form.get("since", "")))
                if since is None:
                    return await _endpoint_page(
                        request, endpoint_id, pages, services, person, error="请选择从何时起重发", status=422
                    )
                queued = await services.call(person.token, "handling", "POST", f"{path}/replay", json={"since": since})
                return RedirectResponse(
                    f"/console/integrations/webhooks/{endpoint_id}?done=replay-{queued['queued']}", 303
                )
            case "delete":
                await services.call(person.token, "handling", "DELETE", path)
                return RedirectResponse("/console/integrations?done=deleted", status_code=303)
            case _:
                raise ServiceError(404, "not_found", "没有这个操作")
    except ServiceError as exc:
        return await _endpoint_page(
            request, endpoint_id, pages, services, person, error=_refused(exc), status=exc.status
        )
    return RedirectResponse(f"/console/integrations/webhooks/{endpoint_id}?done={action}", status_code=303)


@router.post("/allow-lists/{department}")
async def keep_allow_list(
    request: Request, department: str, form: Form, pages: Pages, services: ServiceClient, person: Staff = Admin
) -> Response:
    typed = str(form.get("entries", ""))
    entries = [line.strip() for line in typed.replace("，", "\n").replace(",", "\n").splitlines() if line.strip()]
    try:
        await services.call(person.token, "handling", "PUT", f"{ALLOW_LISTS}/{department}", json={"entries": entries})
    except ServiceError as exc:
        return await _overview(
            request, pages, services, person, error=_refused(exc), status=exc.status, typed={department: typed}
        )
    return RedirectResponse(f"/console/integrations?done=allowed-{department}#allow-{department}", status_code=303)


def _city_time(value: str) -> str | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=CITY_ZONE).isoformat()
    except ValueError:
        return None


@router.post("/open311")
async def register_client(
    request: Request, form: Form, pages: Pages, services: ServiceClient, person: Staff = Admin
) -> Response:
    area = [code.strip() for code in str(form.get("area", "")).replace("，", ",").split(",") if code.strip()]
    body = {"name": str(form.get("name", "")).strip(), "contact": str(form.get("contact", "")).strip(), "area": area}
    try:
        created = await services.call(person.token, "intake", "POST", "/v1/open311-clients", json=body)
    except ServiceError as exc:
        return await _overview(request, pages, services, person, error=_refused(exc), status=exc.status)
    shown = {"title": "已登记第三方应用", "label": "api_key", "value": created["api_key"], "about": created["name"]}
    return await _overview(request, pages, services, person, shown=shown, status=201)


@router.post("/open311/{client_id}/revoke")
async def revoke_client(
    request: Request, client_id: str, form: Form, pages: Pages, services: ServiceClient, person: Staff = Admin
) -> Response:
    try:
        await services.call(person.token, "intake", "DELETE", f"/v1/open311-clients/{client_id}")
    except ServiceError as exc:
        return await _overview(request, pages, services, person, error=_refused(exc), status=exc.status)
    return RedirectResponse("/console/integrations?done=revoked", status_code=303)
