"""The rules of 双报到, pure (time passed in): the identity number's check, the unit's receipt
number, each step of a member's lifecycle, and when a member lapses.

Decisions return (event, changes to the stored member); the lifecycle table refuses a step the
member's state does not allow (409)."""

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.cobuild_lifecycle import move
from gridloop.shared.events import (
    Actor,
    LapseReason,
    MemberConfirmed,
    MemberDeactivated,
    MemberErased,
    MemberLapsed,
    MemberPlaced,
    MemberRegistered,
    MemberReturned,
    MemberTransferred,
    ReportChannel,
    Role,
    UnitReported,
    VolunteeringPayload,
)
from gridloop.shared.volunteering_lifecycle import MEMBER_TRANSITIONS, MemberStatus

Doc = dict[str, Any]
Decision = tuple[VolunteeringPayload, Doc]

JOB_ACTOR = Actor(sub="cobuild-members", name="报到管理", role=Role.SYSTEM)

STATUS_LABELS: dict[MemberStatus, str] = {
    MemberStatus.PENDING: "待社区确认",
    MemberStatus.REPORTED: "已报到",
    MemberStatus.ACTIVE: "在岗服务",
    MemberStatus.LAPSED: "已失效",
    MemberStatus.INACTIVE: "已退出",
    MemberStatus.TRANSFERRED: "已转出",
}
NO_POST = "未认领岗位"
GONE: frozenset[MemberStatus] = frozenset({MemberStatus.INACTIVE, MemberStatus.TRANSFERRED})
"""A person whose registration is in one of these may register again."""


class MemberRefused(Exception):
    """A request the rules refuse; `status` and `code` are the API's answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Rules:
    """The settings the rules read (CobuildSettings)."""

    return_interval_days: int = 183
    min_services_per_year: int = 2
    min_minutes_per_year: int = 480
    require_post: bool = True


# ---- identity numbers -----------------------------------------------------------------------------

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def valid_id_number(value: str) -> bool:
    """A mainland resident identity number (GB 11643): 17 digits and the ISO 7064 MOD 11-2 check character."""
    if len(value) != 18 or not value[:17].isdigit() or not value[:17].isascii():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == value[17].upper()


def id_hash(value: str, *, salt: str) -> str:
    """What is kept of the number: HMAC-SHA256 under the instance's salt (never the number)."""
    return hmac.new(salt.encode(), value.upper().encode(), hashlib.sha256).hexdigest()


def id_tail(value: str) -> str:
    return value[-4:].upper()


# ---- units ----------------------------------------------------------------------------------------


def city_year(at: datetime) -> int:
    return at.astimezone(CITY_ZONE).year


def receipt_number(*, community_code: str, year: int, seq: int) -> str:
    """回执编号: HZ-<community>-<year>-<sequence of the community's year>."""
    return f"HZ-{community_code}-{year}-{seq:04d}"


def report_unit(*, unit_code: str, unit: Mapping[str, Any] | None, community_code: str) -> None:
    """A unit reports only to a community it is paired with (结对社区)."""
    if unit is None:
        raise MemberRefused(404, "not_found", f"单位不存在 (unknown unit {unit_code})")
    if community_code not in unit.get("communities", []):
        raise MemberRefused(422, "not_paired", f"只能向结对社区报到 (the unit is not paired with {community_code})")


def unit_reported(
    *, unit_code: str, community_code: str, street_code: str, district_code: str, receipt: str
) -> UnitReported:
    return UnitReported(
        unit_code=unit_code,
        community_code=community_code,
        street_code=street_code,
        district_code=district_code,
        receipt_number=receipt,
    )


# ---- members --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Residence:
    community_code: str
    street_code: str
    district_code: str


def check_registration(
    *,
    id_number: str,
    party_member: bool,
    unit_code: str | None,
    unit: Mapping[str, Any] | None,
    service_types: list[str],
    known_service_types: frozenset[str],
) -> None:
    if not valid_id_number(id_number):
        raise MemberRefused(422, "invalid_id_number", "身份证号码无效 (the identity number's check fails)")
    if unit_code is not None:
        if unit is None:
            raise MemberRefused(422, "unknown_unit", f"单位不存在 (unknown unit {unit_code})")
        if not party_member:
            raise MemberRefused(422, "unit_needs_party_member", "只有党员填写所在单位 (a unit names a Party member's)")
    unknown = sorted(set(service_types) - known_service_types) if known_service_types else []
    if unknown:
        raise MemberRefused(422, "unknown_service_type", f"服务类型不存在 ({', '.join(unknown)})")


def register(
    *,
    member_id: str,
    sub: str,
    previous: MemberStatus | None,
    residence: Residence,
    party_member: bool,
    unit_code: str | None,
    skills: list[str],
    service_types: list[str],
    availability: str,
    channel: ReportChannel,
    now: datetime,
) -> tuple[MemberRegistered, Doc]:
    """个人报到: pending until the community confirms. One registration per person, unless the
    earlier one ended (inactive, transferred)."""
    if previous is not None and previous not in GONE:
        raise MemberRefused(409, "already_registered", "您已报到，无需重复报到 (one registration per person)")
    move(MEMBER_TRANSITIONS, None, "member.registered")
    event = MemberRegistered(
        member_id=member_id,
        community_code=residence.community_code,
        street_code=residence.street_code,
        district_code=residence.district_code,
        unit_code=unit_code,
        party_member=party_member,
        channel=channel,
        service_types=service_types,
    )
    doc: Doc = {
        "_id": member_id,
        "sub": sub,
        "current_sub": sub,  # unique while the registration is current; dropped when it ends
        "status": MemberStatus.PENDING.value,
        "party_member": party_member,
        "unit_code": unit_code,
        "community_code": residence.community_code,
        "street_code": residence.street_code,
        "district_code": residence.district_code,
        "grid_code": None,
        "squad": None,
        "skills": skills,
        "service_types": service_types,
        "availability": availability,
        "channel": channel.value,
        "registered_at": now,
        "reported_at": None,
        "placed_at": None,
        "last_return_at": None,
        "lapsed_reason": None,
        "erased": False,
        "version": 1,
    }
    return event, doc


