"""目录管理 (directory admin): browse the tree, categories, rules and time limits; edit a record
live (the directory checks it and announces it to every service); each record's history."""

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gridloop.web.clients.base import Refused
from gridloop.web.clients.directory import DirectoryClient
from gridloop.web.deps import Admin, Directory, Form, Pages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/admin", include_in_schema=False)
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
async def browse(request: Request, pages: Pages, directory: Directory, person: Admin) -> Response:
    collection = request.query_params.get("collection", "categories")
    collection = collection if collection in COLLECTIONS else "categories"
    tree, listed = await asyncio.gather(directory.tree(), directory.records(collection))
    rows = [{"code": str(r.get("code") or r.get("id")), "summary": summary(collection, r)} for r in listed.items]
    return pages.render(
        request,
        person,
        "console/admin.html",
        {"collections": COLLECTIONS, "collection": collection, "rows": rows, "tree": tree},
    )


async def _record_page(
    request: Request, collection: str, code: str, pages: Pages, directory: DirectoryClient, person: Staff,
    draft: str | None = None, refusal: Refused | None = None,
) -> Response:  # fmt: skip
    """The record, its editor and its history; after a refused save, the draft again and why."""
    record, history = await asyncio.gather(directory.record(collection, code), directory.history(collection, code))
    return pages.render(
        request,
        person,
        "console/admin_record.html",
        {
            "collection": collection,
            "name": COLLECTIONS[collection],
            "record": record,
            "editable": collection in EDITABLE,
            "draft": draft if draft is not None else json.dumps(record.data, ensure_ascii=False, indent=2),
            "history": list(reversed(history.revisions)),
            "error": refusal.chinese if refusal else "",
            "details": (refusal.details if refusal else None) or [],
            "done": request.query_params.get("done", ""),
        },
        status=refusal.status if refusal else 200,
    )


@router.get("/{collection}/{code}", response_class=HTMLResponse)
async def record(
    request: Request, collection: str, code: str, pages: Pages, directory: Directory, person: Admin
) -> Response:
    if collection not in COLLECTIONS:
        raise Refused(404, "not_found", "没有这类目录数据")
    return await _record_page(request, collection, code, pages, directory, person)


@router.post("/{collection}/{code}")
async def save(
    request: Request,
    collection: str,
    code: str,
    form: Form,
    pages: Pages,
    directory: Directory,
    person: Admin,
) -> Response:
    if collection not in EDITABLE:
        raise Refused(404, "not_found", "该类目录数据不能在此修改")
    draft = str(form.get("data", ""))
    try:
        try:
            body = json.loads(draft)
        except json.JSONDecodeError as exc:
            raise Refused(422, "invalid_json", f"不是合法的 JSON：第 {exc.lineno} 行") from exc
        if not isinstance(body, dict):
            raise Refused(422, "invalid_json", "记录须是一个 JSON 对象（{…}）")
        change = await directory.put_record(collection, code, body)
    except Refused as exc:
        return await _record_page(request, collection, code, pages, directory, person, draft, exc)
    done = "unchanged" if change.outcome == "unchanged" else f"r{change.revision}"
    return RedirectResponse(f"/console/admin/{collection}/{code}?done={done}", status_code=303)
