"""The floor under intake for `tests.load.bench_load`: a bare FastAPI + uvicorn endpoint that takes the
same request body as POST /v1/reports and writes a report document of intake's shape and one
outbox row in one transaction through PyMongo's async API. No auth, no reference data, no
checks, no ticket counter, no duplicate hint: whatever intake spends beyond this is its own.

    python -m tests.load.bare_intake --port 8100 --mongo-uri mongodb://127.0.0.1:27017/ --db bench_bare
"""

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from gridloop.shared.ids import new_id
from gridloop.shared.mongo import MAX_IDLE_MS, OUTBOX, is_transient

Doc = dict[str, Any]


def report_document(body: Doc, now: datetime) -> Doc:
    """What intake stores for a filing, with fixed stand-ins for what it would look up."""
    ticket_id = new_id()
    location = body.get("location") or {}
    return {
        "_id": ticket_id,
        "ticket_number": f"BARE-{now:%Y%m%d}-{ticket_id}",  # unique without a shared counter
        "category_code": body.get("category_code", ""),
        "category_name": "基准",
        "description": body.get("description", ""),
        "location": location,
        "address": body.get("address", ""),
        "grid_code": "BARE-G1",
        "community_code": "BARE",
        "street_code": "BARE",
        "district_code": "QH",
        "photos": [],
        "priority": "normal",
        "evidence_required": False,
        "possible_duplicates": [],
        "point": {"type": "Point", "coordinates": [location.get("lon", 0.0), location.get("lat", 0.0)]},
        "status": "reported",
        "reporter": {"sub": "bare", "name": "bare", "role": "grid_worker", "org": "BARE"},
        "created_at": now,
        "updated_at": now,
        "history": [{"event_type": "ticket.reported", "status": "reported", "at": now}],
    }


def outbox_row(report: Doc, now: datetime) -> Doc:
    """An outbox row as the unit of work writes one: the event's wire bytes, pending."""
    value = json.dumps({"event_type": "ticket.reported", "ticket_id": report["_id"], "payload": report}, default=str)
    return {
        "_id": new_id(),
        "topic": "gridloop.tickets.v1",
        "key": report["_id"],
        "value": value.encode(),
        "headers": [["event_type", b"ticket.reported"]],
        "event_type": "ticket.reported",
        "status": "pending",
        "created_at": now,
    }


def create_app(*, mongo_uri: str, db_name: str) -> FastAPI:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        mongo_uri, tz_aware=True, uuidRepresentation="standard", maxIdleTimeMS=MAX_IDLE_MS
    )
    db = client[db_name]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)

    async def write(session: AsyncClientSession, report: Doc, now: datetime) -> None:
        await db["reports"].insert_one(report, session=session)
        await db[OUTBOX].insert_one(outbox_row(report, now), session=session)

    @app.post("/v1/reports", status_code=201)
    async def file(request: Request) -> JSONResponse:
        body = await request.json()
        delay = 0.05
        for attempt in range(1, 9):
            now = datetime.now(UTC)
            report = report_document(body, now)
            try:
                async with client.start_session() as session, await session.start_transaction():
                    await write(session, report, now)
                return JSONResponse({"ticket_id": report["_id"], "ticket_number": report["ticket_number"]}, 201)
            except PyMongoError as exc:
                if not is_transient(exc) or attempt == 8:
                    print(json.dumps({"event": "bare_failed", "error": str(exc)}), flush=True)
                    return JSONResponse({"error": {"code": "bare_failed", "message": str(exc)}}, 503)
                # the same log line intake writes, so the bench counts both alike
                print(json.dumps({"event": "transaction_retry", "attempt": attempt, "error": str(exc)}), flush=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mongo-uri", required=True)
    parser.add_argument("--db", default="bench_bare")
    args = parser.parse_args()
    # As the services run: one process, no access log, the same event loop and HTTP parser.
    uvicorn.run(
        create_app(mongo_uri=args.mongo_uri, db_name=args.db),
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )


if __name__ == "__main__":
    main()
