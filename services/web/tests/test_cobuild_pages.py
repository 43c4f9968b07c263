"""The 共建 pages against a cobuild (and a directory) that answer as CONTRACTS.md says the service
does: what a community worker, a unit's liaison and the street see and can do with needs, offers
and projects, what each action sends, and where a refusal (beside its form) or a failure (the
page's error) shows."""

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gridloop.shared.cobuild_lifecycle import NeedStatus, OfferStatus, ProjectStatus
from gridloop.shared.events import Actor, NeedKind, NeedSource, OfferKind, Role
from gridloop.shared.limits import TEXT_MIN
from gridloop.web import labels
from gridloop.web.app import create_app
from gridloop.web.deps import staff
from gridloop.web.sessions import Staff
from gridloop.web.settings import WebSettings

pytestmark = pytest.mark.unit
NOW = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in the city
CSRF = "form-token-of-this-test"
Answer = tuple[int, Any]


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Upstream:
    """cobuild and the directory, as a table of (method, path) → answer; every request is kept."""

    answers: dict[tuple[str, str], Answer | Callable[[httpx.Request], Answer]] = field(default_factory=dict)
    sent: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "未找到 (not found)"}})
        status, body = answer(request) if callable(answer) else answer
        return httpx.Response(status, json=body)

    def asked(self, path: str) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path == path]

    def body(self, path: str) -> Any:
        return json.loads(self.asked(path)[-1].content)


class SignedInStore:
    """A sessions' store with one live session, for the error page (rendered outside the routes)."""

    async def current(self, sid: object) -> Any:
        from gridloop.web.signin import SessionRecord

        return SessionRecord(
            sid="s", user=Actor(sub="cw-lj01", name="江畔社区工作者", role=Role.COMMUNITY_WORKER, org="LJ01"),
            started_at=NOW, expires_at=NOW + timedelta(days=9999), token="token", token_expires_at=NOW,
            renewable=False,
        )  # fmt: skip


def console(upstream: Upstream, role: Role, org: str, *, token: str = "token") -> TestClient:
    app = create_app(WebSettings(environment="development"), clock=FixedClock(NOW))
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    app.state.sessions = SignedInStore()
    person = Staff(token=token, user=Actor(sub="someone", name="某人", role=role, org=org), csrf=CSRF)
    app.dependency_overrides[staff] = lambda: person
    return TestClient(app)


def community(upstream: Upstream) -> TestClient:
    return console(upstream, Role.COMMUNITY_WORKER, "LJ01")


def hospital(upstream: Upstream) -> TestClient:
    return console(upstream, Role.UNIT_ADMIN, "U-LJ-HOSP")


UNITS = [
    {"code": "U-LJ-HOSP", "name": "区人民医院", "kind": "hospital", "grid": "LJ01-G1", "street": "LJ",
     "liaison": "工会 王主任", "communities": ["LJ01", "LJ02"]},
    {"code": "U-LJ-POWER", "name": "国网临江供电所", "kind": "enterprise", "grid": "LJ02-G1", "street": "LJ",
     "liaison": "党支部 李书记", "communities": ["LJ02", "LJ03"]},
    {"code": "U-LJ-SCHOOL", "name": "临江中学", "kind": "school", "grid": "LJ01-G3", "street": "LJ",
     "liaison": "团委 张老师", "communities": ["LJ01"]},
]  # fmt: skip
NEED_CATEGORIES = [{"code": "NC-ELDER", "name": "助老服务"}, {"code": "NC-REPAIR", "name": "家电维修"}]


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    up = Upstream()
    up.answers.update(
        {
            ("GET", "/v1/directory/units"): (200, {"items": UNITS}),
            ("GET", "/v1/directory/units/U-LJ-HOSP"): (
                200, {"kind": "unit", "code": "U-LJ-HOSP", "revision": 1, "data": UNITS[0]},
            ),
            ("GET", "/v1/directory/need_categories"): (200, {"items": NEED_CATEGORIES}),
            ("GET", "/v1/directory/categories"): (
                200,
                {"items": [{"code": "BJ-0101", "name": "路灯", "family": "component",
                            "major": {"code": "01", "name": "公用设施"}}]},
            ),
        }
    )  # fmt: skip
    yield up


