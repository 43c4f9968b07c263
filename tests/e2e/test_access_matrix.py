"""Who may do what, route by route: every role against every route of every service, with a
caller inside the scope of the record the route names (a ticket, a need, an offer, a project) and
one outside it. A route the matrix does not list fails the
test, so no new endpoint can skip the question.

Kinds: ANY (allowed for the role), SCOPED (allowed inside the scope; outside, the ticket does not
exist: 404, or missing from a list), HIDDEN (the role may call the route, but the record is
someone else's: 404), DENY (the role may never: 403). "Allowed" means the request got past
authentication and authorization: anything but 401, 403, 404 and 5xx (a 409 for a ticket in the
wrong state is still an allowed call)."""

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import API_SERVICES, Stack
from gridloop.stack.testing import eventually
from tests.e2e import access_activities, access_admission, access_indicators, access_reviews

pytestmark = pytest.mark.e2e
ANY, SCOPED, HIDDEN, DENY = "any", "scoped", "hidden", "deny"
GW, SD, AG, SUP, ADM = Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.DEPARTMENT_AGENT, Role.SUPERVISOR, Role.ADMIN
CW, UA, RES, MB = Role.COMMUNITY_WORKER, Role.UNIT_ADMIN, Role.RESIDENT, Role.MEMBER
ROLES = (GW, SD, AG, SUP, ADM, CW, UA, RES, MB)
INSIDE = {
    GW: ("gw-lj01-m", "LJ01"),
    SD: ("sd-lj-m", "LJ"),
    AG: ("agent-zj-m", "ZJ"),
    SUP: ("sup-qh-m", "QH"),
    ADM: ("admin-m", "QH"),
    CW: ("cw-lj01-m", "LJ01"),
    UA: ("ua-hosp-m", "U-LJ-HOSP"),  # 区人民医院, paired with LJ01 and LJ02
    RES: ("res-lj01-m", "LJ01"),  # who submits the prepared needs
    MB: ("pm-lj01-m", "LJ01"),  # a member reported to 江畔社区
}
OUTSIDE = {
    GW: ("gw-wh01-m", "WH01"),
    SD: ("sd-wh-m", "WH"),
    AG: ("agent-jj-m", "JJ"),
    SUP: ("sup-wh-m", "WH"),
    ADM: ("admin-m2", "QH"),
    CW: ("cw-wh01-m", "WH01"),
    UA: ("ua-tax-m", "U-WH-TAX"),  # 区税务局, paired with WH01 and WH02
    RES: ("res-wh01-m", "WH01"),
    MB: ("pm-wh01-m", "WH01"),
}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAJJRU5ErkJggg=="
)
READ_ALL = dict.fromkeys(ROLES, ANY)
# The ticket loop is the city's staff's: a community worker, a unit's liaison and a resident take
# no part in it (a resident's problem reaches it through the grid worker, the hotline or an Open311
# app; the community's own requests are needs, converted to tickets by cobuild).
NOT_TICKETS = {CW: DENY, UA: DENY, RES: DENY, MB: DENY}
AGENT_ONLY = {GW: DENY, SD: DENY, AG: SCOPED, SUP: DENY, ADM: DENY, **NOT_TICKETS}
HOOKS = {
    GW: DENY,
    SD: DENY,
    AG: SCOPED,
    SUP: DENY,
    ADM: ANY,
    **NOT_TICKETS,
}  # a department's own endpoints; the admin's all
HOOKS_OWN = {**HOOKS, ADM: DENY}  # what only the department does to its endpoint: never the admin in its name
NOBODY = dict.fromkeys(ROLES, DENY)
COBUILD_FIGURES = {**NOBODY, SD: SCOPED, SUP: SCOPED, CW: SCOPED}
NEED_READERS = {**NOBODY, GW: HIDDEN, SD: SCOPED, SUP: SCOPED, CW: SCOPED, UA: SCOPED, RES: SCOPED}
COMMUNITY = {**NOBODY, CW: SCOPED}  # the community's steps on a need (the street's on an escalated one)
UNIT = {**NOBODY, UA: SCOPED}  # the assigned or claiming unit's
HOUSEHOLD = {**NOBODY, GW: HIDDEN, CW: SCOPED, RES: SCOPED}  # the submitter's (or the community's)
OFFER_READERS = {**NOBODY, SD: SCOPED, SUP: SCOPED, CW: SCOPED, UA: SCOPED}
PROJECT_READERS = {**NOBODY, GW: SCOPED, SD: SCOPED, SUP: SCOPED, CW: SCOPED, UA: SCOPED, RES: SCOPED}
PROJECT_RUNNERS = {**NOBODY, CW: SCOPED, UA: SCOPED}
# a body's values filled with the time now and thirty days from now (an offer's window, a plan's end)
NOW, LATER = "now", "in thirty days"


@dataclass
class Route:
    service: str
    method: str
    path: str
    kinds: dict[Role, str]
    ticket: str = "T"  # which prepared record fills the path's id: a ticket, or cobuild's N, NA, O or P
    body: dict[str, Any] | None = None
    list_key: str = ""  # for lists: the field naming the prepared ticket in each item
    list_field: str = "items"  # for lists: where the answer lists them
    params: dict[str, Any] | None = None  # for lists: the query (default: a page large enough)
    inside: dict[Role, tuple[str, str]] = field(default_factory=dict)  # a different caller inside scope


