"""Routes of 双报到 and 公益岗位 under /v1/cobuild. Each route parses, calls a view or a command and
maps its errors: out of sight 404, in sight but not yours 403, the member's or post's state 409
(`transition_not_allowed`, `already_registered`, `post_full`, `last_post` ...), what the body names 422."""

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Query

from gridloop.cobuild.deps import CurrentUser, ReferenceData, ServiceDatabase
from gridloop.cobuild.members import commands, privacy, store, views
from gridloop.cobuild.members.commands import Settings
from gridloop.cobuild.members.domain import MemberRefused
from gridloop.cobuild.members.jobs import rules_of
from gridloop.cobuild.members.views import UnknownMember
from gridloop.cobuild.needs.reference import unit_communities
from gridloop.cobuild.posts import commands as post_commands
from gridloop.cobuild.posts import views as post_views
from gridloop.cobuild.posts.commands import UnknownPost
from gridloop.shared.api.members import (
    EmptyRequest,
    Headcount,
    HeadcountRequest,
    Member,
    MemberExport,
    MemberList,
    PlaceRequest,
    Post,
    PostList,
    PostStatus,
    PublishPostRequest,
    ReasonRequest,
    RegisterRequest,
    TransferRequest,
    UnitReport,
    UnitReportRequest,
    UnitReports,
)
from gridloop.shared.auth import require_role
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.deps import ServiceRuntime
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.paging import MAX_CURSOR_LENGTH, InvalidCursor
from gridloop.shared.volunteering_lifecycle import MemberStatus

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild 双报到"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=200, description="每页条数 (items per page)")]
CursorParam = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH, description="上一页的 next_cursor")]
Code = Annotated[str | None, Query(min_length=1, max_length=32)]
T = TypeVar("T")


def settings_of(live: ServiceRuntime) -> Settings:
    return Settings(rules=rules_of(live), id_salt=str(getattr(live.settings, "id_salt", "")))


MemberSettings = Annotated[Settings, Depends(settings_of)]


@contextmanager
def errors(what: str, ident: str) -> Iterator[None]:
    try:
        yield
    except UnknownMember as exc:
        raise NotFound("member", ident) from exc
    except UnknownPost as exc:
        raise NotFound("post", ident) from exc
    except MemberRefused as exc:
        raise ApiError(exc.status, exc.code, str(exc)) from exc
    except CobuildTransitionNotAllowed as exc:
        raise ApiError(
            409,
            "transition_not_allowed",
            f"当前状态不允许此操作 ({exc})",
            {"status": exc.current.value if exc.current else None, "action": exc.event_type},
        ) from exc
    except InvalidCursor as exc:
        raise ApiError(422, "invalid_cursor", "翻页游标无效 (the cursor is not one this list gave out)") from exc


async def run(what: str, ident: str, call: Awaitable[T]) -> T:
    with errors(what, ident):
        return await call


# ---- units ------------------------------------------------------------------------------------------


@router.post("/units/{unit}/reports", status_code=201, summary="单位报到: to a paired community; the receipt at once")
async def report_unit(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, unit: str, body: UnitReportRequest
) -> UnitReport:
    require_role(user, Role.UNIT_ADMIN)
    return await run(
        "unit",
        unit,
        commands.report_unit(
            database=database, refdata=refdata, actor=user, unit_code=unit, community_code=body.community_code
        ),
    )


@router.get("/units/{unit}/reports", summary="本单位的报到与回执, and its confirmed headcount")
async def unit_reports(database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, unit: str) -> UnitReports:
    require_role(user, Role.UNIT_ADMIN)
    if user.org != unit:
        raise NotFound("unit", unit)
    reports = [
        UnitReport(id=d["_id"], **{k: v for k, v in d.items() if k != "_id"})
        for d in await store.reports_of(database.db, unit)
    ]
    count = await store.headcount(database.db, unit)
    headcount = (
        Headcount(unit_code=unit, party_members=count["party_members"], confirmed_at=count["confirmed_at"])
        if count
        else None
    )
    paired = sorted(await unit_communities(refdata, user))
    return UnitReports(reports=reports, headcount=headcount, paired_communities=paired)