def need(need_id: str = "N1", status: NeedStatus = NeedStatus.SUBMITTED, **changes: Any) -> dict[str, Any]:
    """A need as cobuild answers it (with the household's details, for those who may see them, and
    what the caller may do with it now)."""
    doc: dict[str, Any] = {
        "id": need_id, "need_number": f"XQ-20270301-{need_id}", "kind": "wish", "source": "app",
        "status": status, "category_code": "NC-ELDER", "grid_code": "LJ01-G1", "community_code": "LJ01",
        "street_code": "LJ", "district_code": "QH", "location": None, "summary": "", "submitter_sub": "res-lj01",
        "submitter_role": "resident", "review_deadline": (NOW + timedelta(days=2)).isoformat(),
        "claim_deadline": None, "contact_deadline": None, "deliver_deadline": None, "confirm_by": None,
        "assigned_unit": None, "claimants": [], "group": False, "release_request": None, "origin_ticket_id": None,
        "ticket_id": None, "ticket_number": None, "ticket_ids": [], "merged_into": None, "rating": None,
        "rated_at": None, "reject_reason": None, "delivered_at": None, "done_at": None, "on_time": None,
        "overdue": [], "version": 1, "created_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
        "beneficiary": {"name": "王阿姨", "phone": "13800000001", "address": "江畔小区3幢2单元101"},
        "description": "腿脚不便，想请人每周帮忙买一次菜", "allowed_actions": [],
    }  # fmt: skip
    return {**doc, **changes}


def refused(status: int, code: str, message: str) -> Answer:
    return status, {"error": {"code": code, "message": message}}


def post(client: TestClient, path: str, **data: Any) -> httpx.Response:
    answer: httpx.Response = client.post(path, data={"csrf": CSRF, **data}, follow_redirects=False)
    return answer


# ------------------------------------------------------------------ the needs desk


def test_the_desk_lists_the_communitys_needs_by_status_a_page_at_a_time(upstream: Upstream) -> None:
    def pages(request: httpx.Request) -> Answer:
        if request.url.params.get("cursor") == "after-25":
            return 200, {"items": [need("N26")], "next_cursor": None}
        return 200, {"items": [need(f"N{n}") for n in range(1, 26)], "next_cursor": "after-25"}

    upstream.answers[("GET", "/v1/cobuild/needs")] = pages
    desk = community(upstream)
    first = desk.get("/console/cobuild/needs?status=submitted")
    assert first.status_code == 200, first.text
    asked = upstream.asked("/v1/cobuild/needs")[-1].url.params
    assert (asked["status"], asked["limit"]) == ("submitted", "25") and "cursor" not in asked
    assert "XQ-20270301-N25" in first.text and "XQ-20270301-N26" not in first.text
    assert "待审核" in first.text and "助老服务" in first.text and "居民自报" in first.text
    assert "剩 2天0小时0分" in first.text  # the review deadline, on the clock the console is given
    assert "王阿姨" not in first.text  # a list never names the household
    more = re.search(r'href="([^"]*cursor=after-25[^"]*)">下一页', first.text)
    assert more, "the first page links to the next"
    second = desk.get("/console/cobuild/needs" + more.group(1).replace("&amp;", "&"))
    asked = upstream.asked("/v1/cobuild/needs")[-1].url.params
    assert (asked["cursor"], asked["status"]) == ("after-25", "submitted")
    assert "XQ-20270301-N26" in second.text and "下一页" not in second.text and "第一页" in second.text


def test_a_need_shows_the_household_to_its_community_and_the_actions_cobuild_allows(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, need(allowed_actions=["review", "reject", "convert"]))
    page = community(upstream).get("/console/cobuild/needs/N1")
    assert page.status_code == 200, page.text
    assert "王阿姨" in page.text and "13800000001" in page.text and "每周帮忙买一次菜" in page.text
    for form in ("review", "reject", "convert"):
        assert f'action="/console/cobuild/needs/N1/{form}"' in page.text, form
    for absent in ("publish", "assign", "claim", "confirm", "rate", "approve-release"):
        assert f'action="/console/cobuild/needs/N1/{absent}"' not in page.text, absent
    assert "路灯" in page.text  # 转为案件 offers the ticket categories
    # Reviewed: published for claiming, or sent to a unit (派单) paired with the community, not any unit of the street.
    reviewed = need(
        status=NeedStatus.REVIEWED, summary="买菜", allowed_actions=["publish", "assign", "reject", "convert"]
    )
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, reviewed)
    page = community(upstream).get("/console/cobuild/needs/N1")
    for form in ("publish", "assign", "reject", "convert"):
        assert f'action="/console/cobuild/needs/N1/{form}"' in page.text, form
    assert 'action="/console/cobuild/needs/N1/review"' not in page.text
    assign = page.text.split('id="assign-unit_code"')[1].split("</select>")[0]
    assert "区人民医院" in assign and "临江中学" in assign and "国网临江供电所" not in assign
    assert upstream.asked("/v1/directory/units")[-1].url.params["street"] == "LJ"