MATRIX = [
    Route(
        "intake",
        "POST",
        "/v1/reports",
        {GW: ANY, SD: ANY, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS, MB: ANY},
        # 群租房 has no rule: these reports wait in the queue and dispatch nothing into another test's window.
        body={"category_code": "SJ-0701", "description": "权限矩阵", "grid_code": "LJ01-G2"},
    ),
    Route(
        "intake",
        "GET",
        "/v1/reports/{ticket_id}",
        {GW: SCOPED, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS, MB: HIDDEN},  # a member: own only
    ),
    Route(
        "intake",
        "GET",
        "/v1/reports",
        {GW: SCOPED, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS, MB: ANY},  # own, none prepared
        list_key="ticket_id",
    ),
    Route(
        "intake", "POST", "/v1/attachments", {GW: ANY, SD: ANY, AG: ANY, SUP: DENY, ADM: DENY, **NOT_TICKETS, MB: ANY}
    ),
    # T names the photo: its uploader and community, its street, its department and its district see it
    Route(
        "intake",
        "GET",
        "/v1/attachments/{attachment_id}",
        {GW: SCOPED, SD: SCOPED, AG: SCOPED, SUP: SCOPED, ADM: DENY, **NOT_TICKETS, MB: HIDDEN},
    ),
    Route(
        "intake",
        "POST",
        "/v1/open311-clients",
        {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: ANY, **NOT_TICKETS},
        body={"name": "权限矩阵应用", "area": ["LJ"]},
    ),
    Route("intake", "GET", "/v1/open311-clients", {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: ANY, **NOT_TICKETS}),
    Route(
        "intake",
        "DELETE",
        "/v1/open311-clients/{client_id}",
        {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: ANY, **NOT_TICKETS},
    ),
    Route(
        "dispatch",
        "GET",
        "/v1/dispatch/queue",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="Q",
        list_key="ticket_id",
    ),
    Route(
        "dispatch",
        "GET",
        "/v1/dispatch/queue/{ticket_id}",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="Q",
    ),
    Route(
        "dispatch",
        "POST",
        "/v1/dispatch/tickets/{ticket_id}/assign",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        ticket="Q",
        body={"lead_department": "ZJ"},
    ),
    Route(
        "dispatch",
        "POST",
        "/v1/dispatch/tickets/{ticket_id}/cancel",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        ticket="C",
        body={"reason": "invalid"},
    ),
    Route(
        "dispatch",
        "GET",
        "/v1/dispatch/extensions",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="E",
        list_key="ticket_id",
    ),
    Route(
        "dispatch",
        "POST",
        "/v1/dispatch/extensions/{ticket_id}/decide",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        ticket="E",
        body={"approved": True},
    ),
    Route(
        "handling",
        "GET",
        "/v1/work-orders",
        {GW: DENY, SD: DENY, AG: SCOPED, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        list_key="ticket_id",
    ),
    Route(
        "handling",
        "GET",
        "/v1/work-orders/{ticket_id}",
        {GW: DENY, SD: DENY, AG: SCOPED, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
    ),
    Route("handling", "POST", "/v1/work-orders/{ticket_id}/accept", AGENT_ONLY),
    Route("handling", "POST", "/v1/work-orders/{ticket_id}/progress", AGENT_ONLY, body={"note": "到场"}),
    Route(
        "handling",
        "POST",
        "/v1/work-orders/{ticket_id}/part",
        AGENT_ONLY,
        body={"note": "已配合"},
        inside={AG: ("agent-cg-m", "CG")},
    ),
    Route("handling", "POST", "/v1/work-orders/{ticket_id}/extension", AGENT_ONLY, body={"reason": "待料"}),
    Route("handling", "POST", "/v1/work-orders/{ticket_id}/resolve", AGENT_ONLY, body={"note": "已处置"}),
    Route("handling", "POST", "/v1/work-orders/{ticket_id}/reject", AGENT_ONLY, body={"reason": "不属本部门"}),
    Route(
        "feedback",
        "GET",
        "/v1/verifications",
        {GW: SCOPED, SD: DENY, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="V",
        list_key="ticket_id",
    ),
    Route(
        "feedback",
        "GET",
        "/v1/verifications/{ticket_id}",
        {GW: SCOPED, SD: DENY, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="V",
    ),
    Route(
        "feedback",
        "POST",
        "/v1/verifications/{ticket_id}",
        {GW: SCOPED, SD: DENY, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        ticket="V",
        body={"passed": True},
    ),
    Route(
        "feedback",
        "POST",
        "/v1/ratings/{ticket_id}",
        {GW: SCOPED, SD: DENY, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        ticket="V",
        body={"rating": "satisfied"},
    ),
    Route("feedback", "GET", "/v1/notifications", {GW: ANY, SD: ANY, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS}),
    Route(
        "feedback",
        "POST",
        "/v1/notifications/{notification_id}/read",
        {GW: SCOPED, SD: HIDDEN, AG: DENY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/tickets/{ticket_id}",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/stats/{unit}",
        {GW: DENY, SD: ANY, AG: DENY, SUP: ANY, ADM: DENY, **NOT_TICKETS},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/overdue",
        {GW: DENY, SD: ANY, AG: DENY, SUP: ANY, ADM: DENY, **NOT_TICKETS},
    ),
    # 共建 figures: the street and the district's, and a community worker's of its own community
    Route("supervision", "GET", "/v1/supervision/cobuild/board", COBUILD_FIGURES, params={"street": "LJ"}),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/cobuild/{unit}",
        {**NOBODY, SD: ANY, SUP: ANY, CW: ANY},  # as ticket figures: counted within the reader's scope
        params={"code": "LJ01"},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/ranking/{unit}",
        {GW: DENY, SD: ANY, AG: DENY, SUP: ANY, ADM: DENY, **NOT_TICKETS},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/evaluation/{month}",
        {GW: DENY, SD: ANY, AG: DENY, SUP: ANY, ADM: DENY, **NOT_TICKETS},
    ),
    Route(
        "supervision",
        "GET",
        "/v1/supervision/map",
        {GW: DENY, SD: SCOPED, AG: DENY, SUP: SCOPED, ADM: DENY, **NOT_TICKETS},
        ticket="M",
        list_key="ticket_id",
        list_field="points",
        params={"grid": "LJ01-G2", "limit": 2000},
    ),
    Route(
        "handling",
        "POST",
        "/v1/webhooks/endpoints",
        {GW: DENY, SD: DENY, AG: ANY, SUP: DENY, ADM: DENY, **NOT_TICKETS},
        body={"url": "http://127.0.0.1:9/matrix", "event_types": ["ticket.dispatched"], "department": "ZJ"},
    ),
    Route(
        "handling", "GET", "/v1/webhooks/event-types", {GW: DENY, SD: DENY, AG: ANY, SUP: DENY, ADM: ANY, **NOT_TICKETS}
    ),
    Route(
        "handling", "GET", "/v1/webhooks/allow-lists", {GW: DENY, SD: DENY, AG: ANY, SUP: DENY, ADM: ANY, **NOT_TICKETS}
    ),
    Route("handling", "GET", "/v1/webhooks/allow-lists/{department}", HOOKS),
    Route(
        "handling",
        "PUT",
        "/v1/webhooks/allow-lists/{department}",
        {GW: DENY, SD: DENY, AG: DENY, SUP: DENY, ADM: ANY, **NOT_TICKETS},
        body={"entries": ["127.0.0.1:9"]},
    ),
    Route("handling", "GET", "/v1/webhooks/endpoints", HOOKS, ticket="W", list_key="endpoint_id"),
    Route("handling", "GET", "/v1/webhooks/endpoints/{endpoint_id}", HOOKS),
    Route("handling", "GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries", HOOKS),
    Route("handling", "PATCH", "/v1/webhooks/endpoints/{endpoint_id}", HOOKS_OWN, body={"enabled": True}),
    Route("handling", "POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret", HOOKS_OWN),
    Route(
        "handling",
        "POST",
        "/v1/webhooks/endpoints/{endpoint_id}/replay",
        HOOKS_OWN,
        body={"since": "2026-01-01T00:00:00+08:00"},
    ),
    # Last of the endpoint's routes: it deletes the prepared endpoint (again: the same answer)
    Route("handling", "DELETE", "/v1/webhooks/endpoints/{endpoint_id}", HOOKS),
    Route("directory", "GET", "/v1/directory/tree", READ_ALL),
    Route("directory", "GET", "/v1/directory/grids/locate", READ_ALL),
    Route("directory", "GET", "/v1/directory/{collection}", READ_ALL),
    Route("directory", "GET", "/v1/directory/{collection}/{code}", READ_ALL),
    Route(
        "directory",
        "GET",
        "/v1/directory/{collection}/{code}/history",
        {**NOBODY, SUP: ANY, ADM: ANY},
    ),
    Route("directory", "PUT", "/v1/directory/{collection}/{code}", {**NOBODY, ADM: ANY}),
    # 共建: needs, the wish wall, offers, matches and projects. N: a resident's need in LJ01, reviewed and
    # published (on the wall of 区人民医院, paired with LJ01); NA: another, assigned to 区人民医院; O: the
    # hospital's offer to LJ01, which LJ01 accepted; P: LJ01's project with the hospital. The actions
    # run in the order listed, so each finds N, O and P in a state where its rightful caller is let
    # through (2xx, or 409/422 for the state or what the body names, which change nothing).
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/needs",
        {**NOBODY, GW: ANY, SD: ANY, CW: ANY, RES: ANY},
        body={
            "kind": "wish",
            "category_code": "NC-ELDER",
            "description": "权限矩阵 需求",
            "grid_code": "LJ01-G1",
            "beneficiary": {"name": "权限矩阵", "phone": "", "address": ""},
        },
    ),
    # the list: each reader's own (a grid worker's: what it submitted, which NA is not)
    Route("cobuild", "GET", "/v1/cobuild/needs", {**NEED_READERS, GW: ANY}, ticket="NA", list_key="id"),
    Route("cobuild", "GET", "/v1/cobuild/needs/{need_id}", NEED_READERS, ticket="N"),
    Route(
        "cobuild",
        "GET",
        "/v1/cobuild/wall",
        {**NOBODY, GW: SCOPED, SUP: SCOPED, CW: SCOPED, UA: SCOPED, RES: SCOPED},
        ticket="N",
        list_key="id",
    ),
    Route(
        "cobuild", "POST", "/v1/cobuild/needs/{need_id}/review", COMMUNITY, ticket="N", body={"summary": "权限矩阵摘要"}
    ),
    # the street acts on a need escalated to it only; N is not
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/publish", COMMUNITY, ticket="N", body={}),
    # an unknown unit, merge target or ticket category: past the role and the state, refused for what it names (422)
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/assign", COMMUNITY, ticket="N", body={"unit_code": "U-NONE"}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/reject", COMMUNITY, ticket="N", body={"reason": "权限矩阵"}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/merge", COMMUNITY, ticket="N", body={"into": "no-such-need"}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/needs/{need_id}/convert",
        COMMUNITY,
        ticket="N",
        body={"ticket_category_code": "XX-NONE", "description": "权限矩阵", "address": "江畔路1号"},
    ),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/approve-release", COMMUNITY, ticket="N", body={}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/accept-assignment", UNIT, ticket="NA", body={}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/return", UNIT, ticket="NA", body={"reason": "权限矩阵"}),
    # the hospital claims N, contacts the household, asks to be released, and delivers
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/claim", UNIT, ticket="N", body={"group": False}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/contact", UNIT, ticket="N", body={"note": "已电话联系"}),
    Route(
        "cobuild", "POST", "/v1/cobuild/needs/{need_id}/request-release", UNIT, ticket="N", body={"reason": "权限矩阵"}
    ),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/deliver", UNIT, ticket="N", body={"note": "已上门服务"}),
    # the submitter (or the community) confirms and rates; a grid worker could be a submitter, not N's
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/confirm", HOUSEHOLD, ticket="N", body={}),
    Route("cobuild", "POST", "/v1/cobuild/needs/{need_id}/rate", HOUSEHOLD, ticket="N", body={"rating": "satisfied"}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/needs/{need_id}/withdraw",
        {**HOUSEHOLD, CW: DENY},
        ticket="N",
        body={"reason": "权限矩阵"},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/offers",
        {**NOBODY, UA: ANY},
        body={
            "kind": "service",
            "title": "权限矩阵资源",
            "category_codes": ["NC-ELDER"],
            "capacity": 3,
            "community_codes": ["LJ01"],
            "available_from": NOW,
            "available_until": LATER,
        },
    ),
    Route("cobuild", "GET", "/v1/cobuild/offers", OFFER_READERS, ticket="O", list_key="id"),
    Route("cobuild", "GET", "/v1/cobuild/offers/{offer_id}", OFFER_READERS, ticket="O"),
    # LJ01 has answered O already (409 already_answered)
    Route("cobuild", "POST", "/v1/cobuild/offers/{offer_id}/accept", {**NOBODY, CW: SCOPED}, ticket="O", body={}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/offers/{offer_id}/decline",
        {**NOBODY, CW: SCOPED},
        ticket="O",
        body={"reason": "权限矩阵"},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/offers/{offer_id}/withdraw",
        {**NOBODY, UA: SCOPED},
        ticket="O",
        body={"reason": "权限矩阵"},
    ),
    Route("cobuild", "GET", "/v1/cobuild/matches", {**NOBODY, SD: ANY, CW: ANY}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects",
        {**NOBODY, CW: ANY},
        body={
            "title": "权限矩阵项目",
            "summary": "权限矩阵",
            "category_code": "NC-ELDER",
            "grid_code": "LJ01-G1",
            "planned_end": LATER,
        },
    ),
    Route("cobuild", "GET", "/v1/cobuild/projects", PROJECT_READERS, ticket="P", list_key="id"),
    Route("cobuild", "GET", "/v1/cobuild/projects/{project_id}", PROJECT_READERS, ticket="P"),
    # P through its life: approved by the street, run by the community and the hospital, rated, evaluated
    Route("cobuild", "POST", "/v1/cobuild/projects/{project_id}/approve", {**NOBODY, SD: SCOPED}, ticket="P", body={}),
    Route("cobuild", "POST", "/v1/cobuild/projects/{project_id}/start", PROJECT_RUNNERS, ticket="P", body={}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/progress",
        PROJECT_RUNNERS,
        ticket="P",
        body={"percent": 50, "milestone": "完成一半"},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/suspend",
        PROJECT_RUNNERS,
        ticket="P",
        body={"reason": "权限矩阵"},
    ),
    Route("cobuild", "POST", "/v1/cobuild/projects/{project_id}/resume", PROJECT_RUNNERS, ticket="P", body={}),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/complete",
        PROJECT_RUNNERS,
        ticket="P",
        body={"report": "已完成", "beneficiaries": 12},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/rate",
        {**NOBODY, CW: SCOPED, RES: SCOPED},
        ticket="P",
        body={"rating": "satisfied"},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/evaluate",
        {**NOBODY, SD: SCOPED},
        ticket="P",
        body={"grade": "good"},
    ),
    Route(
        "cobuild",
        "POST",
        "/v1/cobuild/projects/{project_id}/cancel",
        {**NOBODY, SD: SCOPED, CW: SCOPED},
        ticket="P",
        body={"reason": "权限矩阵"},
    ),
]
ROUTES = {r.path: r for r in MATRIX if r.method == "POST"}
OPS = {"/healthz", "/readyz", "/metrics"}
OPEN311 = "/open311/"  # authorized by a client application's api_key, not a person's role: tests/e2e/test_open311.py


def _template(path: str) -> str:
    """The OpenAPI path a case exercises: the points' cases and the unit routes (双报到, 评议) name
    their prepared codes in the path itself (U-LJ-HOSP: 区人民医院)."""
    return TEMPLATES.get(path, path.replace("/v1/cobuild/units/U-LJ-HOSP/", "/v1/cobuild/units/{unit}/"))


def test_every_route_is_in_the_matrix(urls: dict[str, str]) -> None:
    listed = {(r.service, r.method, _template(r.path)) for r in MATRIX}
    served = {
        (service, method.upper(), path)
        for service in API_SERVICES
        for path, operations in httpx.get(f"{urls[service]}/openapi.json").json()["paths"].items()
        if path not in OPS and not path.startswith(OPEN311)
        for method in operations
    }
    assert served - listed == set(), "routes nobody decided access for"
    assert listed - served == set(), "the matrix lists routes that do not exist"


USERS: dict[tuple[Role, str, str], ApiUser] = {}


def _user(urls: dict[str, str], role: Role, who: tuple[str, str]) -> ApiUser:
    """One caller per (role, person), kept with its connections for the whole run."""
    key = (role, *who)
    if key not in USERS or USERS[key].urls is not urls:
        USERS[key] = ApiUser(urls=urls, sub=who[0], role=role, org=who[1])
    return USERS[key]


def _report(
    worker: ApiUser, category: str, grid: str, location: dict[str, float] | None = None, photos: list[str] | None = None
) -> str:
    body: dict[str, Any] = {"category_code": category, "description": f"权限矩阵 {category}", "grid_code": grid}
    if location:
        body["location"] = location
    if photos:
        body["photos"] = photos
    return str(worker.ok("intake", "POST", "/v1/reports", json=body)["ticket_id"])


def _order(agent: ApiUser, ticket_id: str) -> dict[str, Any] | None:
    items = agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
    return next((o for o in items if o["ticket_id"] == ticket_id), None)


def _upload(user: ApiUser) -> str:
    stored = user.ok("intake", "POST", "/v1/attachments", files={"file": ("p.png", PNG, "image/png")})
    return str(stored["attachment_id"])


def _prepare(urls: dict[str, str], mongo_uri: str) -> dict[str, str]:
    """T: 违法建设, 住建 leads and 城管 assists, with the reporter's photo (the matrix's attachment);
    Q: waits in 临江's queue; C: to be cancelled; V: resolved, waiting for its reporter's check;
    E: with an extension request waiting; M: filed with a GPS point, on the command centre's map
    (群租房: it waits in the queue)."""
    worker = _user(urls, GW, INSIDE[GW])
    zj, cg, sw = (_user(urls, AG, (f"agent-{d.lower()}-m", d)) for d in ("ZJ", "CG", "SW"))
    photo = _upload(worker)
    ids = {
        "attachment_id": photo,
        "T": _report(worker, "SJ-0301", "LJ01-G1", photos=[photo]),
        "Q": _report(worker, "SJ-0701", "LJ01-G2"),
        "C": _report(worker, "SJ-0101", "LJ01-G3"),
        "V": _report(worker, "SJ-0102", "LJ01-G1"),
        "E": _report(worker, "BJ-0101", "LJ01-G2"),
        "M": _report(worker, "SJ-0701", "LJ01-G2", {"lon": 120.115, "lat": 30.205}),
    }
    eventually(lambda: _order(zj, ids["T"]), what="T in 住建's inbox")
    eventually(
        lambda: zj.call("intake", "GET", f"/v1/attachments/{photo}").status_code == 200,
        what="intake told T went to 住建",
    )
    eventually(lambda: _order(cg, ids["C"]), what="C dispatched")
    eventually(lambda: _order(cg, ids["V"]), what="V in 城管's inbox")
    cg.ok("handling", "POST", f"/v1/work-orders/{ids['V']}/accept")
    cg.ok("handling", "POST", f"/v1/work-orders/{ids['V']}/resolve", json={"note": "已清扫"})
    eventually(lambda: _order(sw, ids["E"]), what="E in 水务's inbox")
    sw.ok("handling", "POST", f"/v1/work-orders/{ids['E']}/accept")
    resolve_by = datetime.fromisoformat(str(_order(sw, ids["E"])["resolve_deadline"]))  # type: ignore[index]
    until = (resolve_by + timedelta(days=1)).isoformat()
    sw.ok(
        "handling",
        "POST",
        f"/v1/work-orders/{ids['E']}/extension",
        json={"requested_resolve_deadline": until, "reason": "待料"},
    )
    eventually(
        lambda: any(
            v["ticket_id"] == ids["V"]
            for v in worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
        ),
        what="V's verification task",
    )
    notices = eventually(lambda: worker.ok("feedback", "GET", "/v1/notifications")["items"], what="a notification")
    ids["notification_id"] = notices[0]["notification_id"]
    admin = _user(urls, ADM, INSIDE[ADM])
    admin.ok("handling", "PUT", "/v1/webhooks/allow-lists/ZJ", json={"entries": ["127.0.0.1:9"]})
    ids["W"] = _user(urls, AG, INSIDE[AG]).ok(
        "handling",
        "POST",
        "/v1/webhooks/endpoints",
        json={"url": "http://127.0.0.1:9/matrix", "event_types": ["ticket.overdue"]},
    )["endpoint_id"]
    ids["client_id"] = admin.ok("intake", "POST", "/v1/open311-clients", json={"name": "待停用应用", "area": ["LJ"]})[
        "client_id"
    ]
    desk = _user(urls, SD, INSIDE[SD])
    eventually(lambda: desk.ok("dispatch", "GET", "/v1/dispatch/queue")["items"], what="Q queued")
    eventually(
        lambda: any(i["ticket_id"] == ids["E"] for i in desk.ok("dispatch", "GET", "/v1/dispatch/extensions")["items"]),
        what="E's extension request at the street desk",
    )
    eventually(
        lambda: any(
            p["ticket_id"] == ids["M"]
            for p in desk.ok("supervision", "GET", "/v1/supervision/map", params={"grid": "LJ01-G2"})["points"]
        ),
        what="M on the map",
    )
    return {**ids, **_prepare_cobuild(urls), **_prepare_cobuild_ii(urls, mongo_uri)}


def _need(resident: ApiUser, community: ApiUser, step: str, body: dict[str, Any]) -> str:
    """A resident's need in LJ01, reviewed by the community, then published or assigned."""
    filed = {"kind": "service", "category_code": "NC-ELDER", "description": "权限矩阵 老人助餐", "grid_code": "LJ01-G1"}
    need_id = str(resident.ok("cobuild", "POST", "/v1/cobuild/needs", json=filed)["id"])
    community.ok("cobuild", "POST", f"/v1/cobuild/needs/{need_id}/review", json={"summary": "独居老人需要助餐"})
    community.ok("cobuild", "POST", f"/v1/cobuild/needs/{need_id}/{step}", json=body)
    return need_id


def _prepare_cobuild(urls: dict[str, str]) -> dict[str, str]:
    """N: published, on the wall of 区人民医院 (paired with LJ01); NA: assigned to 区人民医院; O: the
    hospital's offer to LJ01, accepted by LJ01; P: LJ01's project with the hospital, proposed."""
    resident, community, hospital = (_user(urls, role, INSIDE[role]) for role in (RES, CW, UA))
    offer = _body(ROUTES["/v1/cobuild/offers"])
    offer_id = str(hospital.ok("cobuild", "POST", "/v1/cobuild/offers", json=offer)["id"])
    community.ok("cobuild", "POST", f"/v1/cobuild/offers/{offer_id}/accept", json={})
    project = {**(_body(ROUTES["/v1/cobuild/projects"]) or {}), "unit_codes": ["U-LJ-HOSP"]}
    return {
        "N": _need(resident, community, "publish", {}),
        "NA": _need(resident, community, "assign", {"unit_code": "U-LJ-HOSP"}),
        "O": offer_id,
        "P": str(community.ok("cobuild", "POST", "/v1/cobuild/projects", json=project)["id"]),
    }


def _prepare_cobuild_ii(urls: dict[str, str], mongo_uri: str) -> dict[str, str]:
    """共建 II: 区人民医院 reported to LJ01 (a community worker of LJ01 reads its feedback card); MB and
    PO (双报到, 公益岗位: access_members); ACT, REC and MEM (服务活动: access_activities); AR, AA and
    AF (社区事务准入: access_admission). MB is registered through the API first, with its unit:
    access_activities only adds a registration when there is none, so MEM is the same member."""
    hospital = _user(urls, UA, INSIDE[UA])
    reported = hospital.call("cobuild", "POST", "/v1/cobuild/units/U-LJ-HOSP/reports", json={"community_code": "LJ01"})
    assert reported.status_code in (200, 201, 409), reported.text
    return {
        **prepare_members(lambda role, who: _user(urls, role, who), INSIDE[CW]),
        **access_activities.prepare(mongo_uri, hospital),
        **access_admission.prepare(urls, _user, INSIDE),
    }


def _body(route: Route) -> dict[str, Any] | None:
    """The route's body; an extension asks for a deadline later than any a prepared ticket has; NOW
    and LATER are filled with the time now and thirty days on."""
    if route.path.endswith("/extension"):
        return {
            **(route.body or {}),
            "requested_resolve_deadline": (datetime.now().astimezone() + timedelta(days=9)).isoformat(),
        }
    if route.body is None:
        return None
    now = datetime.now().astimezone()
    times = {NOW: now.isoformat(), LATER: (now + timedelta(days=30)).isoformat()}
    return {k: times.get(v, v) if isinstance(v, str) else v for k, v in route.body.items()}


def _unit(path: str) -> str:
    if path.startswith("/v1/supervision/cobuild/"):
        return "communities"
    if path.startswith("/v1/supervision/volunteering/"):
        return access_indicators.PATH_UNIT
    return "departments"


def _call(user: ApiUser, role: Role, route: Route, ids: dict[str, str]) -> httpx.Response:
    record = ids[route.ticket]  # the prepared record the case names: a ticket, or one of cobuild's
    path = route.path.format(
        ticket_id=record,
        need_id=record,
        offer_id=record,
        project_id=record,
        member_id=record,  # MB (双报到) or MEM (服务活动): each case's own
        post_id=record,
        activity_id=record,
        record_id=record,
        request_id=record,
        attachment_id=ids["attachment_id"],
        notification_id=ids["notification_id"],
        client_id=ids["client_id"],
        endpoint_id=ids["W"],
        department="ZJ",
        unit=_unit(route.path),
        month=datetime.now().strftime("%Y-%m"),
        collection="categories",
        code="SJ-0101",
    )
    body = _body(route)
    if route.method == "PUT" and route.service == "directory":
        body = user.ok("directory", "GET", path)["data"] if role == ADM else {"code": "SJ-0101"}
    params = route.params or ({"limit": 200} if route.list_key else None)
    if path.endswith("/locate"):
        params = {"lon": 120.105, "lat": 30.205}
    if route.path == "/v1/attachments":
        return user.http.post(f"{user.urls[route.service]}{path}", files={"file": ("p.png", PNG, "image/png")})
    return user.call(route.service, route.method, path, json=body, params=params)


def _allowed(response: httpx.Response) -> bool:
    return response.status_code not in (401, 403, 404) and response.status_code < 500


def test_every_role_against_every_route_inside_and_outside_its_scope(
    stack: Stack, urls: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert stack.servers is not None
    ids = _prepare(urls, stack.servers.mongo_uri)
    tried, wrong = 0, []
    # Reads first, so the actions below cannot move a prepared ticket out of a list before it is checked.
    for route in sorted(MATRIX, key=lambda r: r.method != "GET"):
        for role in ROLES:
            kind = route.kinds[role]
            cases = [("inside", route.inside.get(role, INSIDE[role]))]
            if kind in (SCOPED, HIDDEN):
                cases.append(("outside", OUTSIDE[role]))
            for where, who in cases:
                tried += 1
                response = _call(_user(urls, role, who), role, route, ids)
                if kind == DENY:
                    ok = response.status_code == 403
                elif kind == HIDDEN or (kind == SCOPED and where == "outside" and not route.list_key):
                    ok = response.status_code == 404
                elif kind == SCOPED and route.list_key:
                    listed = response.status_code == 200 and any(
                        i[route.list_key] == ids[route.ticket] for i in response.json()[route.list_field]
                    )
                    ok = listed if where == "inside" else response.status_code == 200 and not listed
                else:
                    ok = _allowed(response)
                if not ok:
                    wrong.append(f"{role.value} {where} {route.method} {route.path}: {response.status_code}")
    with capsys.disabled():
        print(f"\naccess matrix: {tried} (role, route, scope) cases tried over {len(MATRIX)} routes")
    assert not wrong, "\n".join(wrong)


WORK_ORDER_ACTIONS = [
    r for r in MATRIX if r.service == "handling" and r.method == "POST" and r.path.startswith("/v1/work-orders/{")
]


def test_a_department_that_sent_a_ticket_back_is_refused_every_action_on_it(urls: dict[str, str]) -> None:
    """The second round: 住建 leads and 城管 assists; 住建 sends the ticket back (退单) and the street
    gives it to 水务. Neither department of the first round may do anything on it any more (404 or
    409), before or after 水务 takes it on, and nothing they try changes an order or reaches
    supervision."""
    worker, desk, chief = _user(urls, GW, INSIDE[GW]), _user(urls, SD, INSIDE[SD]), _user(urls, SUP, INSIDE[SUP])
    zj, cg, sw = (_user(urls, AG, (f"agent-{d.lower()}-m", d)) for d in ("ZJ", "CG", "SW"))
    ticket_id = _report(worker, "SJ-0301", "LJ01-G1")
    eventually(lambda: _order(cg, ticket_id), what="the assisting order in 城管's inbox")
    zj.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/reject", json={"reason": "属于水务职责"})
    eventually(
        lambda: any(i["ticket_id"] == ticket_id for i in desk.ok("dispatch", "GET", "/v1/dispatch/queue")["items"]),
        what="the ticket back in the street's queue",
    )
    desk.ok("dispatch", "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", json={"lead_department": "SW"})
    eventually(lambda: _order(sw, ticket_id), what="round 2 in 水务's inbox")
    first_round = {"ZJ": zj, "CG": cg}

    def orders() -> dict[str, dict[str, Any]]:
        shown = {d: agent.ok("handling", "GET", f"/v1/work-orders/{ticket_id}") for d, agent in first_round.items()}
        return {**shown, "SW": sw.ok("handling", "GET", f"/v1/work-orders/{ticket_id}")}

    def refused_every_action() -> None:
        before = orders()
        assert {d: before[d]["allowed_actions"] for d in first_round} == {"ZJ": [], "CG": []}
        wrong = []
        for department, agent in first_round.items():
            for route in WORK_ORDER_ACTIONS:
                response = agent.call("handling", "POST", route.path.format(ticket_id=ticket_id), json=_body(route))
                if response.status_code not in (404, 409):
                    wrong.append(f"{department} {route.path}: {response.status_code}")
        assert not wrong, "\n".join(wrong)
        assert orders() == before, "a refused action changed an order"

    refused_every_action()
    sw.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    refused_every_action()
    sw.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/progress", json={"note": "已到场"})

    def told_supervision() -> list[tuple[str, str | None]] | None:
        timeline = chief.ok("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")["timeline"]
        if timeline[-1]["event_type"] != "ticket.progressed":
            return None
        return [(e["event_type"], e["department"]) for e in timeline]

    assert eventually(told_supervision, what="水务's progress in supervision") == [
        ("ticket.reported", None),
        ("ticket.dispatched", "ZJ"),
        ("ticket.rejected", "ZJ"),
        ("ticket.dispatched", "SW"),
        ("ticket.accepted", "SW"),
        ("ticket.progressed", "SW"),
    ]


def test_photos_named_in_handling_and_verification_are_the_actors_own_uploads(urls: dict[str, str]) -> None:
    """A progress note, a resolution and a verification may name only photos their author uploaded:
    another person's photo, or an id no upload was given, is refused (422) with nothing changed.
    The photos they do name are then read by those who may read the ticket, and by no one else."""
    worker = _user(urls, GW, ("gw-lj01-photos", "LJ01"))
    cg, jj = _user(urls, AG, ("agent-cg-photos", "CG")), _user(urls, AG, OUTSIDE[AG])
    desk, far_desk = _user(urls, SD, INSIDE[SD]), _user(urls, SD, OUTSIDE[SD])
    reporters = _upload(worker)
    ticket_id = _report(worker, "SJ-0102", "LJ01-G1", photos=[reporters])  # 城管 handles it
    eventually(lambda: _order(cg, ticket_id), what="the ticket in 城管's inbox")
    cg.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/accept")
    evidence = _upload(cg)
    never_uploaded = [f"{evidence.rpartition('.')[0]}.forged", "7f3b2c9e-0000-4000-8000-000000000000"]
    order = cg.ok("handling", "GET", f"/v1/work-orders/{ticket_id}")
    for action, body in (("progress", {"note": "到场"}), ("resolve", {"note": "已清运"})):
        for photos in ([reporters], never_uploaded, [evidence, reporters]):
            refused = cg.call(
                "handling", "POST", f"/v1/work-orders/{ticket_id}/{action}", json={**body, "photos": photos}
            )
            assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_photos", action
    assert cg.ok("handling", "GET", f"/v1/work-orders/{ticket_id}") == order

    cg.ok("handling", "POST", f"/v1/work-orders/{ticket_id}/resolve", json={"note": "已清运", "photos": [evidence]})
    for reader in (worker, desk):  # the ticket's reporter and street see the department's evidence
        eventually(
            lambda r=reader: r.call("intake", "GET", f"/v1/attachments/{evidence}").status_code == 200,
            what=f"{reader.sub} reads the evidence",
        )
    assert cg.call("intake", "GET", f"/v1/attachments/{reporters}").status_code == 200  # its department
    for outsider in (jj, far_desk):
        for photo in (reporters, evidence):
            assert outsider.call("intake", "GET", f"/v1/attachments/{photo}").status_code == 404

    def pending() -> list[dict[str, Any]]:
        tasks = worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
        return [t for t in tasks if t["ticket_id"] == ticket_id]

    [task] = eventually(pending, what="the reporter's verification task")
    for photos in ([evidence], never_uploaded):
        refused = worker.call(
            "feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": False, "photos": photos}
        )
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_photos"
    assert pending() == [task]
    on_site = _upload(worker)
    worker.ok("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": False, "photos": [on_site]})
    eventually(  # a failed check's photos travel with the reopening: the department sees why
        lambda: cg.call("intake", "GET", f"/v1/attachments/{on_site}").status_code == 200,
        what="城管 reads the verification photo",
    )
    assert jj.call("intake", "GET", f"/v1/attachments/{on_site}").status_code == 404


# 共建 II, by the people who built each area. access_members and access_points import this module
# (its kinds and Route), so they come last, once what they import is defined. The activities' cases
# run before the members' (actions in the order listed): the members' end with MB (= MEM)
# deactivated and erased.
from tests.e2e import access_members, access_points  # noqa: E402

prepare_members = access_members.prepare_members
TEMPLATES = access_points.TEMPLATES

MATRIX += [
    *(Route(**case) for case in access_activities.CASES),
    *(Route(**case) for case in access_reviews.CASES),
    *(Route(**case) for case in access_indicators.CASES),
    *(Route(**vars(case)) for case in access_admission.CASES),
    *access_points.CASES,
    *access_members.CASES,
]
