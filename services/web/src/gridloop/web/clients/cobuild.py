"""共建 (cobuild), as the console calls it: needs and their actions, the wish wall, resource offers,
matching suggestions and projects, in the shapes CONTRACTS.md gives the service's API (and
gridloop.shared.api.cobuild, written beside the service, spells out).

The models here are the console's reading of those answers: they name what the pages show and
ignore what they do not, so a field the service adds breaks no page. Request bodies carry the
service's limits, so a form that would be refused is refused here first, in the same words."""

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from gridloop.shared.cobuild_lifecycle import NeedStatus, OfferStatus, ProjectStatus
from gridloop.shared.events import Claimant, GeoPoint, NeedKind, NeedSource, OfferKind, Rating
from gridloop.shared.limits import TEXT_MIN
from gridloop.web.clients.base import ServiceClient

BASE = "/v1/cobuild"
DESCRIPTION_MAX = 500
SUMMARY_MAX = 200  # a need's public summary, as the wall shows it
ADDRESS_MAX = 200
Grade = Literal["excellent", "good", "fair", "poor"]


class Answer(BaseModel):
    """A record as the service answers it: fields the console does not read are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _id(*names: str) -> AliasChoices:
    return AliasChoices("id", *names, "_id")


# ------------------------------------------------------------------ needs


class Beneficiary(Answer):
    """The household a need is for: shown to its community, its submitter and a claimant alone."""

    name: str = ""
    phone: str = ""
    address: str = ""


class ReleaseRequest(Answer):
    """A claimant asked to be let go of the need (the community approves)."""

    claimant: Claimant | None = None
    reason: str = ""
    at: datetime | None = None


class Need(Answer):
    id: str = Field(validation_alias=_id("need_id"))
    need_number: str
    kind: NeedKind
    source: NeedSource | None = None
    status: NeedStatus
    category_code: str
    category_name: str = ""
    grid_code: str = ""
    community_code: str = ""
    street_code: str = ""
    location: GeoPoint | None = None
    summary: str = ""
    submitter_sub: str = ""
    submitter_role: str = ""
    review_deadline: datetime | None = None
    claim_deadline: datetime | None = None
    contact_deadline: datetime | None = None
    deliver_deadline: datetime | None = None
    confirm_by: datetime | None = None
    assigned_unit: str | None = None
    claimants: list[Claimant] = []
    group: bool = False
    release_request: ReleaseRequest | None = None
    origin_ticket_id: str | None = None
    ticket_id: str | None = None
    ticket_number: str | None = None
    ticket_ids: list[str] = []
    merged_into: str | None = None
    rating: Rating | None = None
    rated_at: datetime | None = None
    reject_reason: str | None = None
    delivered_at: datetime | None = None
    done_at: datetime | None = None
    on_time: bool | None = None
    overdue: list[str] = []  # the deadlines announced as passed: review, claim, deliver
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Only for the community worker of its community, the submitter, and a claimant after claiming.
    beneficiary: Beneficiary | None = None
    description: str | None = None
    # What the caller may do now, as cobuild decides it: the page shows these actions and no others.
    allowed_actions: list[str]


class NeedPage(Answer):
    items: list[Need]
    next_cursor: str | None = None


class WallItem(Answer):
    """A need on the wish wall: its public summary only."""

    id: str = Field(validation_alias=_id("need_id"))
    need_number: str
    kind: NeedKind
    category_code: str
    category_name: str = ""
    summary: str = ""
    grid_code: str = ""
    community_code: str = ""
    claim_deadline: datetime | None = None
    claimants: int = 0
    group: bool = False


class WallPage(Answer):
    items: list[WallItem]
    next_cursor: str | None = None


class Match(Answer):
    need_id: str
    need_number: str
    offer_id: str
    offer_title: str
    unit_code: str
    score: float = 0
    reasons: list[str] = []


class Unmatched(Answer):
    need_id: str
    need_number: str
    reason: str


class Matches(Answer):
    matches: list[Match] = []
    unmatched: list[Unmatched] = []


class NewBeneficiary(BaseModel):
    """服务对象, as the community types them from a paper wish card or a visit."""

    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(default="", max_length=20, pattern=r"^[0-9+\- ]*$")
    address: str = Field(default="", max_length=ADDRESS_MAX)


class NewNeed(BaseModel):
    kind: NeedKind
    category_code: str = Field(min_length=1)
    description: str = Field(min_length=TEXT_MIN, max_length=DESCRIPTION_MAX)
    grid_code: str = Field(min_length=1)
    location: GeoPoint | None = None
    beneficiary: NewBeneficiary | None = None


class Nothing(BaseModel):
    """An action that takes no fields: sent as `{}`."""


class ReviewRequest(BaseModel):
    summary: str = Field(min_length=TEXT_MIN, max_length=SUMMARY_MAX)
    category_code: str | None = None


class AssignRequest(BaseModel):
    unit_code: str = Field(min_length=1)


class ReasonRequest(BaseModel):
    reason: str = Field(min_length=TEXT_MIN, max_length=DESCRIPTION_MAX)


class ConvertRequest(BaseModel):
    ticket_category_code: str = Field(min_length=1)
    description: str = Field(min_length=TEXT_MIN, max_length=DESCRIPTION_MAX)
    address: str = Field(min_length=TEXT_MIN, max_length=ADDRESS_MAX)
    grid_code: str | None = None
    location: GeoPoint | None = None


class ClaimRequest(BaseModel):
    group: bool = False


class NoteRequest(BaseModel):
    note: str = Field(min_length=TEXT_MIN, max_length=DESCRIPTION_MAX)


class DeliverRequest(NoteRequest):
    photos: list[str] = []


class RateRequest(BaseModel):
    rating: Rating
    comment: str = Field(default="", max_length=DESCRIPTION_MAX)


# ------------------------------------------------------------------ offers


class OfferDecision(Answer):
    """One listed community's answer to an offer."""

    community_code: str
    decision: str = "pending"
    reason: str = ""


