"""The needs' newest-first lists read in widening windows of ids: page by page through the cursor,
every need of the list comes once, newest first, however far back it was made."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gridloop.cobuild import store as cobuild_store
from gridloop.cobuild.needs import store
from gridloop.shared.ids import new_id
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
AGES_DAYS = [0.01, 1, 2.99, 3.01, 10, 29.9, 30.1, 100, 179, 181, 400, 1200]


def _id_made(at: datetime, n: int) -> str:
    """A UUIDv7 of the instant `at`, as the service's new_id() makes them."""
    ms = int(at.timestamp() * 1000)
    return str(uuid.UUID(int=ms << 80 | 0x7 << 76 | n << 64 | 0b10 << 62 | n))


def test_an_id_floor_sorts_below_every_id_made_at_or_after_its_instant_and_above_those_before() -> None:
    made = new_id()
    at = store.id_time(made)
    assert at is not None and abs(at - datetime.now(UTC)) < timedelta(seconds=5)
    assert store.id_floor(at) <= made < store.id_floor(at + timedelta(milliseconds=1))
    assert store.id_time("not-a-uuid") is None


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
