"""What is read of posts: a community's posts (its community worker and its members), newest first."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.posts import domain, store
from gridloop.shared.api.members import Post, PostCategory, PostList, PostStatus
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor

PostsKey = tuple[Literal["posts"], str]
POSTS_CURSOR = Cursor(TypeAdapter(PostsKey))
READERS = (Role.COMMUNITY_WORKER, Role.MEMBER, Role.UNIT_ADMIN)


def shown(doc: Mapping[str, Any]) -> Post:
    return Post(
        id=doc["_id"],
        grid_code=doc["grid_code"],
        community_code=doc["community_code"],
        category=PostCategory(doc["category"]),
        title=doc["title"],
        duties=doc["duties"],
        headcount=doc["headcount"],
        holders=list(doc["holders"]),
        open_places=domain.open_places(doc),
        status=PostStatus(doc["status"]),
        published_at=doc["published_at"],
    )


def communities(reader: Actor, asked: str | None, paired: frozenset[str]) -> list[str]:
    """The communities whose posts the reader may list (a unit admin: its paired communities)."""
    own = sorted(paired) if reader.role == Role.UNIT_ADMIN else [reader.org]
    return [c for c in own if asked is None or c == asked]


async def listing(
    *,
    database: Database,
    reader: Actor,
    community: str | None,
    grid: str | None,
    status: PostStatus | None,
    paired: frozenset[str],
    limit: int,
    cursor: str | None,
) -> PostList:
    after = POSTS_CURSOR.decode(cursor)[1] if cursor else None
    query: Doc = {"community_code": {"$in": communities(reader, community, paired)}}
    if grid:
        query["grid_code"] = grid
    if status:
        query["status"] = status.value
    docs = await store.listing(database.db, query, after=after, limit=limit + 1)
    last = docs[limit - 1]["_id"] if len(docs) > limit else None
    items = [shown(d) for d in docs[:limit]]
    if reader.role == Role.UNIT_ADMIN:
        items = [i.model_copy(update={"holders": []}) for i in items]  # holders are the community's to see
    return PostList(items=items, next_cursor=POSTS_CURSOR.encode(("posts", last)) if last else None)