@router.put("/units/{unit}/headcount", summary="确认在职党员人数")
async def headcount(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, unit: str, body: HeadcountRequest
) -> Headcount:
    require_role(user, Role.UNIT_ADMIN)
    return await run(
        "unit",
        unit,
        commands.confirm_headcount(database=database, refdata=refdata, actor=user, unit_code=unit, body=body),
    )


@router.get("/units/{unit}/members", summary="本单位党员: the unit's members and their statuses, with names")
async def unit_members(
    database: ServiceDatabase,
    user: CurrentUser,
    settings: MemberSettings,
    unit: str,
    status: MemberStatus | None = None,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> MemberList:
    require_role(user, Role.UNIT_ADMIN)
    if user.org != unit:
        raise NotFound("unit", unit)
    query: dict[str, object] = {"unit_code": unit}
    if status:
        query["status"] = status.value
    return await run(
        "unit",
        unit,
        views.listing(database=database, reader=user, query=query, rules=settings.rules, limit=limit, cursor=cursor),
    )


# ---- members ----------------------------------------------------------------------------------------


@router.post("/members", status_code=201, summary="个人报到 (self, or at the community's desk)")
async def register(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    settings: MemberSettings,
    body: RegisterRequest,
) -> Member:
    require_role(user, Role.MEMBER, Role.COMMUNITY_WORKER)
    return await run(
        "member", "new", commands.register(database=database, refdata=refdata, actor=user, body=body, settings=settings)
    )


@router.get("/members/me", summary="我的报到: the caller's registration (the newest)")
async def me(database: ServiceDatabase, user: CurrentUser, settings: MemberSettings) -> Member:
    require_role(user, Role.MEMBER)
    return await run("member", "me", views.mine(database=database, reader=user, rules=settings.rules))


@router.get("/members", summary="报到人员: the community's members (community worker)")
async def listing(
    database: ServiceDatabase,
    user: CurrentUser,
    settings: MemberSettings,
    community: Code = None,
    status: MemberStatus | None = None,
    grid: Code = None,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> MemberList:
    require_role(user, Role.COMMUNITY_WORKER)
    if community is not None and community != user.org:
        raise ApiError(403, "forbidden", "只能查看本社区 (your own community only)")
    query: dict[str, object] = {"community_code": user.org}
    if status:
        query["status"] = status.value
    if grid:
        query["grid_code"] = grid
    return await run(
        "members",
        user.org,
        views.listing(database=database, reader=user, query=query, rules=settings.rules, limit=limit, cursor=cursor),
    )


@router.get("/members/{member_id}", summary="One member (names only to those allowed)")
async def one(database: ServiceDatabase, user: CurrentUser, settings: MemberSettings, member_id: str) -> Member:
    require_role(user, Role.MEMBER, Role.COMMUNITY_WORKER, Role.UNIT_ADMIN)
    return await run(
        "member", member_id, views.one(database=database, reader=user, member_id=member_id, rules=settings.rules)
    )


@router.post("/members/{member_id}/confirm", summary="确认报到 (community worker)")
async def confirm(
    database: ServiceDatabase, user: CurrentUser, settings: MemberSettings, member_id: str, body: EmptyRequest
) -> Member:
    return await run(
        "member", member_id, commands.confirm(database=database, actor=user, member_id=member_id, rules=settings.rules)
    )


@router.post("/members/{member_id}/place", summary="编入网格和服务小队 (community worker)")
async def place(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    settings: MemberSettings,
    member_id: str,
    body: PlaceRequest,
) -> Member:
    return await run(
        "member",
        member_id,
        commands.place(
            database=database,
            refdata=refdata,
            actor=user,
            member_id=member_id,
            grid_code=body.grid_code,
            squad=body.squad,
            rules=settings.rules,
        ),
    )


@router.post("/members/{member_id}/return", summary="回社区报到 (the member, or the community worker)")
async def return_to_community(
    database: ServiceDatabase, user: CurrentUser, settings: MemberSettings, member_id: str, body: EmptyRequest
) -> Member:
    return await run(
        "member",
        member_id,
        commands.return_to_community(database=database, actor=user, member_id=member_id, rules=settings.rules),
    )


@router.post("/members/{member_id}/deactivate", summary="退出 (moved or left), with the reason")
async def deactivate(
    database: ServiceDatabase, user: CurrentUser, settings: MemberSettings, member_id: str, body: ReasonRequest
) -> Member:
    return await run(
        "member",
        member_id,
        commands.deactivate(
            database=database, actor=user, member_id=member_id, reason=body.reason, rules=settings.rules
        ),
    )


@router.post("/members/{member_id}/transfer", summary="转出 to another community")
async def transfer(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    settings: MemberSettings,
    member_id: str,
    body: TransferRequest,
) -> Member:
    return await run(
        "member",
        member_id,
        commands.transfer(
            database=database,
            refdata=refdata,
            actor=user,
            member_id=member_id,
            to_community_code=body.to_community_code,
            rules=settings.rules,
        ),
    )


@router.get("/members/{member_id}/export", summary="个人信息导出 (admin)")
async def export(database: ServiceDatabase, user: CurrentUser, member_id: str) -> MemberExport:
    require_role(user, Role.ADMIN)
    return await run("member", member_id, privacy.export(database=database, member_id=member_id))


@router.post("/members/{member_id}/erase", summary="个人信息删除 (admin): ids stay, the private part goes")
async def erase(database: ServiceDatabase, user: CurrentUser, member_id: str, body: EmptyRequest) -> MemberExport:
    require_role(user, Role.ADMIN)
    return await run("member", member_id, privacy.erase(database=database, member_id=member_id, actor=user))


# ---- posts ------------------------------------------------------------------------------------------


@router.post("/posts", status_code=201, summary="发布公益岗位 in a grid of the community")
async def publish_post(
    database: ServiceDatabase, refdata: ReferenceData, user: CurrentUser, body: PublishPostRequest
) -> Post:
    require_role(user, Role.COMMUNITY_WORKER)
    return await run("post", "new", post_commands.publish(database=database, refdata=refdata, actor=user, body=body))


@router.get("/posts", summary="公益岗位: the community's posts")
async def posts(
    database: ServiceDatabase,
    refdata: ReferenceData,
    user: CurrentUser,
    community: Code = None,
    grid: Code = None,
    status: PostStatus | None = None,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> PostList:
    require_role(user, *post_views.READERS)
    paired = await unit_communities(refdata, user)
    return await run(
        "posts",
        community or user.org,
        post_views.listing(
            database=database,
            reader=user,
            community=community,
            grid=grid,
            status=status,
            paired=paired,
            limit=limit,
            cursor=cursor,
        ),
    )


@router.post("/posts/{post_id}/claim", summary="认领岗位 (the member themself)")
async def claim_post(database: ServiceDatabase, user: CurrentUser, post_id: str, body: EmptyRequest) -> Post:
    require_role(user, Role.MEMBER)
    return await run("post", post_id, post_commands.claim(database=database, actor=user, post_id=post_id))


@router.post("/posts/{post_id}/release", summary="释放岗位 (never one's last, while every member must hold one)")
async def release_post(
    database: ServiceDatabase, user: CurrentUser, settings: MemberSettings, post_id: str, body: EmptyRequest
) -> Post:
    require_role(user, Role.MEMBER)
    return await run(
        "post", post_id, post_commands.release(database=database, actor=user, post_id=post_id, rules=settings.rules)
    )


@router.post("/posts/{post_id}/close", summary="关闭岗位 (community worker)")
async def close_post(database: ServiceDatabase, user: CurrentUser, post_id: str, body: EmptyRequest) -> Post:
    require_role(user, Role.COMMUNITY_WORKER)
    return await run("post", post_id, post_commands.close(database=database, actor=user, post_id=post_id))
