"""The points ledger's routes (积分) for the access matrix: `CASES` in MATRIX's shape, MEMBER
included. A member's account and the unit's points name prepared codes in the path itself (LJ01's
pool, 区人民医院), so `_call`'s formatting leaves them as they are; the matrix's listing check
compares templates: `TEMPLATES` maps each case's path to the route it exercises.

Scope: a community worker and a member see their own community's ranking, shop and accounts (a
caller of WH01 asking for LJ01: 404); a unit's admin its own unit's points (另一单位: 404); the
district's supervisor and the administrator every account and the ledger's check. The shop is set
and redemptions are registered by the community's worker only. A redemption for no such member is a
422 (`unknown_member`): past authorization, nothing changed."""

from gridloop.shared.events import Role
from tests.e2e.test_access_matrix import ANY, DENY, HIDDEN, NOBODY, SCOPED, Route

MEMBER, CW, UA, SUP, ADM = Role.MEMBER, Role.COMMUNITY_WORKER, Role.UNIT_ADMIN, Role.SUPERVISOR, Role.ADMIN
NONE = {**NOBODY, MEMBER: DENY}
COMMUNITY_READERS = {**NONE, MEMBER: SCOPED, CW: SCOPED, SUP: ANY, ADM: ANY}
SHOP_KEEPER = {**NONE, CW: SCOPED}
# a member may read an account (their own, `member:<id>`), so the pool is someone else's: 404
ACCOUNT_READERS = {**NONE, MEMBER: HIDDEN, CW: SCOPED, SUP: ANY, ADM: ANY}
SHOP = {
    "items": [{"code": "RICE", "name": "大米5斤", "price": 5}],
    "windows": [{"kind": "monthly", "day": 15}],
}

CASES = [
    Route("cobuild", "GET", "/v1/cobuild/points/me", {**NONE, MEMBER: ANY}),
    Route("cobuild", "GET", "/v1/cobuild/points/accounts/community_pool:LJ01", ACCOUNT_READERS),
    # `me`: a member's own movements (none yet: an empty page); another role must name a member (422)
    Route(
        "cobuild",
        "GET",
        "/v1/cobuild/points/ledger",
        {**NONE, MEMBER: ANY, CW: ANY, SUP: ANY, ADM: ANY},
        params={"member": "me"},
    ),
    Route("cobuild", "GET", "/v1/cobuild/points/ranking", COMMUNITY_READERS, params={"community": "LJ01"}),
    Route("cobuild", "GET", "/v1/cobuild/units/U-LJ-HOSP/points", {**NONE, UA: SCOPED, CW: ANY, SUP: ANY, ADM: ANY}),
    Route("cobuild", "GET", "/v1/cobuild/points/check", {**NONE, SUP: ANY, ADM: ANY}),
    Route("cobuild", "GET", "/v1/cobuild/shops/LJ01", COMMUNITY_READERS),
    Route("cobuild", "PUT", "/v1/cobuild/shops/LJ01", SHOP_KEEPER, body=SHOP),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/shops/LJ01/redemptions",
        SHOP_KEEPER,
        body={"member_id": "M-matrix-nobody", "items": [{"code": "RICE", "qty": 1}]},
    ),
]

TEMPLATES = {
    "/v1/cobuild/points/accounts/community_pool:LJ01": "/v1/cobuild/points/accounts/{account}",
    "/v1/cobuild/units/U-LJ-HOSP/points": "/v1/cobuild/units/{unit}/points",
    "/v1/cobuild/shops/LJ01": "/v1/cobuild/shops/{community}",
    "/v1/cobuild/shops/LJ01/redemptions": "/v1/cobuild/shops/{community}/redemptions",
}
