"""部门工作台 (department workbench): the inbox by deadline, one work order, and its actions:
接单, 退单, progress notes, 协办反馈, 延期申请, 办结 with evidence photos; the inbox as CSV."""

import io
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.shared.spreadsheets import CsvWriter
from gridloop.web.console import labels
from gridloop.web.console.client import ServiceError, Services
from gridloop.web.console.deps import Form, Pages, ServiceClient, Staff, desk_of
from gridloop.web.console.render import page

router = APIRouter(prefix="/console/inbox", include_in_schema=False)
Agent = desk_of(Role.DEPARTMENT_AGENT)
FILTERS = ("dispatched", "accepted", "reopened", "resolved", "part_done")


def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 25}
    status = request.query_params.get("status", "")
    if status in FILTERS:
        params["status"] = status
    if request.query_params.get("overdue") == "true":
        params["overdue"] = "true"
    if cursor := request.query_params.get("cursor"):
        params["cursor"] = cursor
    return params


@router.get("", response_class=HTMLResponse)
async def inbox(request: Request, pages: Pages, services: ServiceClient, person: Staff = Agent) -> Response:
    params = _params(request)
    result = await services.call(person.token, "handling", "GET", "/v1/work-orders", params=params)
    query = {k: v for k, v in params.items() if k in ("status", "overdue")}
    return page(
        request,
        pages,
        person,
        "console/inbox.html",
        {"orders": result["items"], "next_cursor": result.get("next_cursor"), "query": query, "filters": FILTERS},
    )


@router.get("/export.csv")
async def export(request: Request, services: ServiceClient, person: Staff = Agent) -> Response:
    """The whole inbox (every page), with Chinese headings, for the department's own records."""
    params = {**_params(request), "limit": 500}
    params.pop("cursor", None)
    rows: list[dict[str, Any]] = []
    while True:
        result = await services.call(person.token, "handling", "GET", "/v1/work-orders", params=params)
        rows.extend(result["items"])
        if not result.get("next_cursor"):
            break
        params["cursor"] = result["next_cursor"]
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(
        [
            "工单编号",
            "类别",
            "描述",
            "网格",
            "地址",
            "主办/协办",
            "状态",
            "派遣时间",
            "应接单",
            "应办结",
            "超期",
            "返工次数",
        ]
    )
    for o in rows:
        writer.writerow(
            [
                o["ticket_number"],
                o["category_name"],
                o["description"],
                o["grid_code"],
                o["address"],
                labels.ORDER_ROLE.get(o["role"], o["role"]),
                labels.ORDER_STATUS.get(o["status"], o["status"]),
                labels.local(o["dispatched_at"], "%Y-%m-%d %H:%M"),
                labels.local(o["accept_deadline"], "%Y-%m-%d %H:%M"),
                labels.local(o["resolve_deadline"], "%Y-%m-%d %H:%M"),
                "是" if o["overdue"] else "否",
                o["rework_count"],
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so spreadsheet programs read the Chinese as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="inbox-{person.user.org}.csv"'},
    )


async def _order_page(
    request: Request,
    ticket_id: str,
    pages: Pages,
    services: Services,
    person: Staff,
    error: str = "",
    status: int = 200,
) -> Response:
    order = await services.call(person.token, "handling", "GET", f"/v1/work-orders/{ticket_id}")
    return page(
        request,
        pages,
        person,
        "console/inbox_order.html",
        {
            "order": order,
            "error": error,
            "done": request.query_params.get("done", ""),
            "reasons": labels.REJECT_REASONS,
            "key": str(uuid.uuid4()),
        },
        status=status,
    )


@router.get("/{ticket_id}", response_class=HTMLResponse)
async def order(
    request: Request, ticket_id: str, pages: Pages, services: ServiceClient, person: Staff = Agent
) -> Response:
    return await _order_page(request, ticket_id, pages, services, person)


async def _photos(services: Services, person: Staff, form: FormData) -> list[str]:
    """Upload the form's photos to intake (each under a key from this form, so a resubmit stores none twice)."""
    key = str(form.get("key") or uuid.uuid4())
    ids: list[str] = []
    for n, upload in enumerate(form.getlist("photos")):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = await upload.read()
        stored = await services.call(
            person.token,
            "intake",
            "POST",
            "/v1/attachments",
            files={"file": (upload.filename, data, upload.content_type or "application/octet-stream")},
            headers={"Idempotency-Key": f"{key}-{n}"},
        )
        ids.append(stored["attachment_id"])
    return ids


async def _act(
    request: Request, ticket_id: str, form: FormData, pages: Pages, services: Services, person: Staff, action: str
) -> Response:
    note = str(form.get("note", "")).strip()
    try:
        match action:
            case "accept":
                body: dict[str, Any] | None = None
            case "reject":
                choice, text = str(form.get("reason_choice", "")), str(form.get("reason_text", "")).strip()
                body = {"reason": "：".join(part for part in (choice, text) if part)}
            case "progress" | "part":
                body = {"note": note, "photos": await _photos(services, person, form)}
            case "resolve":
                body = {"note": note, "photos": await _photos(services, person, form)}
                if override := str(form.get("override_reason", "")).strip():
                    body["override_reason"] = override
            case "extension":
                wanted = str(form.get("requested_resolve_deadline", ""))
                try:
                    moment = datetime.fromisoformat(wanted).replace(tzinfo=CITY_ZONE).isoformat()
                except ValueError:
                    return await _order_page(request, ticket_id, pages, services, person, "请选择希望延至的时间", 422)
                body = {"requested_resolve_deadline": moment, "reason": str(form.get("reason", "")).strip()}
        await services.call(person.token, "handling", "POST", f"/v1/work-orders/{ticket_id}/{action}", json=body)
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        message = exc.chinese
        if exc.code == "validation_error":
            message = "请填写完整：" + "、".join(
                {"reason": "退单理由（至少 2 个字）", "note": "说明", "requested_resolve_deadline": "延期时间"}.get(
                    str(d["loc"][-1]), str(d["loc"][-1])
                )
                for d in exc.details or []
            )
        return await _order_page(request, ticket_id, pages, services, person, message, exc.status)
    return RedirectResponse(f"/console/inbox/{ticket_id}?done={action}", status_code=303)


def _action(name: str) -> Any:
    async def act(
        request: Request, ticket_id: str, form: Form, pages: Pages, services: ServiceClient, person: Staff = Agent
    ) -> Response:
        return await _act(request, ticket_id, form, pages, services, person, name)

    act.__name__ = f"order_{name}"
    return act


for _name in ("accept", "reject", "progress", "part", "extension", "resolve"):
    router.post(f"/{{ticket_id}}/{_name}")(_action(_name))
