"""社区事务准入 pages: a department files its requests to put tasks on communities (准入申请), the
district decides those the lists do not (准入审核), and a community sees its admitted tasks, flags
one that came without admission and checks which certificates it may issue (社区事务).

The service decides (the lists, the working-day limits, who may act); the page shows and posts."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from gridloop.shared.api.admission import (
    LIST_LABELS,
    TASK_TYPE_LABELS,
    AdmissionRequestBody,
    CertificateAccepted,
    CertificateRequestBody,
    DecisionBody,
    FlagBody,
    RevokeBody,
)
from gridloop.shared.clock import CITY_ZONE
from gridloop.web.clients.admission import AdmissionClient
from gridloop.web.clients.base import Refused, ServiceError, body_of
from gridloop.web.deps import Agent, CommunityWorker, Directory, Form, Pages, Supervisor, client_of
from gridloop.web.render import ConsolePages
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/admission", include_in_schema=False)
Admission = Annotated[AdmissionClient, Depends(client_of(AdmissionClient))]
FIELD_NAMES = {
    "task_type": "事项类型", "title": "事项名称", "description": "事项内容", "community_codes": "承接社区",
    "street_code": "街道", "starts_on": "开始日期", "ends_on": "结束日期", "resources_provided": "随事下沉的资源",
    "emergency_reason": "紧急事由", "list_item_code": "清单事项编码", "reason": "理由",
    "department_code": "下派部门", "received_on": "收到日期", "note": "说明", "certificate": "证明名称",
}  # fmt: skip
DONE = {
    "filed": "准入申请已提交。",
    "admit": "已准入，任务进入社区事务清单。",
    "refuse": "已决定不予准入。",
    "revoke": "已撤销准入。",
    "flag": "已报告未准入事项，计入该部门本月评议。",
}


@dataclass
class Refusal:
    """A refused action as the page shows it: the message, each field's own, and what was typed."""

    action: str
    message: str
    fields: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)
    status: int = 422

    @classmethod
    def of(cls, action: str, exc: ServiceError, form: FormData | None) -> "Refusal":
        fields = {name: f"请检查{FIELD_NAMES.get(name, name)}" for name in exc.fields}
        message = exc.chinese
        if exc.code == "validation_error":
            rules = (
                [d.get("msg", "") for d in exc.details if isinstance(d, dict)] if isinstance(exc.details, list) else []
            )
            said = [r.removeprefix("Value error, ") for r in rules if "(" in r and not exc.fields]
            message = "；".join(said) if said else "请检查以下各项后重试。"
        values = {key: str(value) for key, value in (form or {}).items() if key != "csrf"}
        chosen = {key: [str(v) for v in form.getlist(key)] for key in values} if form else {}
        return cls(action, message, fields, values, chosen, exc.status)


def text(form: FormData, name: str) -> str:
    return str(form.get(name, "")).strip()


def _render(
    pages: ConsolePages,
    request: Request,
    person: Staff,
    template: str,
    context: dict[str, Any],
    refusal: Refusal | None = None,
) -> Response:
    return pages.render(
        request,
        person,
        template,
        {"refusal": refusal, "done": DONE.get(request.query_params.get("done", ""), ""), "task_types": TASK_TYPE_LABELS,
         "list_labels": LIST_LABELS, **context},
        status=refusal.status if refusal else 200,
    )  # fmt: skip


# ------------------------------------------------------------------ a department: 准入申请


async def _requests_page(
    request: Request,
    pages: Pages,
    admission: Admission,
    directory: Directory,
    person: Staff,
    refusal: Refusal | None = None,
) -> Response:
    found, tree = await asyncio.gather(admission.requests(), directory.tree())
    streets = [s for d in tree.districts for s in d.streets]
    today = pages.clock.now().astimezone(CITY_ZONE).date()
    return _render(
        pages, request, person, "console/admission/requests.html",
        {"requests": found.items, "streets": streets, "default_start": (today + timedelta(days=60)).isoformat()},
        refusal,
    )  # fmt: skip


@router.get("/requests", response_class=HTMLResponse)
async def requests(
    request: Request, pages: Pages, admission: Admission, directory: Directory, person: Agent
) -> Response:
    return await _requests_page(request, pages, admission, directory, person)


@router.post("/requests")
async def file(
    request: Request, form: Form, pages: Pages, admission: Admission, directory: Directory, person: Agent
) -> Response:
    """提交准入申请: the lists may decide it at once; otherwise the district does."""
    try:
        body = body_of(
            AdmissionRequestBody,
            task_type=text(form, "task_type") or None,
            title=text(form, "title"),
            description=text(form, "description"),
            community_codes=[str(c) for c in form.getlist("community_codes")],
            street_code=text(form, "street_code") or None,
            starts_on=text(form, "starts_on") or None,
            ends_on=text(form, "ends_on") or None,
            resources_provided=text(form, "resources_provided"),
            list_item_code=text(form, "list_item_code") or None,
            emergency=form.get("emergency") == "true",
            emergency_reason=text(form, "emergency_reason"),
        )
        await admission.file(body)
    except Refused as exc:
        return await _requests_page(request, pages, admission, directory, person, Refusal.of("file", exc, form))
    return RedirectResponse("/console/admission/requests?done=filed", status_code=303)


