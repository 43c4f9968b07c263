"""部门工作台 (department workbench): the inbox by deadline, one work order, and its actions:
接单, 退单, progress notes, 协办反馈, 延期申请, 办结 with evidence photos; the inbox as CSV.
Which actions a work order offers is handling's answer (`allowed_actions`); each is a route here."""

import io
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.api.handling import (
    ExtensionRequest,
    InboxItem,
    NoteRequest,
    OrderStatus,
    RejectRequest,
    ResolveRequest,
    WorkOrder,
)
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN
from gridloop.shared.spreadsheets import CsvWriter
from gridloop.web import labels
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.clients.handling import HandlingClient
from gridloop.web.clients.intake import IntakeClient
from gridloop.web.deps import Agent, Form, Handling, Intake, Pages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/inbox", include_in_schema=False)
FILTERS = (  # the inbox's status filters
    OrderStatus.DISPATCHED, OrderStatus.ACCEPTED, OrderStatus.REOPENED, OrderStatus.RESOLVED, OrderStatus.PART_DONE,
)  # fmt: skip
FIELDS = {
    "reason": f"理由（至少 {TEXT_MIN} 个字）",
    "note": "说明",
    "photos": f"照片（至多 {PHOTOS_MAX} 张）",
    "requested_resolve_deadline": "延期时间",
}
CSV_HEADINGS = [
    "工单编号", "类别", "描述", "网格", "地址", "主办/协办", "状态", "派遣时间", "应接单", "应办结", "超期", "返工次数",
]  # fmt: skip


def _query(request: Request) -> dict[str, str]:
    """The inbox's filters, as the page's links and the export carry them."""
    query: dict[str, str] = {}
    status = request.query_params.get("status", "")
    if status in FILTERS:
        query["status"] = status
    if request.query_params.get("overdue") == "true":
        query["overdue"] = "true"
    return query


async def _inbox_page(
    handling: HandlingClient, query: dict[str, str], *, limit: int, cursor: str | None
) -> tuple[list[InboxItem], str | None]:
    found = await handling.inbox(
        status=query.get("status"), overdue=True if "overdue" in query else None, limit=limit, cursor=cursor
    )
    return found.items, found.next_cursor


@router.get("", response_class=HTMLResponse)
async def inbox(request: Request, pages: Pages, handling: Handling, person: Agent) -> Response:
    query = _query(request)
    orders, next_cursor = await _inbox_page(handling, query, limit=25, cursor=request.query_params.get("cursor"))
    return pages.render(
        request,
        person,
        "console/inbox.html",
        {"orders": orders, "next_cursor": next_cursor, "query": query, "filters": FILTERS},
    )