def _status(member: Mapping[str, Any]) -> MemberStatus:
    return MemberStatus(member["status"])


def confirm(member: Mapping[str, Any], *, now: datetime) -> Decision:
    status = move(MEMBER_TRANSITIONS, _status(member), "member.confirmed")
    event = MemberConfirmed(member_id=member["_id"], community_code=member["community_code"])
    return event, {"status": status.value, "reported_at": now}


def place(
    member: Mapping[str, Any], *, grid_code: str, grid_community: str | None, squad: str, now: datetime
) -> Decision:
    """Placed in a grid of the member's community and a squad (报到 -> 在岗); the half-year window
    for the next return starts here."""
    status = move(MEMBER_TRANSITIONS, _status(member), "member.placed")
    if grid_community != member["community_code"]:
        raise MemberRefused(422, "grid_not_in_community", f"网格不属于本社区 (grid {grid_code})")
    event = MemberPlaced(
        member_id=member["_id"], community_code=member["community_code"], grid_code=grid_code, squad=squad
    )
    changes: Doc = {"status": status.value, "grid_code": grid_code, "squad": squad, "placed_at": now}
    if member.get("last_return_at") is None:
        changes["last_return_at"] = now
    return event, changes


def return_to_community(member: Mapping[str, Any], *, now: datetime) -> Decision:
    """定期回社区报到: resets the half-year window; a lapsed member is active again."""
    status = move(MEMBER_TRANSITIONS, _status(member), "member.returned")
    event = MemberReturned(member_id=member["_id"], community_code=member["community_code"])
    return event, {"status": status.value, "last_return_at": now, "lapsed_reason": None}


def lapse(member: Mapping[str, Any], *, reason: LapseReason) -> Decision:
    status = move(MEMBER_TRANSITIONS, _status(member), "member.lapsed")
    event = MemberLapsed(member_id=member["_id"], community_code=member["community_code"], reason=reason)
    return event, {"status": status.value, "lapsed_reason": reason.value}


def deactivate(member: Mapping[str, Any], *, reason: str) -> Decision:
    status = move(MEMBER_TRANSITIONS, _status(member), "member.deactivated")
    event = MemberDeactivated(member_id=member["_id"], community_code=member["community_code"], reason=reason)
    return event, {"status": status.value, "current_sub": None}


def transfer(member: Mapping[str, Any], *, to_community_code: str, known: bool) -> Decision:
    """转出: the registration ends here; the person registers again in the new community."""
    status = move(MEMBER_TRANSITIONS, _status(member), "member.transferred")
    if not known:
        raise MemberRefused(422, "unknown_community", f"社区不存在 ({to_community_code})")
    if to_community_code == member["community_code"]:
        raise MemberRefused(422, "same_community", "转入社区与当前社区相同 (the same community)")
    event = MemberTransferred(
        member_id=member["_id"], community_code=member["community_code"], to_community_code=to_community_code
    )
    return event, {"status": status.value, "current_sub": None, "transferred_to": to_community_code}


def erase(member: Mapping[str, Any]) -> Decision:
    """个人信息删除: the private part goes (elsewhere), free text is blanked, the id stays. Once."""
    move(MEMBER_TRANSITIONS, _status(member), "member.erased")
    if member.get("erased"):
        raise MemberRefused(409, "already_erased", "该人员信息已删除 (already erased)")
    return MemberErased(member_id=member["_id"]), {"skills": [], "availability": "", "erased": True}


# ---- lapse ----------------------------------------------------------------------------------------


def return_due(member: Mapping[str, Any], *, rules: Rules) -> datetime | None:
    """When an active member must have returned by (half-year window from the last return or placement)."""
    last = member.get("last_return_at") or member.get("placed_at")
    if last is None:
        return None
    return _aware(last) + timedelta(days=rules.return_interval_days)


def missed_return(member: Mapping[str, Any], *, now: datetime, rules: Rules) -> bool:
    due = return_due(member, rules=rules)
    return member["status"] == MemberStatus.ACTIVE.value and due is not None and now > due


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The city year as UTC instants [start, end)."""
    start = datetime(year, 1, 1, tzinfo=CITY_ZONE).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=CITY_ZONE).astimezone(UTC)
    return start, end


def year_to_judge(*, now: datetime, judged: int | None) -> int | None:
    """The year whose minimum is checked now: the city year just ended, once (None when done)."""
    last_ended = city_year(now) - 1
    return last_ended if judged is None or judged < last_ended else None


def judged_in_year(member: Mapping[str, Any], *, year: int, rules: Rules) -> bool:
    """Held to the year's minimum: active now, and placed at least a half-year window before the
    year ended (someone placed in the last months has not had the time)."""
    placed = member.get("placed_at")
    if member["status"] != MemberStatus.ACTIVE.value or placed is None:
        return False
    _, end = year_bounds(year)
    return _aware(placed) <= end - timedelta(days=rules.return_interval_days)


def below_minimum(*, services: int, minutes: int, rules: Rules) -> bool:
    """Yearly minimum (default 2 approved services and 8 hours): short of either lapses."""
    return services < rules.min_services_per_year or minutes < rules.min_minutes_per_year


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