def test_review_sends_the_public_summary_and_returns_to_the_need(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, need(allowed_actions=["review"]))
    upstream.answers[("POST", "/v1/cobuild/needs/N1/review")] = (200, need(status=NeedStatus.REVIEWED))
    desk = community(upstream)
    done = post(desk, "/console/cobuild/needs/N1/review", summary="独居老人每周买菜", category_code="NC-ELDER")
    assert done.status_code == 303 and done.headers["location"] == "/console/cobuild/needs/N1?done=review"
    assert upstream.body("/v1/cobuild/needs/N1/review") == {"summary": "独居老人每周买菜", "category_code": "NC-ELDER"}
    shown = community(upstream).get("/console/cobuild/needs/N1?done=review")
    assert "已审核，可发布认领或派单。" in shown.text


def test_a_refused_review_keeps_what_was_typed_and_says_why_beside_the_field(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, need(allowed_actions=["review"]))
    desk = community(upstream)
    short = post(desk, "/console/cobuild/needs/N1/review", summary="买", category_code="NC-ELDER")
    assert short.status_code == 422 and not upstream.asked("/v1/cobuild/needs/N1/review")
    assert "审核未完成" in short.text
    assert f'<a href="#review-summary">请填写公开摘要（至少 {TEXT_MIN} 个字）</a>' in short.text
    assert 'id="review-summary-error"' in short.text and 'aria-invalid="true"' in short.text
    assert re.search(r'id="review-summary"[^>]*>买</textarea>', short.text)
    # The service says no (another worker reviewed it meanwhile): its reason, beside the form.
    upstream.answers[("POST", "/v1/cobuild/needs/N1/review")] = refused(
        409, "transition_not_allowed", "当前状态不允许此操作 (not allowed while reviewed)"
    )
    late = post(desk, "/console/cobuild/needs/N1/review", summary="独居老人每周买菜")
    assert late.status_code == 409 and "当前状态不允许此操作" in late.text and "XQ-20270301-N1" in late.text
    assert "独居老人每周买菜</textarea>" in late.text


def test_a_failure_of_cobuild_is_the_pages_error_not_a_forms(upstream: Upstream) -> None:
    upstream.answers[("POST", "/v1/cobuild/needs/N1/publish")] = refused(500, "internal", "服务出错 (internal)")
    failed = post(community(upstream), "/console/cobuild/needs/N1/publish")
    assert failed.status_code == 500 and "无法完成" in failed.text
    gone = community(upstream).get("/console/cobuild/needs/N404")
    assert gone.status_code == 404 and "不在您的管辖范围内" in gone.text


def test_converting_sends_the_ticket_category_and_the_needs_grid(upstream: Upstream) -> None:
    upstream.answers[("POST", "/v1/cobuild/needs/N1/convert")] = (200, need(status=NeedStatus.CONVERTED))
    done = post(
        community(upstream), "/console/cobuild/needs/N1/convert",
        ticket_category_code="BJ-0101", description="3幢门口路灯不亮", address="江畔小区3幢", grid_code="LJ01-G1",
    )  # fmt: skip
    assert done.status_code == 303
    assert upstream.body("/v1/cobuild/needs/N1/convert") == {
        "ticket_category_code": "BJ-0101", "description": "3幢门口路灯不亮", "address": "江畔小区3幢",
        "grid_code": "LJ01-G1",
    }  # fmt: skip


