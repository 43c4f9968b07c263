"""Transactions against the real database server: one cut off by its request's time (a stalled
database) leaves no lock behind, so the caller's retry goes through at once; connections the
server closed while idle are not used again."""

import asyncio
import contextlib
import signal
import struct
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo.errors import PyMongoError
from secantus.server import DEFAULT_CLIENT_IDLE_TIMEOUT_S

from gridloop.shared.ids import new_id
from gridloop.shared.mongo import (
    MAX_IDLE_MS,
    OUTBOX,
    Database,
    UnitOfWork,
    connect,
    ensure_collections,
    is_transient,
    request_budget,
)
from gridloop.stack.servers import Servers, free_port, start_database
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


class LateStatement:
    """A relay between the client and the database that holds back, once, the statement opening a
    transaction, as a busy server's queue holds it while the client's abort goes ahead on another
    connection."""

    def __init__(self, upstream_port: int, hold_s: float) -> None:
        self.upstream_port = upstream_port
        self.hold_s = hold_s
        self.holding = False
        self.delivered = asyncio.Event()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _relay(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        answers = asyncio.create_task(self._answers(server_in, client_out))
        try:
            while True:
                header = await client_in.readexactly(4)
                message = header + await client_in.readexactly(struct.unpack("<i", header)[0] - 4)
                late = self.holding and b"startTransaction" in message
                if late:
                    self.holding = False
                    await asyncio.sleep(self.hold_s)  # the client stops waiting meanwhile
                server_out.write(message)
                await server_out.drain()
                if late:
                    await asyncio.sleep(0.3)  # the server has handled it before anyone looks
                    self.delivered.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            answers.cancel()
            server_out.close()
            client_out.close()

    async def _answers(self, server_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await server_in.read(65536):
                client_out.write(data)
                await client_out.drain()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def test_a_statement_that_reaches_the_server_after_its_abort_opens_no_transaction(servers: Servers) -> None:
    late = LateStatement(servers.database.port, hold_s=1.5)
    port = await late.start()
    database = Database(
        connect(f"mongodb://127.0.0.1:{port}/?directConnection=true", timeout_ms=5000),
        f"late_{new_id()[-8:]}",
        producer="late-test",
        clock=SetClock(datetime(2026, 12, 31, 23, tzinfo=UTC)),
    )
    try:
        await ensure_collections(database.db, FILINGS, OUTBOX)
        key = f"same-key-{new_id()}"

        async def files(uow: UnitOfWork) -> None:
            await uow.db[FILINGS].insert_one({"_id": key, "try": 1}, session=uow.session)

        late.holding = True
        with request_budget(retry_s=0.0, timeout_s=0.5), pytest.raises(PyMongoError) as cut_off:
            await database.transaction(files)
        assert cut_off.value.timeout
        await asyncio.wait_for(late.delivered.wait(), timeout=10)

        async def files_again(uow: UnitOfWork) -> None:
            await uow.db[FILINGS].insert_one({"_id": key, "try": 2}, session=uow.session)

        # The first try's statement came after its abort: it must not hold the key against the retry.
        with request_budget(retry_s=0.0, timeout_s=5.0):
            await database.transaction(files_again)
        assert await database.db[FILINGS].find({"_id": key}).to_list(None) == [{"_id": key, "try": 2}]
    finally:
        await database.client.close()
        late.close()


KILLED_MID_TRANSACTION = """
import os, signal, sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1], directConnection=True)
with client.start_session() as session:
    session.start_transaction()
    client[sys.argv[2]].filings.insert_one({"_id": sys.argv[3], "try": 1}, session=session)
    os.kill(os.getpid(), signal.SIGKILL)  # a consumer killed between two statements
"""


async def test_a_transaction_whose_process_was_killed_lets_go_of_its_writes(tmp_path: Path) -> None:
    lifetime_s = 2.0
    server = start_database(free_port(), ":memory:", tmp_path, transaction_lifetime_s=lifetime_s)
    uri = f"mongodb://127.0.0.1:{server.port}/?directConnection=true"
    database = Database(
        connect(uri, timeout_ms=5000), "killed", producer="killed-test", clock=SetClock(datetime.now(UTC))
    )
    try:
        await ensure_collections(database.db, FILINGS)
        key = f"same-key-{new_id()}"
        killed = await asyncio.create_subprocess_exec(sys.executable, "-c", KILLED_MID_TRANSACTION, uri, "killed", key)
        assert await killed.wait() == -signal.SIGKILL

        async def takes_over(uow: UnitOfWork) -> None:
            await uow.db[FILINGS].insert_one({"_id": key, "try": 2}, session=uow.session)

        started = time.monotonic()
        while True:  # as a consumer that took over the partition retries the same ticket
            try:
                await database.transaction(takes_over)
                break
            except PyMongoError as exc:
                assert is_transient(exc), exc
                assert time.monotonic() - started < lifetime_s + 8, "the killed transaction still holds the key"
                await asyncio.sleep(0.2)
        assert await database.db[FILINGS].find({"_id": key}).to_list(None) == [{"_id": key, "try": 2}]
    finally:
        await database.client.close()
        server.stop()


async def test_after_a_quiet_spell_readiness_and_the_first_transaction_go_through_at_once(tmp_path: Path) -> None:
    """The server closes a connection that sent nothing for its idle limit (SecantusDB: 300 s;
    networks cut idle ones too). The client must not send the next command down such a
    connection: a readiness ping and a transaction's first statement are not retried."""
    assert MAX_IDLE_MS < DEFAULT_CLIENT_IDLE_TIMEOUT_S * 1000, "pooled connections outlive the server's idle limit"
    server = start_database(free_port(), ":memory:", tmp_path, client_idle_timeout_s=1.0)  # 300 s, shortened
    uri = f"mongodb://127.0.0.1:{server.port}/?directConnection=true"
    database = Database(
        connect(uri, timeout_ms=5000, max_idle_ms=500),  # below the limit, as MAX_IDLE_MS is below 300 s
        "quiet",
        producer="quiet-test",
        clock=SetClock(datetime.now(UTC)),
        max_attempts=1,  # a failed first attempt fails the test
    )
    try:
        await ensure_collections(database.db, FILINGS)
        await asyncio.gather(*(database.db[FILINGS].find_one({}) for _ in range(6)))  # a busy moment: a full pool
        await asyncio.sleep(2.0)  # then quiet: the server closes every one of those connections

        assert await database.ping(), "readiness failed after a quiet spell"

        async def files(uow: UnitOfWork) -> None:
            await uow.db[FILINGS].insert_one({"_id": "after-the-quiet"}, session=uow.session)

        await database.transaction(files)
        assert await database.db[FILINGS].count_documents({"_id": "after-the-quiet"}) == 1
    finally:
        await database.client.close()
        server.stop()
