"""Pure rules of needs (居民需求): who may do what with a need in which state, by when each step
is owed, and what each step announces. No I/O and no clock: the time comes in as `now`.

Each action is decided in three checks, in this order: the caller's relation to the need (the
community's worker, the assigned unit, a claimant, the submitter: NotAllowed, a 403), the need's
state (NEED_TRANSITIONS: CobuildTransitionNotAllowed, a 409), then what the body names
(InvalidNeedRequest, a 422). A decision is the event to announce and the need's changes.

Time limits (per need category, from the directory; the defaults below when it names none):
review within `review_days` working days of submission (the working calendar, as dispatch counts),
claim within `claim_days` days of publishing, contact the household within `contact_days` days of
claiming, deliver within `deliver_days` days of the contact, confirmed automatically
`confirm_days` days after delivery. Those after review are calendar days: a household's wish is
served on weekends too."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridloop.cobuild import scope
from gridloop.shared.api.cobuild import NeedAction
from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.cobuild_lifecycle import (
    NEED_TRANSITIONS,
    CobuildTransitionNotAllowed,
    NeedStatus,
    can_move,
    move,
)
from gridloop.shared.events import (
    Actor,
    Claimant,
    ClaimantKind,
    GeoPoint,
    NeedAssigned,
    NeedAssignmentReturned,
    NeedClaimed,
    NeedClaimExpired,
    NeedClaimReleased,
    NeedContacted,
    NeedConverted,
    NeedDeadline,
    NeedDelivered,
    NeedDone,
    NeedEscalated,
    NeedKind,
    NeedLinked,
    NeedMerged,
    NeedOverdue,
    NeedPublished,
    NeedRated,
    NeedRejected,
    NeedReleaseRequested,
    NeedReviewed,
    NeedSource,
    NeedSubmitted,
    NeedWithdrawn,
    Payload,
    Rating,
    Role,
)
from gridloop.shared.worktime import TimeUnit, WorkCalendar

WATCHDOG_ACTOR = Actor(sub="need-watchdog", name="需求时限监控", role=Role.SYSTEM, org="")
TICKETS_ACTOR = Actor(sub="cobuild-tickets", name="工单联动", role=Role.SYSTEM, org="")
"""Who cobuild's own decisions are announced as: its deadline watch, and its following of tickets."""

N = NeedStatus


@dataclass(frozen=True)
class Limits:
    """A need category's time limits (the directory's need_category record)."""

    review_days: int = 3  # working days
    claim_days: int = 10
    deliver_days: int = 30
    confirm_days: int = 7
    contact_days: int = 7

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> "Limits":
        """The record's limits; the defaults where it names none (or there is no record)."""
        record = record or {}
        defaults = cls()
        return cls(
            **{
                name: int(record.get(name) or getattr(defaults, name))
                for name in ("review_days", "claim_days", "deliver_days", "confirm_days", "contact_days")
            }
        )


class NotAllowed(PermissionError):
    """The caller sees the need but may not take this action on it (the wrong role or relation)."""


