"""Who may see which ticket: the one scope rule every service applies, to single records and to
lists alike. A token's `org` is the grid worker's community, the dispatcher's street, the agent's
department, or the supervisor's district or street.

Out of scope answers 404 (see docs/security.md): the ticket does not exist for that caller."""

from collections.abc import Collection
from typing import Any

from gridloop.shared.events import Actor, Role


def sees_ticket(
    user: Actor,
    *,
    reporter: str | None,
    community: str,
    street: str,
    district: str,
    departments: Collection[str] = (),
) -> bool:
    """Grid workers: their own reports and those of their community's grids. Dispatchers: their
    street. Department agents: tickets their department leads or assists. Supervisors: their
    district, or their street."""
    match user.role:
        case Role.GRID_WORKER:
            return reporter == user.sub or community == user.org
        case Role.STREET_DISPATCHER:
            return street == user.org
        case Role.DEPARTMENT_AGENT:
            return user.org in departments
        case Role.SUPERVISOR:
            return user.org in (district, street)
    return False


def files_in(user: Actor, *, community: str, street: str) -> bool:
    """Where a report may be filed: a grid worker in the grids of their own community, the street
    desk (hotline and walk-in reports) anywhere in its street."""
    match user.role:
        case Role.GRID_WORKER:
            return community == user.org
        case Role.STREET_DISPATCHER:
            return street == user.org
    return False


def place_filter(user: Actor, *, street: str, district: str, community: str = "", reporter: str = "") -> dict[str, Any]:
    """The same rule as a MongoDB filter over documents with the named fields (for lists)."""
    match user.role:
        case Role.GRID_WORKER:
            mine = [{reporter: user.sub}] if reporter else []
            return {"$or": [*mine, {community: user.org}]} if community else {reporter: user.sub}
        case Role.STREET_DISPATCHER:
            return {street: user.org}
        case Role.SUPERVISOR:
            return {"$or": [{district: user.org}, {street: user.org}]}
    return {"_id": {"$exists": False}}  # matches nothing
