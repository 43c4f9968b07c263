"""cobuild's activities API (服务活动, 过程纪实) as its clients see it: the requests and the answers,
written once for the service and the console."""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.clock import AwareIsoDatetime, Instant
from gridloop.shared.events import GeoPoint, Rating, RecordMethod
from gridloop.shared.limits import TEXT_MIN
from gridloop.shared.volunteering_lifecycle import ActivityStatus, RecordStatus

RECORD_STATUS_LABELS = {
    RecordStatus.SUBMITTED: "待审核",
    RecordStatus.APPROVED: "已通过",
    RecordStatus.RETURNED: "已退回",
    RecordStatus.REJECTED: "未通过",
}
ACTIVITY_STATUS_LABELS = {
    ActivityStatus.PUBLISHED: "已发布",
    ActivityStatus.CLOSED: "已结项",
    ActivityStatus.CANCELLED: "已取消",
}
RATING_LABELS = {
    Rating.SATISFIED: "满意",
    Rating.BASICALLY_SATISFIED: "基本满意",
    Rating.UNSATISFIED: "不满意",
}
METHOD_LABELS = {RecordMethod.CHECKIN: "签到签退", RecordMethod.MANUAL: "补录"}


class ActivityAction(StrEnum):
    SIGNUP = "signup"  # 报名
    CHECKIN = "checkin"  # 签到
    CHECKOUT = "checkout"  # 签退
    LOG = "log"  # 补录 (or correct a returned record)
    CODE = "code"  # 查看签到码 (the organiser)
    CANCEL = "cancel"  # 取消活动
    CLOSE = "close"  # 结项


class RecordAction(StrEnum):
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    RATE = "rate"


class ActivityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str = Field(min_length=TEXT_MIN, max_length=100, description="活动名称")
    grid_code: str = Field(min_length=1, max_length=32, description="活动所在网格")
    place: GeoPoint = Field(description="活动地点 (签到签退以此为圆心)")
    starts_at: AwareIsoDatetime = Field(description="开始时间")
    ends_at: AwareIsoDatetime = Field(description="结束时间 (开始后 24 小时内)")
    capacity: int = Field(ge=1, le=1000, description="招募人数")
    post_id: str | None = Field(default=None, max_length=64, description="服务岗位")
    need_id: str | None = Field(default=None, max_length=64, description="对应需求")
    project_id: str | None = Field(default=None, max_length=64, description="对应项目")


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=TEXT_MIN, max_length=500, description="理由")


class EmptyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PresenceRequest(BaseModel):
    """签到/签退: the code the organiser shows and where the phone is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: str = Field(pattern=r"^[0-9]{6}$", description="现场签到码 (6 位)")
    location: GeoPoint = Field(description="手机定位")


class ManualLogRequest(BaseModel):
    """补录: minutes claimed by hand after the activity, with a note, for the organiser to approve."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    minutes_claimed: int = Field(ge=1, le=1440, description="申报时长 (分钟)")
    note: str = Field(min_length=TEXT_MIN, max_length=500, description="说明")


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int | None = Field(default=None, ge=0, le=1440, description="核定时长 (分钟), 不超过规则计算的时长")


class RateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Rating


class Presence(BaseModel):
    """The member's own part in an activity."""

    signed_up: bool = False
    checkin_at: Instant | None = None
    record_id: str | None = None
    record_status: RecordStatus | None = None


class Activity(BaseModel):
    id: str
    title: str
    organizer_kind: Literal["community", "unit"]
    organizer_code: str
    community_code: str
    grid_code: str
    street_code: str
    district_code: str
    place: GeoPoint
    starts_at: Instant
    ends_at: Instant
    capacity: int
    signed_up: int = Field(description="已报名人数")
    post_id: str | None = None
    need_id: str | None = None
    project_id: str | None = None
    status: ActivityStatus
    status_label: str
    cancel_reason: str = ""
    mine: Presence | None = Field(default=None, description="调用者 (党员/志愿者) 本人的报名与纪实")
    allowed_actions: list[ActivityAction] = []
    created_at: Instant


class ActivityPage(BaseModel):
    items: list[Activity]
    next_cursor: str | None = None


class CheckinCode(BaseModel):
    code: str
    expires_at: Instant
    window_seconds: int


class CheckedIn(BaseModel):
    activity_id: str
    checkin_at: Instant
    distance_m: int


class Record(BaseModel):
    id: str
    activity_id: str
    activity_title: str
    member_id: str
    unit_code: str | None = None
    community_code: str
    grid_code: str
    method: RecordMethod
    method_label: str
    checkin_at: Instant | None = None
    checkout_at: Instant | None = None
    minutes_claimed: int
    minutes_by_rule: int = Field(description="规则计算的时长上限 (分钟)")
    minutes: int | None = Field(default=None, description="核定时长 (分钟)")
    note: str = ""
    reason: str = ""
    status: RecordStatus
    status_label: str
    rating: Rating | None = None
    rating_label: str = ""
    service_date: Instant
    organizer_kind: Literal["community", "unit"]
    organizer_code: str
    approved_at: Instant | None = None
    post_id: str | None = None
    allowed_actions: list[RecordAction] = []


class RecordPage(BaseModel):
    items: list[Record]
    next_cursor: str | None = None
    approved_minutes: int = Field(default=0, description="符合条件记录中已通过的总时长 (分钟)")