class InvalidNeedRequest(ValueError):
    """What the request names cannot be: an unknown unit or category, a need merged into itself."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class RatedByTicket(Exception):
    """The need became a ticket: the ticket's rating is the need's, and the resident is not asked twice."""


class AlreadyRated(Exception):
    """The need has its rating."""


class NoReleaseRequested(Exception):
    """Nothing to approve: no claimant asked to be released."""


class ReleaseAlreadyRequested(Exception):
    """A release request waits for the community already."""


# ---- who may act ------------------------------------------------------------------------------------

ANNOUNCES: Mapping[NeedAction, str] = {
    NeedAction.REVIEW: NeedReviewed.EVENT_TYPE,
    NeedAction.PUBLISH: NeedPublished.EVENT_TYPE,
    NeedAction.ASSIGN: NeedAssigned.EVENT_TYPE,
    NeedAction.REJECT: NeedRejected.EVENT_TYPE,
    NeedAction.MERGE: NeedMerged.EVENT_TYPE,
    NeedAction.CONVERT: NeedConverted.EVENT_TYPE,
    NeedAction.APPROVE_RELEASE: NeedClaimReleased.EVENT_TYPE,
    NeedAction.ACCEPT_ASSIGNMENT: NeedClaimed.EVENT_TYPE,
    NeedAction.RETURN: NeedAssignmentReturned.EVENT_TYPE,
    NeedAction.CLAIM: NeedClaimed.EVENT_TYPE,
    NeedAction.CONTACT: NeedContacted.EVENT_TYPE,
    NeedAction.REQUEST_RELEASE: NeedReleaseRequested.EVENT_TYPE,
    NeedAction.DELIVER: NeedDelivered.EVENT_TYPE,
    NeedAction.CONFIRM: NeedDone.EVENT_TYPE,
    NeedAction.RATE: NeedRated.EVENT_TYPE,
    NeedAction.WITHDRAW: NeedWithdrawn.EVENT_TYPE,
}
COMMUNITY_ACTIONS = frozenset(
    {
        NeedAction.REVIEW,
        NeedAction.PUBLISH,
        NeedAction.ASSIGN,
        NeedAction.REJECT,
        NeedAction.MERGE,
        NeedAction.CONVERT,
        NeedAction.APPROVE_RELEASE,
    }
)
ESCALATED_ACTIONS = frozenset({NeedAction.PUBLISH, NeedAction.ASSIGN, NeedAction.CONVERT})
"""What the street may do with a need escalated to it (unclaimed past its deadline)."""
CLAIMANT_ACTIONS = frozenset({NeedAction.CONTACT, NeedAction.REQUEST_RELEASE, NeedAction.DELIVER})


SUBMITTERS = frozenset({Role.RESIDENT, Role.GRID_WORKER, Role.COMMUNITY_WORKER, Role.STREET_DISPATCHER})
ACTING_ROLES: Mapping[NeedAction, frozenset[Role]] = {
    **dict.fromkeys(COMMUNITY_ACTIONS - ESCALATED_ACTIONS, frozenset({Role.COMMUNITY_WORKER})),
    **dict.fromkeys(ESCALATED_ACTIONS, frozenset({Role.COMMUNITY_WORKER, Role.STREET_DISPATCHER})),
    **dict.fromkeys(
        (NeedAction.ACCEPT_ASSIGNMENT, NeedAction.RETURN, NeedAction.CLAIM, *CLAIMANT_ACTIONS),
        frozenset({Role.UNIT_ADMIN}),
    ),
    NeedAction.CONFIRM: SUBMITTERS,
    NeedAction.RATE: SUBMITTERS,
    NeedAction.WITHDRAW: SUBMITTERS,
}
"""The roles that may ever take each action: any other role is refused it (403) whatever the need,
before its scope is looked at; who of these may act on a given need is `authorise`'s."""


def refuse_role(action: NeedAction, actor: Actor) -> None:
    """NotAllowed if the caller's role never takes `action`, on any need."""
    if actor.role not in ACTING_ROLES[action]:
        raise NotAllowed(action.value)


def _unit(actor: Actor) -> Claimant:
    return Claimant(kind=ClaimantKind.UNIT, code=actor.org)


def relates(
    action: NeedAction, need: Mapping[str, Any], actor: Actor, *, unit_communities: frozenset[str] = frozenset()
) -> bool:
    """Whether the caller stands in the relation to the need that `action` asks for (its role included)."""
    if actor.role not in ACTING_ROLES[action]:
        return False
    if action in COMMUNITY_ACTIONS:
        return scope.is_community_worker(actor, need) or (
            action in ESCALATED_ACTIONS
            and need["status"] == N.ESCALATED
            and actor.role == Role.STREET_DISPATCHER
            and actor.org == need["street_code"]
        )
    if action in (NeedAction.ACCEPT_ASSIGNMENT, NeedAction.RETURN):
        return actor.role == Role.UNIT_ADMIN and need.get("assigned_unit") == actor.org
    if action == NeedAction.CLAIM:
        return (
            actor.role == Role.UNIT_ADMIN
            and need["community_code"] in unit_communities
            and not scope.is_claimant(actor, need)
            and need["status"] != N.ASSIGNED  # an assigned need is the assigned unit's to accept
        )
    if action in CLAIMANT_ACTIONS:
        return scope.is_claimant(actor, need)
    if action in (NeedAction.CONFIRM, NeedAction.RATE):
        return scope.is_submitter(actor, need) or scope.is_community_worker(actor, need)
    return scope.is_submitter(actor, need)  # withdraw


