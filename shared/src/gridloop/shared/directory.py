"""The contract of the directory topic (`gridloop.directory.v1`): each kind of reference record and
its shape. The directory checks every record against these before it announces it, and every
service that keeps a copy checks what it reads against the same models."""

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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
    UNIT = "unit"  # 驻区单位, the units stationed in the area (共建)
    NEED_CATEGORY = "need_category"  # 居民需求类别, with the need's time limits
    ADMISSION_ITEM = "admission_item"  # 社区事务准入清单: one item of a district's lists, by version


class Reference(BaseModel):
    model_config = ConfigDict(extra="forbid")


class District(Reference):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1)


class Street(District):
    district: str


class Community(District):
    street: str


class Polygon(Reference):
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


def serves_street(serves: Sequence[str], street_code: str) -> bool:
    """A department serves the whole district unless it names the streets it serves (empty: everywhere)."""
    return not serves or street_code in serves


class Department(District):
    short_name: str
    serves: list[str] = Field(default=[], description="street codes it serves; empty: the whole district")


class MajorClass(Reference):
    code: str
    name: str


class Category(District):
    family: Literal["component", "event"]
    major: MajorClass
    evidence_required: bool = False


class Rule(Reference):
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


class TimeLimit(Reference):
    within: float = Field(gt=0)
    unit: TimeUnit

    @model_validator(mode="after")
    def _whole_days(self) -> "TimeLimit":
        if self.unit == TimeUnit.WORKING_DAYS and self.within != int(self.within):
            raise ValueError("working days are whole numbers; use working_hours for fractions")
        return self


class UrgentLimits(Reference):
    accept: TimeLimit
    resolve: TimeLimit


class Sla(Reference):
    """Time limits of a category (or `default`): accept and resolve, and shorter ones when urgent."""

    code: str
    accept: TimeLimit
    resolve: TimeLimit
    urgent: UrgentLimits | None = None


class HolidaySchedule(Reference):
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


class Unit(District):
    """驻区单位: a unit stationed in the area that takes residents' needs and offers resources,
    paired (结对) with the communities whose needs it sees first."""

    kind: Literal["government", "enterprise", "school", "hospital", "social_org", "other"]
    grid: str = Field(description="the grid it sits in")
    street: str
    liaison: str = Field(min_length=1, max_length=100, description="联络人: the unit's staff contact, e.g. 工会 王主任")
    communities: list[str] = Field(min_length=1, description="结对社区: the communities it is paired with")

    @field_validator("communities")
    @classmethod
    def _each_once(cls, communities: list[str]) -> list[str]:
        if len(set(communities)) != len(communities):
            raise ValueError("a paired community is listed twice")
        return communities


class NeedCategory(District):
    """居民需求类别 with its time limits: review in working days, then calendar days to claim,
    contact the household, deliver and confirm."""

    review_days: int = Field(default=3, ge=1, description="审核: working days from submission")
    claim_days: int = Field(default=10, ge=1, description="认领: days from publishing")
    deliver_days: int = Field(default=30, ge=1, description="兑现: days from contacting the household")
    confirm_days: int = Field(default=7, ge=1, description="确认: days after delivery, then confirmed by itself")
    contact_days: int = Field(default=7, ge=1, description="联系: days from a claim to contact the household")


ADMISSION_LISTS = ("duty", "assist", "certificate", "negative")
"""依法履职事项, 协助政府事项, 可出具证明事项, 负面清单 (不得要求社区出具的证明 / 负面事项)."""


class AdmissionItem(District):
    """One item of a district's 社区事务准入 lists. A list is published as a whole version: the
    district's items of the latest version whose `valid_from` has come are the lists in force, and a
    new version supersedes the old one from its `valid_from`."""

    keywords: list[str] = Field(default=[], description="words of a task's title that match this item")
    list: Literal["duty", "assist", "certificate", "negative"]
    district: str
    version: str = Field(pattern=r"^20[0-9]{2}-[0-9]+$", description="e.g. 2026-1")
    valid_from: date
    task_type: Literal["sign", "form", "survey", "inspection", "appraisal", "certificate", "task"] | None = Field(
        default=None, description="the kind of task it covers (AdmissionTaskType)"
    )
    department: str | None = Field(default=None, description="negative list: the department that should handle it")
    issuer: str = Field(default="", max_length=100, description="负面清单: 应由哪个机关出具, e.g. 户籍所在地公安派出所")
    refusal: str = Field(default="", max_length=300, description="负面清单: the standard refusal text")

    @model_validator(mode="after")
    def _negative_says_where(self) -> "AdmissionItem":
        if self.list == "negative" and not self.refusal:
            raise ValueError("a negative-list item needs the standard refusal text (refusal)")
        return self


MODELS: dict[Kind, type[Reference]] = {
    Kind.DISTRICT: District,
    Kind.STREET: Street,
    Kind.COMMUNITY: Community,
    Kind.GRID: Grid,
    Kind.DEPARTMENT: Department,
    Kind.CATEGORY: Category,
    Kind.RULE: Rule,
    Kind.SLA: Sla,
    Kind.CALENDAR: HolidaySchedule,
    Kind.UNIT: Unit,
    Kind.NEED_CATEGORY: NeedCategory,
    Kind.ADMISSION_ITEM: AdmissionItem,
}


class DirectoryRecord(BaseModel):
    """One reference-data record on the compacted directory topic, keyed by `kind:code`.

    A `snapshot` record follows a full announcement: whoever has read it holds every record before it."""

    kind: Literal[
        "district",
        "street",
        "community",
        "grid",
        "department",
        "category",
        "rule",
        "sla",
        "calendar",
        "unit",
        "need_category",
        "admission_item",
        "snapshot",
    ]
    code: str
    revision: int
    deleted: bool = False
    data: dict[str, object]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"

    def checked(self) -> "Reference | None":
        """The record's data as its kind's model (ValidationError if it is not); None for a
        snapshot marker or a deleted record."""
        if self.kind == "snapshot" or self.deleted:
            return None
        return MODELS[Kind(self.kind)].model_validate(self.data)
