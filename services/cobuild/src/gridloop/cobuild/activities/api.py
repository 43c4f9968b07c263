"""Routes of activities (服务活动), check-in/out and service records (过程纪实) under /v1/cobuild:
parse, call a command or view, map errors."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from gridloop.cobuild.activities import certificate, commands, views
from gridloop.cobuild.activities.settings import CheckinRules
from gridloop.cobuild.offers.api import CursorQuery, answer
from gridloop.shared.api.activities import (
    Activity,
    ActivityPage,
    ActivityRequest,
    ApproveBody,
    CheckedIn,
    CheckinCode,
    EmptyBody,
    ManualLogRequest,
    PresenceRequest,
    RateBody,
    ReasonBody,
    Record,
    RecordPage,
)
from gridloop.shared.auth import CurrentUser
from gridloop.shared.clock import AwareIsoDatetime
from gridloop.shared.deps import ReferenceData, ServiceDatabase
from gridloop.shared.errors import ERROR_RESPONSES
from gridloop.shared.pdf import pdf_response_headers
from gridloop.shared.volunteering_lifecycle import ActivityStatus, RecordStatus

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)
ACTIVITY, RECORD = "活动", "服务记录"
Limit = Annotated[int, Query(ge=1, le=200, description="每页条数 (per page)")]


@router.post("/activities", status_code=201, summary="发布服务活动: a community, or a unit for a paired community")
async def publish(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: ActivityRequest, checkin: CheckinRules
) -> Activity:
    return await answer(
        commands.publish(database=database, refdata=refdata, request=body, actor=user, rules=checkin.rules),
        what=ACTIVITY,
        key="",
    )


@router.get("/activities", summary="服务活动: the activities the caller may see, latest start first")
async def listing(
    database: ServiceDatabase,
    user: CurrentUser,
    checkin: CheckinRules,
    community: Annotated[str | None, Query(max_length=32, description="社区编码")] = None,
    since: Annotated[AwareIsoDatetime | None, Query(alias="from", description="结束不早于 (ends at or after)")] = None,
    until: Annotated[AwareIsoDatetime | None, Query(description="开始早于 (starts before)")] = None,
    status: Annotated[ActivityStatus | None, Query(description="只看此状态")] = None,
    limit: Limit = 50,
    cursor: CursorQuery = None,
) -> ActivityPage:
    return await answer(
        views.listing(
            database=database,
            reader=user,
            community=community,
            since=since,
            until=until,
            status=status,
            limit=limit,
            cursor=cursor,
            rules=checkin.rules,
        ),
        what=ACTIVITY,
        key="",
    )


@router.get("/activities/{activity_id}", summary="One activity, with the caller's own sign-up and record")
async def one(database: ServiceDatabase, user: CurrentUser, activity_id: str, checkin: CheckinRules) -> Activity:
    return await answer(
        views.one(database=database, reader=user, activity_id=activity_id, rules=checkin.rules),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/signup", summary="报名 (a member on the community's roll)")
async def signup(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, checkin: CheckinRules, body: EmptyBody | None = None
) -> Activity:
    return await answer(
        commands.signup(database=database, activity_id=activity_id, actor=user, rules=checkin.rules),
        what=ACTIVITY,
        key=activity_id,
    )


@router.get("/activities/{activity_id}/code", summary="签到码: the organiser's current rotating code")
async def code(database: ServiceDatabase, user: CurrentUser, activity_id: str, checkin: CheckinRules) -> CheckinCode:
    return await answer(
        views.code(database=database, reader=user, activity_id=activity_id, key=checkin.key, rules=checkin.rules),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/checkin", summary="签到: with the code, at the place")
async def check_in(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, body: PresenceRequest, checkin: CheckinRules
) -> CheckedIn:
    return await answer(
        commands.checkin(
            database=database,
            activity_id=activity_id,
            actor=user,
            code=body.code,
            location=body.location,
            key=checkin.key,
            rules=checkin.rules,
        ),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/checkout", status_code=201, summary="签退: the service record is submitted")
async def check_out(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, body: PresenceRequest, checkin: CheckinRules
) -> Record:
    return await answer(
        commands.checkout(
            database=database,
            activity_id=activity_id,
            actor=user,
            code=body.code,
            location=body.location,
            key=checkin.key,
            rules=checkin.rules,
        ),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/records", status_code=201, summary="补录 (or correct a returned record)")
async def log(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, body: ManualLogRequest, checkin: CheckinRules
) -> Record:
    return await answer(
        commands.log(database=database, activity_id=activity_id, actor=user, request=body, rules=checkin.rules),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/cancel", summary="取消活动, with a reason (organiser)")
async def cancel(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, body: ReasonBody, checkin: CheckinRules
) -> Activity:
    return await answer(
        commands.cancel(
            database=database, activity_id=activity_id, actor=user, reason=body.reason, rules=checkin.rules
        ),
        what=ACTIVITY,
        key=activity_id,
    )


@router.post("/activities/{activity_id}/close", summary="结项: every record decided (organiser)")
async def close(
    database: ServiceDatabase, user: CurrentUser, activity_id: str, checkin: CheckinRules, body: EmptyBody | None = None
) -> Activity:
    return await answer(
        commands.close(database=database, activity_id=activity_id, actor=user, rules=checkin.rules),
        what=ACTIVITY,
        key=activity_id,
    )


@router.get("/records", summary="服务记录: a member's own, a community's, or a unit's activities'")
async def records(
    database: ServiceDatabase,
    user: CurrentUser,
    checkin: CheckinRules,
    member: Annotated[str | None, Query(max_length=64, description="me 或党员编号")] = None,
    activity: Annotated[str | None, Query(max_length=64, description="活动编号")] = None,
    status: Annotated[RecordStatus | None, Query(description="只看此状态")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="服务年度 (city time)")] = None,
    limit: Limit = 50,
    cursor: CursorQuery = None,
) -> RecordPage:
    return await answer(
        views.records(
            database=database,
            reader=user,
            member=member,
            activity=activity,
            status=status,
            year=year,
            limit=limit,
            cursor=cursor,
            rules=checkin.rules,
        ),
        what=RECORD,
        key="",
    )


@router.post("/records/{record_id}/approve", summary="审核通过: the organiser, at most the rules' minutes")
async def approve(
    database: ServiceDatabase, user: CurrentUser, record_id: str, checkin: CheckinRules, body: ApproveBody | None = None
) -> Record:
    minutes = body.minutes if body else None
    return await answer(
        commands.approve(database=database, record_id=record_id, actor=user, minutes=minutes, rules=checkin.rules),
        what=RECORD,
        key=record_id,
    )


@router.post("/records/{record_id}/return", summary="退回更正, with a reason (organiser)")
async def send_back(
    database: ServiceDatabase, user: CurrentUser, record_id: str, body: ReasonBody, checkin: CheckinRules
) -> Record:
    return await answer(
        commands.send_back(database=database, record_id=record_id, actor=user, reason=body.reason, rules=checkin.rules),
        what=RECORD,
        key=record_id,
    )


@router.post("/records/{record_id}/reject", summary="不予认定, with a reason (organiser)")
async def reject(
    database: ServiceDatabase, user: CurrentUser, record_id: str, body: ReasonBody, checkin: CheckinRules
) -> Record:
    return await answer(
        commands.reject(database=database, record_id=record_id, actor=user, reason=body.reason, rules=checkin.rules),
        what=RECORD,
        key=record_id,
    )


@router.post("/records/{record_id}/rate", summary="评价: the community rates an approved record")
async def rate(
    database: ServiceDatabase, user: CurrentUser, record_id: str, body: RateBody, checkin: CheckinRules
) -> Record:
    return await answer(
        commands.rate(database=database, record_id=record_id, actor=user, rating=body.rating, rules=checkin.rules),
        what=RECORD,
        key=record_id,
    )


@router.get(
    "/members/{member_id}/certificate.pdf",
    summary="志愿服务证明 (PDF): one organiser's approved records of the year (谁记录谁证明)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate_pdf(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    member_id: str,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="年度 (默认今年)")] = None,
    organizer: Annotated[
        str | None, Query(max_length=80, description="出具方: community:<社区编码> 或 unit:<单位编码>")
    ] = None,
) -> Response:
    pdf, filename = await answer(
        certificate.issue(
            database=database, refdata=refdata, reader=user, member_id=member_id, year=year, organizer=organizer
        ),
        what="党员/志愿者",
        key=member_id,
    )
    return Response(pdf, media_type="application/pdf", headers=pdf_response_headers(filename))