class Offer(Answer):
    id: str = Field(validation_alias=_id("offer_id"))
    offer_number: str = ""
    unit_code: str = ""
    unit_name: str = ""
    kind: OfferKind
    title: str
    description: str = ""
    status: OfferStatus
    category_codes: list[str] = []
    capacity: int = 1
    used: int = 0
    remaining: int | None = None
    grid_code: str | None = None
    community_codes: list[str] = []
    available_from: datetime | None = None
    available_until: datetime | None = None
    expired: bool = False
    decisions: list[OfferDecision] = []
    withdraw_reason: str = ""
    created_at: datetime | None = None
    allowed_actions: list[str]


class OfferPage(Answer):
    items: list[Offer]
    next_cursor: str | None = None


class NewOffer(BaseModel):
    kind: OfferKind
    title: str = Field(min_length=TEXT_MIN, max_length=60)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    category_codes: list[str] = Field(min_length=1)
    capacity: int = Field(ge=1)
    grid_code: str | None = None
    community_codes: list[str] = Field(min_length=1)
    available_from: datetime
    available_until: datetime


# ------------------------------------------------------------------ projects


class Milestone(Answer):
    percent: int = 0
    milestone: str = ""
    at: datetime | None = None


class ProjectRating(Answer):
    rating: Rating
    comment: str = ""
    at: datetime | None = None
    recorded_by_community: bool = False


class Evaluation(Answer):
    grade: Grade
    comment: str = ""
    at: datetime | None = None


class Project(Answer):
    id: str = Field(validation_alias=_id("project_id"))
    project_number: str = ""
    title: str
    summary: str = ""
    status: ProjectStatus
    category_code: str = ""
    grid_code: str = ""
    community_code: str = ""
    street_code: str = ""
    need_ids: list[str] = []
    unit_codes: list[str] = []
    ticket_ids: list[str] = []
    planned_end: datetime | None = None
    percent: int = 0
    milestones: list[Milestone] = []
    approval_comment: str = ""
    suspend_reason: str = ""
    cancel_reason: str = ""
    report: str = ""
    beneficiaries: int | None = None
    ratings: list[ProjectRating] = []
    evaluation: Evaluation | None = None
    hotspot_solved_at: datetime | None = None
    created_at: datetime | None = None
    allowed_actions: list[str]


class ProjectPage(Answer):
    items: list[Project]
    next_cursor: str | None = None


