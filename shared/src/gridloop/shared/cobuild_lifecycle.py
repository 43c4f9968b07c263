"""The 共建 loop's lifecycles: the tables of allowed transitions for needs (居民需求), resource
offers (资源清单) and projects (惠民项目), beside the ticket's in `lifecycle.py`. Every action in
cobuild is checked against them, and every reader of the needs topic follows them.

Need: submitted -> reviewed -> published (open claiming) or assigned (派单 to a unit) -> claimed
-> in_service (the household contacted) -> delivered -> done, then rated; side exits rejected,
escalated (unclaimed past the deadline: the street), converted (转办 to a ticket), withdrawn, merged.
A claim not followed by contact in time expires, and a released claim opens the need again.

Project: proposed -> approved -> in_progress -> completed -> evaluated; suspended and resumed,
or cancelled with a reason.
"""

from enum import StrEnum
from typing import TypeVar


class NeedStatus(StrEnum):
    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    PUBLISHED = "published"
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    IN_SERVICE = "in_service"
    DELIVERED = "delivered"
    DONE = "done"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    CONVERTED = "converted"
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


N = NeedStatus
NEED_OPEN: frozenset[NeedStatus] = frozenset(
    {N.SUBMITTED, N.REVIEWED, N.PUBLISHED, N.ASSIGNED, N.CLAIMED, N.IN_SERVICE, N.DELIVERED, N.ESCALATED}
)
NEED_UNCLAIMED: frozenset[NeedStatus] = frozenset({N.SUBMITTED, N.REVIEWED, N.PUBLISHED, N.ESCALATED})
"""Nobody has taken it on yet: it may still be turned down, converted, withdrawn or merged."""

# event type -> (states it may happen in, state it leads to; None keeps the current state)
NEED_TRANSITIONS: dict[str, tuple[frozenset[NeedStatus | None], NeedStatus | None]] = {
    "need.submitted": (frozenset({None}), N.SUBMITTED),
    "need.reviewed": (frozenset({N.SUBMITTED}), N.REVIEWED),
    "need.published": (frozenset({N.REVIEWED, N.ESCALATED}), N.PUBLISHED),
    "need.assigned": (frozenset({N.REVIEWED, N.PUBLISHED, N.ESCALATED}), N.ASSIGNED),
    "need.assignment_returned": (frozenset({N.ASSIGNED}), N.REVIEWED),
    "need.claimed": (frozenset({N.PUBLISHED, N.ASSIGNED, N.CLAIMED, N.IN_SERVICE}), N.CLAIMED),
    "need.contacted": (frozenset({N.CLAIMED, N.IN_SERVICE}), N.IN_SERVICE),
    "need.claim_expired": (frozenset({N.CLAIMED}), N.PUBLISHED),
    "need.release_requested": (frozenset({N.CLAIMED, N.IN_SERVICE}), None),
    "need.claim_released": (frozenset({N.CLAIMED, N.IN_SERVICE}), N.PUBLISHED),
    "need.delivered": (frozenset({N.IN_SERVICE}), N.DELIVERED),
    "need.done": (frozenset({N.DELIVERED}), N.DONE),
    "need.rated": (frozenset({N.DONE, N.CONVERTED}), None),
    "need.rejected": (frozenset({N.SUBMITTED, N.REVIEWED}), N.REJECTED),
    "need.escalated": (frozenset({N.PUBLISHED, N.SUBMITTED, N.REVIEWED}), N.ESCALATED),
    "need.converted": (frozenset(NEED_UNCLAIMED), N.CONVERTED),
    "need.linked": (frozenset({N.CONVERTED, N.SUBMITTED}), None),
    "need.withdrawn": (frozenset(NEED_UNCLAIMED | {N.ASSIGNED}), N.WITHDRAWN),
    "need.merged": (frozenset(NEED_UNCLAIMED), N.MERGED),
    "need.overdue": (frozenset(NEED_OPEN), None),
}
"""`need.claimed` while claimed or in service is a further claimant joining a group claim; the
rule that only a group claim may be joined is the domain's."""


class OfferStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


OS = OfferStatus
OFFER_TRANSITIONS: dict[str, tuple[frozenset[OfferStatus | None], OfferStatus | None]] = {
    "offer.submitted": (frozenset({None}), OS.SUBMITTED),
    "offer.accepted": (frozenset({OS.SUBMITTED}), OS.ACCEPTED),
    "offer.declined": (frozenset({OS.SUBMITTED}), OS.DECLINED),
    "offer.withdrawn": (frozenset({OS.SUBMITTED, OS.ACCEPTED}), OS.WITHDRAWN),
    "offer.used": (frozenset({OS.ACCEPTED}), None),
}


class ProjectStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    EVALUATED = "evaluated"
    CANCELLED = "cancelled"


P = ProjectStatus
PROJECT_OPEN: frozenset[ProjectStatus] = frozenset({P.PROPOSED, P.APPROVED, P.IN_PROGRESS, P.SUSPENDED})
PROJECT_TRANSITIONS: dict[str, tuple[frozenset[ProjectStatus | None], ProjectStatus | None]] = {
    "project.proposed": (frozenset({None}), P.PROPOSED),
    "project.approved": (frozenset({P.PROPOSED}), P.APPROVED),
    "project.started": (frozenset({P.APPROVED}), P.IN_PROGRESS),
    "project.progressed": (frozenset({P.IN_PROGRESS}), None),
    "project.suspended": (frozenset({P.APPROVED, P.IN_PROGRESS}), P.SUSPENDED),
    "project.resumed": (frozenset({P.SUSPENDED}), P.IN_PROGRESS),
    "project.completed": (frozenset({P.IN_PROGRESS}), P.COMPLETED),
    "project.rated": (frozenset({P.COMPLETED, P.EVALUATED}), None),
    "project.evaluated": (frozenset({P.COMPLETED}), P.EVALUATED),
    "project.cancelled": (frozenset(PROJECT_OPEN), P.CANCELLED),
    "hotspot.solved": (frozenset({P.COMPLETED, P.EVALUATED}), None),
}

S = TypeVar("S", bound=StrEnum)


class CobuildTransitionNotAllowed(Exception):
    """The record's state does not allow this action; the caller gets a 409."""

    def __init__(self, event_type: str, current: StrEnum | None) -> None:
        self.event_type = event_type
        self.current = current
        super().__init__(f"{event_type} is not allowed while the record is {current or 'unknown'}")


def can_move(table: dict[str, tuple[frozenset[S | None], S | None]], current: S | None, event_type: str) -> bool:
    allowed, _ = table[event_type]
    return current in allowed


def move(table: dict[str, tuple[frozenset[S | None], S | None]], current: S | None, event_type: str) -> S:
    """The state after `event_type` by `table`, or CobuildTransitionNotAllowed."""
    allowed, target = table[event_type]
    if current not in allowed:
        raise CobuildTransitionNotAllowed(event_type, current)
    if target is None:
        assert current is not None
        return current
    return target