@router.get("/export.csv")
async def export(request: Request, handling: Handling, person: Agent) -> Response:
    """The whole inbox (every page), with Chinese headings, for the department's own records."""
    query = _query(request)
    rows: list[InboxItem] = []
    cursor: str | None = None
    while True:
        found, cursor = await _inbox_page(handling, query, limit=500, cursor=cursor)
        rows.extend(found)
        if not cursor:
            break
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow(CSV_HEADINGS)
    for o in rows:
        writer.writerow(
            [
                o.ticket_number,
                o.category_name,
                o.description,
                o.grid_code,
                o.address,
                labels.ORDER_ROLE[o.role],
                labels.ORDER_STATUS[o.status],
                labels.local(o.dispatched_at, "%Y-%m-%d %H:%M"),
                labels.local(o.accept_deadline, "%Y-%m-%d %H:%M"),
                labels.local(o.resolve_deadline, "%Y-%m-%d %H:%M"),
                "是" if o.overdue else "否",
                o.rework_count,
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
    handling: HandlingClient,
    person: Staff,
    refusal: ServiceError | None = None,
) -> Response:
    """The work order; after a refused action, with the reason and the refusal's status."""
    order = await handling.work_order(ticket_id)
    return pages.render(
        request,
        person,
        "console/inbox_order.html",
        {
            "order": order,
            "error": _message(refusal) if refusal else "",
            "done": request.query_params.get("done", ""),
            "reasons": labels.REJECT_REASONS,
            "key": str(uuid.uuid4()),
        },
        status=refusal.status if refusal else 200,
    )


def _message(refusal: ServiceError) -> str:
    if refusal.code == "validation_error":
        return "请填写完整：" + "、".join(FIELDS.get(name, name) for name in refusal.fields)
    return refusal.chinese


@router.get("/{ticket_id}", response_class=HTMLResponse)
async def order(request: Request, ticket_id: str, pages: Pages, handling: Handling, person: Agent) -> Response:
    return await _order_page(request, ticket_id, pages, handling, person)


async def _photos(intake: IntakeClient, form: FormData) -> list[str]:
    """Upload the form's photos to intake (each under a key from this form, so a resubmit stores none twice)."""
    key = str(form.get("key") or uuid.uuid4())
    ids: list[str] = []
    for n, upload in enumerate(form.getlist("photos")):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        data = await upload.read()
        stored = await intake.upload_photo(
            upload.filename, data, upload.content_type or "application/octet-stream", key=f"{key}-{n}"
        )
        ids.append(stored.attachment_id)
    return ids


async def _act(
    request: Request,
    ticket_id: str,
    pages: Pages,
    handling: HandlingClient,
    person: Staff,
    action: str,
    act: Callable[[], Awaitable[WorkOrder]],
) -> Response:
    """Take the action; on refusal the order's page again, saying why."""
    try:
        await act()
    except Refused as exc:
        return await _order_page(request, ticket_id, pages, handling, person, exc)
    return RedirectResponse(f"/console/inbox/{ticket_id}?done={action}", status_code=303)


def _note(form: FormData) -> str:
    return str(form.get("note", "")).strip()


@router.post("/{ticket_id}/accept")
async def accept(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, person: Agent
) -> Response:
    """接单."""
    return await _act(request, ticket_id, pages, handling, person, "accept", lambda: handling.accept(ticket_id))


@router.post("/{ticket_id}/reject")
async def reject(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, person: Agent
) -> Response:
    """退单: a reason from the list, and the agent's own words."""
    choice, text = str(form.get("reason_choice", "")), str(form.get("reason_text", "")).strip()
    reason = "：".join(part for part in (choice, text) if part)
    return await _act(
        request, ticket_id, pages, handling, person, "reject",
        lambda: handling.reject(ticket_id, body_of(RejectRequest, reason=reason)),
    )  # fmt: skip


@router.post("/{ticket_id}/progress")
async def progress(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, intake: Intake, person: Agent
) -> Response:
    """A progress note, with photos."""

    async def act() -> WorkOrder:
        body = body_of(NoteRequest, note=_note(form), photos=await _photos(intake, form))
        return await handling.progress(ticket_id, body)

    return await _act(request, ticket_id, pages, handling, person, "progress", act)


@router.post("/{ticket_id}/part")
async def part(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, intake: Intake, person: Agent
) -> Response:
    """协办反馈: an assisting department's part done, with photos."""

    async def act() -> WorkOrder:
        body = body_of(NoteRequest, note=_note(form), photos=await _photos(intake, form))
        return await handling.part(ticket_id, body)

    return await _act(request, ticket_id, pages, handling, person, "part", act)


@router.post("/{ticket_id}/extension")
async def extension(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, person: Agent
) -> Response:
    """延期申请: the time wanted (city time) and why."""

    async def act() -> WorkOrder:
        try:
            wanted = datetime.fromisoformat(str(form.get("requested_resolve_deadline", ""))).replace(tzinfo=CITY_ZONE)
        except ValueError as exc:
            raise Refused(422, "no_deadline", "请选择希望延至的时间") from exc
        reason = str(form.get("reason", "")).strip()
        return await handling.extension(
            ticket_id, body_of(ExtensionRequest, requested_resolve_deadline=wanted, reason=reason)
        )

    return await _act(request, ticket_id, pages, handling, person, "extension", act)


@router.post("/{ticket_id}/resolve")
async def resolve(
    request: Request, ticket_id: str, form: Form, pages: Pages, handling: Handling, intake: Intake, person: Agent
) -> Response:
    """办结, with evidence photos; the lead may resolve before the assisting parts, saying why."""

    async def act() -> WorkOrder:
        fields: dict[str, object] = {"note": _note(form), "photos": await _photos(intake, form)}
        if override := str(form.get("override_reason", "")).strip():
            fields["override_reason"] = override
        return await handling.resolve(ticket_id, body_of(ResolveRequest, **fields))

    return await _act(request, ticket_id, pages, handling, person, "resolve", act)
