"""评议's routes for the access matrix (tests/e2e/test_access_matrix.py): each case has the fields
of the matrix's `Route` (wire them as `Route(**case)`), kinds as the matrix spells them.

- indicators: what a community worker or a unit admin grades on
- a grade: only a community worker (members, units) or a unit admin (a community); the body names
  a member nobody has, so the community worker's call is allowed and refused on its body (422)
  and nothing is written; a unit admin grading a member is refused (403)
- the grades: a community's, a unit's, all for the district
- the feedback card of 区人民医院 (U-LJ-HOSP): its unit admin, the supervisor, and the community
  worker of a community it reported to (SCOPED for CW needs U-LJ-HOSP's report to LJ01 among the
  prepared records: the members area's POST /v1/cobuild/units/U-LJ-HOSP/reports {community_code: LJ01});
  outside (another unit, another community): 404
- the sheets: the community, the street, the district and a unit (its own rows); the community
  sheet not for a unit
"""

from datetime import date
from typing import Any

from gridloop.shared.events import Role

ANY, SCOPED, HIDDEN, DENY = "any", "scoped", "hidden", "deny"
ALL_ROLES = (
    Role.GRID_WORKER,
    Role.STREET_DISPATCHER,
    Role.DEPARTMENT_AGENT,
    Role.SUPERVISOR,
    Role.ADMIN,
    Role.COMMUNITY_WORKER,
    Role.UNIT_ADMIN,
    Role.RESIDENT,
    Role.MEMBER,
)
NOBODY: dict[Role, str] = dict.fromkeys(ALL_ROLES, DENY)
GRADERS = {**NOBODY, Role.COMMUNITY_WORKER: ANY, Role.UNIT_ADMIN: ANY}
SHEET_READERS = {**NOBODY, Role.COMMUNITY_WORKER: ANY, Role.STREET_DISPATCHER: ANY, Role.SUPERVISOR: ANY}


def _year() -> int:
    return date.today().year


def cases() -> list[dict[str, Any]]:
    year = _year()
    sheet = {"year": year, "format": "csv"}
    return [
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/reviews/indicators",
            "kinds": GRADERS,
            "params": {"year": year},
        },
        {
            "service": "cobuild",
            "method": "POST",
            "path": "/v1/cobuild/reviews",
            "kinds": {**NOBODY, Role.COMMUNITY_WORKER: ANY},
            "body": {"year": year, "subject_kind": "member", "subject_code": "M-NOBODY", "grade": "basic"},
        },
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/reviews",
            "kinds": {**GRADERS, Role.SUPERVISOR: ANY},
            "params": {"year": year},
        },
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/units/U-LJ-HOSP/feedback-cards",
            "kinds": {**NOBODY, Role.UNIT_ADMIN: SCOPED, Role.COMMUNITY_WORKER: SCOPED, Role.SUPERVISOR: ANY},
            "params": {"year": year, "quarter": 1},
        },
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/sheets/units",
            "kinds": {**SHEET_READERS, Role.UNIT_ADMIN: ANY},
            "params": sheet,
        },
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/sheets/members",
            "kinds": {**SHEET_READERS, Role.UNIT_ADMIN: ANY},
            "params": sheet,
        },
        {
            "service": "cobuild",
            "method": "GET",
            "path": "/v1/cobuild/sheets/communities",
            "kinds": SHEET_READERS,
            "params": sheet,
        },
    ]


CASES: list[dict[str, Any]] = cases()
"""As the contract asks: a list, built when the matrix imports this module (the year is today's)."""
