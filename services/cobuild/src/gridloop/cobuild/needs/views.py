"""What is read of needs: one need (with its beneficiary only for those who serve the household),
the caller's list, and the wish wall (public summaries only), each in the reader's scope."""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild import scope
from gridloop.cobuild.needs import domain, reference, store
from gridloop.shared.api.cobuild import Beneficiary, Need, NeedList, Wall, WallItem
from gridloop.shared.cobuild_lifecycle import NeedStatus
from gridloop.shared.events import Actor, NeedKind, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.paging import Cursor, page
from gridloop.shared.refdata import RefData

NeedsKey = tuple[Literal["needs"], str]
NEEDS_CURSOR = Cursor(TypeAdapter(NeedsKey))
WallKey = tuple[Literal["wall"], str]
WALL_CURSOR = Cursor(TypeAdapter(WallKey))
"""A page ends at a need: its id (time-ordered)."""


SHOWN_FIELDS = frozenset(Need.model_fields) - {"id", "beneficiary", "description", "allowed_actions"}
"""What of a stored need its answer shows (the document keeps more: claimant codes, contacts, version)."""


WALL_FIELDS: Doc = {
    field: 1
    for field in (
        "need_number",
        "kind",
        "category_code",
        "summary",
        "grid_code",
        "community_code",
        "claim_deadline",
        "claimants",
        "group",
    )
}
"""What the wish wall reads of a need (its public part; the document carries much more)."""


class UnknownNeed(LookupError):
    """No such need for the caller: none, or outside their sight."""


def shown(
    doc: Mapping[str, Any],
    *,
    reader: Actor,
    private: Mapping[str, Any] | None = None,
    unit_communities: frozenset[str] = frozenset(),
) -> Need:
    """The need as `reader` may see it: the beneficiary and the household's words only for those
    who serve the household (and only when `private` is given: never in a list)."""
    fields = {k: v for k, v in doc.items() if k in SHOWN_FIELDS}
    revealed = private is not None and scope.sees_private(reader, doc)
    beneficiary = (private or {}).get("beneficiary") if revealed else None
    return Need.model_validate(
        {
            **fields,
            "id": doc["_id"],
            "beneficiary": Beneficiary.model_validate(beneficiary) if beneficiary else None,
            "description": (private or {}).get("description") if revealed else None,
            "allowed_actions": domain.allowed_actions(doc, reader, unit_communities=unit_communities),
        }
    )


async def one(*, database: Database, refdata: RefData, reader: Actor, need_id: str) -> Need:
    communities = await reference.unit_communities(refdata, reader)
    doc = await store.get(database.db, need_id)
    if doc is None or not scope.sees(reader, doc, unit_communities=communities):
        raise UnknownNeed(need_id)
    private = await store.private(database.db, need_id) if scope.sees_private(reader, doc) else None
    return shown(doc, reader=reader, private=private, unit_communities=communities)


async def listing(
    *,
    database: Database,
    refdata: RefData,
    reader: Actor,
    status: NeedStatus | None,
    kind: NeedKind | None,
    grid: str | None,
    community: str | None,
    limit: int,
    cursor: str | None,
) -> NeedList:
    """The caller's needs, newest first; InvalidCursor for a cursor this list did not hand out."""
    before = NEEDS_CURSOR.decode(cursor)[1] if cursor else None
    filters: Doc = {}
    for field, value in (("status", status), ("kind", kind), ("grid_code", grid), ("community_code", community)):
        if value is not None:
            filters[field] = value.value if isinstance(value, NeedStatus | NeedKind) else value
    # a filter that contradicts a branch of the caller's scope leaves that branch out
    branches = [
        {**branch, **filters}
        for branch in scope.list_branches(reader)
        if all(filters.get(k, v) == v for k, v in branch.items())
    ]
    docs = await store.listing(database.db, branches=branches, before=before, limit=limit + 1, now=database.clock.now())
    communities = await reference.unit_communities(refdata, reader)
    shown_docs, next_cursor = page(docs, limit=limit, key=lambda d: NEEDS_CURSOR.encode(("needs", d["_id"])))
    return NeedList(
        items=[shown(d, reader=reader, unit_communities=communities) for d in shown_docs], next_cursor=next_cursor
    )


async def wall(
    *,
    database: Database,
    refdata: RefData,
    reader: Actor,
    community: str | None,
    grid: str | None,
    kind: NeedKind | None,
    limit: int,
    cursor: str | None,
) -> Wall:
    """心愿墙: needs open for claiming (published, or claimed by a group others may join), newest first."""
    before = WALL_CURSOR.decode(cursor)[1] if cursor else None
    communities = await reference.unit_communities(refdata, reader)
    readable = scope.wall_communities(reader, unit_communities=communities)
    if readable is None:  # a supervisor: the district's, or the street's
        places: list[Doc] = [{"district_code": reader.org}, {"street_code": reader.org}]
        if community:
            places = [{**p, "community_code": community} for p in places]
    else:
        chosen = [c for c in readable if community in (None, c)]
        places = [{"community_code": c} for c in chosen]
    extra: Doc = {}
    if grid:
        extra["grid_code"] = grid
    if kind:
        extra["kind"] = kind.value
    states: list[Doc] = [
        {"status": scope.WALL_OPEN.value},
        *({"status": s.value, "group": True} for s in scope.WALL_JOINABLE),
    ]
    filters = [{**place, **extra, **state} for place in places for state in states]
    docs = await store.newest_first(
        database.db, filters, before=before, limit=limit + 1, now=database.clock.now(), projection=WALL_FIELDS
    )
    names = await reference.category_names(refdata)
    shown_docs, next_cursor = page(docs, limit=limit, key=lambda d: WALL_CURSOR.encode(("wall", d["_id"])))
    return Wall(
        items=[
            WallItem(
                id=d["_id"],
                need_number=d["need_number"],
                kind=d["kind"],
                category_code=d["category_code"],
                category_name=names.get(d["category_code"], d["category_code"]),
                summary=d["summary"],
                grid_code=d["grid_code"],
                community_code=d["community_code"],
                claim_deadline=d.get("claim_deadline"),
                claimants=len(d.get("claimants", [])),
                group=bool(d.get("group")),
            )
            for d in shown_docs
        ],
        next_cursor=next_cursor,
    )


WALL_READERS = (Role.UNIT_ADMIN, Role.COMMUNITY_WORKER, Role.GRID_WORKER, Role.RESIDENT, Role.SUPERVISOR)
LIST_READERS = (
    Role.COMMUNITY_WORKER,
    Role.STREET_DISPATCHER,
    Role.SUPERVISOR,
    Role.RESIDENT,
    Role.GRID_WORKER,
    Role.UNIT_ADMIN,
)
