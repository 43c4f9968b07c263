"""Who sees which need, and who serves its household: decided on the need as it is now (its
community, its assigned unit, its claimants, its submitter, its state). A need outside a caller's
sight does not exist for them (404); one they see but may not act on is refused (403).

- community_worker: the needs of their community (org = community code)
- street_dispatcher: their street's; supervisor: their district's or street's
- resident, grid_worker: the needs they submitted
- unit_admin: the needs assigned to or claimed by their unit, and those on the wish wall of the
  communities their unit is paired with (published, or claimed by a group that may be joined)
"""

from collections.abc import Mapping
from typing import Any

from gridloop.shared.cobuild_lifecycle import NeedStatus
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Doc

WALL_OPEN = NeedStatus.PUBLISHED
WALL_JOINABLE = (NeedStatus.CLAIMED, NeedStatus.IN_SERVICE)
"""On the wall: published needs, and claimed ones whose claim is a group's that others may join."""


def on_wall(need: Mapping[str, Any]) -> bool:
    status = need["status"]
    return bool(status == WALL_OPEN or (status in WALL_JOINABLE and need.get("group")))


def is_claimant(actor: Actor, need: Mapping[str, Any]) -> bool:
    return actor.role == Role.UNIT_ADMIN and actor.org in need.get("claimant_codes", [])


def is_submitter(actor: Actor, need: Mapping[str, Any]) -> bool:
    return bool(need.get("submitter_sub")) and need["submitter_sub"] == actor.sub


def is_community_worker(actor: Actor, need: Mapping[str, Any]) -> bool:
    return actor.role == Role.COMMUNITY_WORKER and actor.org == need["community_code"]


def sees(actor: Actor, need: Mapping[str, Any], *, unit_communities: frozenset[str] = frozenset()) -> bool:
    """Whether the need exists for the caller at all."""
    match actor.role:
        case Role.COMMUNITY_WORKER:
            return bool(need["community_code"] == actor.org)
        case Role.STREET_DISPATCHER:
            return bool(need["street_code"] == actor.org)
        case Role.SUPERVISOR:
            return actor.org in (need["district_code"], need["street_code"])
        case Role.RESIDENT | Role.GRID_WORKER:
            return is_submitter(actor, need)
        case Role.UNIT_ADMIN:
            return (
                need.get("assigned_unit") == actor.org
                or is_claimant(actor, need)
                or (on_wall(need) and need["community_code"] in unit_communities)
            )
    return False


def sees_private(actor: Actor, need: Mapping[str, Any]) -> bool:
    """Who may read the beneficiary's identity and the household's words: the community worker of
    the need's community, its submitter, and a claimant once it has claimed."""
    return is_community_worker(actor, need) or is_submitter(actor, need) or is_claimant(actor, need)


def list_branches(actor: Actor) -> list[Doc]:
    """The caller's needs as plain filters, each served by an index, whose union is the list."""
    match actor.role:
        case Role.COMMUNITY_WORKER:
            return [{"community_code": actor.org}]
        case Role.STREET_DISPATCHER:
            return [{"street_code": actor.org}]
        case Role.SUPERVISOR:
            return [{"district_code": actor.org}, {"street_code": actor.org}]
        case Role.RESIDENT | Role.GRID_WORKER:
            return [{"submitter_sub": actor.sub}]
        case Role.UNIT_ADMIN:
            return [{"assigned_unit": actor.org}, {"claimant_codes": actor.org}]
    return []


def wall_communities(actor: Actor, *, unit_communities: frozenset[str]) -> list[str] | None:
    """The communities whose wall the caller reads (None: every community of the caller's district)."""
    match actor.role:
        case Role.UNIT_ADMIN:
            return sorted(unit_communities)
        case Role.COMMUNITY_WORKER | Role.GRID_WORKER | Role.RESIDENT:
            return [actor.org]
        case Role.SUPERVISOR:
            return None
    return []