def test_a_delivered_need_is_confirmed_and_a_done_one_rated_on_the_households_behalf(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (
        200, need(status=NeedStatus.DELIVERED, allowed_actions=["confirm"]),
    )  # fmt: skip
    page = community(upstream).get("/console/cobuild/needs/N1")
    assert 'action="/console/cobuild/needs/N1/confirm"' in page.text
    assert 'action="/console/cobuild/needs/N1/rate"' not in page.text
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, need(status=NeedStatus.DONE, allowed_actions=["rate"]))
    page = community(upstream).get("/console/cobuild/needs/N1")
    assert 'action="/console/cobuild/needs/N1/rate"' in page.text and "基本满意" in page.text
    unrated = post(community(upstream), "/console/cobuild/needs/N1/rate", comment="很好")
    assert unrated.status_code == 422 and "请填写或选择评价" in unrated.text
    upstream.answers[("POST", "/v1/cobuild/needs/N1/rate")] = (200, need(status=NeedStatus.DONE, rating="satisfied"))
    rated = post(community(upstream), "/console/cobuild/needs/N1/rate", rating="satisfied", comment="很好")
    assert rated.status_code == 303 and upstream.body("/v1/cobuild/needs/N1/rate") == {
        "rating": "satisfied", "comment": "很好",
    }  # fmt: skip


def test_a_release_request_waits_for_the_communitys_approval(upstream: Upstream) -> None:
    claimant = {"kind": "unit", "code": "U-LJ-HOSP"}
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (
        200, need(status=NeedStatus.CLAIMED, claimants=[claimant],
                  release_request={"claimant": claimant, "reason": "人手不足", "at": NOW.isoformat()},
                  allowed_actions=["approve-release"]),
    )  # fmt: skip
    page = community(upstream).get("/console/cobuild/needs/N1")
    assert "认领单位申请退出：人手不足" in page.text and "区人民医院" in page.text
    assert 'action="/console/cobuild/needs/N1/approve-release"' in page.text


def test_the_actions_cobuild_allows_are_the_ones_shown(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, need(allowed_actions=["publish"]))
    page = community(upstream).get("/console/cobuild/needs/N1")
    assert 'action="/console/cobuild/needs/N1/publish"' in page.text
    assert 'action="/console/cobuild/needs/N1/review"' not in page.text


SQUARE = {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.11, 30.2], [120.11, 30.21], [120.1, 30.2]]]}


def test_the_community_registers_a_wish_card_once_with_its_household(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/directory/grids")] = (
        200,
        {"items": [{"code": "LJ01-G1", "name": "江畔社区第1网格", "community": "LJ01", "street": "LJ",
                    "geometry": SQUARE},
                   {"code": "LJ02-G1", "name": "滨江社区第1网格", "community": "LJ02", "street": "LJ",
                    "geometry": SQUARE}]},
    )  # fmt: skip
    desk = community(upstream)
    form = desk.get("/console/cobuild/needs/new")
    assert form.status_code == 200, form.text
    assert "江畔社区第1网格" in form.text and "滨江社区第1网格" not in form.text  # the community's own grids
    key = re.search(r'name="key" value="([^"]+)"', form.text)
    assert key
    typed = {"kind": "wish", "category_code": "NC-ELDER", "grid_code": "LJ01-G1", "name": "李奶奶", "key": key[1]}
    missing = post(desk, "/console/cobuild/needs", **typed, description="")
    assert missing.status_code == 422 and not upstream.asked("/v1/cobuild/needs")
    assert '<a href="#need-description">' in missing.text and 'value="李奶奶"' in missing.text
    assert f'name="key" value="{key[1]}"' in missing.text  # the same form, the same key
    upstream.answers[("POST", "/v1/cobuild/needs")] = (201, need("N7", source="wish_wall"))
    filed = post(desk, "/console/cobuild/needs", **typed, description="想要一台收音机", phone="13900000002")
    assert filed.status_code == 303 and filed.headers["location"] == "/console/cobuild/needs/N7?done=submitted"
    sent = upstream.asked("/v1/cobuild/needs")[-1]
    assert sent.headers["idempotency-key"] == key[1]
    assert json.loads(sent.content) == {
        "kind": "wish", "category_code": "NC-ELDER", "description": "想要一台收音机", "grid_code": "LJ01-G1",
        "beneficiary": {"name": "李奶奶", "phone": "13900000002", "address": ""},
    }  # fmt: skip


# ------------------------------------------------------------------ the wish wall and the unit's needs