class NewProject(BaseModel):
    title: str = Field(min_length=TEXT_MIN, max_length=80)
    summary: str = Field(min_length=TEXT_MIN, max_length=1000)
    category_code: str = Field(min_length=1)
    grid_code: str = Field(min_length=1)
    need_ids: list[str] = []
    offer_ids: list[str] = []
    unit_codes: list[str] = []
    planned_end: datetime


class CommentRequest(BaseModel):
    comment: str = Field(default="", max_length=DESCRIPTION_MAX)


class ProgressRequest(BaseModel):
    percent: int = Field(ge=0, le=100)
    milestone: str = Field(min_length=TEXT_MIN, max_length=200)


class CompleteRequest(BaseModel):
    report: str = Field(min_length=TEXT_MIN, max_length=2000)
    beneficiaries: int = Field(ge=0)


class EvaluateRequest(BaseModel):
    grade: Grade
    comment: str = Field(default="", max_length=DESCRIPTION_MAX)


NeedAction = Literal[
    "review", "publish", "assign", "reject", "merge", "convert", "approve-release", "accept-assignment", "return",
    "claim", "contact", "request-release", "deliver", "confirm", "rate", "withdraw",
]  # fmt: skip
ProjectAction = Literal["approve", "start", "progress", "suspend", "resume", "complete", "rate", "evaluate", "cancel"]
OfferAction = Literal["accept", "decline", "withdraw"]


class CobuildClient(ServiceClient):
    service = "cobuild"

    async def needs(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        grid: str | None = None,
        community: str | None = None,
        cursor: str | None = None,
        limit: int = 25,
    ) -> NeedPage:
        return await self._get(
            NeedPage, f"{BASE}/needs", status=status, kind=kind, grid=grid, community=community, cursor=cursor,
            limit=limit,
        )  # fmt: skip

    async def need(self, need_id: str) -> Need:
        return await self._get(Need, f"{BASE}/needs/{need_id}")

    async def submit_need(self, body: NewNeed, *, key: str) -> Need:
        """Safe to send twice: the key makes the second the first one's answer."""
        return await self._call(Need, "POST", f"{BASE}/needs", body, headers={"Idempotency-Key": key})

    async def act(self, need_id: str, action: NeedAction, body: BaseModel | None = None) -> Need:
        """One of a need's actions (the service checks the state and the caller's part in it)."""
        return await self._call(Need, "POST", f"{BASE}/needs/{need_id}/{action}", body or Nothing())

    async def wall(
        self,
        *,
        community: str | None = None,
        grid: str | None = None,
        kind: str | None = None,
        cursor: str | None = None,
    ) -> WallPage:
        return await self._get(WallPage, f"{BASE}/wall", community=community, grid=grid, kind=kind, cursor=cursor)

    async def matches(self, *, community: str | None = None) -> Matches:
        return await self._get(Matches, f"{BASE}/matches", community=community)

    async def offers(
        self, *, status: str | None = None, community: str | None = None, cursor: str | None = None
    ) -> OfferPage:
        return await self._get(OfferPage, f"{BASE}/offers", status=status, community=community, cursor=cursor)

    async def offer(self, offer_id: str) -> Offer:
        return await self._get(Offer, f"{BASE}/offers/{offer_id}")

    async def submit_offer(self, body: NewOffer) -> Offer:
        return await self._call(Offer, "POST", f"{BASE}/offers", body)

    async def act_on_offer(self, offer_id: str, action: OfferAction, body: BaseModel | None = None) -> Offer:
        return await self._call(Offer, "POST", f"{BASE}/offers/{offer_id}/{action}", body or Nothing())

    async def projects(
        self, *, status: str | None = None, community: str | None = None, cursor: str | None = None
    ) -> ProjectPage:
        return await self._get(ProjectPage, f"{BASE}/projects", status=status, community=community, cursor=cursor)

    async def project(self, project_id: str) -> Project:
        return await self._get(Project, f"{BASE}/projects/{project_id}")

    async def propose_project(self, body: NewProject) -> Project:
        return await self._call(Project, "POST", f"{BASE}/projects", body)

    async def act_on_project(self, project_id: str, action: ProjectAction, body: BaseModel | None = None) -> Project:
        return await self._call(Project, "POST", f"{BASE}/projects/{project_id}/{action}", body or Nothing())
