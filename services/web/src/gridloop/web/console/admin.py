"""目录管理 (directory admin): browse the tree, categories, rules and time limits; edit a record
live (the directory checks it and announces it to every service); each record's history."""

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridloop.shared.events import Role
from gridloop.web.console.client import ServiceError
from gridloop.web.console.deps import Form, Pages, ServiceClient, Staff, desk_of
from gridloop.web.console.render import page

router = APIRouter(prefix="/console/admin", include_in_schema=False)
Admin = desk_of(Role.ADMIN)
COLLECTIONS = {
    "categories": "问题类别", "rules": "派遣规则", "slas": "时限", "departments": "部门",
    "streets": "街道", "communities": "社区", "grids": "网格", "calendars": "节假日安排",
}  # fmt: skip
EDITABLE = {"rules", "slas", "categories", "departments"}


def summary(collection: str, record: dict[str, Any]) -> str:
    """One line about a record, for the list."""
    match collection:
        case "rules":
            assisting = "、".join(record.get("assisting", []))
            return f"{record['category']} → 主办 {record['lead']}" + (f"，协办 {assisting}" if assisting else "")
        case "slas":
            units = {
                "working_hours": "工作小时",
                "working_days": "工作日",
                "hours": "小时",
                "minutes": "分钟",
                "days": "天",
            }
            accept, resolve = record["accept"], record["resolve"]
            accept_text = f"{accept['within']:g} {units.get(accept['unit'], accept['unit'])}"
            return f"接单 {accept_text}，办结 {resolve['within']:g} {units.get(resolve['unit'], resolve['unit'])}"
        case "categories":
            family = "部件" if record["family"] == "component" else "事件"
            return f"{record['name']}（{family} · {record['major']['name']}）"
        case _:
            return str(record.get("name", record.get("notice", "")))


@router.get("", response_class=HTMLResponse)
async def browse(request: Request, pages: Pages, services: ServiceClient, person: Staff = Admin) -> Response:
    collection = request.query_params.get("collection", "categories")
    collection = collection if collection in COLLECTIONS else "categories"
    tree, listed = await asyncio.gather(
        services.call(person.token, "directory", "GET", "/v1/directory/tree"),
        services.call(person.token, "directory", "GET", f"/v1/directory/{collection}"),
    )
    rows = [{"code": str(r.get("code") or r.get("id")), "summary": summary(collection, r)} for r in listed["items"]]
    return page(
        request,
        pages,
        person,
        "console/admin.html",
        {"collections": COLLECTIONS, "collection": collection, "rows": rows, "tree": tree},
    )


async def _record_page(
    request: Request, collection: str, code: str, pages: Pages, services: ServiceClient, person: Staff,
    draft: str | None = None, error: str = "", details: Any = None, status: int = 200,
) -> Response:  # fmt: skip
    record, history = await asyncio.gather(
        services.call(person.token, "directory", "GET", f"/v1/directory/{collection}/{code}"),
        services.call(person.token, "directory", "GET", f"/v1/directory/{collection}/{code}/history"),
    )
    return page(
        request,
        pages,
        person,
        "console/admin_record.html",
        {
            "collection": collection,
            "name": COLLECTIONS[collection],
            "record": record,
            "editable": collection in EDITABLE,
            "draft": draft if draft is not None else json.dumps(record["data"], ensure_ascii=False, indent=2),
            "history": list(reversed(history["revisions"])),
            "error": error,
            "details": details or [],
            "done": request.query_params.get("done", ""),
        },
        status=status,
    )


@router.get("/{collection}/{code}", response_class=HTMLResponse)
async def record(
    request: Request, collection: str, code: str, pages: Pages, services: ServiceClient, person: Staff = Admin
) -> Response:
    if collection not in COLLECTIONS:
        raise ServiceError(404, "not_found", "没有这类目录数据")
    return await _record_page(request, collection, code, pages, services, person)


@router.post("/{collection}/{code}")
async def save(
    request: Request,
    collection: str,
    code: str,
    form: Form,
    pages: Pages,
    services: ServiceClient,
    person: Staff = Admin,
) -> Response:
    if collection not in EDITABLE:
        raise ServiceError(404, "not_found", "该类目录数据不能在此修改")
    draft = str(form.get("data", ""))
    try:
        body = json.loads(draft)
    except json.JSONDecodeError as exc:
        return await _record_page(
            request,
            collection,
            code,
            pages,
            services,
            person,
            draft,
            f"不是合法的 JSON：第 {exc.lineno} 行",
            status=422,
        )
    try:
        change = await services.call(person.token, "directory", "PUT", f"/v1/directory/{collection}/{code}", json=body)
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        return await _record_page(
            request, collection, code, pages, services, person, draft, exc.chinese, exc.details, status=exc.status
        )
    done = "unchanged" if change.get("unchanged") else f"r{change['revision']}"
    return RedirectResponse(f"/console/admin/{collection}/{code}?done={done}", status_code=303)
