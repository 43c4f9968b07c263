"""cobuild's API (共建) as its clients see it: the requests of the 三单制 loop and the answers,
written once for the service and the console.

Needs (居民需求, 微心愿) come first; a need's beneficiary (name, phone, address) and the household's
own words appear only in the answer for one need, and only to those who serve the household."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridloop.shared.clock import AwareIsoDatetime, Instant
from gridloop.shared.cobuild_lifecycle import NeedStatus, OfferStatus, ProjectStatus
from gridloop.shared.events import Claimant, GeoPoint, NeedKind, NeedSource, OfferKind, Rating
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


# ---- Offers and projects ----------------------------------------------------------------------------
# Resource offers (资源清单) from units, the suggested need↔offer pairs (智能匹配), and projects
# (惠民项目清单) with their milestones, closing report, ratings and the street's evaluation.

OFFER_KIND_LABELS: dict[OfferKind, str] = {
    OfferKind.VENUE: "场地",
    OfferKind.SERVICE: "服务",
    OfferKind.GOODS: "物资",
    OfferKind.FUNDS: "资金",
    OfferKind.PEOPLE: "人员",
    OfferKind.CHANNEL: "渠道",
}
"""The names a reader sees for each kind of resource."""

Grade = Literal["excellent", "good", "fair", "poor"]
GRADE_LABELS: dict[str, str] = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}


class OfferAction(StrEnum):
    """What may be done with an offer; each names its route (`POST /v1/cobuild/offers/{id}/{action}`)."""

    ACCEPT = "accept"  # 社区接收
    DECLINE = "decline"  # 社区婉拒
    WITHDRAW = "withdraw"  # 单位撤回


class ProjectAction(StrEnum):
    """What may be done with a project; each names its route (`POST /v1/cobuild/projects/{id}/{action}`)."""

    APPROVE = "approve"  # 街道审核通过
    START = "start"  # 启动实施
    PROGRESS = "progress"  # 进展与里程碑
    SUSPEND = "suspend"  # 暂停
    RESUME = "resume"  # 恢复
    COMPLETE = "complete"  # 完成 (结项报告)
    RATE = "rate"  # 居民评价
    EVALUATE = "evaluate"  # 街道评估
    CANCEL = "cancel"  # 取消


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _in_utc(value: datetime, field: str) -> datetime:
    """The instant in UTC; a ValueError (so a 422) for one the database cannot hold."""
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{field} is out of range (时间超出范围)") from exc


class OfferRequest(_Strict):
    """A unit's resource offer (资源清单) for some of its paired communities."""

    kind: OfferKind = Field(description="venue 场地, service 服务, goods 物资, funds 资金, people 人员, channel 渠道")
    title: str = Field(min_length=2, max_length=60, description="资源名称 (title)")
    description: str = Field(default="", max_length=500, description="资源说明 (what is offered, how to use it)")
    category_codes: list[str] = Field(
        min_length=1, max_length=8, description="适用的需求类别 (need category codes it serves)"
    )
    capacity: int = Field(ge=1, le=100_000, description="可提供的次数/人次/份数 (how many uses it offers)")
    grid_code: str | None = Field(
        default=None, max_length=32, description="资源所在网格 (where it is; default: the unit's grid)"
    )
    community_codes: list[str] = Field(
        min_length=1, max_length=20, description="面向的社区 (communities, among the unit's paired ones)"
    )
    available_from: AwareIsoDatetime = Field(description="可用起始时间 (available from)")
    available_until: AwareIsoDatetime = Field(description="可用截止时间 (available until; the offer's validity)")

    @model_validator(mode="after")
    def _window(self) -> "OfferRequest":
        self.available_from = _in_utc(self.available_from, "available_from")
        self.available_until = _in_utc(self.available_until, "available_until")
        if self.available_until <= self.available_from:
            raise ValueError("available_until must be later than available_from (截止时间须晚于起始时间)")
        if len(set(self.category_codes)) != len(self.category_codes):
            raise ValueError("category_codes repeat a code (需求类别重复)")
        if len(set(self.community_codes)) != len(self.community_codes):
            raise ValueError("community_codes repeat a code (社区重复)")
        return self


class OfferDecision(BaseModel):
    """One listed community's answer to an offer."""

    community_code: str = Field(description="社区 (community)")
    decision: Literal["pending", "accepted", "declined"] = Field(description="待接收 / 已接收 / 已婉拒")
    reason: str = Field(default="", description="婉拒理由 (why declined)")
    at: Instant | None = Field(default=None, description="答复时间 (when)")


class Offer(BaseModel):
    """A resource offer as its unit, its communities and the street see it."""

    id: str
    offer_number: str = Field(description="资源编号 (e.g. ZY-20261207-0001)")
    unit_code: str = Field(description="驻区单位 (unit code)")
    unit_name: str = Field(description="单位名称 (unit name)")
    kind: OfferKind
    kind_label: str = Field(description="资源类型 (场地, 服务, 物资, 资金, 人员, 渠道)")
    title: str
    description: str
    category_codes: list[str]
    capacity: int
    used: int = Field(description="已使用 (uses given to projects)")
    remaining: int = Field(description="剩余容量 (uses left)")
    grid_code: str
    community_codes: list[str]
    street_code: str
    district_code: str
    available_from: Instant
    available_until: Instant
    expired: bool = Field(description="已过有效期 (past its validity)")
    status: OfferStatus
    decisions: list[OfferDecision] = Field(description="各社区的答复 (each listed community's answer)")
    withdraw_reason: str = ""
    created_at: Instant
    updated_at: Instant
    allowed_actions: list[OfferAction] = Field(description="调用者现在可执行的操作 (what the caller may do now)")