def authorise(
    action: NeedAction, need: Mapping[str, Any], actor: Actor, *, unit_communities: frozenset[str] = frozenset()
) -> None:
    """NotAllowed unless the caller stands in the relation to the need that `action` asks for."""
    refuse_role(action, actor)
    if not relates(action, need, actor, unit_communities=unit_communities):
        raise NotAllowed(action.value)


def _state(action: NeedAction, need: Mapping[str, Any]) -> NeedStatus:
    """The need's state after `action` by the transition table; CobuildTransitionNotAllowed if it may not happen now."""
    return move(NEED_TRANSITIONS, NeedStatus(need["status"]), ANNOUNCES[action])


OPEN_ACTIONS: Mapping[str, tuple[NeedAction, ...]] = {
    status.value: tuple(a for a in NeedAction if can_move(NEED_TRANSITIONS, status, ANNOUNCES[a]))
    for status in NeedStatus
}
"""The actions the transition table lets happen in each state (in NeedAction's order): a page
asks only these of the caller's relation to the need, not all sixteen of every need."""


def allowed_actions(
    need: Mapping[str, Any], actor: Actor, *, unit_communities: frozenset[str] = frozenset()
) -> list[NeedAction]:
    """What the caller may do with the need now: the buttons a page shows."""
    found = []
    for action in OPEN_ACTIONS[need["status"]]:
        if not relates(action, need, actor, unit_communities=unit_communities):
            continue
        if action == NeedAction.CLAIM and need["status"] in scope.WALL_JOINABLE and not need.get("group"):
            continue
        if action == NeedAction.RATE and (need["status"] == N.CONVERTED or need.get("rating")):
            continue
        if action == NeedAction.APPROVE_RELEASE and not need.get("release_request"):
            continue
        if action == NeedAction.REQUEST_RELEASE and need.get("release_request"):
            continue
        found.append(action)
    return found


# ---- deadlines --------------------------------------------------------------------------------------


def review_deadline(submitted_at: datetime, limits: Limits, calendar: WorkCalendar) -> datetime:
    """审核时限: `review_days` working days on the city's working calendar."""
    return calendar.add(submitted_at, limits.review_days, TimeUnit.WORKING_DAYS)


def days_after(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


# ---- collection -------------------------------------------------------------------------------------


class NeedSubmissionRefused(ValueError):
    """A submission that cannot be taken: what is wrong is said in the code."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        self.code = code
        self.status = status
        super().__init__(message)


SOURCES: Mapping[Role, NeedSource] = {
    Role.RESIDENT: NeedSource.APP,
    Role.GRID_WORKER: NeedSource.VISIT,
    Role.COMMUNITY_WORKER: NeedSource.WISH_WALL,
    Role.STREET_DISPATCHER: NeedSource.HOTLINE,
}


def source_of(actor: Actor, *, community_code: str, street_code: str) -> NeedSource:
    """Where a need comes from, by who files it; each files in their own area only: a resident, a
    grid worker or a community worker in their community, the street desk in its street."""
    source = SOURCES.get(actor.role)
    if source is None:
        raise NeedSubmissionRefused("forbidden", "无权登记需求 (your role may not submit needs)", status=403)
    own = street_code if actor.role == Role.STREET_DISPATCHER else community_code
    if own != actor.org:
        raise NeedSubmissionRefused(
            "outside_your_area", "只能登记本辖区的需求 (the grid is outside your community or street)", status=403
        )
    return source


def needs_beneficiary(kind: NeedKind, actor: Actor) -> bool:
    """A wish or a service is for someone: named, unless residents submit for themselves."""
    return kind != NeedKind.PROJECT_IDEA and actor.role != Role.RESIDENT


def need_day(now: datetime) -> str:
    """The city's date of a submission, which its number carries (not UTC's)."""
    return f"{now.astimezone(CITY_ZONE):%Y%m%d}"


def need_number(*, now: datetime, seq: int) -> str:
    """XQ-20261207-0042: the 42nd need of the city's day."""
    return f"XQ-{need_day(now)}-{seq:04d}"


