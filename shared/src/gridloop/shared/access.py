"""Who may see which ticket: the one scope rule every service applies, to single records, to lists
in the database and to read models held in memory alike. A token's `org` is the grid worker's
community, the dispatcher's street, the agent's department, or the supervisor's district or street.

Out of scope answers 404 (see docs/security.md): the ticket does not exist for that caller."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gridloop.shared.events import Actor, Role
from gridloop.shared.queries import field_at


@dataclass(frozen=True)
class Fields:
    """Where a kind of document keeps what the rule looks at (None: it does not keep it)."""

    street: str = "street_code"
    district: str = "district_code"
    community: str | None = None
    reporter: str | None = None
    departments: str | None = None  # a department code, or a list of them


def _grants(user: Actor, fields: Fields) -> list[tuple[str, str]]:
    """The rule: (field, value) pairs, any one of which puts a document in the user's scope.
    Grid workers: their own reports and those of their community's grids. Dispatchers: their
    street. Department agents: what their department leads or assists. Supervisors: their
    district, or their street."""
    match user.role:
        case Role.GRID_WORKER:
            pairs = [(fields.reporter, user.sub), (fields.community, user.org)]
        case Role.STREET_DISPATCHER:
            pairs = [(fields.street, user.org)]
        case Role.DEPARTMENT_AGENT:
            pairs = [(fields.departments, user.org)]
        case Role.SUPERVISOR:
            pairs = [(fields.district, user.org), (fields.street, user.org)]
        case Role.MEMBER:
            pairs = [(fields.reporter, user.sub)]  # a member sees what they filed, nothing else
        case _:
            pairs = []
    return [(field, value) for field, value in pairs if field]


def scope_filter(user: Actor, fields: Fields) -> dict[str, Any]:
    """The rule as a MongoDB filter: an equality, an $or of them (a list field matches by
    membership), or a filter that matches nothing."""
    grants = [{field: value} for field, value in _grants(user, fields)]
    if not grants:
        return {"_id": {"$exists": False}}
    return grants[0] if len(grants) == 1 else {"$or": grants}


def in_scope(user: Actor, doc: Mapping[str, Any], fields: Fields) -> bool:
    """The rule on one document held in memory, exactly as `scope_filter` selects it."""
    for field, value in _grants(user, fields):
        held = field_at(doc, field)
        if held == value or (isinstance(held, list) and value in held):
            return True
    return False


def files_in(user: Actor, *, community: str, street: str) -> bool:
    """Where a report may be filed: a grid worker in the grids of their own community, the street
    desk (hotline and walk-in reports) anywhere in its street, a member reported to a community
    (随手拍) in its grids: a member's report that closes as verified earns points."""
    match user.role:
        case Role.GRID_WORKER | Role.MEMBER:
            return community == user.org
        case Role.STREET_DISPATCHER:
            return street == user.org
    return False
