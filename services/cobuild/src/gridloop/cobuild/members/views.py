"""What is read of members: who sees which member, and whose name (the member themself, the
admin of their own work unit, the community worker of their community); the member as shown."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.members import domain, store
from gridloop.cobuild.posts import store as posts_store
from gridloop.shared.api.members import Member, MemberList
from gridloop.shared.events import Actor, ReportChannel, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor
from gridloop.shared.volunteering_lifecycle import MemberStatus

MembersKey = tuple[Literal["members"], str]
MEMBERS_CURSOR = Cursor(TypeAdapter(MembersKey))


class UnknownMember(LookupError):
    """No such member for the caller: none, or outside their sight."""


def sees(actor: Actor, member: Mapping[str, Any]) -> bool:
    match actor.role:
        case Role.MEMBER:
            return bool(member["sub"] == actor.sub)
        case Role.COMMUNITY_WORKER:
            return bool(member["community_code"] == actor.org)
        case Role.UNIT_ADMIN:
            return bool(member.get("unit_code") == actor.org)
        case Role.ADMIN:
            return True
    return False


def sees_name(actor: Actor, member: Mapping[str, Any]) -> bool:
    """The person's name and phone: to themself, their unit's admin (its own staff), their community worker."""
    return actor.role in (Role.MEMBER, Role.COMMUNITY_WORKER, Role.UNIT_ADMIN) and sees(actor, member)


def shown(
    doc: Mapping[str, Any],
    *,
    reader: Actor,
    private: Mapping[str, Any] | None,
    posts: list[str],
    rules: domain.Rules,
) -> Member:
    status = MemberStatus(doc["status"])
    named = private is not None and sees_name(reader, doc)
    no_post = rules.require_post and status == MemberStatus.ACTIVE and not posts
    return Member(
        id=doc["_id"],
        status=status,
        status_label=domain.STATUS_LABELS[status],
        party_member=doc["party_member"],
        unit_code=doc.get("unit_code"),
        community_code=doc["community_code"],
        grid_code=doc.get("grid_code"),
        squad=doc.get("squad"),
        skills=doc.get("skills", []),
        service_types=doc.get("service_types", []),
        availability=doc.get("availability", ""),
        channel=ReportChannel(doc["channel"]),
        registered_at=doc["registered_at"],
        reported_at=doc.get("reported_at"),
        placed_at=doc.get("placed_at"),
        last_return_at=doc.get("last_return_at"),
        lapsed_reason=doc.get("lapsed_reason"),
        erased=bool(doc.get("erased")),
        posts=posts,
        post_note=domain.NO_POST if no_post else None,
        name=private["name"] if named and private else None,
        phone=private["phone"] if named and private else None,
        id_tail=private["id_tail"] if named and private else None,
    )


async def one(*, database: Database, reader: Actor, member_id: str, rules: domain.Rules) -> Member:
    doc = await store.get(database.db, member_id)
    if doc is None or not sees(reader, doc):
        raise UnknownMember(member_id)
    return await present(database=database, reader=reader, doc=doc, rules=rules)


async def present(*, database: Database, reader: Actor, doc: Doc, rules: domain.Rules) -> Member:
    private = await store.private(database.db, doc["_id"]) if sees_name(reader, doc) else None
    posts = [str(p["_id"]) for p in await posts_store.held_by(database.db, doc["_id"])]
    return shown(doc, reader=reader, private=private, posts=posts, rules=rules)


async def mine(*, database: Database, reader: Actor, rules: domain.Rules) -> Member:
    doc = await store.latest_of(database.db, reader.sub)
    if doc is None:
        raise UnknownMember("me")
    return await present(database=database, reader=reader, doc=doc, rules=rules)


async def listing(
    *, database: Database, reader: Actor, query: Doc, rules: domain.Rules, limit: int, cursor: str | None
) -> MemberList:
    after = MEMBERS_CURSOR.decode(cursor)[1] if cursor else None
    docs = await store.listing(database.db, query, after=after, limit=limit + 1)
    docs, last = docs[:limit], (docs[limit - 1]["_id"] if len(docs) > limit else None)
    ids = [d["_id"] for d in docs]
    named = [i for i, d in zip(ids, docs, strict=True) if sees_name(reader, d)]
    privates = await store.privates(database.db, named) if named else {}
    held = await posts_store.holders_posts(database.db, ids) if ids else {}
    items = [
        shown(d, reader=reader, private=privates.get(d["_id"]), posts=held.get(d["_id"], []), rules=rules) for d in docs
    ]
    return MemberList(items=items, next_cursor=MEMBERS_CURSOR.encode(("members", last)) if last else None)
