"""The event contract: an envelope around a versioned payload.

The wire contract is the `event_type` string and `version`, never a Python class name.
"""

import json
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError

TICKETS_TOPIC = "gridloop.tickets.v1"
DIRECTORY_TOPIC = "gridloop.directory.v1"
NEEDS_TOPIC = "gridloop.needs.v1"
"""The 共建 loop's events (needs, offers, projects), keyed by the need's, offer's or project's id."""
VOLUNTEERING_TOPIC = "gridloop.volunteering.v1"
"""双报到 and volunteering: reports, posts, activities, service records, points, 评议 and the 社区事务
准入 gate, keyed by the member's id (or the unit's, activity's or admission request's for theirs)."""


def dead_letter_topic(group_id: str) -> str:
    return f"gridloop.dlq.{group_id}"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    STREET_DISPATCHER = "street_dispatcher"
    DEPARTMENT_AGENT = "department_agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    SYSTEM = "system"
    CLIENT_APP = "client_app"  # 第三方应用: a registered Open311 client application, never a person's token
    COMMUNITY_WORKER = "community_worker"  # 社区工作者: org = community
    UNIT_ADMIN = "unit_admin"  # 驻区单位管理员: org = the unit (驻区单位)
    RESIDENT = "resident"  # 居民: org = the community they live in
    MEMBER = "member"  # 报到党员 or volunteer (志愿者): org = the residence community they report to


class Actor(BaseModel):
    """Who took the action: a person from their token, or a service acting on a rule."""

    model_config = ConfigDict(frozen=True)
    sub: str
    name: str = ""
    role: Role
    org: str = ""


