"""双报到 and volunteering lifecycles, beside the needs' in `cobuild_lifecycle.py` and the ticket's in
`lifecycle.py`. Checked with `cobuild_lifecycle.move` (CobuildTransitionNotAllowed -> 409).

Member (报到党员 / 志愿者): pending (submitted) -> reported (the community confirmed) -> active (placed
in a grid and a squad) -> lapsed (missed the half-yearly return or the yearly minimum; returns to
active on the next return) / inactive (moved or left) / transferred (to another community).

Activity (服务活动): published -> closed (every record decided), or cancelled.
Service record (过程纪实): submitted -> approved / returned (to correct and submit again) / rejected.
Admission request (社区事务准入): submitted -> admitted / refused (by the lists or the district);
admitted -> revoked.
"""

from enum import StrEnum


class MemberStatus(StrEnum):
    PENDING = "pending"
    REPORTED = "reported"
    ACTIVE = "active"
    LAPSED = "lapsed"
    INACTIVE = "inactive"
    TRANSFERRED = "transferred"


M = MemberStatus
MEMBER_ON_ROLL: frozenset[MemberStatus] = frozenset({M.REPORTED, M.ACTIVE, M.LAPSED})
"""Counted as reported (报到) in the rates: confirmed and not gone."""

MEMBER_TRANSITIONS: dict[str, tuple[frozenset[MemberStatus | None], MemberStatus | None]] = {
    "member.registered": (frozenset({None, M.INACTIVE, M.TRANSFERRED}), M.PENDING),
    "member.confirmed": (frozenset({M.PENDING}), M.REPORTED),
    "member.placed": (frozenset({M.REPORTED, M.ACTIVE}), M.ACTIVE),
    "member.returned": (frozenset({M.ACTIVE, M.LAPSED}), M.ACTIVE),
    "member.lapsed": (frozenset({M.ACTIVE}), M.LAPSED),
    "member.deactivated": (frozenset({M.PENDING, M.REPORTED, M.ACTIVE, M.LAPSED}), M.INACTIVE),
    "member.transferred": (frozenset({M.REPORTED, M.ACTIVE, M.LAPSED}), M.TRANSFERRED),
    "member.erased": (frozenset(set(MemberStatus)), None),
}


class ActivityStatus(StrEnum):
    PUBLISHED = "published"
    CLOSED = "closed"
    CANCELLED = "cancelled"


A = ActivityStatus
ACTIVITY_TRANSITIONS: dict[str, tuple[frozenset[ActivityStatus | None], ActivityStatus | None]] = {
    "activity.published": (frozenset({None}), A.PUBLISHED),
    "activity.signed_up": (frozenset({A.PUBLISHED}), None),
    "activity.cancelled": (frozenset({A.PUBLISHED}), A.CANCELLED),
    "activity.closed": (frozenset({A.PUBLISHED}), A.CLOSED),
}
"""Whether the activity has started, is under way or has ended is a matter of the clock against its
start and end, not a stored state."""


class RecordStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


R = RecordStatus
RECORD_TRANSITIONS: dict[str, tuple[frozenset[RecordStatus | None], RecordStatus | None]] = {
    "record.submitted": (frozenset({None, R.RETURNED}), R.SUBMITTED),
    "record.approved": (frozenset({R.SUBMITTED}), R.APPROVED),
    "record.returned": (frozenset({R.SUBMITTED}), R.RETURNED),
    "record.rejected": (frozenset({R.SUBMITTED}), R.REJECTED),
    "record.rated": (frozenset({R.APPROVED}), None),
}


class AdmissionStatus(StrEnum):
    SUBMITTED = "submitted"
    ADMITTED = "admitted"
    REFUSED = "refused"
    REVOKED = "revoked"


AD = AdmissionStatus
ADMISSION_TRANSITIONS: dict[str, tuple[frozenset[AdmissionStatus | None], AdmissionStatus | None]] = {
    "admission.requested": (frozenset({None}), AD.SUBMITTED),
    "admission.admitted": (frozenset({AD.SUBMITTED}), AD.ADMITTED),
    "admission.refused": (frozenset({AD.SUBMITTED}), AD.REFUSED),
    "admission.revoked": (frozenset({AD.ADMITTED}), AD.REVOKED),
}
"""`admission.decided` carries `admitted`; the table names the two outcomes apart."""
