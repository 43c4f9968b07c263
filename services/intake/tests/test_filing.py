"""Filing against the real database, with the directory's records as intake holds them: a grid may
arrive before its street (the compacted topic keeps no order across keys), and a report must then
wait for the street rather than be numbered in a district nobody named."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gridloop.intake import handlers, store
from gridloop.intake.domain import ReportRefused
from gridloop.shared.api.intake import ReportRequest
from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import OUTBOX
from gridloop.shared.refdata import RefData
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, demo_records, service_database

pytestmark = pytest.mark.integration
CST = ZoneInfo("Asia/Shanghai")
# 河西 (HX) is a street the directory has not announced yet; its first grid already has.
NEW_GRID = {
    "code": "HX01-G1",
    "name": "河西社区第1网格",
    "community": "HX01",
    "street": "HX",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[120.3, 30.3], [120.31, 30.3], [120.31, 30.31], [120.3, 30.31], [120.3, 30.3]]],
    },
}
WORKER = Actor(sub="gw-hx01", name="网格员", role=Role.GRID_WORKER, org="HX01")


async def test_a_grid_whose_street_the_directory_does_not_know_is_refused_and_nothing_is_filed(
    servers: Servers,
) -> None:
    database = await service_database(servers, producer="intake", clock=SetClock(datetime(2026, 11, 22, 9, tzinfo=CST)))
    refdata = RefData(database.db)
    await store.ensure_indexes(database.db)
    await refdata.ensure_indexes()
    for record in [*demo_records(), DirectoryRecord(kind="grid", code="HX01-G1", revision=1, data=NEW_GRID)]:
        await refdata.apply(record)
    request = ReportRequest(category_code="SJ-0101", description="垃圾堆积", grid_code="HX01-G1")

    with pytest.raises(ReportRefused) as refused:
        await handlers.file_report(
            database=database, refdata=refdata, request=request, reporter=WORKER, idempotency_key="hx-1"
        )
    assert refused.value.code == "unknown_street"
    assert refused.value.details == {"grid_code": "HX01-G1", "street_code": "HX"}
    assert "街道" in refused.value.message
    assert await database.db[store.REPORTS].count_documents({}) == 0
    assert await database.db[OUTBOX].count_documents({}) == 0
    assert await database.db[store.IDEMPOTENCY].count_documents({}) == 0

    # Once the street is announced, the same request (same key) is filed in the street's district.
    await refdata.apply(
        DirectoryRecord(kind="street", code="HX", revision=1, data={"code": "HX", "name": "河西街道", "district": "QH"})
    )
    view, replay = await handlers.file_report(
        database=database, refdata=refdata, request=request, reporter=WORKER, idempotency_key="hx-1"
    )
    assert not replay
    assert view["ticket_number"] == "QH-20261122-00001"
    assert view["street_code"] == "HX"