def wall_item(need_id: str, *, group: bool = False, claimants: int = 0) -> dict[str, Any]:
    return {
        "id": need_id, "need_number": f"XQ-20270301-{need_id}", "kind": "wish", "category_code": "NC-ELDER",
        "category_name": "助老服务", "summary": "独居老人每周买菜", "grid_code": "LJ01-G1", "community_code": "LJ01",
        "claim_deadline": (NOW + timedelta(days=10)).isoformat(), "claimants": claimants, "group": group,
    }  # fmt: skip


def test_a_unit_claims_from_the_wall_alone_or_in_a_group(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/wall")] = (
        200, {"items": [wall_item("N1"), wall_item("N2", group=True, claimants=1)], "next_cursor": None},
    )  # fmt: skip
    unit = hospital(upstream)
    wall = unit.get("/console/cobuild/wall")
    assert wall.status_code == 200, wall.text
    assert "独居老人每周买菜" in wall.text and "已有 1 家单位认领" in wall.text and "加入联合认领" in wall.text
    assert "王阿姨" not in wall.text
    upstream.answers[("POST", "/v1/cobuild/needs/N1/claim")] = (200, need(status=NeedStatus.CLAIMED))
    claimed = post(unit, "/console/cobuild/wall/N1/claim")
    assert claimed.status_code == 303 and claimed.headers["location"] == "/console/cobuild/needs/N1?done=claim"
    assert upstream.body("/v1/cobuild/needs/N1/claim") == {"group": False}
    upstream.answers[("POST", "/v1/cobuild/needs/N2/claim")] = (200, need("N2", status=NeedStatus.CLAIMED))
    post(unit, "/console/cobuild/wall/N2/claim", group="true")
    assert upstream.body("/v1/cobuild/needs/N2/claim") == {"group": True}
    # Claimed by another unit meanwhile: the wall again, saying so beside that need.
    upstream.answers[("POST", "/v1/cobuild/needs/N1/claim")] = refused(
        409, "transition_not_allowed", "该需求已被认领 (already claimed)"
    )
    late = post(unit, "/console/cobuild/wall/N1/claim")
    assert late.status_code == 409 and "该需求已被认领" in late.text and "心愿墙" in late.text


