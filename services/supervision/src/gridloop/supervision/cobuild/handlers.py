"""Supervision's projection of the needs topic, in the consumer's transaction: each need, offer
and project event changes its record by the shared transition tables (domain.py), and each
solved hotspot is kept once. Readers' questions (a unit's 共建 figures, a street's community
board) are answered here too, within the reader's scope; the routing table is at the end."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gridloop.shared.events import (
    NEEDS_TOPIC,
    Actor,
    Envelope,
    HotspotSolved,
    NeedSubmitted,
    OfferSubmitted,
    Payload,
    ProjectProposed,
    Role,
    payload_types,
)
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork, update_versioned
from gridloop.shared.refdata import RefData
from gridloop.supervision import handlers as tickets
from gridloop.supervision import kpi
from gridloop.supervision.cobuild import domain, store


@dataclass(frozen=True)
class Kind:
    """How one kind of record is kept: its collection, the event that opens it, and its rules."""

    collection: str
    opened_by: str
    changes: Callable[[Doc, Envelope], Doc | None]


KINDS = {
    "need": Kind(store.NEEDS, NeedSubmitted.EVENT_TYPE, domain.need_changes),
    "offer": Kind(store.OFFERS, OfferSubmitted.EVENT_TYPE, domain.offer_changes),
    "project": Kind(store.PROJECTS, ProjectProposed.EVENT_TYPE, domain.project_changes),
}
"""By the event type's prefix: `need.*`, `offer.*`, `project.*`."""


def _opened(event: Envelope) -> Doc:
    match event.payload:
        case NeedSubmitted() as p:
            return domain.new_need(event, p)
        case OfferSubmitted() as p:
            return domain.new_offer(event, p)
        case ProjectProposed() as p:
            return domain.new_project(event, p)
    raise TypeError(f"{event.event_type} opens no record")


def kind_of(event: Envelope) -> Kind:
    """The kind of record a need, offer or project event belongs to."""
    return KINDS[event.event_type.split(".", 1)[0]]


class UnknownRecord(LookupError):
    """An event for a need, offer or project never opened."""


def step(before: Doc | None, event: Envelope) -> Doc | None:
    """The record after `event`, or None when the event changes nothing: an event the record's
    state does not allow (the shared tables), or a second opening of a known record. The live
    projection and the rebuild's replay both go through here."""
    kind = kind_of(event)
    if event.event_type == kind.opened_by:
        return _opened(event) if before is None else None
    if before is None:
        raise UnknownRecord(f"{event.event_type} for unknown record {event.ticket_id}")
    changes = kind.changes(before, event)
    return None if changes is None else {**before, **changes, "version": before["version"] + 1}


def solved_record(event: Envelope, p: HotspotSolved) -> Doc:
    """热点难点解决: one record per project, however often it is announced (the first counts)."""
    return {
        "_id": p.project_id,
        "category_code": p.category_code,
        **{f: getattr(p, f) for f in domain.PLACE},
        "solved_at": event.occurred_at,
        "event_id": event.event_id,
    }


async def project(event: Envelope, uow: UnitOfWork) -> None:
    """Apply one event of the needs topic to its record (`step`); an event for a record never
    opened fails, and the consumer retries it, then dead-letters it."""
    if isinstance(event.payload, HotspotSolved):
        await _solved(event, event.payload, uow)
        return
    kind = kind_of(event)
    before = await store.get(uow.db, kind.collection, event.ticket_id, uow.session)
    after = step(before, event)
    if after is None:
        return
    if before is None:
        await uow.db[kind.collection].insert_one({**after, "updated_at": uow.now}, session=uow.session)
    else:
        changes = {k: v for k, v in after.items() if k not in ("_id", "version") and before.get(k) != v}
        await update_versioned(uow, kind.collection, before, changes)


async def _solved(event: Envelope, p: HotspotSolved, uow: UnitOfWork) -> None:
    record = solved_record(event, p)
    await uow.db[store.HOTSPOTS].update_one(
        {"_id": record.pop("_id")},
        {"$setOnInsert": {**record, "updated_at": uow.now}},
        upsert=True,
        session=uow.session,
    )


