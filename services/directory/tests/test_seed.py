"""The seed against the real database: a directory kept from before 共建 gains its units and need
categories when it starts again, and keeps every change its admins made."""

from datetime import UTC, datetime

import pytest

from gridloop.directory import handlers, store
from gridloop.shared.directory import Kind
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
NEW_KINDS = {Kind.UNIT, Kind.NEED_CATEGORY}


async def test_a_directory_from_before_units_gains_them_and_keeps_its_own_changes(servers: Servers) -> None:
    database = await service_database(servers, producer="directory", clock=SetClock(datetime(2026, 12, 1, tzinfo=UTC)))
    await store.ensure_indexes(database.db)
    seed = handlers.demo_seed()
    older = [(kind, code, data) for kind, code, data in seed if kind not in NEW_KINDS]
    assert await handlers.load_seed_if_empty(database, older) == len(older)
    renamed = await handlers.put_record(
        database,
        kind=Kind.CATEGORY,
        code="SJ-0101",
        body={"code": "SJ-0101", "name": "垃圾暴露", "family": "event", "major": {"code": "SJ-01", "name": "市容环境"}},
    )
    assert renamed["revision"] == 2

    added = await handlers.load_seed_if_empty(database, seed)

    assert added == len(seed) - len(older) == 14
    assert len(await store.list_kind(database.db, Kind.UNIT)) == 6
    assert (await store.get(database.db, Kind.CATEGORY, "SJ-0101") or {})["data"]["name"] == "垃圾暴露"
    assert await handlers.load_seed_if_empty(database, seed) == 0  # started again: nothing more