def test_the_community_sees_its_own_wall_without_claim_buttons(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/wall")] = (200, {"items": [wall_item("N1")], "next_cursor": None})
    page = community(upstream).get("/console/cobuild/wall")
    assert page.status_code == 200 and "独居老人每周买菜" in page.text and "/claim" not in page.text
    assert upstream.asked("/v1/cobuild/wall")[-1].url.params["community"] == "LJ01"


def test_a_claiming_unit_contacts_delivers_or_asks_to_be_released(upstream: Upstream) -> None:
    mine = [{"kind": "unit", "code": "U-LJ-HOSP"}]
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (
        200, need(status=NeedStatus.CLAIMED, claimants=mine, contact_deadline=(NOW + timedelta(days=7)).isoformat(),
                  allowed_actions=["contact", "request-release"]),
    )  # fmt: skip
    unit = hospital(upstream)
    page = unit.get("/console/cobuild/needs/N1")
    assert "王阿姨" in page.text and "应联系居民：" in page.text
    assert 'action="/console/cobuild/needs/N1/contact"' in page.text
    assert 'action="/console/cobuild/needs/N1/request-release"' in page.text
    assert 'action="/console/cobuild/needs/N1/deliver"' not in page.text
    assert 'action="/console/cobuild/needs/N1/review"' not in page.text
    upstream.answers[("POST", "/v1/cobuild/needs/N1/contact")] = (200, need(status=NeedStatus.IN_SERVICE))
    assert post(unit, "/console/cobuild/needs/N1/contact", note="已电话联系，周六上门").status_code == 303
    assert upstream.body("/v1/cobuild/needs/N1/contact") == {"note": "已电话联系，周六上门"}
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (
        200, need(status=NeedStatus.IN_SERVICE, claimants=mine, allowed_actions=["deliver", "request-release"]),
    )  # fmt: skip
    page = unit.get("/console/cobuild/needs/N1")
    assert 'action="/console/cobuild/needs/N1/deliver"' in page.text
    upstream.answers[("POST", "/v1/cobuild/needs/N1/deliver")] = (200, need(status=NeedStatus.DELIVERED))
    assert post(unit, "/console/cobuild/needs/N1/deliver", note="已送菜上门").status_code == 303
    assert upstream.body("/v1/cobuild/needs/N1/deliver") == {"note": "已送菜上门"}


def test_a_unit_accepts_or_returns_what_the_community_sent_it(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (
        200, need(status=NeedStatus.ASSIGNED, assigned_unit="U-LJ-HOSP", beneficiary=None, description=None,
                  allowed_actions=["accept-assignment", "return"]),
    )  # fmt: skip
    page = hospital(upstream).get("/console/cobuild/needs/N1")
    assert 'action="/console/cobuild/needs/N1/accept-assignment"' in page.text
    assert 'action="/console/cobuild/needs/N1/return"' in page.text
    assert "服务对象" not in page.text  # not claimed yet: the household is not shown


# ------------------------------------------------------------------ offers, matching and projects


def offer(
    offer_id: str, status: OfferStatus = OfferStatus.SUBMITTED, actions: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": offer_id, "offer_number": f"ZY-{offer_id}", "unit_code": "U-LJ-HOSP", "kind": "service",
        "title": "每月义诊", "description": "内科医生进社区", "status": status, "category_codes": ["NC-ELDER"],
        "capacity": 40, "grid_code": "LJ01-G1", "community_codes": ["LJ01"],
        "available_from": NOW.isoformat(), "available_until": (NOW + timedelta(days=90)).isoformat(),
        "unit_name": "区人民医院", "kind_label": "服务", "used": 0, "remaining": 40, "expired": False,
        "street_code": "LJ", "district_code": "QH", "withdraw_reason": "", "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "decisions": [{"community_code": "LJ01", "decision": "pending", "reason": "", "at": None}],
        "allowed_actions": actions or [],
    }  # fmt: skip


def test_a_unit_lists_an_offer_and_withdraws_it(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/offers")] = (
        200, {"items": [offer("O1", actions=["withdraw"])], "next_cursor": None},
    )  # fmt: skip
    unit = hospital(upstream)
    page = unit.get("/console/cobuild/offers")
    assert page.status_code == 200, page.text
    assert "每月义诊" in page.text and "待社区确认" in page.text and "发布资源" in page.text
    assert 'name="community_codes" value="LJ02"' in page.text  # the unit's paired communities
    upstream.answers[("POST", "/v1/cobuild/offers")] = (201, offer("O2"))
    sent = unit.post(
        "/console/cobuild/offers",
        data={
            "csrf": CSRF, "kind": "service", "title": "每月义诊", "description": "内科医生进社区",
            "category_codes": ["NC-ELDER", "NC-REPAIR"], "capacity": "40", "community_codes": ["LJ01"],
            "available_from": "2027-03-01", "available_until": "2027-05-31",
        },
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303 and sent.headers["location"] == "/console/cobuild/offers?done=offer"
    body = upstream.body("/v1/cobuild/offers")
    assert body["category_codes"] == ["NC-ELDER", "NC-REPAIR"] and body["capacity"] == 40
    # The city's days: from the start of 1 March to the end of 31 May, Beijing time.
    assert body["available_from"] == "2027-03-01T00:00:00+08:00"
    assert body["available_until"].startswith("2027-05-31T23:59:59")
    none_chosen = unit.post("/console/cobuild/offers", data={"csrf": CSRF, "title": "每月义诊"})
    assert none_chosen.status_code == 422 and '<a href="#offer-category_codes">' in none_chosen.text
    assert 'value="每月义诊"' in none_chosen.text
    upstream.answers[("POST", "/v1/cobuild/offers/O1/withdraw")] = (200, offer("O1", OfferStatus.WITHDRAWN))
    assert post(unit, "/console/cobuild/offers/O1/withdraw", reason="医生轮岗").status_code == 303
    assert upstream.body("/v1/cobuild/offers/O1/withdraw") == {"reason": "医生轮岗"}


def test_the_community_accepts_an_offer_made_to_it(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/offers")] = (
        200, {"items": [offer("O1", actions=["accept", "decline"])], "next_cursor": None},
    )  # fmt: skip
    page = community(upstream).get("/console/cobuild/offers")
    assert 'action="/console/cobuild/offers/O1/accept"' in page.text and "发布资源</h2>" not in page.text
    assert 'action="/console/cobuild/offers/O1/decline"' in page.text and "/withdraw" not in page.text
    assert upstream.asked("/v1/cobuild/offers")[-1].url.params["community"] == "LJ01"
    upstream.answers[("POST", "/v1/cobuild/offers/O1/accept")] = (200, offer("O1", OfferStatus.ACCEPTED))
    assert post(community(upstream), "/console/cobuild/offers/O1/accept").status_code == 303
    assert upstream.body("/v1/cobuild/offers/O1/accept") == {}


def test_matches_show_their_reasons_and_lead_to_a_project(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/matches")] = (
        200,
        {"matches": [{"need_id": "N1", "need_number": "XQ-20270301-N1", "offer_id": "O1", "offer_title": "每月义诊",
                      "unit_code": "U-LJ-HOSP", "score": 90, "reasons": ["类别相符：助老服务", "同一网格"],
                      "category_code": "NC-ELDER", "grid_code": "LJ01-G1"}],
         "unmatched": [{"need_id": "N2", "need_number": "XQ-20270301-N2", "reason": "暂无该类别的可用资源",
                        "category_code": "NC-REPAIR", "grid_code": "LJ01-G2"}]},
    )  # fmt: skip
    page = community(upstream).get("/console/cobuild/matches")
    assert page.status_code == 200, page.text
    assert "类别相符：助老服务" in page.text and "同一网格" in page.text and "区人民医院" in page.text
    assert "XQ-20270301-N2</a>：暂无该类别的可用资源" in page.text
    link = re.search(r'href="(/console/cobuild/projects/new\?[^"]+)"', page.text)
    assert link
    published = need(status=NeedStatus.PUBLISHED, summary="独居老人每周买菜")
    upstream.answers[("GET", "/v1/cobuild/needs/N1")] = (200, published)
    upstream.answers[("GET", "/v1/directory/grids")] = (200, {"items": []})
    form = community(upstream).get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200, form.text
    assert 'name="offer_id" value="O1"' in form.text and 'value="独居老人每周买菜"' in form.text
    upstream.answers[("POST", "/v1/cobuild/projects")] = (201, project("P1", ProjectStatus.PROPOSED))
    created = post(
        community(upstream), "/console/cobuild/projects", need_id="N1", offer_id="O1", unit_code="U-LJ-HOSP",
        title="助老买菜", summary="每周一次", category_code="NC-ELDER", grid_code="LJ01-G1", planned_end="2027-06-30",
    )  # fmt: skip
    assert created.status_code == 303 and created.headers["location"] == "/console/cobuild/projects/P1?done=proposed"
    body = upstream.body("/v1/cobuild/projects")
    assert (body["need_ids"], body["offer_ids"], body["unit_codes"]) == (["N1"], ["O1"], ["U-LJ-HOSP"])


def project(project_id: str, status: ProjectStatus, **changes: Any) -> dict[str, Any]:
    """A project as cobuild answers it (with what the caller may do with it now)."""
    doc = {
        "id": project_id, "project_number": f"XM-{project_id}", "title": "助老买菜", "summary": "每周一次",
        "status": status, "category_code": "NC-ELDER", "grid_code": "LJ01-G1", "community_code": "LJ01",
        "street_code": "LJ", "district_code": "QH", "need_ids": ["N1"], "offer_uses": [{"offer_id": "O1", "amount": 1}],
        "unit_codes": ["U-LJ-HOSP"], "ticket_ids": [], "planned_end": (NOW + timedelta(days=90)).isoformat(),
        "percent": 40, "milestones": [{"percent": 40, "milestone": "首批 10 户已上门", "at": NOW.isoformat()}],
        "ratings": [], "evaluation": None, "created_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
        "allowed_actions": [],
    }  # fmt: skip
    return {**doc, **changes}


def test_each_part_in_a_project_sees_the_actions_cobuild_allows_it(upstream: Upstream) -> None:
    running_for = {
        "community_worker": ["progress", "suspend", "complete", "cancel"],
        "unit_admin": ["progress", "suspend", "complete"],
    }

    def as_asked(request: httpx.Request) -> Answer:
        role = "unit_admin" if request.headers["authorization"] == "Bearer unit" else "community_worker"
        return 200, project("P1", ProjectStatus.IN_PROGRESS, allowed_actions=running_for[role])

    upstream.answers[("GET", "/v1/cobuild/projects/P1")] = as_asked
    running = community(upstream).get("/console/cobuild/projects/P1")
    assert running.status_code == 200, running.text
    assert "首批 10 户已上门" in running.text and 'value="40"' in running.text
    for action in ("progress", "complete", "suspend", "cancel"):
        assert f'action="/console/cobuild/projects/P1/{action}"' in running.text, action
    assert 'action="/console/cobuild/projects/P1/evaluate"' not in running.text
    unit = console(upstream, Role.UNIT_ADMIN, "U-LJ-HOSP", token="unit").get("/console/cobuild/projects/P1")
    assert 'action="/console/cobuild/projects/P1/complete"' in unit.text and "/cancel" not in unit.text
    upstream.answers[("GET", "/v1/cobuild/projects/P1")] = (
        200,
        project("P1", ProjectStatus.COMPLETED, allowed_actions=["evaluate"], report="全年 12 次义诊", beneficiaries=40,
                ratings=[{"rating": "satisfied", "comment": "方便", "at": NOW.isoformat(),
                          "recorded_by_community": True}]),
    )  # fmt: skip
    street = console(upstream, Role.STREET_DISPATCHER, "LJ").get("/console/cobuild/projects/P1")
    assert 'action="/console/cobuild/projects/P1/evaluate"' in street.text and "优秀" in street.text
    assert "满意：方便" in street.text and "社区代录" in street.text
    assert 'action="/console/cobuild/projects/P1/progress"' not in street.text
    upstream.answers[("POST", "/v1/cobuild/projects/P1/evaluate")] = (200, project("P1", ProjectStatus.EVALUATED))
    post(console(upstream, Role.STREET_DISPATCHER, "LJ"), "/console/cobuild/projects/P1/evaluate", grade="good")
    assert upstream.body("/v1/cobuild/projects/P1/evaluate") == {"grade": "good", "comment": ""}


def test_progress_is_a_percentage_and_a_milestone(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/cobuild/projects/P1")] = (
        200, project("P1", ProjectStatus.IN_PROGRESS, allowed_actions=["progress"]),
    )  # fmt: skip
    upstream.answers[("POST", "/v1/cobuild/projects/P1/progress")] = (200, project("P1", ProjectStatus.IN_PROGRESS))
    too_much = post(community(upstream), "/console/cobuild/projects/P1/progress", percent="140", milestone="过半")
    assert too_much.status_code == 422 and '<a href="#progress-percent">' in too_much.text
    assert not upstream.asked("/v1/cobuild/projects/P1/progress")
    done = post(community(upstream), "/console/cobuild/projects/P1/progress", percent="60", milestone="已完成过半")
    assert done.status_code == 303 and upstream.body("/v1/cobuild/projects/P1/progress") == {
        "percent": 60, "milestone": "已完成过半",
    }  # fmt: skip


# ------------------------------------------------------------------ who goes where; the names


@pytest.mark.parametrize(
    ("role", "org", "home"),
    [
        (Role.COMMUNITY_WORKER, "LJ01", "/console/cobuild/needs"),
        (Role.UNIT_ADMIN, "U-LJ-HOSP", "/console/cobuild/wall"),
        (Role.RESIDENT, "LJ01", "/app/"),
    ],
)
def test_each_new_role_starts_at_its_own_desk(upstream: Upstream, role: Role, org: str, home: str) -> None:
    front = console(upstream, role, org).get("/console/", follow_redirects=False)
    assert front.status_code == 303 and front.headers["location"] == home
    other = console(upstream, Role.GRID_WORKER, "LJ01").get("/console/cobuild/needs", follow_redirects=False)
    assert other.headers["location"] == "/app/"  # a grid worker is sent to the app, not shown the desk


def test_every_cobuild_state_and_kind_has_a_chinese_name() -> None:
    named: dict[type[StrEnum], Mapping[Any, str]] = {
        NeedStatus: labels.NEED_STATUS, NeedKind: labels.NEED_KIND, NeedSource: labels.NEED_SOURCE,
        OfferKind: labels.OFFER_KIND, OfferStatus: labels.OFFER_STATUS, ProjectStatus: labels.PROJECT_STATUS,
    }  # fmt: skip
    for kind, names in named.items():
        assert set(names) == set(kind), kind.__name__
    document = labels.document()
    assert document["need_status"]["delivered"] == "已兑现待确认" and document["need_kind"]["wish"] == "微心愿"
