"""What people ask of 公益岗位: the community worker publishes and closes posts in its grids; a
member of the community claims and releases one. Each in one transaction, decided by the domain;
post.published/closed keyed by the post, post.claimed/released by the member."""

from gridloop.cobuild.members import store as members_store
from gridloop.cobuild.members.commands import grid_community, residence
from gridloop.cobuild.members.domain import MemberRefused, Rules
from gridloop.cobuild.posts import domain, store, views
from gridloop.shared.api.members import Post, PublishPostRequest
from gridloop.shared.events import Actor, Role, VolunteeringPayload
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData


class UnknownPost(LookupError):
    """No such post for the caller."""


def _community_worker(actor: Actor) -> None:
    if actor.role != Role.COMMUNITY_WORKER:
        raise MemberRefused(403, "forbidden", "只有社区工作者可以管理岗位 (the community worker only)")


async def publish(*, database: Database, refdata: RefData, actor: Actor, body: PublishPostRequest) -> Post:
    _community_worker(actor)
    place = await residence(refdata, actor.org)
    grid_of = await grid_community(refdata, body.grid_code)
    if place is None:
        raise MemberRefused(422, "unknown_community", f"社区不存在 ({actor.org})")

    async def work(uow: UnitOfWork) -> Post:
        post_id = "P-" + new_id().replace("-", "")
        event, doc = domain.publish(
            post_id=post_id,
            grid_code=body.grid_code,
            grid_community=grid_of,
            community_code=actor.org,
            street_code=place.street_code,
            district_code=place.district_code,
            category=body.category,
            title=body.title,
            duties=body.duties,
            headcount=body.headcount,
            now=uow.now,
        )
        await uow.db[store.POSTS].insert_one(doc, session=uow.session)
        await uow.emit(event, ticket_id=post_id, actor=actor)
        return views.shown(doc)

    return await database.transaction(work)


def _sees(actor: Actor, post_community: str) -> bool:
    return actor.role in (Role.COMMUNITY_WORKER, Role.MEMBER) and actor.org == post_community


async def close(*, database: Database, actor: Actor, post_id: str) -> Post:
    _community_worker(actor)

    async def work(uow: UnitOfWork) -> Post:
        post = await store.get(uow.db, post_id, session=uow.session)
        if post is None or not _sees(actor, post["community_code"]):
            raise UnknownPost(post_id)
        event, changes = domain.close(post)
        await update_versioned(uow, store.POSTS, post, changes)
        await uow.emit(event, ticket_id=post_id, actor=actor)
        return views.shown({**post, **changes})

    return await database.transaction(work)


async def claim(*, database: Database, actor: Actor, post_id: str) -> Post:
    return await _holder_step(database=database, actor=actor, post_id=post_id, release=False, rules=Rules())


async def release(*, database: Database, actor: Actor, post_id: str, rules: Rules) -> Post:
    return await _holder_step(database=database, actor=actor, post_id=post_id, release=True, rules=rules)


async def _holder_step(*, database: Database, actor: Actor, post_id: str, release: bool, rules: Rules) -> Post:
    if actor.role != Role.MEMBER:
        raise MemberRefused(403, "forbidden", "只有报到人员本人可以认领或释放岗位 (members only)")

    async def work(uow: UnitOfWork) -> Post:
        post = await store.get(uow.db, post_id, session=uow.session)
        if post is None or not _sees(actor, post["community_code"]):
            raise UnknownPost(post_id)
        member = await members_store.latest_of(uow.db, actor.sub, session=uow.session)
        if member is None:
            raise MemberRefused(409, "not_registered", "请先报到 (register first)")
        event: VolunteeringPayload
        if release:
            others = [p for p in await store.held_by(uow.db, member["_id"], session=uow.session) if p["_id"] != post_id]
            event, changes = domain.release(post, member, other_posts=len(others), require_post=rules.require_post)
        else:
            event, changes = domain.claim(post, member)
        await update_versioned(uow, store.POSTS, post, changes)
        await uow.emit(event, ticket_id=member["_id"], actor=actor)
        return views.shown({**post, **changes})

    return await database.transaction(work)
