"""Who may do what on 社区事务准入's routes (cobuild /v1/cobuild/admission/...), in the shape of
test_access_matrix's MATRIX, with an expectation for every role including MEMBER.

Prepared records (`prepare(urls, user)` files them; the matrix formats `{request_id}` with them):
- "AR": a request by 住建 (ZJ, the inside agent) for LJ01 that no list covers: waits for the district.
- "AA": a request by 住建 for LJ01 on the assist list (人口普查): admitted by the list.
- "AF": a flag by 江畔社区 (LJ01, the inside community worker) against 住建.
Inside/outside callers are the matrix's: agent ZJ / JJ, supervisor QH (the district) / WH (a street),
community worker LJ01 / WH01, street dispatcher LJ / WH."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser

# The matrix's kinds and Route, repeated here (same values, same fields) so that test_access_matrix
# may import this module at its top without an import cycle.
ANY, SCOPED, HIDDEN, DENY = "any", "scoped", "hidden", "deny"


@dataclass
class Route:
    service: str
    method: str
    path: str
    kinds: dict[Role, str]
    ticket: str = "T"
    body: dict[str, Any] | None = None
    list_key: str = ""
    list_field: str = "items"
    params: dict[str, Any] | None = None
    inside: dict[Role, tuple[str, str]] = field(default_factory=dict)


GW, SD, AG, SUP, ADM = Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.DEPARTMENT_AGENT, Role.SUPERVISOR, Role.ADMIN
CW, UA, RES, MEM = Role.COMMUNITY_WORKER, Role.UNIT_ADMIN, Role.RESIDENT, Role.MEMBER
NOBODY = {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: DENY, CW: DENY, UA: DENY, RES: DENY, MEM: DENY}
EVERYONE = dict.fromkeys(NOBODY, ANY)
BASE = "/v1/cobuild/admission"
STARTS_ON = "2030-06-03"  # far enough ahead of any clock the stack runs on: never too late
REQUEST = {
    "task_type": "form",
    "title": "权限矩阵台账",
    "community_codes": ["LJ01"],
    "starts_on": STARTS_ON,
    "resources_provided": "无",
}
CENSUS = {**REQUEST, "task_type": "survey", "title": "权限矩阵人口普查入户登记"}
FLAG = {"department_code": "ZJ", "task_type": "form", "title": "权限矩阵未准入表格", "received_on": "2026-01-05"}

CASES: list[Route] = [
    Route("cobuild", "POST", f"{BASE}/requests", {**NOBODY, AG: ANY}, body=REQUEST),
    Route("cobuild", "GET", f"{BASE}/requests", {**NOBODY, AG: SCOPED, SUP: SCOPED}, ticket="AR", list_key="id"),
    Route(
        "cobuild",
        "GET",
        f"{BASE}/requests/{{request_id}}",
        {**NOBODY, AG: SCOPED, SUP: SCOPED, CW: HIDDEN},  # a community sees only what was admitted for it
        ticket="AR",
    ),
    Route(
        "cobuild",
        "POST",
        f"{BASE}/requests/{{request_id}}/decision",
        {**NOBODY, SUP: SCOPED},
        ticket="AR",
        body={"admitted": True},
    ),
    Route(
        "cobuild",
        "POST",
        f"{BASE}/requests/{{request_id}}/revoke",
        {**NOBODY, SUP: SCOPED},
        ticket="AA",
        body={"reason": "权限矩阵撤销"},
    ),
    Route("cobuild", "GET", f"{BASE}/inbox", {**NOBODY, CW: ANY}),
    Route("cobuild", "POST", f"{BASE}/flags", {**NOBODY, CW: ANY}, body=FLAG),
    Route(
        "cobuild",
        "GET",
        f"{BASE}/flags",
        {**NOBODY, CW: SCOPED, AG: SCOPED, SUP: SCOPED, SD: SCOPED},
        ticket="AF",
        list_key="id",
    ),
    Route("cobuild", "GET", f"{BASE}/certificates", EVERYONE, params={"community": "LJ01"}),
    Route(
        "cobuild",
        "POST",
        f"{BASE}/certificate-requests",
        {**NOBODY, RES: ANY, MEM: ANY, CW: ANY},  # a worker of another community: 403 (only for its own)
        body={"community_code": "LJ01", "certificate": "居住证明"},
    ),
]


def prepare(
    urls: dict[str, str],
    user: Callable[[dict[str, str], Role, tuple[str, str]], ApiUser],
    inside: dict[Role, tuple[str, str]],
) -> dict[str, str]:
    """AR, AA and AF, filed by the matrix's inside agent and community worker (pass its `_user` and INSIDE)."""
    agent, community = user(urls, AG, inside[AG]), user(urls, CW, inside[CW])
    filed: dict[str, Any] = agent.ok("cobuild", "POST", f"{BASE}/requests", json=REQUEST)
    admitted: dict[str, Any] = agent.ok("cobuild", "POST", f"{BASE}/requests", json=CENSUS)
    assert admitted["status"] == "admitted", admitted
    flag: dict[str, Any] = community.ok("cobuild", "POST", f"{BASE}/flags", json=FLAG)
    return {"AR": str(filed["id"]), "AA": str(admitted["id"]), "AF": str(flag["id"])}
