"""Transactions against the real database server: one cut off by its request's time (a stalled
database) leaves no lock behind, so the caller's retry goes through at once."""

from datetime import UTC, datetime

import pytest
from pymongo.errors import PyMongoError

from gridloop.shared.ids import new_id
from gridloop.shared.mongo import UnitOfWork, ensure_collections, request_budget
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, service_database

pytestmark = pytest.mark.integration
FILINGS = "filings"


async def test_a_transaction_cut_off_by_its_request_budget_releases_what_it_wrote(servers: Servers) -> None:
    database = await service_database(
        servers, producer="budget-test", clock=SetClock(datetime(2026, 12, 31, 23, tzinfo=UTC))
    )
    await ensure_collections(database.db, FILINGS)
    key = f"same-key-{new_id()}"

    async def stalls_after_writing(uow: UnitOfWork) -> None:
        await uow.db[FILINGS].insert_one({"_id": key, "try": 1}, session=uow.session)
        servers.database.pause()  # the database stalls; the request's time runs out meanwhile
        try:
            await uow.db[FILINGS].find_one({"_id": "anything"}, session=uow.session)
        finally:
            servers.database.resume()

    async def files_again(uow: UnitOfWork) -> None:
        await uow.db[FILINGS].insert_one({"_id": key, "try": 2}, session=uow.session)

    with request_budget(retry_s=0.0, timeout_s=0.5), pytest.raises(PyMongoError) as cut_off:
        await database.transaction(stalls_after_writing)
    assert cut_off.value.timeout
    # The retry, with no time to retry in, is not met by the first try's lock on the same key.
    with request_budget(retry_s=0.0, timeout_s=5.0):
        await database.transaction(files_again)
    assert await database.db[FILINGS].find({"_id": key}).to_list(None) == [{"_id": key, "try": 2}]
