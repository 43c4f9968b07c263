"""Routes of the points ledger under /v1/cobuild. Not yours: 403 (an account you may not see, or
another community's shop); unknown: 404; the shop closed or too few points: 409 with `code`
`shop_closed` (the next window in the message) or `insufficient_points`; what the body names: 422."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Path, Query

from gridloop.cobuild.deps import CurrentUser, ServiceDatabase
from gridloop.cobuild.points import commands, domain, views
from gridloop.shared.api import points as api
from gridloop.shared.auth import require_role
from gridloop.shared.clock import AwareIsoDatetime
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role

router = APIRouter(prefix="/v1/cobuild", tags=["cobuild-points"], responses=ERROR_RESPONSES)
CodePath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


@contextmanager
def points_errors(what: str) -> Iterator[None]:
    try:
        yield
    except (views.UnknownAccount, views.OutOfSight) as exc:
        raise NotFound("account" if ":" in what else "community or unit", what) from exc
    except commands.UnknownMember as exc:
        raise ApiError(422, "unknown_member", "本社区没有此报到党员或志愿者 (no such member here)") from exc
    except views.NotAllowed as exc:
        raise ApiError(403, "forbidden", "无权查看或办理 (not yours to see or do)") from exc
    except domain.PointsRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from exc


@router.get("/points/me", summary="我的积分: balance and movements", response_model=api.MyPoints)
async def my_points(database: ServiceDatabase, user: CurrentUser) -> api.MyPoints:
    require_role(user, Role.MEMBER)
    with points_errors(user.sub):
        return await views.mine(database.db, user)


@router.get("/points/accounts/{account}", summary="一个积分账户: balance and movements", response_model=api.Account)
async def account(
    database: ServiceDatabase, user: CurrentUser, account: Annotated[str, Path(min_length=3, max_length=100)]
) -> api.Account:
    with points_errors(account):
        return await views.account(database.db, user, account)


@router.get("/points/ledger", summary="一名成员的积分明细 (a period)", response_model=api.LedgerPage)
async def ledger(
    database: ServiceDatabase,
    user: CurrentUser,
    member: Annotated[str, Query(min_length=1, max_length=64, description="成员登记号，或 me")] = "me",
    since: Annotated[AwareIsoDatetime | None, Query(alias="from")] = None,
    until: AwareIsoDatetime | None = None,
) -> api.LedgerPage:
    with points_errors(f"member:{member}"):
        return await views.ledger(database.db, user, member=member, since=since, until=until)


@router.get("/points/ranking", summary="积分榜: the top 20 with points above zero", response_model=api.Ranking)
async def ranking(
    database: ServiceDatabase,
    user: CurrentUser,
    community: Annotated[str, Query(min_length=1, max_length=32)],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> api.Ranking:
    with points_errors(community):
        return await views.ranking(
            database.db,
            user,
            community=community,
            year=year or domain.city_day(database.clock.now()).year,
        )


@router.get("/units/{unit}/points", summary="单位积分: the sum of its members' balances", response_model=api.UnitPoints)
async def unit_points(database: ServiceDatabase, user: CurrentUser, unit: CodePath) -> api.UnitPoints:
    with points_errors(unit):
        return await views.unit_points(database.db, user, unit)


@router.get("/points/check", summary="对账: the ledger sums to zero", response_model=api.LedgerCheck)
async def check(database: ServiceDatabase, user: CurrentUser) -> api.LedgerCheck:
    require_role(user, Role.ADMIN, Role.SUPERVISOR)
    with points_errors("check"):
        return await views.check(database.db, user)


@router.get("/shops/{community}", summary="积分超市: items and windows", response_model=api.Shop)
async def get_shop(database: ServiceDatabase, user: CurrentUser, community: CodePath) -> api.Shop:
    with points_errors(community):
        return await views.shop(database.db, user, community, database.clock.now())


@router.put("/shops/{community}", summary="设置积分超市", response_model=api.Shop)
async def put_shop(
    database: ServiceDatabase, user: CurrentUser, community: CodePath, body: api.ShopRequest
) -> api.Shop:
    with points_errors(community):
        return await commands.set_shop(database, user, community, body)


@router.post(
    "/shops/{community}/redemptions",
    summary="积分兑换 (inside a window, up to the balance)",
    status_code=201,
    response_model=api.Redemption,
)
async def redeem(
    database: ServiceDatabase, user: CurrentUser, community: CodePath, body: api.RedemptionRequest
) -> api.Redemption:
    with points_errors(community):
        return await commands.redeem(database, user, community, body)
