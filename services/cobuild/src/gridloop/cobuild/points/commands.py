"""What a community worker does at the 积分超市: set the shop (items and windows), and register a
member's redemption inside a window, up to their balance (the member pays the shop)."""

from typing import Any

from gridloop.cobuild.points import domain, store, views
from gridloop.shared.api import points as api
from gridloop.shared.events import Actor, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, UnitOfWork


class UnknownMember(Exception):
    pass


def _own_community(user: Actor, community: str) -> None:
    if user.role != Role.COMMUNITY_WORKER:
        raise views.NotAllowed(community)
    if user.org != community:
        raise views.OutOfSight(community)


async def set_shop(database: Database, user: Actor, community: str, body: api.ShopRequest) -> api.Shop:
    _own_community(user, community)
    raw: dict[str, Any] = body.model_dump(mode="json")
    domain.shop(community, items=raw["items"], windows=raw["windows"])  # refuses what makes no sense

    async def work(uow: UnitOfWork) -> api.Shop:
        doc = {**raw, "updated_at": uow.now, "updated_by": user.sub}
        await store.save_shop(uow, community, doc)
        return views.shop_answer({"_id": community, **doc}, uow.now)

    return await database.transaction(work)


async def redeem(database: Database, user: Actor, community: str, body: api.RedemptionRequest) -> api.Redemption:
    _own_community(user, community)

    async def work(uow: UnitOfWork) -> api.Redemption:
        member = await store.member(uow.db, body.member_id, session=uow.session)
        if member is None or member.get("community_code") != community or member.get("erased"):
            raise UnknownMember(body.member_id)
        doc = await store.get_shop(uow.db, community, session=uow.session)
        if doc is None:
            raise domain.ShopClosed("本社区尚未设置积分超市 (the community has no shop yet)")
        account = domain.member_account(body.member_id)
        movement = domain.redeem(
            views.shop_model(doc),
            lines=[domain.Line(code=line.code, qty=line.qty) for line in body.items],
            balance=await store.balance(uow.db, account, session=uow.session),
            member_id=body.member_id,
            redemption_id=new_id(),
            now=uow.now,
            unit=member.get("unit_code"),
        )
        posted = await store.post(uow, movement, actor=user)
        assert posted is not None  # a fresh redemption id is never paid before
        return api.Redemption(
            movement_id=posted["_id"],
            member_id=body.member_id,
            spent=-movement.member_amount,
            balance=await store.balance(uow.db, account, session=uow.session),
            items=[dict(i) for i in movement.items],
        )

    return await database.transaction(work)
