"""Supervision's projection of the volunteering topic, in the consumer's transaction: each event
changes one record by the pure steps of domain.py (a redelivered or out-of-order event that the
record's state does not allow changes nothing). Readers' questions (a year's figures, the boards)
are answered here too, within the reader's scope; the routing table is at the end."""

from dataclasses import dataclass
from typing import Any

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import (
    Actor,
    Envelope,
    Payload,
    PointsMoved,
    RecordApproved,
    RecordRated,
    Role,
    UnitHeadcountConfirmed,
    UnitReported,
)
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork
from gridloop.shared.refdata import RefData
from gridloop.supervision.volunteering import domain, store

PROJECTED = frozenset(p.EVENT_TYPE for p in domain.PROJECTED_PAYLOADS)


def target(event: Envelope) -> tuple[str, str]:
    """The collection and id of the record an event changes."""
    p = event.payload
    if isinstance(p, UnitReported):
        return store.REPORTS, f"{p.unit_code}:{p.community_code}"
    if isinstance(p, UnitHeadcountConfirmed):
        return store.HEADCOUNTS, event.event_id
    if isinstance(p, domain.MEMBER_EVENTS):
        return store.MEMBERS, p.member_id
    if isinstance(p, domain.POST_EVENTS):
        return store.POSTS, p.post_id
    if isinstance(p, RecordApproved | RecordRated):
        return store.RECORDS, p.record_id
    if isinstance(p, PointsMoved):
        return store.POINTS, p.movement_id
    raise TypeError(f"{event.event_type} is not projected")


def apply(before: Doc | None, event: Envelope) -> Doc | None:
    """The record after `event`, or None when it changes nothing. The live projection and the
    rebuild's replay both go through here."""
    match event.payload:
        case UnitReported() as p:
            return domain.report_step(before, event, p)
        case UnitHeadcountConfirmed() as p:
            return domain.headcount_entry(event, p) if before is None else None
        case PointsMoved() as p:
            return domain.points_entry(event, p) if before is None else None
        case RecordApproved() | RecordRated():
            return domain.record_step(before, event)
    if isinstance(event.payload, domain.POST_EVENTS):
        return domain.post_step(before, event)
    return domain.member_step(before, event)


async def project(event: Envelope, uow: UnitOfWork) -> None:
    collection, record_id = target(event)
    before = await store.get(uow.db, collection, record_id, uow.session)
    after = apply(before, event)
    if after is not None:
        await store.put(uow.db, collection, {**after, "updated_at": uow.now}, uow.session)


# Readers' questions ----------------------------------------------------------------------


class NotAnArea(LookupError):
    """A unit admin asks for a community's, street's or district's figures: only its unit's are its."""


async def directory_of(refdata: RefData) -> domain.Directory:
    """The communities, streets and reporting units as the directory last announced them."""
    names: dict[str, str] = {}
    communities, streets, units = {}, {}, {}
    for kind in ("district", "street", "community", "unit"):
        for r in await refdata.all(kind):
            if not r.get("code"):
                continue
            code = str(r["code"])
            names[code] = str(r.get("name") or code)
            if kind == "street":
                streets[code] = str(r.get("district") or "")
            elif kind == "community":
                communities[code] = str(r.get("street") or "")
            elif kind == "unit":
                units[code] = {"street": r.get("street"), "communities": list(r.get("communities") or [])}
    return domain.Directory(communities=communities, streets=streets, units=units, names=names)


def reader_scope(reader: Actor, directory: domain.Directory) -> domain.Scope:
    """A supervisor's district (or street), a street dispatcher's street, a community worker's
    community (and its paired units), a unit admin's unit; nobody else sees anything."""
    match reader.role:
        case Role.SUPERVISOR if reader.org in directory.streets:
            return domain.area_scope(directory, street=reader.org)
        case Role.SUPERVISOR:
            return domain.area_scope(directory, district=reader.org)
        case Role.STREET_DISPATCHER:
            return domain.area_scope(directory, street=reader.org)
        case Role.COMMUNITY_WORKER:
            return domain.area_scope(directory, community=reader.org)
        case Role.UNIT_ADMIN:
            return domain.Scope(frozenset(), frozenset({reader.org}))
    return domain.Scope(frozenset(), frozenset())


@dataclass(frozen=True)
class Question:
    """What every answer needs: the reader's scope in the directory and the year's facts."""

    directory: domain.Directory
    scope: domain.Scope
    year: domain.Year


async def question(*, database: Database, refdata: RefData, reader: Actor, year: int, rules: domain.Rules) -> Question:
    directory = await directory_of(refdata)
    facts = await store.facts(database.db, year)
    return Question(directory, reader_scope(reader, directory), domain.Year.of(facts, year, rules))


def _echo(q: Question) -> dict[str, Any]:
    start, end = domain.year_bounds(q.year.year)
    return {
        "year": q.year.year,
        "window": {"from": start, "to": end, "timestamp": "occurred_at", "time_zone": str(CITY_ZONE)},
        "min_services": q.year.rules.min_services,
        "min_minutes": q.year.rules.min_minutes,
    }


async def stats(
    *,
    database: Database,
    refdata: RefData,
    reader: Actor,
    unit: domain.VolunteeringUnit,
    year: int,
    rules: domain.Rules,
) -> dict[str, Any]:
    """The year's figures of every area (or unit) in the reader's scope, counted within it."""
    if reader.role == Role.UNIT_ADMIN and unit != domain.VolunteeringUnit.UNITS:
        raise NotAnArea(unit.value)
    q = await question(database=database, refdata=refdata, reader=reader, year=year, rules=rules)
    if unit == domain.VolunteeringUnit.UNITS:
        figures = domain.unit_figures(q.year, q.scope.units)
    else:
        figures = domain.area_figures(q.year, q.directory, unit, q.scope)
    names = q.directory.names
    return {
        "unit": unit.value,
        **_echo(q),
        "items": [{"code": c, "name": names.get(c, c), **f} for c, f in figures.items()],
    }


async def board(
    *, database: Database, refdata: RefData, reader: Actor, year: int, rules: domain.Rules
) -> dict[str, Any]:
    """The year's boards in the reader's scope: the units' 红黑榜 by the composite, and the
    persons' points 红榜 (persons are never on a 黑榜)."""
    q = await question(database=database, refdata=refdata, reader=reader, year=year, rules=rules)
    names = q.directory.names
    units = domain.unit_board(
        domain.unit_figures(q.year, q.scope.units), min_volume=rules.min_volume, board_size=rules.board_size
    )

    def named(rows: list[Doc]) -> list[Doc]:
        return [{**r, "name": names.get(r["code"], r["code"])} for r in rows]

    return {
        **_echo(q),
        "min_volume": rules.min_volume,
        "board_size": rules.board_size,
        "ranked": named(units["ranked"]),
        "red_list": named(units["red_list"]),
        "black_list": named(units["black_list"]),
        "unranked": named(units["unranked"]),
        "persons": q.year.persons(q.scope, rules.persons),
    }


# Routing ---------------------------------------------------------------------------------


def routing() -> Routes:
    """This area's routing table for the `supervision.volunteering` group; the app merges other
    areas' tables with it (messagebus.merge_routes)."""

    async def projected(_: Payload, event: Envelope, uow: UnitOfWork) -> None:
        await project(event, uow)

    return routes(*(on(p, projected) for p in domain.PROJECTED_PAYLOADS))
