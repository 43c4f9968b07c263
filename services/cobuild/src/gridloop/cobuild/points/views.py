"""What the ledger shows, and to whom: a member their own account; a community worker its
community's accounts, members and shop; a unit's admin its members' points; the district's
supervisor and the administrator everything, and the ledger's check."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.cobuild.points import domain, store
from gridloop.shared.api import points as api
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Doc

OVERSIGHT = (Role.ADMIN, Role.SUPERVISOR)


class UnknownAccount(Exception):
    pass


class NotAllowed(Exception):
    """The caller's role never may (403)."""


class OutOfSight(Exception):
    """The caller's role may, but not for this community, unit or account (404)."""


READERS = (Role.MEMBER, Role.COMMUNITY_WORKER, *OVERSIGHT)


def movement(doc: Mapping[str, Any], account: str) -> api.Movement:
    return api.Movement(
        id=doc["_id"],
        at=doc["at"],
        reason=doc["reason"],
        reason_name=domain.REASON_NAMES.get(doc["reason"], doc["reason"]),
        source_ref=doc["source_ref"],
        member_id=doc.get("member_id"),
        community_code=doc["community_code"],
        amount=sum(int(e["amount"]) for e in doc["entries"] if e["account"] == account),
        entries=[api.Entry(account=e["account"], amount=int(e["amount"])) for e in doc["entries"]],
        items=doc.get("items", []),
    )


async def account_view(db: AsyncDatabase[Doc], account: str) -> api.Account:
    docs = await store.movements_of(db, account)
    return api.Account(
        account=account, balance=await store.balance(db, account), movements=[movement(d, account) for d in docs]
    )


async def mine(db: AsyncDatabase[Doc], user: Actor) -> api.MyPoints:
    member = await store.member_by_sub(db, user.sub)
    if member is None:  # not registered (报到) yet: no points so far
        return api.MyPoints(account="", balance=0, movements=[], member_id=None, community_code=user.org)
    seen = await account_view(db, domain.member_account(member["_id"]))
    return api.MyPoints(**seen.model_dump(), member_id=member["_id"], community_code=member["community_code"])


async def account(db: AsyncDatabase[Doc], user: Actor, name: str) -> api.Account:
    if user.role not in READERS:
        raise NotAllowed(name)
    parsed = domain.parse_account(name)
    if parsed is None:
        raise UnknownAccount(name)
    kind, code = parsed
    if kind == "member":
        member = await store.member(db, code)
        if member is None:
            raise UnknownAccount(name)
        allowed = (
            user.role in OVERSIGHT
            or (user.role == Role.MEMBER and member.get("sub") == user.sub)
            or (user.role == Role.COMMUNITY_WORKER and member.get("community_code") == user.org)
        )
    else:
        allowed = user.role in OVERSIGHT or (user.role == Role.COMMUNITY_WORKER and user.org == code)
    if not allowed:
        raise OutOfSight(name)
    return await account_view(db, name)


def see_community(user: Actor, community: str) -> None:
    """Members and workers see their own community's ranking and shop; oversight every one."""
    if user.role not in READERS:
        raise NotAllowed(community)
    if user.role not in OVERSIGHT and user.org != community:
        raise OutOfSight(community)


async def ranking(db: AsyncDatabase[Doc], user: Actor, *, community: str, year: int) -> api.Ranking:
    see_community(user, community)
    start, end = domain.city_year(year)
    ranked = domain.ranking(await store.earned_in(db, community, start, end))
    names = await store.names(db, [m for m, _ in ranked])
    return api.Ranking(
        community_code=community,
        year=year,
        items=[
            api.RankingLine(rank=i + 1, member_id=m, name=domain.mask_name(names.get(m, "")), points=p)
            for i, (m, p) in enumerate(ranked)
        ],
    )


async def unit_points(db: AsyncDatabase[Doc], user: Actor, unit: str) -> api.UnitPoints:
    if (user.role == Role.UNIT_ADMIN and user.org == unit) or user.role in OVERSIGHT:
        community = None
    elif user.role == Role.COMMUNITY_WORKER:
        community = user.org  # its own community's members of the unit
    elif user.role == Role.UNIT_ADMIN:
        raise OutOfSight(unit)
    else:
        raise NotAllowed(unit)
    members = await store.unit_members(db, unit, community)
    balances = await store.balances_of(db, [domain.member_account(m["_id"]) for m in members])
    lines = [
        api.UnitMemberPoints(
            member_id=m["_id"],
            community_code=m["community_code"],
            balance=balances.get(domain.member_account(m["_id"]), 0),
        )
        for m in members
    ]
    return api.UnitPoints(unit_code=unit, total=sum(line.balance for line in lines), members=lines)


async def check(db: AsyncDatabase[Doc], user: Actor) -> api.LedgerCheck:
    if user.role not in OVERSIGHT:
        raise NotAllowed("check")
    result = domain.check(await store.all_balances(db), await store.movement_sums(db))
    return api.LedgerCheck(
        ok=result.ok,
        total=result.total,
        accounts=result.accounts,
        mismatched=[api.Mismatch(account=a, balance=b, movements_sum=s) for a, b, s in result.mismatched],
    )


def shop_model(doc: Mapping[str, Any]) -> domain.Shop:
    return domain.shop(doc["_id"], items=doc["items"], windows=doc["windows"])


async def shop(db: AsyncDatabase[Doc], user: Actor, community: str, now: datetime) -> api.Shop:
    see_community(user, community)
    doc = await store.get_shop(db, community)
    return shop_answer(doc or {"_id": community, "items": [], "windows": []}, now)


def shop_answer(doc: Mapping[str, Any], now: datetime) -> api.Shop:
    model = shop_model(doc)
    return api.Shop.model_validate(
        {
            "community_code": doc["_id"],
            "items": doc["items"],
            "windows": doc["windows"],
            "open_today": domain.is_open(model, now),
            "next_open": domain.next_open(model, now),
        }
    )


async def ledger(
    db: AsyncDatabase[Doc], user: Actor, *, member: str, since: datetime | None, until: datetime | None
) -> api.LedgerPage:
    """One member's movements in a period (oldest first): the member themself (`me`), their
    community's worker, oversight."""
    if user.role not in READERS:
        raise NotAllowed(member)
    if member == "me" and user.role != Role.MEMBER:
        raise domain.MemberRequired("请指定要查看的成员登记号 (name the member)")
    found = await (store.member_by_sub(db, user.sub) if member == "me" else store.member(db, member))
    if found is None and member == "me":
        return api.LedgerPage(member_id=None, items=[])  # not registered yet: no movements
    if found is None:
        raise OutOfSight(member)
    if member != "me":
        await account(db, user, domain.member_account(found["_id"]))  # raises unless the caller sees it
    name = domain.member_account(found["_id"])
    docs = await store.member_ledger(db, found["_id"], since=since, until=until)
    return api.LedgerPage(member_id=found["_id"], items=[movement(d, name) for d in docs])
