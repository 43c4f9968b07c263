"""The needs' newest-first lists read in widening windows of ids: page by page through the cursor,
every need of the list comes once, newest first, however far back it was made."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild import store as cobuild_store
from gridloop.cobuild.needs import store
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, service_database

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AGES_DAYS = [0.01, 1, 2.99, 3.01, 10, 29.9, 30.1, 100, 179, 181, 400, 1200]


def _id_made(at: datetime, n: int) -> str:
    """A UUIDv7 of the instant `at`, as the service's new_id() makes them."""
    ms = int(at.timestamp() * 1000)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | n << 64 | 0b10 << 62 | n))


@pytest.mark.unit
def test_an_id_floor_sorts_below_every_id_made_at_or_after_its_instant_and_above_those_before() -> None:
    made = new_id()
    at = store.id_time(made)
    assert at is not None and abs(at - datetime.now(UTC)) < timedelta(seconds=5)
    assert store.id_floor(at) <= made < store.id_floor(at + timedelta(milliseconds=1))
    assert store.id_time("not-a-uuid") is None


@pytest.mark.integration
async def test_pages_of_a_list_reach_every_need_newest_first_across_the_windows(servers: Servers) -> None:
    database = await service_database(servers, producer="cobuild", clock=SetClock(NOW))
    await cobuild_store.ensure_indexes(database.db)
    docs = []
    for n, age in enumerate(AGES_DAYS):
        for community, status in (("LJ01", "published"), ("LJ01", "done"), ("LJ02", "published")):
            docs.append(
                {
                    "_id": _id_made(NOW - timedelta(days=age), n * 3 + len(docs) % 3),
                    "community_code": community,
                    "status": status,
                }
            )
    await database.db[store.NEEDS].insert_many(docs)

    async def pages(filters: list[dict[str, str]], limit: int) -> list[str]:
        seen: list[str] = []
        before = None
        while True:
            page = await store.newest_first(database.db, filters, before=before, limit=limit + 1, now=NOW)
            seen += [d["_id"] for d in page[:limit]]
            if len(page) <= limit:
                return seen
            before = page[limit - 1]["_id"]

    def expected(**match: str) -> list[str]:
        return sorted((d["_id"] for d in docs if all(d[k] == v for k, v in match.items())), reverse=True)

    for limit in (1, 2, 5, 50):
        assert await pages([{"community_code": "LJ01"}], limit) == expected(community_code="LJ01")
        assert await pages([{"community_code": "LJ01", "status": "published"}], limit) == expected(
            community_code="LJ01", status="published"
        )
    both = [{"community_code": "LJ01", "status": "published"}, {"community_code": "LJ02", "status": "published"}]
    assert await pages(both, 4) == expected(status="published")
    assert await pages([{"community_code": "SL01"}], 5) == []


class _Needs:
    """The needs collection as the database reads it for a look: every need of the filter's
    equalities within the look's range of ids is read (`read` counts them), the page sorted and cut."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.read = 0
        self.looks = 0
        self.hits: list[dict[str, Any]] = []

    def __getitem__(self, name: str) -> "_Needs":
        return self

    def find(self, query: dict[str, Any], projection: Any = None, session: Any = None) -> "_Needs":
        bound = query.get("_id", {})
        self.looks += 1
        self.hits = [
            d
            for d in self.docs
            if all(d[k] == v for k, v in query.items() if k != "_id")
            and d["_id"] < bound.get("$lt", "~")
            and d["_id"] >= bound.get("$gte", "")
        ]
        self.read += len(self.hits)
        return self

    def sort(self, spec: Any) -> "_Needs":
        self.hits.sort(key=lambda d: d["_id"], reverse=True)
        return self

    def limit(self, n: int) -> "_Needs":
        self.hits = self.hits[:n]
        return self

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for doc in self.hits:
            yield doc


def _history(per_day: dict[str, tuple[float, float, float]]) -> list[dict[str, Any]]:
    """Needs of each state made evenly between two ages (days), so many a day."""
    docs = []
    for status, (young, old, rate) in per_day.items():
        count = int((old - young) * rate)
        for n in range(count):
            age = young + (old - young) * (n + 0.5) / count
            docs.append({"_id": _id_made(NOW - timedelta(days=age), n), "community_code": "LJ01", "status": status})
    return docs


@pytest.mark.unit
async def test_a_page_over_a_year_reads_about_the_needs_it_shows_in_a_few_looks() -> None:
    # a year of a community's needs: many done ones further back, the open states recent
    needs = _Needs(
        _history(
            {
                "submitted": (0, 3, 16),
                "published": (0, 15, 9),
                "in_service": (3, 366, 2),
                "done": (3, 366, 15),
                "escalated": (15, 366, 0.5),
            }
        )
    )

    async def page(status: str | None) -> tuple[int, int, int]:
        needs.read = needs.looks = 0
        query = {"community_code": "LJ01", **({"status": status} if status else {})}
        found = await store.newest_first(needs, [query], before=None, limit=51, now=NOW)  # type: ignore[arg-type]
        assert [d["_id"] for d in found] == sorted(
            (d["_id"] for d in needs.docs if all(d[k] == v for k, v in query.items())), reverse=True
        )[:51]
        return len(found), needs.read, needs.looks

    for status in (None, "published", "in_service", "done", "escalated"):
        shown, read, looks = await page(status)
        assert shown == 51 and read < 3 * 51 and looks <= 4, (status, read, looks)
    # a state whose needs are all recent is read to its end without reading any twice
    assert await page("submitted") == (48, 48, 5)
    assert await page("withdrawn") == (0, 0, 4)  # none: the windows, then the rest without bound