class OfferPage(BaseModel):
    items: list[Offer]
    next_cursor: str | None = None


class Match(BaseModel):
    """A suggested pair: this offer could serve this need, with the reasons."""

    need_id: str
    need_number: str
    category_code: str
    grid_code: str
    offer_id: str
    offer_title: str
    unit_code: str
    score: int = Field(description="匹配度 0-100 (higher is better)")
    reasons: list[str] = Field(description="匹配理由 (why, in Chinese)")


class Unmatched(BaseModel):
    """A need no offer serves now, with the reason."""

    need_id: str
    need_number: str
    category_code: str
    grid_code: str
    reason: str = Field(description="未匹配原因 (无同类资源, 资源不在可用期, 距离过远, 资源容量已用完)")


class Matches(BaseModel):
    matches: list[Match]
    unmatched: list[Unmatched]


class ProjectRequest(_Strict):
    """A project (惠民项目) made by the community from needs and offers."""

    title: str = Field(min_length=2, max_length=80, description="项目名称 (title)")
    summary: str = Field(min_length=2, max_length=1000, description="项目简介 (public summary)")
    category_code: str = Field(min_length=1, max_length=32, description="需求类别 (need category)")
    grid_code: str = Field(min_length=1, max_length=32, description="实施网格 (grid, in the community)")
    need_ids: list[str] = Field(default_factory=list, max_length=200, description="纳入的需求 (needs it answers)")
    offer_ids: list[str] = Field(default_factory=list, max_length=50, description="使用的资源 (offers it uses)")
    offer_amounts: dict[str, int] = Field(
        default_factory=dict, description="每项资源使用量 (uses per offer; default 1 each)"
    )
    unit_codes: list[str] = Field(
        default_factory=list, max_length=20, description="参与单位 (units taking part; the offers' units are added)"
    )
    planned_end: AwareIsoDatetime = Field(description="计划完成时间 (planned end)")

    @model_validator(mode="after")
    def _consistent(self) -> "ProjectRequest":
        self.planned_end = _in_utc(self.planned_end, "planned_end")
        if len(set(self.need_ids)) != len(self.need_ids) or len(set(self.offer_ids)) != len(self.offer_ids):
            raise ValueError("need_ids and offer_ids must not repeat (需求或资源重复)")
        unknown = set(self.offer_amounts) - set(self.offer_ids)
        if unknown:
            raise ValueError(f"offer_amounts names offers not in offer_ids: {sorted(unknown)}")
        if any(amount < 1 for amount in self.offer_amounts.values()):
            raise ValueError("each offer amount is at least 1 (使用量至少为1)")
        return self


class ApproveRequest(_Strict):
    comment: str = Field(default="", max_length=500, description="审核意见 (comment)")


class ProgressRequest(_Strict):
    percent: int = Field(ge=0, le=100, description="完成进度 % (progress)")
    milestone: str = Field(min_length=2, max_length=200, description="里程碑 (what was reached)")


class CompleteRequest(_Strict):
    report: str = Field(min_length=2, max_length=2000, description="结项报告 (closing report)")
    beneficiaries: int = Field(ge=0, le=10_000_000, description="受益人次 (people served)")


class ProjectRateRequest(_Strict):
    rating: Rating = Field(description="satisfied 满意, basically_satisfied 基本满意, unsatisfied 不满意")
    comment: str = Field(default="", max_length=500, description="评价 (comment)")


class EvaluateRequest(_Strict):
    grade: Grade = Field(description="excellent 优秀, good 良好, fair 一般, poor 较差")
    comment: str = Field(default="", max_length=500, description="评估意见 (comment)")


class Milestone(BaseModel):
    percent: int
    milestone: str
    at: Instant


class ProjectRating(BaseModel):
    rating: Rating
    comment: str
    at: Instant
    recorded_by_community: bool = Field(description="社区代录 (recorded by the community for a resident)")


class Evaluation(BaseModel):
    grade: Grade
    grade_label: str
    comment: str
    at: Instant


class OfferUse(BaseModel):
    offer_id: str
    amount: int


class Project(BaseModel):
    """A project as the community, its units, its residents and the street see it."""

    id: str
    project_number: str = Field(description="项目编号 (e.g. XM-20261207-0001)")
    title: str
    summary: str
    category_code: str
    ticket_category_code: str | None = Field(
        default=None, description="热点难点的问题类别 (the tickets' category, for a project from a hotspot)"
    )
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    need_ids: list[str]
    offer_uses: list[OfferUse]
    unit_codes: list[str]
    ticket_ids: list[str]
    planned_end: Instant
    status: ProjectStatus
    percent: int = Field(description="完成进度 %")
    milestones: list[Milestone]
    approval_comment: str = ""
    suspend_reason: str = ""
    cancel_reason: str = ""
    report: str = ""
    beneficiaries: int | None = None
    ratings: list[ProjectRating]
    evaluation: Evaluation | None = None
    hotspot_solved_at: Instant | None = Field(default=None, description="热点难点解决 (no recurrence since)")
    started_at: Instant | None = None
    completed_at: Instant | None = None
    created_at: Instant
    updated_at: Instant
    allowed_actions: list[ProjectAction] = Field(description="调用者现在可执行的操作 (what the caller may do now)")


class ProjectPage(BaseModel):
    items: list[Project]
    next_cursor: str | None = None
