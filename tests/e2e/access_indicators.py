"""Who may read the 双报到 and volunteering indicators (supervision), as entries for the access
matrix (tests/e2e/test_access_matrix.py): each a dict of `Route`'s fields, `Route(**case)`.

Supervisors, street dispatchers and community workers read the figures and the board within their
own district, street or community (anyone of them gets an answer about their own scope: ANY); a
unit admin reads its own unit's row only (`/units`; the area lists and the board are refused);
members, residents, grid workers, department agents and the admin are refused (403).

For `/v1/supervision/volunteering/{unit}` fill `unit` with PATH_UNIT ("units"), the one list every
reader here may ask for (a unit admin asking for `communities` is refused)."""

from typing import Any

from gridloop.shared.events import Role

ANY, DENY = "any", "deny"
PATH_UNIT = "units"
FIGURES_READERS = {Role.SUPERVISOR, Role.STREET_DISPATCHER, Role.COMMUNITY_WORKER}
YEAR = {"year": 2030}


def _kinds(allowed: set[Role]) -> dict[Role, str]:
    return {role: ANY if role in allowed else DENY for role in Role if role not in (Role.SYSTEM, Role.CLIENT_APP)}


CASES: list[dict[str, Any]] = [
    {
        "service": "supervision",
        "method": "GET",
        "path": "/v1/supervision/volunteering/board",
        "kinds": _kinds(FIGURES_READERS),
        "params": YEAR,
    },
    {
        "service": "supervision",
        "method": "GET",
        "path": "/v1/supervision/volunteering/{unit}",
        "kinds": _kinds({*FIGURES_READERS, Role.UNIT_ADMIN}),
        "params": YEAR,
    },
]
