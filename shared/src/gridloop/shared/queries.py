"""Queries shaped so that an index bounds them on MongoDB and on the embedded SecantusDB alike.

MongoDB's planner serves an `$and` of equalities from a compound index and each branch of an
`$or` from its own index. SecantusDB uses an index only for a plain filter (no top-level `$and`
or `$or`) whose every field the index holds; anything else scans the whole collection. So a
listing is written as plain filters over an index's fields: clauses are merged into one
document (`all_of`), and a scope that grants by several fields (a supervisor's district or
street) is queried branch by branch (`scope_branches`, `find_each`) and the pages merged.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, Any]
SortSpec = Sequence[tuple[str, int]]


def all_of(*clauses: Doc) -> Doc:
    """The conjunction of `clauses` as one plain filter where no two name the same field;
    otherwise an `$and` (correct everywhere, served by an index only on MongoDB)."""
    merged: Doc = {}
    for clause in clauses:
        if clause.keys() & merged.keys():
            return {"$and": [c for c in clauses if c]}
        merged.update(clause)
    return merged


def scope_branches(scope: Doc) -> list[Doc]:
    """A scope filter (access.scope_filter) as the plain filters it is the union of."""
    return list(scope["$or"]) if set(scope) == {"$or"} else [scope]


def field_at(doc: Mapping[str, Any], path: str) -> Any:
    """A field by its MongoDB path (`verification.since`); None when any part is missing."""
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def sort_key(sort: SortSpec) -> Callable[[Doc], Any]:
    """Documents in MongoDB's order for `sort` (missing and null first when ascending)."""

    def compare(a: Doc, b: Doc) -> int:
        for path, direction in sort:
            x, y = field_at(a, path), field_at(b, path)
            if x == y:
                continue
            before = y is not None and (x is None or x < y)  # missing and null sort first
            return (-1 if before else 1) * direction
        return 0

    return cmp_to_key(compare)


async def find_each(
    collection: AsyncCollection[Doc],
    filters: Sequence[Doc],
    *,
    sort: SortSpec,
    limit: int,
    projection: Doc | None = None,
    session: AsyncClientSession | None = None,
) -> list[Doc]:
    """The first `limit` documents matching any of `filters` in `sort` order, each filter one
    query with its own bound, the union merged and each document kept once."""
    found: dict[Any, Doc] = {}
    for query in filters:
        cursor = collection.find(query, projection, session=session).sort(list(sort)).limit(limit)
        async for doc in cursor:
            found.setdefault(doc["_id"], doc)
    if len(filters) == 1:  # one query: the database's order and limit are the answer's
        return list(found.values())
    return sorted(found.values(), key=sort_key(sort))[:limit]