@dataclass(frozen=True)
class Place:
    grid_code: str
    community_code: str
    street_code: str
    district_code: str


def submit(
    *,
    number: str,
    kind: NeedKind,
    source: NeedSource,
    category_code: str,
    place: Place,
    now: datetime,
    limits: Limits,
    calendar: WorkCalendar,
    origin_ticket_id: str | None = None,
    ticket_ids: Sequence[str] = (),
) -> NeedSubmitted:
    """A need collected: it waits for the community's review, by its deadline. Its event carries no free text."""
    move(NEED_TRANSITIONS, None, NeedSubmitted.EVENT_TYPE)
    return NeedSubmitted(
        need_number=number,
        kind=kind,
        source=source,
        category_code=category_code,
        grid_code=place.grid_code,
        community_code=place.community_code,
        street_code=place.street_code,
        district_code=place.district_code,
        review_deadline=review_deadline(now, limits, calendar),
        origin_ticket_id=origin_ticket_id,
        ticket_ids=list(ticket_ids),
    )


def new_need(
    submitted: NeedSubmitted,
    *,
    need_id: str,
    submitter: Actor,
    location: GeoPoint | None,
    now: datetime,
) -> dict[str, Any]:
    """The need as cobuild keeps it, from its submission (public fields only: the beneficiary and
    the household's words are kept apart, in need_private)."""
    return {
        "_id": need_id,
        "need_number": submitted.need_number,
        "kind": submitted.kind.value,
        "source": submitted.source.value,
        "status": N.SUBMITTED.value,
        "category_code": submitted.category_code,
        "grid_code": submitted.grid_code,
        "community_code": submitted.community_code,
        "street_code": submitted.street_code,
        "district_code": submitted.district_code,
        "location": location.model_dump() if location else None,
        "summary": "",
        "submitter_sub": submitter.sub,
        "submitter_role": submitter.role.value,
        "review_deadline": submitted.review_deadline,
        "claim_deadline": None,
        "contact_deadline": None,
        "deliver_deadline": None,
        "confirm_by": None,
        "assigned_unit": None,
        "claimants": [],
        "claimant_codes": [],
        "contacted": [],
        "group": False,
        "release_request": None,
        "origin_ticket_id": submitted.origin_ticket_id,
        "ticket_id": None,
        "ticket_number": None,
        "ticket_ids": list(submitted.ticket_ids),
        "merged_into": None,
        "rating": None,
        "rated_at": None,
        "reject_reason": None,
        "delivered_at": None,
        "done_at": None,
        "on_time": None,
        "overdue": [],
        "version": 0,
        "created_at": now,
        "updated_at": now,
    }


# ---- the community's steps --------------------------------------------------------------------------

Decision = tuple[Payload, dict[str, Any]]


def review(need: Mapping[str, Any], *, summary: str, category_code: str | None) -> Decision:
    """审核: the community writes the public summary (and may correct the category)."""
    status = _state(NeedAction.REVIEW, need)
    category = category_code or need["category_code"]
    return NeedReviewed(summary=summary, category_code=category), {
        "status": status.value,
        "summary": summary,
        "category_code": category,
    }


def publish(need: Mapping[str, Any], *, now: datetime, limits: Limits) -> Decision:
    """发布: on the wish wall, open for claiming until the claim deadline."""
    status = _state(NeedAction.PUBLISH, need)
    deadline = days_after(now, limits.claim_days)
    return NeedPublished(claim_deadline=deadline), {
        "status": status.value,
        "claim_deadline": deadline,
        "overdue": [k for k in need.get("overdue", []) if k != "claim"],
    }


