"""cobuild's API (共建) as its clients see it: the requests of the 三单制 loop and the answers,
written once for the service and the console.

Needs (居民需求, 微心愿) come first; a need's beneficiary (name, phone, address) and the household's
own words appear only in the answer for one need, and only to those who serve the household."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.clock import Instant
from gridloop.shared.cobuild_lifecycle import NeedStatus
from gridloop.shared.events import Claimant, GeoPoint, NeedKind, NeedSource, Rating
from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN

# ---- needs ------------------------------------------------------------------------------------------


class NeedAction(StrEnum):
    """What may be done with a need; each names its route (`POST /v1/cobuild/needs/{id}/<action>`)."""

    REVIEW = "review"  # 审核: the community writes the public summary
    PUBLISH = "publish"  # 发布: open for claiming on the wish wall
    ASSIGN = "assign"  # 派单: to a paired unit
    REJECT = "reject"  # 不予受理, with the reason
    MERGE = "merge"  # 合并 into another need
    CONVERT = "convert"  # 转办: a department's job, filed as a ticket
    APPROVE_RELEASE = "approve-release"  # 同意释放认领
    ACCEPT_ASSIGNMENT = "accept-assignment"  # 接单
    RETURN = "return"  # 退回派单, with the reason
    CLAIM = "claim"  # 认领
    CONTACT = "contact"  # 已联系服务对象
    REQUEST_RELEASE = "request-release"  # 申请释放认领
    DELIVER = "deliver"  # 已兑现
    CONFIRM = "confirm"  # 确认兑现
    RATE = "rate"  # 评价
    WITHDRAW = "withdraw"  # 撤回


class Beneficiary(BaseModel):
    """服务对象: who the need is for. Kept inside cobuild only, never in an event or a list (a need
    taken from a ticket may know only the address)."""

    name: str = Field(description="姓名")
    phone: str = Field(description="联系电话")
    address: str = Field(description="住址")


class NewBeneficiary(BaseModel):
    """The beneficiary as a submission names them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=50, description="姓名")
    phone: str = Field(default="", max_length=20, pattern=r"^[0-9+\- ]*$", description="联系电话")
    address: str = Field(default="", max_length=200, description="住址")


class SubmitNeedRequest(BaseModel):
    """A need collected: by a resident (app), a grid worker's visit (走访), the community's paper wish
    wall, or the street desk's hotline. A wish or a service names its beneficiary unless a resident
    submits it for themselves."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: NeedKind = Field(description="wish 微心愿, service 服务需求, project_idea 项目建议")
    category_code: str = Field(min_length=1, max_length=32, description="需求类别 (need category code)")
    description: str = Field(
        min_length=TEXT_MIN, max_length=500, description="需求描述 (the household's own words; never made public)"
    )
    grid_code: str = Field(min_length=1, max_length=32, description="所在网格")
    location: GeoPoint | None = None
    beneficiary: NewBeneficiary | None = Field(default=None, description="服务对象 (required for a wish or a service)")


class EmptyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    summary: str = Field(
        min_length=TEXT_MIN, max_length=200, description="公开摘要 (the public text: no name, phone or address)"
    )
    category_code: str | None = Field(default=None, min_length=1, max_length=32, description="改正需求类别")


class AssignNeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    unit_code: str = Field(min_length=1, max_length=32, description="派单给驻区单位 (a unit paired with the community)")


class ReasonRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=TEXT_MIN, max_length=500, description="理由")


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    into: str = Field(min_length=1, max_length=64, description="合并到的需求 (an open need of the same community)")


class ConvertRequest(BaseModel):
    """转办: the need is a department's job and becomes a report in intake, written by the community
    for the department (no beneficiary's name or phone)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ticket_category_code: str = Field(min_length=1, max_length=32, description="工单类别 (部件/事件 code)")
    description: str = Field(min_length=TEXT_MIN, max_length=500, description="问题描述 (for the department)")
    address: str = Field(min_length=TEXT_MIN, max_length=200, description="问题地点")
    grid_code: str | None = Field(default=None, min_length=1, max_length=32, description="默认为需求所在网格")
    location: GeoPoint | None = None


class ClaimRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: bool = Field(default=False, description="发起或加入联合认领 (other units may join a group claim)")


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=TEXT_MIN, max_length=500, description="说明")


class DeliverRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=TEXT_MIN, max_length=500, description="兑现情况")
    photos: list[str] = Field(default_factory=list, max_length=PHOTOS_MAX, description="照片 id")


class RateNeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    rating: Rating = Field(description="satisfied 满意, basically_satisfied 基本满意, unsatisfied 不满意")
    comment: str = Field(default="", max_length=500)


class ReleaseRequest(BaseModel):
    """A claimant asks to be released from its claim; the community decides."""

    claimant: Claimant
    reason: str
    at: Instant


class Need(BaseModel):
    """One need (居民需求). `beneficiary` and `description` are set only for the community worker of
    its community, its submitter, and a claimant; null for everyone else."""

    id: str
    need_number: str
    kind: NeedKind
    source: NeedSource
    status: NeedStatus
    category_code: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    location: GeoPoint | None
    summary: str = Field(description="公开摘要: empty until the community has reviewed the need")
    submitter_role: str
    review_deadline: Instant | None
    claim_deadline: Instant | None
    contact_deadline: Instant | None
    deliver_deadline: Instant | None
    confirm_by: Instant | None
    assigned_unit: str | None
    claimants: list[Claimant]
    group: bool
    release_request: ReleaseRequest | None
    origin_ticket_id: str | None
    ticket_id: str | None = Field(description="the ticket the need was converted to (or came from)")
    ticket_number: str | None
    ticket_ids: list[str] = Field(description="a hotspot's tickets")
    merged_into: str | None
    rating: Rating | None
    rated_at: Instant | None
    reject_reason: str | None
    delivered_at: Instant | None
    done_at: Instant | None
    on_time: bool | None
    overdue: list[str] = Field(description="deadlines announced as passed: review, claim, deliver")
    created_at: Instant
    updated_at: Instant
    beneficiary: Beneficiary | None = None
    description: str | None = None
    allowed_actions: list[NeedAction] = Field(
        description="当前可办理的操作 (what the caller may do now, each the last segment of its route)"
    )


class NeedList(BaseModel):
    items: list[Need] = Field(description="newest first; never with beneficiary or description")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class WallItem(BaseModel):
    """A need on the wish wall (心愿墙): its public summary only."""

    id: str
    need_number: str
    kind: NeedKind
    category_code: str
    category_name: str
    summary: str
    grid_code: str
    community_code: str
    claim_deadline: Instant | None
    claimants: int
    group: bool


class Wall(BaseModel):
    items: list[WallItem]
    next_cursor: str | None
