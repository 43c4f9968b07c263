"""Routes of 社区事务准入 under /v1/cobuild/admission: routes parse, call a command or view, map errors."""

from collections.abc import Awaitable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query

from gridloop.cobuild.admission import commands, views
from gridloop.cobuild.admission.domain import Refused, UnknownRequest
from gridloop.cobuild.deps import WorkingCalendar
from gridloop.shared.api.admission import (
    AdmissionRequestBody,
    AdmissionRequestPage,
    AdmissionRequestView,
    CertificateAccepted,
    CertificateList,
    CertificateRequestBody,
    DecisionBody,
    FlagBody,
    FlagList,
    FlagView,
    Inbox,
    RevokeBody,
)
from gridloop.shared.auth import CurrentUser
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.deps import ReferenceData, ServiceDatabase
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.shared.volunteering_lifecycle import AdmissionStatus

router = APIRouter(prefix="/v1/cobuild/admission", tags=["cobuild admission"], responses=ERROR_RESPONSES)

T = TypeVar("T")
CursorQuery = Annotated[
    str | None, Query(max_length=MAX_CURSOR_LENGTH, description="上一页返回的 next_cursor (the previous page's cursor)")
]


async def answer(action: Awaitable[T], *, key: str = "") -> T:
    """The command's answer, or its refusal as the API's error."""
    try:
        return await action
    except UnknownRequest as exc:
        raise NotFound("准入申请", key) from exc
    except Refused as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.details) from exc
    except CobuildTransitionNotAllowed as exc:
        raise ApiError(
            409,
            "transition_not_allowed",
            f"当前状态不允许此操作 ({exc})",
            {"status": exc.current.value if exc.current else None, "action": exc.event_type},
        ) from exc
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


@router.post("/requests", status_code=201, summary="准入申请: a department asks to put a task on communities")
async def file(
    database: ServiceDatabase,
    refdata: ReferenceData,
    calendars: WorkingCalendar,
    user: CurrentUser,
    body: AdmissionRequestBody,
) -> AdmissionRequestView:
    return await answer(commands.file(database=database, refdata=refdata, calendars=calendars, body=body, actor=user))


@router.get("/requests", summary="准入申请列表: a department's own, the district's (overdue ones with overdue=true)")
async def listing(
    database: ServiceDatabase,
    user: CurrentUser,
    status: Annotated[AdmissionStatus | None, Query(description="只看此状态 (only this status)")] = None,
    overdue: Annotated[bool, Query(description="只看超期未决定的 (only those past their decision's due time)")] = False,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 (per page)")] = 50,
    cursor: CursorQuery = None,
) -> AdmissionRequestPage:
    return await answer(
        views.listing(database=database, reader=user, status=status, overdue=overdue, limit=limit, cursor=cursor)
    )


@router.get("/requests/{request_id}", summary="One admission request")
async def one(database: ServiceDatabase, user: CurrentUser, request_id: str) -> AdmissionRequestView:
    return await answer(views.one(database=database, reader=user, request_id=request_id), key=request_id)


@router.post("/requests/{request_id}/decision", summary="审核: the district admits or refuses (with a reason)")
async def decide(
    database: ServiceDatabase, user: CurrentUser, request_id: str, body: DecisionBody
) -> AdmissionRequestView:
    return await answer(
        commands.decide(database=database, request_id=request_id, body=body, actor=user), key=request_id
    )


@router.post("/requests/{request_id}/revoke", summary="撤销准入: the district withdraws an admission")
async def revoke(
    database: ServiceDatabase, user: CurrentUser, request_id: str, body: RevokeBody
) -> AdmissionRequestView:
    return await answer(
        commands.revoke(database=database, request_id=request_id, reason=body.reason, actor=user), key=request_id
    )


@router.get("/inbox", summary="社区事务: the admitted tasks of the caller's community, current and upcoming")
async def inbox(database: ServiceDatabase, user: CurrentUser) -> Inbox:
    return await answer(views.inbox(database=database, reader=user))


@router.post("/flags", status_code=201, summary="未准入事项: a community reports a task that came without admission")
async def flag(database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: FlagBody) -> FlagView:
    return await answer(commands.flag(database=database, refdata=refdata, body=body, actor=user))


@router.get("/flags", summary="未准入事项: a community's own flags, a department's, the district's")
async def flags(
    database: ServiceDatabase,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200, description="条数 (how many, newest first)")] = 50,
) -> FlagList:
    return await answer(views.flags(database=database, reader=user, limit=limit))


@router.get("/certificates", summary="可出具证明事项: what the community may certify (the list in force)")
async def certificates(
    database: ServiceDatabase,
    refdata: ReferenceData,
    _: CurrentUser,
    community: Annotated[str, Query(min_length=1, max_length=32, description="社区编码 (community code)")],
) -> CertificateList:
    return await answer(views.certificates(refdata=refdata, community_code=community, now=database.clock.now()))


@router.post(
    "/certificate-requests",
    summary="开具证明: accepted when on the community's list; else 422 certificate_not_issued_here",
)
async def certificate_request(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: CertificateRequestBody
) -> CertificateAccepted:
    return await answer(
        views.certificate_request(
            refdata=refdata,
            reader=user,
            community_code=body.community_code,
            certificate=body.certificate,
            now=database.clock.now(),
        )
    )