# Readers' questions ----------------------------------------------------------------------


class UnknownStreet(LookupError):
    """No such street, or not one the reader may see."""


class StreetRequired(ValueError):
    """The reader's token names no street to default to (a supervisor's board)."""


async def unit_names(refdata: RefData, unit: domain.CobuildUnit) -> dict[str, str]:
    return await tickets.unit_names(refdata, kpi.Unit(unit.value))


async def stats(
    *,
    database: Database,
    refdata: RefData,
    reader: Actor,
    unit: domain.CobuildUnit,
    window: kpi.Window,
    code: str | None = None,
) -> dict[str, Any]:
    """Every unit's 共建 figures in the window (or the one unit named), counting only records in
    the reader's scope, echoing the window they cover."""
    start, end = window
    records = await store.window_records(database.db, start=start, end=end, within=store.scope(reader))
    figures = domain.unit_indicators(records, unit, end=end)
    if code is not None:
        figures = {c: f for c, f in figures.items() if c == code}
    names = await unit_names(refdata, unit)
    return {
        "unit": unit.value,
        "window": tickets.window_echo(window),
        "items": [{"code": c, "name": names.get(c, c), **f} for c, f in figures.items()],
    }


async def board_street(*, refdata: RefData, reader: Actor, street: str | None) -> str:
    """The street whose board the reader asks for (by default their own), if it is in their
    scope; UnknownStreet otherwise, StreetRequired when there is no default."""
    if street is None:
        if reader.role == Role.STREET_DISPATCHER:
            street = reader.org
        elif reader.role == Role.COMMUNITY_WORKER:
            community = await refdata.get("community", reader.org)
            if community is None:
                raise UnknownStreet(reader.org)
            street = str(community["street"])
        else:
            raise StreetRequired()
    record = await refdata.get("street", street)
    if record is None:
        raise UnknownStreet(street)
    match reader.role:
        case Role.STREET_DISPATCHER:
            allowed = street == reader.org
        case Role.SUPERVISOR:
            allowed = reader.org in (street, record.get("district"))
        case Role.COMMUNITY_WORKER:
            community = await refdata.get("community", reader.org)
            allowed = community is not None and community.get("street") == street
        case _:
            allowed = False
    if not allowed:
        raise UnknownStreet(street)
    return street


async def board(
    *,
    database: Database,
    refdata: RefData,
    reader: Actor,
    street: str | None,
    window: kpi.Window,
    min_volume: int,
) -> dict[str, Any]:
    """Each community of the street with its 共建 figures in the window; a community below
    `min_volume` needs collected is marked 样本不足 and shows no rates. A community worker sees
    the row of their own community."""
    code = await board_street(refdata=refdata, reader=reader, street=street)
    own = reader.role == Role.COMMUNITY_WORKER
    within = {"community_code": reader.org} if own else {"street_code": code}
    start, end = window
    records = await store.window_records(database.db, start=start, end=end, within=within)
    figures = domain.unit_indicators(records, domain.CobuildUnit.COMMUNITIES, end=end)
    directory = [r for r in await refdata.all("community") if r.get("street") == code and r.get("code")]
    communities = {str(r["code"]): str(r.get("name") or r["code"]) for r in directory}
    if own:
        communities = {c: n for c, n in communities.items() if c == reader.org} or {reader.org: reader.org}
    rows = domain.board(figures, communities, end=end, min_volume=min_volume)
    street_record = await refdata.get("street", code)
    return {
        "street": code,
        "name": str((street_record or {}).get("name") or code),
        "window": tickets.window_echo(window),
        "min_volume": min_volume,
        "items": [{**row, "name": communities.get(row["code"], row["code"])} for row in rows],
    }


# Routing ---------------------------------------------------------------------------------

PROJECTED = frozenset(t for (t, _), p in payload_types().items() if p.TOPIC == NEEDS_TOPIC)


def routing() -> Routes:
    async def projected(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
        await project(event, uow)

    return routes(*(on(p, projected) for p in payload_types().values() if p.TOPIC == NEEDS_TOPIC))