class GeoPoint(BaseModel):
    model_config = ConfigDict(frozen=True)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class Payload(BaseModel):
    """Base of every event payload; subclasses name their wire type and version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    EVENT_TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = TICKETS_TOPIC


_REGISTRY: dict[tuple[str, int], type[Payload]] = {}


P = TypeVar("P", bound=type[Payload])


def _register(cls: P) -> P:
    _REGISTRY[(cls.EVENT_TYPE, cls.VERSION)] = cls
    return cls


def payload_types() -> dict[tuple[str, int], type[Payload]]:
    return dict(_REGISTRY)


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class CancelReason(StrEnum):
    INVALID = "invalid"
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"
    CONVERTED_TO_NEED = "converted_to_need"  # a household's need, not a department's job: cobuild takes it as a need


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class DeadlineKind(StrEnum):
    ACCEPT = "accept"
    RESOLVE = "resolve"


@_register
class TicketReported(Payload):
    EVENT_TYPE = "ticket.reported"
    ticket_number: str
    category_code: str
    category_name: str
    description: str
    location: GeoPoint | None
    address: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    photos: list[str] = []
    priority: Priority = Priority.NORMAL
    # Fields added later are optional, so version 1 messages already on the topic still parse.
    evidence_required: bool = False  # the category asks for photos when the ticket is resolved
    possible_duplicates: list[str] = []  # open tickets of the same category close by (疑似重复)
    origin_need_id: str | None = None  # filed from a resident's need (转办); its rating is the need's


@_register
class TicketCancelled(Payload):
    EVENT_TYPE = "ticket.cancelled"
    reason: CancelReason
    comment: str = ""
    duplicate_of: str | None = None


@_register
class TicketDispatched(Payload):
    EVENT_TYPE = "ticket.dispatched"
    round: int = Field(ge=1)
    lead_department: str
    assisting_departments: list[str] = []
    accept_deadline: datetime
    resolve_deadline: datetime
    manual: bool
    rule_id: str | None = None
    provisional: bool = False  # counted on a year whose holiday schedule is not published yet (预计)


@_register
class TicketDeadlinesRevised(Payload):
    """The deadlines of the current round, counted again because the working calendar changed
    (a year's holiday schedule was published or amended)."""

    EVENT_TYPE = "ticket.deadlines_revised"
    round: int = Field(ge=1)
    department: str
    accept_deadline: datetime
    resolve_deadline: datetime
    provisional: bool
    reason: str


@_register
class TicketAccepted(Payload):
    EVENT_TYPE = "ticket.accepted"
    department: str
    round: int


@_register
class TicketRejected(Payload):
    EVENT_TYPE = "ticket.rejected"
    department: str
    round: int
    reason: str


@_register
class TicketProgressed(Payload):
    EVENT_TYPE = "ticket.progressed"
    department: str
    note: str
    photos: list[str] = []
    part_done: bool = False  # an assisting department (协办) reports its part of a joint ticket done


@_register
class TicketExtensionRequested(Payload):
    EVENT_TYPE = "ticket.extension_requested"
    department: str
    requested_resolve_deadline: datetime
    reason: str


@_register
class TicketExtensionDecided(Payload):
    EVENT_TYPE = "ticket.extension_decided"
    approved: bool
    resolve_deadline: datetime
    comment: str = ""


@_register
class TicketResolved(Payload):
    EVENT_TYPE = "ticket.resolved"
    department: str
    round: int
    note: str
    photos: list[str] = []
    override_reason: str = ""  # why the lead resolved before every assisting part was reported


@_register
class TicketClosed(Payload):
    EVENT_TYPE = "ticket.closed"
    auto: bool = False
    comment: str = ""


@_register
class TicketReopened(Payload):
    EVENT_TYPE = "ticket.reopened"
    department: str
    rework_count: int = Field(ge=1)
    comment: str = ""
    photos: list[str] = []


@_register
class TicketRated(Payload):
    EVENT_TYPE = "ticket.rated"
    rating: Rating
    comment: str = ""


@_register
class TicketOverdue(Payload):
    EVENT_TYPE = "ticket.overdue"
    kind: DeadlineKind
    department: str
    deadline: datetime


@_register
class TicketEscalated(Payload):
    EVENT_TYPE = "ticket.escalated"
    level: Literal["street", "district"]
    reason: str


# ---------------------------------------------------------------------------------------------
# The 共建 loop (三单制) on gridloop.needs.v1: needs (居民需求), resource offers (资源清单) and
# projects (惠民项目). The envelope's `ticket_id` carries the need's, offer's or project's id, the
# record key. No event names, phones or addresses a beneficiary: those stay in cobuild's database;
# what travels is the community's public summary and codes.


class NeedKind(StrEnum):
    WISH = "wish"  # 微心愿
    SERVICE = "service"  # 服务需求
    PROJECT_IDEA = "project_idea"  # 项目建议


class NeedSource(StrEnum):
    APP = "app"  # a resident in the app
    VISIT = "visit"  # a grid worker's 走访
    HOTLINE = "hotline"  # the street desk, from a call
    WISH_WALL = "wish_wall"  # a paper wish wall, typed by the community
    TICKET = "ticket"  # a ticket the street desk cancelled as a household's need
    HOTSPOT = "hotspot"  # a spot where the same problem returns (热点难点)


class ClaimantKind(StrEnum):
    UNIT = "unit"
    MEMBER = "member"


class Claimant(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: ClaimantKind
    code: str  # the unit's code, or the member's sub


class NeedDeadline(StrEnum):
    REVIEW = "review"
    CLAIM = "claim"
    DELIVER = "deliver"


class CobuildPayload(Payload):
    TOPIC: ClassVar[str] = NEEDS_TOPIC


@_register
class NeedSubmitted(CobuildPayload):
    """A need is collected. No free text: what the household wrote may name them, and stays in cobuild."""

    EVENT_TYPE = "need.submitted"
    need_number: str
    kind: NeedKind
    source: NeedSource
    category_code: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    review_deadline: datetime
    origin_ticket_id: str | None = None
    ticket_ids: list[str] = []  # a hotspot's tickets


@_register
class NeedReviewed(CobuildPayload):
    EVENT_TYPE = "need.reviewed"
    summary: str  # the public text, written by the community
    category_code: str


@_register
class NeedPublished(CobuildPayload):
    EVENT_TYPE = "need.published"
    claim_deadline: datetime
    again: bool = False  # published again after a claim expired or was released


@_register
class NeedAssigned(CobuildPayload):
    EVENT_TYPE = "need.assigned"
    unit_code: str
    claim_deadline: datetime


@_register
class NeedAssignmentReturned(CobuildPayload):
    EVENT_TYPE = "need.assignment_returned"
    unit_code: str
    reason: str


@_register
class NeedClaimed(CobuildPayload):
    EVENT_TYPE = "need.claimed"
    claimant: Claimant
    contact_deadline: datetime
    group: bool = False  # joins a group claim: several claimants share one need


@_register
class NeedContacted(CobuildPayload):
    """The claimant reached the household: the claim is held and the service starts."""

    EVENT_TYPE = "need.contacted"
    claimant: Claimant
    deliver_deadline: datetime


@_register
class NeedClaimExpired(CobuildPayload):
    EVENT_TYPE = "need.claim_expired"
    claimants: list[Claimant]
    claim_deadline: datetime  # published again, open until then


@_register
class NeedReleaseRequested(CobuildPayload):
    EVENT_TYPE = "need.release_requested"
    claimant: Claimant
    reason: str


@_register
class NeedClaimReleased(CobuildPayload):
    EVENT_TYPE = "need.claim_released"
    claimants: list[Claimant]
    reason: str
    claim_deadline: datetime


@_register
class NeedDelivered(CobuildPayload):
    EVENT_TYPE = "need.delivered"
    claimant: Claimant
    note: str
    photos: list[str] = []
    confirm_by: datetime  # confirmed automatically then


@_register
class NeedDone(CobuildPayload):
    EVENT_TYPE = "need.done"
    auto: bool = False
    on_time: bool = True  # delivered by the deliver deadline


@_register
class NeedRated(CobuildPayload):
    EVENT_TYPE = "need.rated"
    rating: Rating
    comment: str = ""
    ticket_id: str | None = None  # the rating of the ticket the need was converted to


@_register
class NeedRejected(CobuildPayload):
    EVENT_TYPE = "need.rejected"
    reason: str


@_register
class NeedEscalated(CobuildPayload):
    EVENT_TYPE = "need.escalated"
    level: Literal["street"] = "street"
    reason: str


@_register
class NeedConverted(CobuildPayload):
    """转办: a department's job, filed in intake as a report with this need as its origin. The
    description is the community's, written for the department (no beneficiary's identity)."""

    EVENT_TYPE = "need.converted"
    ticket_category_code: str
    description: str
    address: str
    grid_code: str
    location: GeoPoint | None = None


@_register
class NeedLinked(CobuildPayload):
    """The ticket the need became (or came from) is known: the need follows it."""

    EVENT_TYPE = "need.linked"
    ticket_id: str
    ticket_number: str


@_register
class NeedWithdrawn(CobuildPayload):
    EVENT_TYPE = "need.withdrawn"
    reason: str


@_register
class NeedMerged(CobuildPayload):
    EVENT_TYPE = "need.merged"
    into: str


@_register
class NeedOverdue(CobuildPayload):
    EVENT_TYPE = "need.overdue"
    kind: NeedDeadline
    deadline: datetime


class OfferKind(StrEnum):
    VENUE = "venue"  # 场地
    SERVICE = "service"  # 服务
    GOODS = "goods"  # 物资
    FUNDS = "funds"  # 资金
    PEOPLE = "people"  # 人员
    CHANNEL = "channel"  # 渠道


@_register
class OfferSubmitted(CobuildPayload):
    EVENT_TYPE = "offer.submitted"
    offer_number: str
    unit_code: str
    kind: OfferKind
    title: str
    category_codes: list[str]
    capacity: int = Field(ge=1)
    grid_code: str
    community_codes: list[str]
    street_code: str
    district_code: str
    available_from: datetime
    available_until: datetime


@_register
class OfferAccepted(CobuildPayload):
    EVENT_TYPE = "offer.accepted"
    community_code: str


@_register
class OfferDeclined(CobuildPayload):
    EVENT_TYPE = "offer.declined"
    community_code: str
    reason: str


@_register
class OfferWithdrawn(CobuildPayload):
    EVENT_TYPE = "offer.withdrawn"
    reason: str


@_register
class OfferUsed(CobuildPayload):
    """Part of an offer's capacity goes to a project (资源使用)."""

    EVENT_TYPE = "offer.used"
    project_id: str
    amount: int = Field(ge=1)


@_register
class ProjectProposed(CobuildPayload):
    EVENT_TYPE = "project.proposed"
    project_number: str
    title: str
    summary: str
    category_code: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    need_ids: list[str] = []
    offer_ids: list[str] = []
    unit_codes: list[str] = []
    ticket_ids: list[str] = []  # a hotspot's tickets
    planned_end: datetime


@_register
class ProjectApproved(CobuildPayload):
    EVENT_TYPE = "project.approved"
    comment: str = ""


@_register
class ProjectStarted(CobuildPayload):
    EVENT_TYPE = "project.started"


@_register
class ProjectProgressed(CobuildPayload):
    EVENT_TYPE = "project.progressed"
    percent: int = Field(ge=0, le=100)
    milestone: str


@_register
class ProjectSuspended(CobuildPayload):
    EVENT_TYPE = "project.suspended"
    reason: str


@_register
class ProjectResumed(CobuildPayload):
    EVENT_TYPE = "project.resumed"


@_register
class ProjectCompleted(CobuildPayload):
    EVENT_TYPE = "project.completed"
    report: str
    beneficiaries: int = Field(ge=0)  # 受益人次


@_register
class ProjectRated(CobuildPayload):
    EVENT_TYPE = "project.rated"
    rating: Rating
    comment: str = ""


@_register
class ProjectEvaluated(CobuildPayload):
    EVENT_TYPE = "project.evaluated"
    grade: Literal["excellent", "good", "fair", "poor"]
    comment: str = ""


@_register
class ProjectCancelled(CobuildPayload):
    EVENT_TYPE = "project.cancelled"
    reason: str


@_register
class HotspotSolved(CobuildPayload):
    """热点难点解决: a completed project's grid saw no ticket of its category for the quiet period."""

    EVENT_TYPE = "hotspot.solved"
    project_id: str
    category_code: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str


# ---------------------------------------------------------------------------------------------
# 双报到 and volunteering (topic gridloop.volunteering.v1). Events carry ids, never a person's name,
# phone or identity number: those stay in cobuild's `member_private`.


class VolunteeringPayload(Payload):
    TOPIC: ClassVar[str] = VOLUNTEERING_TOPIC


class ReportChannel(StrEnum):
    ONLINE = "online"  # 网上报到
    DESK = "desk"  # 现场报到


class LapseReason(StrEnum):
    MISSED_RETURN = "missed_return"  # 未按期回社区报到 (half-yearly)
    BELOW_MINIMUM = "below_minimum"  # 未达年度服务最低要求


class RecordMethod(StrEnum):
    CHECKIN = "checkin"  # 扫码签到签退
    MANUAL = "manual"  # 手工补录, approved by the organiser


class Grade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    PASS = "pass"  # 合格
    BASIC = "basic"  # 基本合格
    FAIL = "fail"  # 不合格


class ReviewSubject(StrEnum):
    MEMBER = "member"
    UNIT = "unit"
    COMMUNITY = "community"


class PointsReason(StrEnum):
    SERVICE_HOURS = "service_hours"  # approved minutes x rate
    WISH_FULFILLED = "wish_fulfilled"  # 微心愿 done, claimed by the member or their unit
    REPORT_VERIFIED = "report_verified"  # a report the member filed closed as a verified ticket
    POST_DUTY = "post_duty"  # an approved record of an activity that serves a post
    REDEEM = "redeem"  # 积分超市
    EXPIRE = "expire"
    REVERSAL = "reversal"  # a record later rated 不满意 gives its points back


class AdmissionTaskType(StrEnum):
    SIGN = "sign"  # 挂牌
    FORM = "form"  # 台账报表
    SURVEY = "survey"  # 调查统计
    INSPECTION = "inspection"  # 专项检查
    APPRAISAL = "appraisal"  # 考核评比
    CERTIFICATE = "certificate"  # 证明事项
    TASK = "task"  # 工作任务


@_register
class UnitReported(VolunteeringPayload):
    """单位报到: a unit reports to a community; the community's receipt (回执) has a number."""

    EVENT_TYPE = "unit.reported"
    unit_code: str
    community_code: str
    street_code: str
    district_code: str
    receipt_number: str


@_register
class UnitHeadcountConfirmed(VolunteeringPayload):
    """The unit admin confirms how many in-service Party members (在职党员) the unit has."""

    EVENT_TYPE = "unit.headcount_confirmed"
    unit_code: str
    party_members: int = Field(ge=0)


@_register
class MemberRegistered(VolunteeringPayload):
    """个人报到 submitted (pending). Skills and service types are codes, never free text."""

    EVENT_TYPE = "member.registered"
    member_id: str
    community_code: str
    street_code: str
    district_code: str
    unit_code: str | None = None  # the member's work unit, when a Party member of a reporting unit
    party_member: bool
    channel: ReportChannel
    service_types: list[str] = []


@_register
class MemberConfirmed(VolunteeringPayload):
    """The community confirms the report (pending -> reported)."""

    EVENT_TYPE = "member.confirmed"
    member_id: str
    community_code: str


@_register
class MemberPlaced(VolunteeringPayload):
    """Placed in a grid and a squad (reported -> active, or a move within the community)."""

    EVENT_TYPE = "member.placed"
    member_id: str
    community_code: str
    grid_code: str
    squad: str


@_register
class MemberReturned(VolunteeringPayload):
    """The half-yearly return (定期回社区报到); a lapsed member who returns is active again."""

    EVENT_TYPE = "member.returned"
    member_id: str
    community_code: str


@_register
class MemberLapsed(VolunteeringPayload):
    EVENT_TYPE = "member.lapsed"
    member_id: str
    community_code: str
    reason: LapseReason


@_register
class MemberDeactivated(VolunteeringPayload):
    """Moved away or left (inactive)."""

    EVENT_TYPE = "member.deactivated"
    member_id: str
    community_code: str
    reason: str


@_register
class MemberTransferred(VolunteeringPayload):
    EVENT_TYPE = "member.transferred"
    member_id: str
    community_code: str
    to_community_code: str


@_register
class MemberErased(VolunteeringPayload):
    """A person's data was erased on request; the id stays so the ledger still sums."""

    EVENT_TYPE = "member.erased"
    member_id: str


@_register
class PostPublished(VolunteeringPayload):
    """公益岗位 in a grid, with how many holders it needs."""

    EVENT_TYPE = "post.published"
    post_id: str
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    category: str
    headcount: int = Field(ge=1)


@_register
class PostClaimed(VolunteeringPayload):
    EVENT_TYPE = "post.claimed"
    post_id: str
    member_id: str
    community_code: str
    grid_code: str


@_register
class PostReleased(VolunteeringPayload):
    EVENT_TYPE = "post.released"
    post_id: str
    member_id: str
    community_code: str
    grid_code: str


@_register
class PostClosed(VolunteeringPayload):
    EVENT_TYPE = "post.closed"
    post_id: str
    community_code: str


@_register
class ActivityPublished(VolunteeringPayload):
    EVENT_TYPE = "activity.published"
    activity_id: str
    organizer_kind: Literal["community", "unit"]
    organizer_code: str
    community_code: str
    grid_code: str
    street_code: str
    district_code: str
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1)
    post_id: str | None = None
    need_id: str | None = None
    project_id: str | None = None


@_register
class ActivityCancelled(VolunteeringPayload):
    EVENT_TYPE = "activity.cancelled"
    activity_id: str
    reason: str


@_register
class ActivityClosed(VolunteeringPayload):
    """Every record of the activity is decided; its organiser closes it."""

    EVENT_TYPE = "activity.closed"
    activity_id: str


@_register
class ActivitySignedUp(VolunteeringPayload):
    EVENT_TYPE = "activity.signed_up"
    activity_id: str
    member_id: str


@_register
class RecordSubmitted(VolunteeringPayload):
    """过程纪实: a service record, from check-in/out or logged by hand."""

    EVENT_TYPE = "record.submitted"
    record_id: str
    activity_id: str
    member_id: str
    method: RecordMethod
    minutes_claimed: int = Field(ge=0)


@_register
class RecordApproved(VolunteeringPayload):
    """The organiser approves the counted minutes (rounded down to 15, capped per day)."""

    EVENT_TYPE = "record.approved"
    record_id: str
    activity_id: str
    member_id: str
    unit_code: str | None = None
    community_code: str
    grid_code: str
    street_code: str
    district_code: str
    service_date: datetime  # the activity's start, city time
    minutes: int = Field(ge=0)
    post_id: str | None = None


@_register
class RecordReturned(VolunteeringPayload):
    EVENT_TYPE = "record.returned"
    record_id: str
    member_id: str
    reason: str


@_register
class RecordRejected(VolunteeringPayload):
    EVENT_TYPE = "record.rejected"
    record_id: str
    member_id: str
    reason: str


@_register
class RecordRated(VolunteeringPayload):
    """The served household's or community's rating of a record; 不满意 earns no points."""

    EVENT_TYPE = "record.rated"
    record_id: str
    member_id: str
    rating: Rating


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True)
    account: str  # member:<id> | community_pool:<code> | shop:<code>
    amount: int  # points; the entries of one movement sum to zero


