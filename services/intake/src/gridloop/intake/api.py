"""Intake routes: file and follow reports, upload photos."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, UploadFile

from gridloop.intake import handlers
from gridloop.intake.deps import (
    CurrentUser,
    DuplicateRule,
    PhotoIds,
    PhotoLimit,
    ReferenceData,
    ReportLimit,
    ServiceDatabase,
)
from gridloop.intake.domain import ALLOWED_IMAGE_TYPES, ReportRefused, image_type
from gridloop.intake.handlers import IdempotencyConflict, UnknownAttachment, UnknownReport
from gridloop.shared.api.intake import AttachmentView, ReportPage, ReportRequest, ReportView
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.lifecycle import TicketStatus

router = APIRouter(prefix="/v1", tags=["intake"], responses=ERROR_RESPONSES)
# Who reads reports: the grid workers and street desks who file them, and supervisors. Departments
# see their tickets as work orders in handling.
READERS = (Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.SUPERVISOR, Role.MEMBER)  # a member: only their own
PHOTO_USERS = (Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.DEPARTMENT_AGENT, Role.MEMBER)  # reports, evidence
MAX_PHOTO_BYTES = 10 * 1024 * 1024
# A photo goes out as the image its bytes are (looked at again, whatever was stored), under a fixed
# name, never sniffed into something else, and inert even when opened on its own in a tab.
PHOTO_NAMES = {kind: f"photo.{kind.removeprefix('image/').replace('jpeg', 'jpg')}" for kind in ALLOWED_IMAGE_TYPES}
PHOTO_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def _refused(exc: ReportRefused) -> ApiError:
    status = {"too_large": 413, "outside_your_area": 403}.get(exc.code, 422)
    return ApiError(status, exc.code, exc.message, exc.details)


@router.post(
    "/reports",
    status_code=201,
    summary="File a report (立案); safe to retry with Idempotency-Key",
    responses={
        200: {"model": ReportView, "description": "replay of an earlier request with the same Idempotency-Key"},
        403: {"description": "the grid is outside the reporter's community (grid worker) or street (dispatcher)"},
        422: {"description": "invalid report, a grid whose street is not yet known, or key reused with another body"},
    },
)
async def file_report(
    user: CurrentUser,
    body: ReportRequest,
    response: Response,
    database: ServiceDatabase,
    refdata: ReferenceData,
    limit: ReportLimit,
    duplicates: DuplicateRule,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ReportView:
    # Grid workers report what they find; the street desk registers hotline (12345) and walk-in reports;
    # a member reported to a community (双报到) reports in its grids (随手拍).
    require_role(user, Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.MEMBER)
    await limit.check(user.sub)
    try:
        view, replay = await handlers.file_report(
            database=database,
            refdata=refdata,
            request=body,
            reporter=user,
            idempotency_key=idempotency_key,
            duplicates=duplicates,
        )
    except ReportRefused as exc:
        raise _refused(exc) from exc
    except IdempotencyConflict as exc:
        raise ApiError(
            422,
            "idempotency_key_reused",
            "该幂等键已用于不同的请求 (Idempotency-Key already used with a different body)",
        ) from exc
    response.status_code = 200 if replay else 201
    response.headers["Location"] = f"/v1/reports/{view['ticket_id']}"
    return ReportView.model_validate(view)


@router.get("/reports/{ticket_id}", summary="One report and what became of it")
async def get_report(user: CurrentUser, database: ServiceDatabase, ticket_id: str) -> ReportView:
    require_role(user, *READERS)
    try:
        return ReportView.model_validate(await handlers.report_for(database=database, reader=user, ticket_id=ticket_id))
    except UnknownReport as exc:
        raise NotFound("report", ticket_id) from exc


@router.get("/reports", summary="Reports in the caller's scope, newest first (mine=true: only those they filed)")
async def list_reports(
    user: CurrentUser,
    database: ServiceDatabase,
    mine: bool = False,
    status: TicketStatus | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReportPage:
    require_role(user, *READERS)
    page = await handlers.reports_for(
        database=database, reader=user, mine=mine, status=status, before=cursor, limit=limit
    )
    return ReportPage.model_validate(page)


@router.post(
    "/attachments",
    status_code=201,
    summary="Upload a photo (JPEG, PNG, WebP; at most 10 MB), kept without its metadata (Exif: place, "
    "device); safe to retry with Idempotency-Key",
    responses={
        200: {"model": AttachmentView, "description": "replay: this Idempotency-Key already uploaded a photo"},
        413: {"description": "too large"},
        422: {"description": "not an image, a damaged one, or HEIC/HEIF (its metadata cannot be removed)"},
        429: {"description": "too many uploads by this user; Retry-After says when to try again"},
    },
)
async def upload_attachment(
    user: CurrentUser,
    database: ServiceDatabase,
    seal: PhotoIds,
    limit: PhotoLimit,
    file: UploadFile,
    response: Response,
    idempotency_key: Annotated[
        str | None, Header(min_length=1, max_length=128, description="the app's own id for this photo")
    ] = None,
) -> AttachmentView:
    require_role(user, *PHOTO_USERS)
    await limit.check(user.sub)
    data = await file.read(MAX_PHOTO_BYTES + 1)
    try:
        stored, replay = await handlers.store_photo(
            database=database,
            seal=seal,
            data=data,
            filename=file.filename or "",
            owner=user,
            max_bytes=MAX_PHOTO_BYTES,
            client_id=idempotency_key,
        )
    except ReportRefused as exc:
        raise _refused(exc) from exc
    response.status_code = 200 if replay else 201
    return AttachmentView.model_validate(stored)


@router.get(
    "/attachments/{attachment_id}",
    summary="Download a photo: its uploader's, or one a ticket the caller may read names",
    response_class=Response,
    responses={200: {"content": {content_type: {} for content_type in sorted(ALLOWED_IMAGE_TYPES)}}},
)
async def download_attachment(user: CurrentUser, database: ServiceDatabase, attachment_id: str) -> Response:
    require_role(user, *PHOTO_USERS, Role.SUPERVISOR)
    try:
        data, _ = await handlers.photo(database=database, reader=user, attachment_id=attachment_id)
    except UnknownAttachment as exc:
        raise NotFound("attachment", attachment_id) from exc
    content_type = image_type(data[:262]) or "application/octet-stream"
    name = PHOTO_NAMES.get(content_type)
    disposition = f'inline; filename="{name}"' if name else 'attachment; filename="attachment.bin"'
    return Response(data, media_type=content_type, headers={**PHOTO_HEADERS, "Content-Disposition": disposition})
