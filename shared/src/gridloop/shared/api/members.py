"""cobuild's 双报到 API as its clients see it: units reporting to communities, members (报到党员 and
volunteers) registering, being confirmed and placed, and the community's 公益岗位 (posts).

A member's name and phone appear only to the member themself, to the admin of their own work unit
(its own staff) and to the community worker of their community; the identity number is never
answered at all (only its last four characters)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.events import ReportChannel
from gridloop.shared.volunteering_lifecycle import MemberStatus


class PostCategory(StrEnum):
    """The 8 families of 公益岗位 (中江, 门头沟)."""

    ORGANISATION = "组织建设"
    LEGAL = "法律咨询"
    ASSISTANCE = "助困扶残"
    GOVERNANCE = "社区治理"
    HEALTH = "健康医疗"
    CULTURE = "文体"
    SAFETY = "安全宣传"
    OTHER = "其他"


class PostStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- units ------------------------------------------------------------------------------------------


class UnitReportRequest(Strict):
    community_code: str = Field(min_length=1, max_length=32, description="a community the unit is paired with")


class UnitReport(BaseModel):
    """单位报到 and its receipt (回执): recorded and the receipt issued at once."""

    id: str = Field(description="<unit>:<community>")
    unit_code: str
    community_code: str
    street_code: str
    district_code: str
    receipt_number: str = Field(description="回执编号, e.g. HZ-LJ01-2026-0001")
    reported_at: datetime


class HeadcountRequest(Strict):
    party_members: int = Field(ge=0, le=100000, description="在职党员人数")


class Headcount(BaseModel):
    unit_code: str
    party_members: int
    confirmed_at: datetime


class UnitReports(BaseModel):
    reports: list[UnitReport]
    headcount: Headcount | None
    paired_communities: list[str]


# ---- members ----------------------------------------------------------------------------------------


class RegisterRequest(Strict):
    party_member: bool = False
    unit_code: str | None = Field(default=None, max_length=32, description="work unit, for a Party member")
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(pattern=r"^1\d{10}$", description="mobile number, 11 digits")
    id_number: str = Field(min_length=18, max_length=18, description="居民身份证号, 18 characters")
    skills: list[str] = Field(default=[], max_length=20)
    service_types: list[str] = Field(default=[], max_length=20, description="need category codes NC-*")
    availability: str = Field(default="", max_length=200)
    channel: ReportChannel = ReportChannel.ONLINE
    sub: str | None = Field(
        default=None, max_length=128, description="at the desk (COMMUNITY_WORKER): the person's login sub"
    )


class PlaceRequest(Strict):
    grid_code: str = Field(min_length=1, max_length=32)
    squad: str = Field(min_length=1, max_length=40)


class ReasonRequest(Strict):
    reason: str = Field(min_length=2, max_length=200)


class TransferRequest(Strict):
    to_community_code: str = Field(min_length=1, max_length=32)


class EmptyRequest(Strict):
    pass


class Member(BaseModel):
    id: str
    status: MemberStatus
    status_label: str
    party_member: bool
    unit_code: str | None
    community_code: str
    grid_code: str | None
    squad: str | None
    skills: list[str]
    service_types: list[str]
    availability: str
    channel: ReportChannel
    registered_at: datetime
    reported_at: datetime | None
    placed_at: datetime | None
    last_return_at: datetime | None
    lapsed_reason: str | None
    erased: bool
    posts: list[str] = Field(description="ids of the open posts the member holds")
    post_note: str | None = Field(description="未认领岗位 for an active member without a post (require_post)")
    name: str | None = Field(description="only to the member, their unit admin, their community worker")
    phone: str | None = None
    id_tail: str | None = Field(default=None, description="last 4 characters of the identity number")


class MemberList(BaseModel):
    items: list[Member]
    next_cursor: str | None


# ---- posts ------------------------------------------------------------------------------------------


class PublishPostRequest(Strict):
    grid_code: str = Field(min_length=1, max_length=32)
    category: PostCategory
    title: str = Field(min_length=2, max_length=60)
    duties: str = Field(min_length=2, max_length=500)
    headcount: int = Field(ge=1, le=100)


class Post(BaseModel):
    id: str
    grid_code: str
    community_code: str
    category: PostCategory
    title: str
    duties: str
    headcount: int
    holders: list[str]
    open_places: int
    status: PostStatus
    published_at: datetime


class PostList(BaseModel):
    items: list[Post]
    next_cursor: str | None


class MemberExport(BaseModel):
    """Everything kept about one person (个人信息导出)."""

    member: dict[str, object]
    private: dict[str, object] | None
    posts: list[str]
    records: list[str]
    ledger: list[dict[str, object]]
