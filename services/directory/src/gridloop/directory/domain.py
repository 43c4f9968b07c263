"""The directory's own checks on reference records (their shapes are the shared contract of the
directory topic, gridloop.shared.directory): the path and the body agree, what a record names
exists, a seed is in dependency order, and how far the holiday schedules reach."""

from datetime import date, datetime, time
from typing import Any

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.directory import MODELS, Kind, Rule, serves_street


def published_until(years: list[int]) -> datetime | None:
    """The instant the published holiday schedules stop: the city's midnight after the latest year."""
    return datetime.combine(date(max(years) + 1, 1, 1), time(0), CITY_ZONE) if years else None


class NotByStreet(ValueError):
    """Records of a kind that belongs to no street (categories, rules, time limits, calendars)."""


def of_street(kind: Kind, records: list[dict[str, Any]], street: str) -> list[dict[str, Any]]:
    """The records a street works with: its own communities, grids and units, the street itself,
    and the departments that serve it (the same rule dispatch applies to an assignment)."""
    match kind:
        case Kind.GRID | Kind.COMMUNITY | Kind.UNIT:
            return [r for r in records if r.get("street") == street]
        case Kind.STREET:
            return [r for r in records if r.get("code") == street]
        case Kind.DEPARTMENT:
            return [r for r in records if serves_street(r.get("serves") or [], street)]
        case _:
            raise NotByStreet(kind.value)


class InvalidReference(ValueError):
    """A record points at something the directory does not have."""


def parse_record(kind: Kind, code: str, data: dict[str, Any]) -> dict[str, Any]:
    """A record checked against its shape; the path's code and the body's code must agree."""
    model = MODELS[kind].model_validate(data)
    own_code = model.id if isinstance(model, Rule) else str(getattr(model, "code", ""))
    if own_code != code:
        raise InvalidReference(f"the body's code {own_code!r} differs from the path's {code!r}")
    return model.model_dump(mode="json")


def references(kind: Kind, data: dict[str, Any]) -> list[tuple[Kind, str]]:
    """The other records this one names, which must exist."""
    match kind:
        case Kind.STREET:
            return [(Kind.DISTRICT, data["district"])]
        case Kind.COMMUNITY:
            return [(Kind.STREET, data["street"])]
        case Kind.GRID:
            return [(Kind.COMMUNITY, data["community"]), (Kind.STREET, data["street"])]
        case Kind.RULE:
            refs = [(Kind.CATEGORY, data["category"]), (Kind.DEPARTMENT, data["lead"])]
            refs += [(Kind.DEPARTMENT, d) for d in data["assisting"]]
            if data.get("street"):
                refs.append((Kind.STREET, data["street"]))
            if data.get("community"):
                refs.append((Kind.COMMUNITY, data["community"]))
            return refs
        case Kind.DEPARTMENT:
            return [(Kind.STREET, s) for s in data.get("serves", [])]
        case Kind.UNIT:
            return [(Kind.GRID, data["grid"]), (Kind.STREET, data["street"])] + [
                (Kind.COMMUNITY, c) for c in data["communities"]
            ]
        case Kind.ADMISSION_ITEM:
            refs = [(Kind.DISTRICT, data["district"])]
            return refs + ([(Kind.DEPARTMENT, data["department"])] if data.get("department") else [])
        case _:
            return []


def seed_records(
    grids_doc: dict[str, Any], catalogue_doc: dict[str, Any], calendars: list[dict[str, Any]] | None = None
) -> list[tuple[Kind, str, dict[str, Any]]]:
    """All records of a seed (a tree file, a catalogue file and the holiday schedules), checked, in
    dependency order. The 共建 sections of the catalogue (`need_categories`, `units`) may be absent:
    files written before units existed still load."""
    raw: list[tuple[Kind, dict[str, Any]]] = [(Kind.DISTRICT, grids_doc["district"])]
    raw += [(Kind.STREET, s) for s in grids_doc["streets"]]
    raw += [(Kind.COMMUNITY, c) for c in grids_doc["communities"]]
    raw += [(Kind.GRID, g) for g in grids_doc["grids"]]
    raw += [(Kind.DEPARTMENT, d) for d in catalogue_doc["departments"]]
    raw += [(Kind.CATEGORY, c) for c in catalogue_doc["categories"]]
    raw += [(Kind.RULE, r) for r in catalogue_doc["rules"]]
    raw += [(Kind.SLA, s) for s in catalogue_doc["slas"]]
    raw += [(Kind.CALENDAR, c) for c in calendars or []]
    raw += [(Kind.NEED_CATEGORY, n) for n in catalogue_doc.get("need_categories") or []]
    raw += [(Kind.UNIT, u) for u in catalogue_doc.get("units") or []]
    raw += [(Kind.ADMISSION_ITEM, a) for a in catalogue_doc.get("admission_items") or []]
    records = []
    known: set[tuple[Kind, str]] = set()
    for kind, data in raw:
        code = data["id"] if kind == Kind.RULE else data["code"]
        checked = parse_record(kind, code, data)
        missing = [ref for ref in references(kind, checked) if ref not in known]
        if missing:
            raise InvalidReference(f"{kind} {code} names unknown {missing}")
        known.add((kind, code))
        records.append((kind, code, checked))
    return records


def tree(
    *,
    districts: list[dict[str, Any]],
    streets: list[dict[str, Any]],
    communities: list[dict[str, Any]],
    grids: list[dict[str, Any]],
) -> dict[str, Any]:
    """District → street → community → grid, each record with the ones below it; grids by code and
    name only (their polygons are in `/grids`), so the whole tree stays small enough for a phone."""
    return {
        "districts": [
            {
                **d,
                "streets": [
                    {
                        **s,
                        "communities": [
                            {
                                **c,
                                "grids": [
                                    {"code": g["code"], "name": g["name"]} for g in grids if g["community"] == c["code"]
                                ],
                            }
                            for c in communities
                            if c["street"] == s["code"]
                        ],
                    }
                    for s in streets
                    if s["district"] == d["code"]
                ],
            }
            for d in districts
        ]
    }
