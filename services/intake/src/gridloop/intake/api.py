"""Intake routes: file and follow reports, upload photos."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from gridloop.intake import handlers, store
from gridloop.intake.domain import ALLOWED_IMAGE_TYPES, ReportRefused, ReportRequest
from gridloop.intake.handlers import IdempotencyConflict
from gridloop.shared.access import place_filter, sees_ticket
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.lifecycle import TicketStatus
from gridloop.shared.limits import RateLimit
from gridloop.shared.service import Runtime

router = APIRouter(prefix="/v1", tags=["intake"], responses=ERROR_RESPONSES)
# Who reads reports: the grid workers and street desks who file them, and supervisors. Departments
# see their tickets as work orders in handling.
READERS = (Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.SUPERVISOR)
PHOTO_USERS = (Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.DEPARTMENT_AGENT)  # reports and evidence
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _refused(exc: ReportRefused) -> ApiError:
    status = {"too_large": 413, "outside_your_area": 403}.get(exc.code, 422)
    return ApiError(status, exc.code, exc.message, exc.details)


@router.post(
    "/reports",
    status_code=201,
    summary="File a report (立案); safe to retry with Idempotency-Key",
    responses={
        200: {"description": "replay of an earlier request with the same Idempotency-Key"},
        403: {"description": "the grid is outside the reporter's community (grid worker) or street (dispatcher)"},
        422: {"description": "invalid report, or key reused with another body"},
    },
)
async def file_report(
    request: Request,
    user: CurrentUser,
    body: ReportRequest,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    # Grid workers report what they find; the street desk registers hotline (12345) and walk-in reports.
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER)
    await _report_limit(request).check(user.sub)
    runtime = _runtime(request)
    try:
        view, replay = await handlers.file_report(
            database=runtime.database,
            refdata=runtime.refdata,
            request=body,
            reporter=user,
            idempotency_key=idempotency_key,
            duplicates=request.app.state.duplicate_policy,
        )
    except ReportRefused as exc:
        raise _refused(exc) from exc
    except IdempotencyConflict as exc:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "该幂等键已用于不同的请求 (Idempotency-Key already used with a different body)",
        ) from exc
    return JSONResponse(
        jsonable_encoder(view),
        status_code=200 if replay else 201,
        headers={"Location": f"/v1/reports/{view['ticket_id']}"},
    )


def _report_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.report_limit
    return limit


@router.get("/reports/{ticket_id}", summary="One report and what became of it")
async def get_report(request: Request, user: CurrentUser, ticket_id: str) -> dict[str, Any]:
    require_role(user, *READERS)
    doc = await store.get_report(_runtime(request).database.db, ticket_id)
    if doc is None or not sees_ticket(
        user,
        reporter=doc["reporter"]["sub"],
        community=doc["community_code"],
        street=doc["street_code"],
        district=doc["district_code"],
    ):
        raise NotFound("report", ticket_id)
    return handlers.report_view(doc)


@router.get("/reports", summary="Reports in the caller's scope, newest first (mine=true: only those they filed)")
async def list_reports(
    request: Request,
    user: CurrentUser,
    mine: bool = False,
    status: TicketStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    require_role(user, *READERS)
    scope = place_filter(
        user, street="street_code", district="district_code", community="community_code", reporter="reporter.sub"
    )
    docs = await store.list_reports(
        _runtime(request).database.db,
        scope=scope,
        reporter=user.sub if mine else None,
        status=status.value if status else None,
        before=cursor,
        limit=limit,
    )
    items = [handlers.report_view(d) for d in docs]
    return {"items": items, "next_cursor": items[-1]["ticket_id"] if len(items) == limit else None}


@router.post(
    "/attachments",
    status_code=201,
    summary="Upload a photo (JPEG, PNG, WebP, HEIC; at most 10 MB)",
    responses={413: {"description": "too large"}, 422: {"description": "not an image"}},
)
async def upload_attachment(request: Request, user: CurrentUser, file: UploadFile) -> dict[str, Any]:
    require_role(user, *PHOTO_USERS)
    data = await file.read(MAX_PHOTO_BYTES + 1)
    try:
        return await handlers.store_photo(
            database=_runtime(request).database,
            data=data,
            filename=file.filename or "",
            owner=user,
            max_bytes=MAX_PHOTO_BYTES,
        )
    except ReportRefused as exc:
        raise _refused(exc) from exc


@router.get(
    "/attachments/{attachment_id}",
    summary="Download a photo",
    response_class=Response,
    responses={200: {"content": {content_type: {} for content_type in sorted(ALLOWED_IMAGE_TYPES)}}},
)
async def download_attachment(request: Request, user: CurrentUser, attachment_id: str) -> Response:
    require_role(user, *PHOTO_USERS, Role.SUPERVISOR)
    photo = await store.load_photo(_runtime(request).database.db, attachment_id)
    if photo is None:
        raise NotFound("attachment", attachment_id)
    data, content_type = photo
    return Response(data, media_type=content_type)