def assign(
    need: Mapping[str, Any], *, unit_code: str, unit: Mapping[str, Any] | None, now: datetime, limits: Limits
) -> Decision:
    """派单: to a unit paired with the need's community, which accepts or returns it by the claim deadline."""
    status = _state(NeedAction.ASSIGN, need)
    if unit is None:
        raise InvalidNeedRequest("unknown_unit", f"驻区单位不存在 (unknown unit {unit_code})")
    if need["community_code"] not in unit.get("communities", []):
        raise InvalidNeedRequest("unit_not_paired", f"该单位未与本社区结对 (unit {unit_code} is not paired here)")
    deadline = days_after(now, limits.claim_days)
    return NeedAssigned(unit_code=unit_code, claim_deadline=deadline), {
        "status": status.value,
        "assigned_unit": unit_code,
        "claim_deadline": deadline,
    }


def reject(need: Mapping[str, Any], *, reason: str) -> Decision:
    status = _state(NeedAction.REJECT, need)
    return NeedRejected(reason=reason), {"status": status.value, "reject_reason": reason}


def merge(need: Mapping[str, Any], *, into: Mapping[str, Any] | None, into_id: str) -> Decision:
    """合并: into another open need of the same community, which serves both."""
    status = _state(NeedAction.MERGE, need)
    if into is None or into["community_code"] != need["community_code"]:
        raise InvalidNeedRequest("unknown_need", f"合并目标需求不存在 (no need {into_id} in this community)")
    if into["_id"] == need["_id"]:
        raise InvalidNeedRequest("invalid_merge", "不能合并到自身 (a need cannot be merged into itself)")
    if NeedStatus(into["status"]) in (N.DONE, N.REJECTED, N.CONVERTED, N.WITHDRAWN, N.MERGED):
        raise InvalidNeedRequest("invalid_merge", "只能合并到未办结的需求 (merge only into an open need)")
    return NeedMerged(into=into_id), {"status": status.value, "merged_into": into_id}


def convert(
    need: Mapping[str, Any],
    *,
    ticket_category: Mapping[str, Any] | None,
    ticket_category_code: str,
    description: str,
    address: str,
    grid_code: str | None,
    grid: Mapping[str, Any] | None,
    location: GeoPoint | None,
) -> Decision:
    """转办: a department's job; intake files it as a report with this need as its origin, and the
    need follows the ticket (its rating is the need's)."""
    status = _state(NeedAction.CONVERT, need)
    if ticket_category is None:
        raise InvalidNeedRequest("unknown_category", f"工单类别不存在 (unknown category {ticket_category_code})")
    target = grid_code or need["grid_code"]
    if grid is None or grid.get("street") != need["street_code"]:
        raise InvalidNeedRequest("unknown_grid", f"网格不存在或不在本街道 (unknown grid {target})")
    converted = NeedConverted(
        ticket_category_code=ticket_category_code,
        description=description,
        address=address,
        grid_code=target,
        location=location or (GeoPoint.model_validate(need["location"]) if need.get("location") else None),
    )
    return converted, {"status": status.value}


def approve_release(need: Mapping[str, Any], *, now: datetime, limits: Limits) -> Decision:
    """同意释放: the claim ends and the need is published again, open for a new claim."""
    status = _state(NeedAction.APPROVE_RELEASE, need)
    request = need.get("release_request")
    if not request:
        raise NoReleaseRequested(need["_id"])
    deadline = days_after(now, limits.claim_days)
    released = NeedClaimReleased(
        claimants=[Claimant.model_validate(c) for c in need["claimants"]],
        reason=request["reason"],
        claim_deadline=deadline,
    )
    return released, {**_unclaimed(), "status": status.value, "claim_deadline": deadline}


def _unclaimed() -> dict[str, Any]:
    return {
        "claimants": [],
        "claimant_codes": [],
        "contacted": [],
        "group": False,
        "release_request": None,
        "assigned_unit": None,
        "contact_deadline": None,
        "deliver_deadline": None,
    }


# ---- the units' steps -------------------------------------------------------------------------------


