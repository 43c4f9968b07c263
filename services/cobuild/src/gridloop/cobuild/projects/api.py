"""Routes of matches and projects (惠民项目清单) under /v1/cobuild: parse, call, map errors."""

from typing import Annotated

from fastapi import APIRouter, Query

from gridloop.cobuild.offers.api import CursorQuery, answer
from gridloop.cobuild.projects import commands, views
from gridloop.shared.api.cobuild import (
    ApproveRequest,
    CompleteRequest,
    EmptyRequest,
    EvaluateRequest,
    Matches,
    ProgressRequest,
    Project,
    ProjectPage,
    ProjectRateRequest,
    ProjectRequest,
    ReasonRequest,
)
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.cobuild_lifecycle import ProjectStatus
from gridloop.shared.deps import ReferenceData, ServiceDatabase
from gridloop.shared.errors import ERROR_RESPONSES
from gridloop.shared.events import Role

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild"], responses=ERROR_RESPONSES)
Community = Annotated[str | None, Query(max_length=32, description="社区编码 (community code)")]
WHAT = "项目"


@router.get("/matches", summary="匹配建议: suggested need↔offer pairs with reasons, and the needs left unmatched")
async def matches(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    community: Community = None,
    limit: Annotated[int, Query(ge=1, le=500, description="最多考虑的需求数 (needs considered: the newest)")] = 100,
) -> Matches:
    return await answer(
        views.matches(database=database, refdata=refdata, reader=user, community=community, limit=limit),
        what="社区",
        key=community or "",
    )


@router.post("/projects", status_code=201, summary="立项: a community makes a project of its needs and offers")
async def propose(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: ProjectRequest
) -> Project:
    require_role(user, Role.COMMUNITY_WORKER)
    return await answer(
        commands.propose(database=database, refdata=refdata, request=body, actor=user), what=WHAT, key=""
    )


@router.get("/projects", summary="惠民项目清单: the projects the caller may see, newest first")
async def listing(
    database: ServiceDatabase,
    user: CurrentUser,
    status: Annotated[ProjectStatus | None, Query(description="只看此状态 (only this status)")] = None,
    community: Community = None,
    limit: Annotated[int, Query(ge=1, le=200, description="每页条数 (per page)")] = 50,
    cursor: CursorQuery = None,
) -> ProjectPage:
    return await answer(
        views.listing(database=database, reader=user, status=status, community=community, limit=limit, cursor=cursor),
        what=WHAT,
        key="",
    )


@router.get("/projects/{project_id}", summary="One project")
async def one(database: ServiceDatabase, user: CurrentUser, project_id: str) -> Project:
    return await answer(views.one(database=database, reader=user, project_id=project_id), what=WHAT, key=project_id)


@router.post("/projects/{project_id}/approve", summary="审核通过: the street approves the project")
async def approve(
    database: ServiceDatabase, user: CurrentUser, project_id: str, body: ApproveRequest | None = None
) -> Project:
    comment = body.comment if body else ""
    return await answer(
        commands.approve(database=database, project_id=project_id, actor=user, comment=comment),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/start", summary="启动实施: the work begins")
async def start(
    database: ServiceDatabase, user: CurrentUser, project_id: str, body: EmptyRequest | None = None
) -> Project:
    return await answer(commands.start(database=database, project_id=project_id, actor=user), what=WHAT, key=project_id)


@router.post("/projects/{project_id}/progress", summary="进展: a milestone and the progress in per cent")
async def progress(database: ServiceDatabase, user: CurrentUser, project_id: str, body: ProgressRequest) -> Project:
    return await answer(
        commands.progress(
            database=database, project_id=project_id, actor=user, percent=body.percent, milestone=body.milestone
        ),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/suspend", summary="暂停, with a reason")
async def suspend(database: ServiceDatabase, user: CurrentUser, project_id: str, body: ReasonRequest) -> Project:
    return await answer(
        commands.suspend(database=database, project_id=project_id, actor=user, reason=body.reason),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/resume", summary="恢复: work goes on")
async def resume(
    database: ServiceDatabase, user: CurrentUser, project_id: str, body: EmptyRequest | None = None
) -> Project:
    return await answer(
        commands.resume(database=database, project_id=project_id, actor=user), what=WHAT, key=project_id
    )


@router.post("/projects/{project_id}/complete", summary="结项: the closing report and the people served")
async def complete(database: ServiceDatabase, user: CurrentUser, project_id: str, body: CompleteRequest) -> Project:
    return await answer(
        commands.complete(
            database=database, project_id=project_id, actor=user, report=body.report, beneficiaries=body.beneficiaries
        ),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/rate", summary="评单: a resident's rating (or one the community records)")
async def rate(database: ServiceDatabase, user: CurrentUser, project_id: str, body: ProjectRateRequest) -> Project:
    return await answer(
        commands.rate(database=database, project_id=project_id, actor=user, rating=body.rating, comment=body.comment),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/evaluate", summary="评估: the street grades the completed project")
async def evaluate(database: ServiceDatabase, user: CurrentUser, project_id: str, body: EvaluateRequest) -> Project:
    return await answer(
        commands.evaluate(database=database, project_id=project_id, actor=user, grade=body.grade, comment=body.comment),
        what=WHAT,
        key=project_id,
    )


@router.post("/projects/{project_id}/cancel", summary="取消, with a reason")
async def cancel(database: ServiceDatabase, user: CurrentUser, project_id: str, body: ReasonRequest) -> Project:
    return await answer(
        commands.cancel(database=database, project_id=project_id, actor=user, reason=body.reason),
        what=WHAT,
        key=project_id,
    )
