"""双报到 and 公益岗位's routes for the access matrix (tests/e2e/test_access_matrix.py), with the
member role. Prepared records: MB, a Party member of 区人民医院 (U-LJ-HOSP) registered in LJ01 by
the inside member; PO, a post LJ01's community worker published in LJ01-G1 (`prepare_members`).

Wiring (the coordinator's): add Role.MEMBER to ROLES with MEMBER_INSIDE / MEMBER_OUTSIDE; fill
`member_id=record, post_id=record` in `_call`'s path; merge `prepare_members(...)` into the ids.
The unit routes name U-LJ-HOSP in their path: its admin is inside, 区税务局's is outside (404)."""

from collections.abc import Callable
from typing import Any

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from tests.e2e.test_access_matrix import ADM, AG, ANY, CW, DENY, GW, HIDDEN, RES, SCOPED, SD, SUP, UA, Route

MEM = Role.MEMBER
MEMBER_INSIDE = ("pm-lj01-m", "LJ01")
MEMBER_OUTSIDE = ("pm-wh01-m", "WH01")
ID_NUMBER = "11010519491231002X"  # passes the check character

NONE = {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: DENY, CW: DENY, UA: DENY, RES: DENY, MEM: DENY}
UNIT_ONLY = {**NONE, UA: SCOPED}
# a member is out of sight (404) for a role that sees no members; in sight but not theirs (403) for
# the member themself, their unit's admin and the admin
MEMBER_STEP = {**NONE, GW: HIDDEN, SD: HIDDEN, AG: HIDDEN, SUP: HIDDEN, RES: HIDDEN, CW: SCOPED}
HOSP = "/v1/cobuild/units/U-LJ-HOSP"
REGISTER = {
    "party_member": True,
    "unit_code": "U-LJ-HOSP",
    "name": "权限矩阵党员",
    "phone": "13800000000",
    "id_number": ID_NUMBER,
    "skills": ["急救"],
    "service_types": ["NC-ELDER"],
    "availability": "周末",
    "channel": "online",
}
POST = {"grid_code": "LJ01-G1", "category": "安全宣传", "title": "权限矩阵岗位", "duties": "每周巡查", "headcount": 3}

CASES: list[Route] = [
    Route("cobuild", "POST", f"{HOSP}/reports", UNIT_ONLY, body={"community_code": "LJ01"}),
    Route("cobuild", "GET", f"{HOSP}/reports", UNIT_ONLY),
    Route("cobuild", "PUT", f"{HOSP}/headcount", UNIT_ONLY, body={"party_members": 12}),
    Route("cobuild", "GET", f"{HOSP}/members", UNIT_ONLY),
    Route("cobuild", "POST", "/v1/cobuild/members", {**NONE, MEM: ANY, CW: ANY}, body={**REGISTER, "sub": "pm-desk-m"}),
    Route("cobuild", "GET", "/v1/cobuild/members/me", {**NONE, MEM: ANY}),
    Route("cobuild", "GET", "/v1/cobuild/members", {**NONE, CW: SCOPED}, ticket="MB", list_key="id"),
    Route(
        "cobuild", "GET", "/v1/cobuild/members/{member_id}", {**NONE, MEM: SCOPED, CW: SCOPED, UA: SCOPED}, ticket="MB"
    ),
    Route("cobuild", "GET", "/v1/cobuild/members/{member_id}/export", {**NONE, ADM: ANY}, ticket="MB"),
    Route("cobuild", "POST", "/v1/cobuild/members/{member_id}/confirm", MEMBER_STEP, ticket="MB", body={}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/members/{member_id}/place",
        MEMBER_STEP,
        ticket="MB",
        body={"grid_code": "LJ01-G1", "squad": "一队"},
    ),
    Route(
        "cobuild", "POST", "/v1/cobuild/members/{member_id}/return", {**MEMBER_STEP, MEM: SCOPED}, ticket="MB", body={}
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/members/{member_id}/transfer",
        MEMBER_STEP,
        ticket="MB",
        body={"to_community_code": "NO-SUCH"},  # refused (422) after the access check: MB stays
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/members/{member_id}/deactivate",
        MEMBER_STEP,
        ticket="MB",
        body={"reason": "权限矩阵"},
    ),
    Route("cobuild", "POST", "/v1/cobuild/members/{member_id}/erase", {**NONE, ADM: ANY}, ticket="MB", body={}),
    Route("cobuild", "POST", "/v1/cobuild/posts", {**NONE, CW: ANY}, body=POST),
    Route(
        "cobuild",
        "GET",
        "/v1/cobuild/posts",
        {**NONE, CW: SCOPED, UA: SCOPED, MEM: SCOPED},
        ticket="PO",
        list_key="id",
    ),
    Route("cobuild", "POST", "/v1/cobuild/posts/{post_id}/claim", {**NONE, MEM: SCOPED}, ticket="PO", body={}),
    Route("cobuild", "POST", "/v1/cobuild/posts/{post_id}/release", {**NONE, MEM: SCOPED}, ticket="PO", body={}),
    Route("cobuild", "POST", "/v1/cobuild/posts/{post_id}/close", {**NONE, CW: SCOPED}, ticket="PO", body={}),
]


def prepare_members(
    user: Callable[[Role, tuple[str, str]], ApiUser], community_worker: tuple[str, str]
) -> dict[str, Any]:
    """MB and PO: `user(role, (sub, org))` builds a caller as the matrix does."""
    member = user(MEM, MEMBER_INSIDE)
    worker = user(CW, community_worker)
    registered = member.call("cobuild", "POST", "/v1/cobuild/members", json=REGISTER)
    if registered.status_code == 201:
        member_id = str(registered.json()["id"])
    else:  # already registered in an earlier run against the same stack
        member_id = str(member.ok("cobuild", "GET", "/v1/cobuild/members/me")["id"])
    post_id = str(worker.ok("cobuild", "POST", "/v1/cobuild/posts", json=POST)["id"])
    return {"MB": member_id, "PO": post_id}