def claim(need: Mapping[str, Any], *, actor: Actor, group: bool, now: datetime, limits: Limits) -> Decision:
    """认领: the claim locks the need; the household must be contacted by the contact deadline or
    the claim expires. A claimed need may be joined only when its first claim was a group's; the
    one who joins contacts the household too (the need is claimed again until then, by the table),
    and a group claim one claimant has contacted is held."""
    status = _state(NeedAction.CLAIM, need)
    joining = NeedStatus(need["status"]) in scope.WALL_JOINABLE
    if joining and not need.get("group"):
        raise CobuildTransitionNotAllowed(NeedClaimed.EVENT_TYPE, NeedStatus(need["status"]))
    return _claimed(need, actor=actor, group=group or joining, joining=joining, status=status, now=now, limits=limits)


def accept_assignment(need: Mapping[str, Any], *, actor: Actor, now: datetime, limits: Limits) -> Decision:
    """接单: the assigned unit takes the need on, as its claimant."""
    status = _state(NeedAction.ACCEPT_ASSIGNMENT, need)
    return _claimed(need, actor=actor, group=False, joining=False, status=status, now=now, limits=limits)


def _claimed(
    need: Mapping[str, Any],
    *,
    actor: Actor,
    group: bool,
    joining: bool,
    status: NeedStatus,
    now: datetime,
    limits: Limits,
) -> Decision:
    claimant = _unit(actor)
    deadline = days_after(now, limits.contact_days)
    changes: dict[str, Any] = {
        "status": status.value,
        "claimants": [*need.get("claimants", []), claimant.model_dump()],
        "claimant_codes": [*need.get("claimant_codes", []), claimant.code],
        "contact_deadline": deadline,
        "group": group,
    }
    return NeedClaimed(claimant=claimant, contact_deadline=deadline, group=group), changes


def return_assignment(need: Mapping[str, Any], *, actor: Actor, reason: str) -> Decision:
    """退回: the assigned unit cannot take it; the community decides again."""
    status = _state(NeedAction.RETURN, need)
    return NeedAssignmentReturned(unit_code=actor.org, reason=reason), {
        "status": status.value,
        "assigned_unit": None,
        "claim_deadline": None,
    }


def contact(need: Mapping[str, Any], *, actor: Actor, now: datetime, limits: Limits) -> Decision:
    """已联系: the claimant reached the household; the claim holds and the service starts."""
    status = _state(NeedAction.CONTACT, need)
    deadline = (
        as_utc(need["deliver_deadline"]) if need.get("deliver_deadline") else days_after(now, limits.deliver_days)
    )
    contacted = sorted({*need.get("contacted", []), actor.org})
    return NeedContacted(claimant=_unit(actor), deliver_deadline=deadline), {
        "status": status.value,
        "deliver_deadline": deadline,
        "contacted": contacted,
    }


def request_release(need: Mapping[str, Any], *, actor: Actor, reason: str, now: datetime) -> Decision:
    """申请释放: a claimant cannot go on; the community approves, and the need is published again."""
    _state(NeedAction.REQUEST_RELEASE, need)
    if need.get("release_request"):
        raise ReleaseAlreadyRequested(need["_id"])
    claimant = _unit(actor)
    return NeedReleaseRequested(claimant=claimant, reason=reason), {
        "release_request": {"claimant": claimant.model_dump(), "reason": reason, "at": now}
    }


def deliver(
    need: Mapping[str, Any], *, actor: Actor, note: str, photos: list[str], now: datetime, limits: Limits
) -> Decision:
    """已兑现: delivered; confirmed by the household or the community, or by itself after `confirm_days`."""
    status = _state(NeedAction.DELIVER, need)
    confirm_by = days_after(now, limits.confirm_days)
    deadline = need.get("deliver_deadline")
    on_time = deadline is None or now <= as_utc(deadline)
    return NeedDelivered(claimant=_unit(actor), note=note, photos=photos, confirm_by=confirm_by), {
        "status": status.value,
        "confirm_by": confirm_by,
        "delivered_at": now,
        "on_time": on_time,
        "release_request": None,
    }


# ---- the household's steps --------------------------------------------------------------------------


def confirm(need: Mapping[str, Any], *, now: datetime, auto: bool = False) -> Decision:
    """确认兑现: done (on time if delivered by its deliver deadline)."""
    status = _state(NeedAction.CONFIRM, need)
    on_time = bool(need.get("on_time", True))
    return NeedDone(auto=auto, on_time=on_time), {"status": status.value, "done_at": now}


