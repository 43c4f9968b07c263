"""Reference data shapes and their checks: what a valid grid, category, rule or time limit is."""

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.worktime import TimeUnit


class Kind(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    DEPARTMENT = "department"
    CATEGORY = "category"
    RULE = "rule"
    SLA = "sla"
    CALENDAR = "calendar"


class _Ref(BaseModel):
    model_config = ConfigDict(extra="forbid")


class District(_Ref):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)


class Street(District):
    district: str


class Community(District):
    street: str


class Polygon(_Ref):
    type: Literal["Polygon"]
    coordinates: list[list[tuple[float, float]]] = Field(min_length=1)

    @field_validator("coordinates")
    @classmethod
    def _closed_rings(cls, rings: list[list[tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        for ring in rings:
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise ValueError("each ring needs at least 4 positions and must end where it starts")
            for lon, lat in ring:
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ValueError(f"position ({lon}, {lat}) is outside longitude/latitude range")
        return rings


class Grid(District):
    community: str
    street: str
    geometry: Polygon


class Department(District):
    short_name: str
    serves: list[str] = Field(default=[], description="street codes it serves; empty: the whole district")


class MajorClass(_Ref):
    code: str
    name: str


class Category(District):
    family: Literal["component", "event"]
    major: MajorClass
    evidence_required: bool = False


class Rule(_Ref):
    """Category (x street or community) -> lead (主办) and assisting (协办) departments.

    basis: `owner` (属主, the department that owns the asset or the matter) or `area` (属地, the
    department answering for the place)."""

    id: str = Field(min_length=1)
    category: str
    basis: Literal["owner", "area"] = "owner"
    street: str | None = None
    community: str | None = None
    lead: str
    assisting: list[str] = []

    @model_validator(mode="after")
    def _lead_not_assisting(self) -> "Rule":
        if self.lead in self.assisting:
            raise ValueError("the lead department cannot also assist")
        return self

    @property
    def code(self) -> str:
        return self.id


class TimeLimit(_Ref):
    within: float = Field(gt=0)
    unit: TimeUnit

    @model_validator(mode="after")
    def _whole_days(self) -> "TimeLimit":
        if self.unit == TimeUnit.WORKING_DAYS and self.within != int(self.within):
            raise ValueError("working days are whole numbers; use working_hours for fractions")
        return self


class UrgentLimits(_Ref):
    accept: TimeLimit
    resolve: TimeLimit


class Sla(_Ref):
    """Time limits of a category (or `default`): accept and resolve, and shorter ones when urgent."""

    code: str
    accept: TimeLimit
    resolve: TimeLimit
    urgent: UrgentLimits | None = None


class HolidaySchedule(_Ref):
    """节假日安排: one year's days off and 调休 working days, as the State Council's notice gives them.

    A day is a working day if it is listed in `workdays`, or is a weekday not listed in `holidays`."""

    code: str = Field(pattern=r"^20[0-9]{2}$", description="the year, e.g. 2027")
    notice: str = Field(min_length=1, description="the notice it comes from (国务院办公厅关于…年部分节假日安排的通知)")
    holidays: list[date] = Field(description="days off (放假); weekend days inside a holiday period may be listed too")
    workdays: list[date] = Field(default=[], description="weekend days that are working days (调休上班)")

    @model_validator(mode="after")
    def _days_of_the_year(self) -> "HolidaySchedule":
        year = int(self.code)
        outside = [d for d in [*self.holidays, *self.workdays] if d.year != year]
        if outside:
            raise ValueError(f"dates outside {year}: {', '.join(map(str, outside))} (日期不在该年度内)")
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"listed both as day off and as working day: {', '.join(map(str, both))}")
        weekdays = [d for d in self.workdays if d.weekday() < 5]
        if weekdays:
            raise ValueError(f"make-up working days (调休上班) fall on weekends, not {', '.join(map(str, weekdays))}")
        self.holidays = sorted(set(self.holidays))
        self.workdays = sorted(set(self.workdays))
        return self


MODELS: dict[Kind, type[_Ref]] = {
    Kind.DISTRICT: District,
    Kind.STREET: Street,
    Kind.COMMUNITY: Community,
    Kind.GRID: Grid,
    Kind.DEPARTMENT: Department,
    Kind.CATEGORY: Category,
    Kind.RULE: Rule,
    Kind.SLA: Sla,
    Kind.CALENDAR: HolidaySchedule,
}


def published_until(years: list[int]) -> datetime | None:
    """The instant the published holiday schedules stop: the city's midnight after the latest year."""
    return datetime.combine(date(max(years) + 1, 1, 1), time(0), CITY_ZONE) if years else None


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
        case _:
            return []


def seed_records(
    grids_doc: dict[str, Any], catalogue_doc: dict[str, Any], calendars: list[dict[str, Any]] | None = None
) -> list[tuple[Kind, str, dict[str, Any]]]:
    """All records of a seed (a tree file, a catalogue file and the holiday schedules), checked, in
    dependency order."""
    raw: list[tuple[Kind, dict[str, Any]]] = [(Kind.DISTRICT, grids_doc["district"])]
    raw += [(Kind.STREET, s) for s in grids_doc["streets"]]
    raw += [(Kind.COMMUNITY, c) for c in grids_doc["communities"]]
    raw += [(Kind.GRID, g) for g in grids_doc["grids"]]
    raw += [(Kind.DEPARTMENT, d) for d in catalogue_doc["departments"]]
    raw += [(Kind.CATEGORY, c) for c in catalogue_doc["categories"]]
    raw += [(Kind.RULE, r) for r in catalogue_doc["rules"]]
    raw += [(Kind.SLA, s) for s in catalogue_doc["slas"]]
    raw += [(Kind.CALENDAR, c) for c in calendars or []]
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
