"""积分 pages: a member's own points (我的积分: the balance and each movement with its reason), and
the community worker's 积分超市 (the shop's items and redemption days, a member's redemption, and
the year's ranking: the top 20 with points above zero, never a bottom list).

The service decides (windows, balances, who may); the page shows and posts, and says in Chinese
why something was refused."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from gridloop.shared.api.points import RedemptionLine, RedemptionRequest, ShopRequest
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Role
from gridloop.web.clients.base import Refused, body_of
from gridloop.web.clients.points import PointsClient
from gridloop.web.console.cobuild import Refusal, text
from gridloop.web.deps import Form, Pages, client_of, desk_of
from gridloop.web.sessions import Staff

router = APIRouter(prefix="/console/volunteer", include_in_schema=False)
Member = Annotated[Staff, Depends(desk_of(Role.MEMBER))]
Worker = Annotated[Staff, Depends(desk_of(Role.COMMUNITY_WORKER))]
Points = Annotated[PointsClient, Depends(client_of(PointsClient))]
DONE = {"shop": "积分超市已保存。", "redeem": "兑换已登记，积分已扣减。"}


@router.get("/points", response_class=HTMLResponse)
async def my_points(request: Request, pages: Pages, points: Points, person: Member) -> Response:
    """我的积分: the balance and every movement, newest first, with its reason in Chinese."""
    mine = await points.mine()
    return pages.render(request, person, "console/volunteer/points_me.html", {"mine": mine})


def _items(raw: str) -> list[dict[str, Any]]:
    """One item a line: 编码 名称 积分 (separated by spaces or commas)."""
    items: list[dict[str, Any]] = []
    for line in raw.splitlines():
        parts = line.replace("，", ",").replace(",", " ").split()
        if not parts:
            continue
        if len(parts) < 3 or not parts[-1].isdigit():
            raise Refused(422, "invalid_items", f"商品格式不对：“{line.strip()}”。每行写：编码 名称 积分")
        items.append({"code": parts[0], "name": " ".join(parts[1:-1]), "price": int(parts[-1])})
    return items


def _windows(form: FormData) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = []
    day = text(form, "monthly_day")
    if day:
        if not day.isdigit():
            raise Refused(422, "invalid_window", "每月兑换日请填写1至31的数字")
        windows.append({"kind": "monthly", "day": int(day)})
    start, end = text(form, "range_start"), text(form, "range_end")
    if start or end:
        windows.append({"kind": "range", "start": start, "end": end or start})
    return windows


def _shop_body(form: FormData) -> ShopRequest:
    try:
        return ShopRequest.model_validate({"items": _items(text(form, "items")), "windows": _windows(form)})
    except ValidationError as exc:
        fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        message = "请至少填写一个商品" if "items" in fields else "请填写每月兑换日或一段兑换期（开始日不晚于结束日）"
        raise Refused(422, "invalid_shop", message) from exc


async def _shop_page(
    request: Request, pages: Pages, points: PointsClient, person: Staff, refusal: Refusal | None = None
) -> Response:
    community = person.user.org
    today = pages.clock.now().astimezone(CITY_ZONE).date()
    year = today.year
    shop, ranking = await asyncio.gather(points.shop(community), points.ranking(community, year))
    context = {
        "shop": shop,
        "ranking": ranking,
        "refusal": refusal,
        "done": DONE.get(request.query_params.get("done", ""), ""),
        "items_text": "\n".join(f"{i.code} {i.name} {i.price}" for i in shop.items),
        "monthly_day": next((w.day for w in shop.windows if w.kind == "monthly"), ""),
        "range": next((w for w in shop.windows if w.kind == "range"), None),
        "today": today.isoformat(),
    }
    status = refusal.status if refusal else 200
    return pages.render(request, person, "console/volunteer/points_shop.html", context, status=status)


@router.get("/shop", response_class=HTMLResponse)
async def shop_page(request: Request, pages: Pages, points: Points, person: Worker) -> Response:
    """积分超市: the shop's setup, a redemption, and the year's ranking."""
    return await _shop_page(request, pages, points, person)


@router.post("/shop")
async def set_shop(request: Request, form: Form, pages: Pages, points: Points, person: Worker) -> Response:
    try:
        await points.set_shop(person.user.org, _shop_body(form))
    except Refused as exc:
        return await _shop_page(request, pages, points, person, Refusal.of("shop", exc, form))
    return RedirectResponse("/console/volunteer/shop?done=shop", status_code=303)


@router.post("/shop/redemptions")
async def redeem(request: Request, form: Form, pages: Pages, points: Points, person: Worker) -> Response:
    """兑换: the quantities typed beside each item, for the member named."""
    try:
        lines = [
            RedemptionLine(code=str(key).removeprefix("qty-"), qty=int(str(value)))
            for key, value in form.items()
            if str(key).startswith("qty-") and str(value).strip().isdigit() and int(str(value)) > 0
        ]
        if not text(form, "member_id"):
            raise Refused(422, "no_member", "请填写兑换人的报到登记号")
        if not lines:
            raise Refused(422, "no_items", "请填写要兑换的商品数量")
        body = body_of(RedemptionRequest, member_id=text(form, "member_id"), items=lines)
        await points.redeem(person.user.org, body)
    except Refused as exc:
        return await _shop_page(request, pages, points, person, Refusal.of("redeem", exc, form))
    return RedirectResponse("/console/volunteer/shop?done=redeem", status_code=303)
