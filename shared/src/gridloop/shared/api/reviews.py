"""cobuild's 评议 API as its clients see it: a yearly grade (双向评议) and its answer, the indicators
of members, units and communities, and the quarterly feedback card (双向反馈) sent to a unit.
A member appears by id; the name only where the reader is the member's community or unit."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.clock import Instant
from gridloop.shared.events import Grade, ReviewSubject


class GradeRequest(BaseModel):
    """年度评议: a community worker grades a member of its community or a unit that reported to it;
    a unit admin grades a community its unit reported to. Grading again replaces the grade."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    year: int = Field(ge=2000, le=2099, description="评议年度")
    subject_kind: ReviewSubject
    subject_code: str = Field(min_length=1, max_length=64, description="member id, unit code or community code")
    grade: Grade = Field(description="excellent 优秀 / pass 合格 / basic 基本合格 / fail 不合格")
    comment: str = Field(default="", max_length=500, description="评语（选填）")


class Review(BaseModel):
    id: str
    year: int
    subject_kind: ReviewSubject
    subject_code: str
    reviewer_kind: ReviewSubject
    reviewer_code: str
    community_code: str
    grade: Grade
    comment: str = ""
    basis: dict[str, Any] = Field(description="the indicators the grade rests on, as they were when it was given")
    at: Instant


class ReviewList(BaseModel):
    items: list[Review]


class MemberFigures(BaseModel):
    member_id: str
    name: str | None = None  # only for the member's community worker and unit admin
    community_code: str
    unit_code: str | None
    party_member: bool
    status: str
    reported_at: str = Field(description="报到 (confirmed) day in the city, empty if never")
    never_reported: bool
    posts: list[str]
    services: int
    minutes: int
    hours: float
    points_earned: int
    balance: int
    ratings: dict[str, int]
    met_minimum: bool
    grade: Grade | None = None
    remark: str = ""


class UnitFigures(BaseModel):
    unit_code: str
    unit_name: str
    community_code: str
    reported_at: str
    receipt_number: str
    party_members: int | None
    members_reported: int
    members_serving: int
    members_meeting_minimum: int
    participation_rate: float | None = Field(description="参与率: serving / reported, 0..1")
    completion_rate: float | None = Field(description="服务完成率: meeting the yearly minimum / reported, 0..1")
    minutes: int
    hours: float
    offers_given: int
    offers_used: int
    projects_led: int
    wishes_fulfilled: int
    ratings: dict[str, int]
    community_grade: Grade | None
    grade_of_community: Grade | None


class CommunityFigures(BaseModel):
    community_code: str
    community_name: str
    needs_collected: int
    needs_done: int
    needs_converted: int
    projects: int
    units_reported: int
    members_reported: int
    minutes: int
    hours: float
    admissions_refused: int
    grades_from_units: dict[str, int]


class Indicators(BaseModel):
    """The year's figures a community worker (its members and units) or a unit admin (its reports)
    grades on."""

    year: int
    members: list[MemberFigures]
    units: list[UnitFigures]
    communities: list[CommunityFigures]


class FeedbackCard(BaseModel):
    """双向反馈卡: the quarter of a unit's members, per community (each community sees its own)."""

    unit_code: str
    unit_name: str
    year: int
    quarter: int
    communities: list[str]
    members: list[MemberFigures]