@_register
class PointsMoved(VolunteeringPayload):
    """One double-entry movement of the points ledger (积分): its entries sum to zero."""

    EVENT_TYPE = "points.moved"
    movement_id: str
    member_id: str
    unit_code: str | None = None
    community_code: str
    reason: PointsReason
    source_ref: str
    entries: list[LedgerEntry]


@_register
class ReviewGraded(VolunteeringPayload):
    """年度评议 / 双向评议: one grade for one year, with the indicators it rests on kept in cobuild."""

    EVENT_TYPE = "review.graded"
    year: int
    subject_kind: ReviewSubject
    subject_code: str  # member id, unit code or community code
    reviewer_kind: ReviewSubject
    reviewer_code: str
    community_code: str
    grade: Grade


@_register
class AdmissionRequested(VolunteeringPayload):
    """社区事务准入: a department asks to put a task on communities."""

    EVENT_TYPE = "admission.requested"
    request_id: str
    department_code: str
    district_code: str
    task_type: AdmissionTaskType
    community_codes: list[str]
    starts_on: datetime
    emergency: bool = False


@_register
class AdmissionDecided(VolunteeringPayload):
    EVENT_TYPE = "admission.decided"
    request_id: str
    department_code: str
    district_code: str
    admitted: bool
    decided_by: Literal["list", "negative_list", "district"]
    list_item_code: str | None = None
    reason: str = ""