# ------------------------------------------------------------------ the district: 准入审核


async def _review_page(
    request: Request, pages: Pages, admission: Admission, person: Staff, refusal: Refusal | None = None
) -> Response:
    pending, admitted = await asyncio.gather(
        admission.requests(status="submitted"), admission.requests(status="admitted")
    )
    return _render(
        pages, request, person, "console/admission/review.html",
        {"pending": sorted(pending.items, key=lambda r: r.decision_due), "admitted": admitted.items},
        refusal,
    )  # fmt: skip


@router.get("/review", response_class=HTMLResponse)
async def review(request: Request, pages: Pages, admission: Admission, person: Supervisor) -> Response:
    return await _review_page(request, pages, admission, person)


@router.post("/requests/{request_id}/decision")
async def decide(
    request_id: str, request: Request, form: Form, pages: Pages, admission: Admission, person: Supervisor
) -> Response:
    """准入 or 不予准入 (with the reason the department reads)."""
    admitted = form.get("admitted") == "true"
    try:
        await admission.decide(request_id, body_of(DecisionBody, admitted=admitted, reason=text(form, "reason")))
    except Refused as exc:
        refusal = Refusal.of("decide", exc, form)
        refusal.values["request_id"] = request_id
        return await _review_page(request, pages, admission, person, refusal)
    return RedirectResponse(f"/console/admission/review?done={'admit' if admitted else 'refuse'}", status_code=303)


@router.post("/requests/{request_id}/revoke")
async def revoke(
    request_id: str, request: Request, form: Form, pages: Pages, admission: Admission, person: Supervisor
) -> Response:
    try:
        await admission.revoke(request_id, body_of(RevokeBody, reason=text(form, "reason")))
    except Refused as exc:
        refusal = Refusal.of("revoke", exc, form)
        refusal.values["request_id"] = request_id
        return await _review_page(request, pages, admission, person, refusal)
    return RedirectResponse("/console/admission/review?done=revoke", status_code=303)


# ------------------------------------------------------------------ a community: 社区事务


async def _community_page(
    request: Request,
    pages: Pages,
    admission: Admission,
    directory: Directory,
    person: Staff,
    refusal: Refusal | None = None,
    checked: CertificateAccepted | None = None,
) -> Response:
    inbox, flags, certificates, departments = await asyncio.gather(
        admission.inbox(), admission.flags(), admission.certificates(person.user.org), directory.departments()
    )
    today = pages.clock.now().astimezone(CITY_ZONE).date()
    return _render(
        pages, request, person, "console/admission/community.html",
        {"inbox": inbox.items, "flags": flags.items, "certificates": certificates, "departments": departments,
         "checked": checked, "today": today.isoformat()},
        refusal,
    )  # fmt: skip


@router.get("/community", response_class=HTMLResponse)
async def community(
    request: Request, pages: Pages, admission: Admission, directory: Directory, person: CommunityWorker
) -> Response:
    return await _community_page(request, pages, admission, directory, person)


@router.post("/flags")
async def flag(
    request: Request, form: Form, pages: Pages, admission: Admission, directory: Directory, person: CommunityWorker
) -> Response:
    """报告未准入事项: it counts against the department in that month's evaluation."""
    try:
        body = body_of(
            FlagBody,
            department_code=text(form, "department_code"),
            task_type=text(form, "task_type") or None,
            title=text(form, "title"),
            received_on=text(form, "received_on") or None,
            note=text(form, "note"),
        )
        await admission.flag(body)
    except Refused as exc:
        return await _community_page(request, pages, admission, directory, person, Refusal.of("flag", exc, form))
    return RedirectResponse("/console/admission/community?done=flag#flags-h", status_code=303)


@router.post("/certificate-check")
async def certificate_check(
    request: Request, form: Form, pages: Pages, admission: Admission, directory: Directory, person: CommunityWorker
) -> Response:
    """开具证明前核对: on the list, it may be issued; otherwise the standard refusal text to tell the resident."""
    try:
        body = body_of(CertificateRequestBody, community_code=person.user.org, certificate=text(form, "certificate"))
        checked = await admission.ask_certificate(body)
    except Refused as exc:
        refusal = Refusal.of("certificate", exc, form)
        refusal.status = 200 if exc.code == "certificate_not_issued_here" else exc.status
        return await _community_page(request, pages, admission, directory, person, refusal)
    return await _community_page(request, pages, admission, directory, person, checked=checked)