def rate(need: Mapping[str, Any], *, rating: Rating, comment: str, now: datetime) -> Decision:
    """评价 of a done need, once. A need converted to a ticket takes the ticket's rating instead."""
    if need["status"] == N.CONVERTED:
        raise RatedByTicket(need["_id"])
    _state(NeedAction.RATE, need)
    if need.get("rating"):
        raise AlreadyRated(need["_id"])
    return NeedRated(rating=rating, comment=comment), {"rating": rating.value, "rated_at": now}


def withdraw(need: Mapping[str, Any], *, reason: str) -> Decision:
    status = _state(NeedAction.WITHDRAW, need)
    return NeedWithdrawn(reason=reason), {"status": status.value}


# ---- following tickets ------------------------------------------------------------------------------


def linked(need: Mapping[str, Any], *, ticket_id: str, ticket_number: str) -> Decision | None:
    """The ticket the need became (or came from) is known; None if the need cannot take it (or has it)."""
    if need.get("ticket_id") == ticket_id or not can_move(
        NEED_TRANSITIONS, NeedStatus(need["status"]), NeedLinked.EVENT_TYPE
    ):
        return None
    return NeedLinked(ticket_id=ticket_id, ticket_number=ticket_number), {
        "ticket_id": ticket_id,
        "ticket_number": ticket_number,
    }


def rated_by_ticket(
    need: Mapping[str, Any], *, ticket_id: str, rating: Rating, comment: str, now: datetime
) -> Decision | None:
    """The ticket's rating is the converted need's (once); None if the need has one or cannot take it."""
    if need.get("rating") or need["status"] != N.CONVERTED:
        return None
    return NeedRated(rating=rating, comment=comment, ticket_id=ticket_id), {"rating": rating.value, "rated_at": now}


# ---- the watchdog -----------------------------------------------------------------------------------


def watchdog(need: Mapping[str, Any], *, now: datetime, limits: Limits) -> Decision | None:
    """What the deadline watch announces for a need now, one step at a time (None: nothing is due):
    a review overdue (once), an unclaimed published need escalated to the street, an assigned one
    overdue (once), a claim nobody followed by contact expired (published again), a delivery
    overdue (once), a delivered need confirmed by itself."""
    status = NeedStatus(need["status"])
    flagged = set(need.get("overdue", []))

    def passed(field: str) -> datetime | None:
        value = need.get(field)
        return as_utc(value) if value is not None and as_utc(value) < now else None

    if status == N.SUBMITTED and (at := passed("review_deadline")) and "review" not in flagged:
        return NeedOverdue(kind=NeedDeadline.REVIEW, deadline=at), {"overdue": [*need.get("overdue", []), "review"]}
    if status == N.PUBLISHED and passed("claim_deadline"):
        escalated = NeedEscalated(reason="认领期限已过，无人认领 (unclaimed past the claim deadline)")
        return escalated, {"status": move(NEED_TRANSITIONS, status, NeedEscalated.EVENT_TYPE).value}
    if status == N.ASSIGNED and (at := passed("claim_deadline")) and "claim" not in flagged:
        return NeedOverdue(kind=NeedDeadline.CLAIM, deadline=at), {"overdue": [*need.get("overdue", []), "claim"]}
    if status == N.CLAIMED and passed("contact_deadline") and not need.get("contacted"):
        deadline = days_after(now, limits.claim_days)
        expired = NeedClaimExpired(
            claimants=[Claimant.model_validate(c) for c in need["claimants"]], claim_deadline=deadline
        )
        changes = {
            **_unclaimed(),
            "status": move(NEED_TRANSITIONS, status, NeedClaimExpired.EVENT_TYPE).value,
            "claim_deadline": deadline,
        }
        return expired, changes
    if status == N.IN_SERVICE and (at := passed("deliver_deadline")) and "deliver" not in flagged:
        return NeedOverdue(kind=NeedDeadline.DELIVER, deadline=at), {"overdue": [*need.get("overdue", []), "deliver"]}
    if status == N.DELIVERED and passed("confirm_by"):
        return confirm(need, now=now, auto=True)
    return None
