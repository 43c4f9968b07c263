"""Directory commands: load a seed, change a record, and announce records on the directory topic."""

from importlib import resources
from typing import Any

import yaml

from gridloop.directory import domain, store
from gridloop.directory.domain import InvalidReference, parse_record, references, seed_records
from gridloop.shared.directory import DirectoryRecord, Kind
from gridloop.shared.events import DIRECTORY_TOPIC, Actor
from gridloop.shared.mongo import Database, Doc, UnitOfWork

SEED_ACTOR = {"sub": "directory-seed", "name": "初始数据", "role": "system", "org": ""}


class UnknownRecord(LookupError):
    def __init__(self, kind: Kind, code: str) -> None:
        self.kind = kind
        self.code = code
        super().__init__(f"{kind.value} {code}")


class OutsideGrids(LookupError):
    """No grid contains the point."""


def demo_seed() -> list[tuple[Kind, str, dict[str, Any]]]:
    """The packaged demo directory of the fictional 青禾区."""
    seed = resources.files("gridloop.directory") / "seed"
    grids = yaml.safe_load((seed / "grids.yaml").read_text(encoding="utf-8"))
    catalogue = yaml.safe_load((seed / "catalogue.yaml").read_text(encoding="utf-8"))
    cobuild = yaml.safe_load((seed / "cobuild.yaml").read_text(encoding="utf-8"))
    calendars = yaml.safe_load((seed / "calendar.yaml").read_text(encoding="utf-8"))
    return seed_records(grids, {**catalogue, **cobuild}, calendars["calendars"])


async def _announce(uow: UnitOfWork, *, kind: Kind, code: str, data: dict[str, Any], revision: int) -> None:
    record = DirectoryRecord(kind=kind.value, code=code, revision=revision, data=data)
    await uow.enqueue(
        topic=DIRECTORY_TOPIC,
        key=record.key,
        value=record.model_dump_json().encode(),
        headers=[("kind", kind.value.encode())],
        event_type=f"directory.{kind.value}",
    )


async def load_seed_if_empty(database: Database, records: list[tuple[Kind, str, dict[str, Any]]]) -> int:
    """A fresh directory starts from the seed; an existing one keeps its own changes, and gains only
    the seed's records of the kinds it holds none of (units and need categories came with 共建)."""

    async def work(uow: UnitOfWork) -> int:
        kinds = {kind for kind, _, _ in records}
        held = {k for k in kinds if await store.holds(uow.db, k, session=uow.session)}
        missing = [(kind, code, data) for kind, code, data in records if kind not in held]
        for kind, code, data in missing:
            await store.save(
                uow.db,
                kind=kind,
                code=code,
                data=data,
                revision=1,
                session=uow.session,
                changed_by=SEED_ACTOR,
                changed_at=uow.now,
            )
        return len(missing)

    return await database.transaction(work)


async def announce_all(database: Database) -> int:
    """Put every record on the compacted topic, so a broker that lost its data is refilled."""

    async def work(uow: UnitOfWork) -> int:
        docs: list[Doc] = await store.all_records(uow.db, session=uow.session)
        order = list(Kind)
        docs.sort(key=lambda d: (order.index(Kind(d["kind"])), d["code"]))
        for doc in docs:
            await _announce(uow, kind=Kind(doc["kind"]), code=doc["code"], data=doc["data"], revision=doc["revision"])
        marker = DirectoryRecord(
            kind="snapshot",
            code="directory",
            revision=int(uow.now.timestamp() * 1000),
            data={"records": len(docs), "at": uow.now.isoformat()},
        )
        await uow.enqueue(
            topic=DIRECTORY_TOPIC,
            key=marker.key,
            value=marker.model_dump_json().encode(),
            headers=[("kind", b"snapshot")],
            event_type="directory.snapshot",
        )
        return len(docs)

    return await database.transaction(work)


async def put_record(
    database: Database, *, kind: Kind, code: str, body: dict[str, Any], actor: Actor | None = None
) -> dict[str, Any]:
    """Create or replace one record, check what it names exists, and announce the new revision."""
    data = parse_record(kind, code, body)

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        for ref_kind, ref_code in references(kind, data):
            if await store.get(uow.db, ref_kind, ref_code, session=uow.session) is None:
                raise InvalidReference(f"unknown {ref_kind.value} {ref_code}")
        current = await store.get(uow.db, kind, code, session=uow.session)
        if current is not None and current["data"] == data:
            # Re-importing the same files changes nothing and announces nothing.
            return {
                "kind": kind.value,
                "code": code,
                "revision": current["revision"],
                "data": data,
                "outcome": "unchanged",
            }
        revision = (current["revision"] if current else 0) + 1
        await store.save(
            uow.db,
            kind=kind,
            code=code,
            data=data,
            revision=revision,
            session=uow.session,
            changed_by=actor.model_dump(mode="json") if actor else None,
            changed_at=uow.now,
        )
        await _announce(uow, kind=kind, code=code, data=data, revision=revision)
        outcome = "changed" if current else "created"
        return {"kind": kind.value, "code": code, "revision": revision, "data": data, "outcome": outcome}

    return await database.transaction(work)


async def tree(database: Database) -> dict[str, Any]:
    """The whole area tree, for pickers in the apps."""
    db = database.db
    return domain.tree(
        districts=await store.list_kind(db, Kind.DISTRICT),
        streets=await store.list_kind(db, Kind.STREET),
        communities=await store.list_kind(db, Kind.COMMUNITY),
        grids=await store.list_kind(db, Kind.GRID),
    )


async def locate(database: Database, *, lon: float, lat: float) -> dict[str, Any]:
    """The grid a point lies in, as the directory holds it (intake finds it from its own copy)."""
    grid = await store.grid_at(database.db, lon, lat)
    if grid is None:
        raise OutsideGrids(lon, lat)
    return grid


async def records(database: Database, kind: Kind, street: str | None = None) -> dict[str, Any]:
    """Every record of a kind, by code: what an admin screen or an export starts from; with a
    street, only what that street works with (domain.of_street)."""
    items = await store.list_kind(database.db, kind)
    return {"items": items if street is None else domain.of_street(kind, items, street)}


async def record(database: Database, *, kind: Kind, code: str) -> dict[str, Any]:
    """One record as the directory holds it now, with the revision services have been told of."""
    doc = await store.get(database.db, kind, code)
    if doc is None:
        raise UnknownRecord(kind, code)
    return {"kind": kind.value, "code": code, "revision": doc["revision"], "data": doc["data"]}


async def record_history(database: Database, *, kind: Kind, code: str) -> dict[str, Any]:
    """Every revision of a record, with who changed it and when: the directory's audit trail."""
    revisions = await store.history(database.db, kind, code)
    if not revisions:
        raise UnknownRecord(kind, code)
    return {
        "kind": kind.value,
        "code": code,
        "revisions": [{k: r.get(k) for k in ("revision", "data", "changed_by", "changed_at")} for r in revisions],
    }