@_register
class AdmissionRevoked(VolunteeringPayload):
    EVENT_TYPE = "admission.revoked"
    request_id: str
    department_code: str
    reason: str


@_register
class TaskFlagged(VolunteeringPayload):
    """A community reports a task that reached it without admission (未准入事项); it counts against the
    department in that month's evaluation sheet."""

    EVENT_TYPE = "task.flagged"
    flag_id: str
    community_code: str
    street_code: str
    department_code: str
    district_code: str
    task_type: AdmissionTaskType


class UnknownEventType(Exception):
    """A message whose (event_type, version) this build does not know: it goes to dead letters."""


class MalformedEvent(Exception):
    """A message that is not a valid envelope: it goes to dead letters."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)
    event_id: str
    event_type: str
    version: int
    occurred_at: datetime
    ticket_id: str
    producer: str
    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    payload: SerializeAsAny[Payload]

    def to_wire(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_wire(cls, raw: bytes) -> "Envelope":
        try:
            data = json.loads(raw)
            key = (data["event_type"], int(data["version"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedEvent(f"not an event envelope: {exc}") from exc
        payload_cls = _REGISTRY.get(key)
        if payload_cls is None:
            raise UnknownEventType(f"unknown event {key[0]} v{key[1]}")
        try:
            payload = payload_cls.model_validate(data["payload"])
            return cls.model_validate({**data, "payload": payload})
        except (ValidationError, KeyError) as exc:
            raise MalformedEvent(f"invalid {key[0]} v{key[1]}: {exc}") from exc

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("event_type", self.event_type.encode()),
            ("version", str(self.version).encode()),
            ("ticket_id", self.ticket_id.encode()),
            ("correlation_id", self.correlation_id.encode()),
        ]


def envelope(
    payload: Payload,
    *,
    event_id: str,
    ticket_id: str,
    producer: str,
    actor: Actor,
    occurred_at: datetime,
    correlation_id: str,
    causation_id: str | None = None,
) -> Envelope:
    """An event around `payload`. Only a registered payload travels: the registry is the contract
    the AsyncAPI document lists, so nothing can be published that it does not describe."""
    if _REGISTRY.get((payload.EVENT_TYPE, payload.VERSION)) is not type(payload):
        raise UnknownEventType(
            f"{type(payload).__name__} is not a registered event ({payload.EVENT_TYPE} v{payload.VERSION})"
        )
    return Envelope(
        event_id=event_id,
        event_type=payload.EVENT_TYPE,
        version=payload.VERSION,
        occurred_at=occurred_at,
        ticket_id=ticket_id,
        producer=producer,
        actor=actor,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload,
    )
