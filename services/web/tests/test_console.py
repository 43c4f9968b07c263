"""The console against services that answer as the real ones do (their response models), on a
clock set by the test: its countdowns and default windows follow the clock it is given, it asks
the services for the one record or the subset a page shows, and it tells a refusal (shown beside
the form) from a failure (the page's error)."""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from gridloop.shared.api.dispatch import QueueReason
from gridloop.shared.api.handling import OrderRole, OrderStatus, StepKind
from gridloop.shared.api.supervision import UnitIndicators, VolunteeringFigures
from gridloop.shared.events import Actor, CancelReason, Rating, Role
from gridloop.shared.lifecycle import TicketStatus
from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN
from gridloop.web import labels
from gridloop.web.app import create_app
from gridloop.web.deps import staff
from gridloop.web.sessions import Staff
from gridloop.web.settings import WebSettings

pytestmark = pytest.mark.unit
NOW = datetime(2027, 1, 1, 0, 30, tzinfo=UTC) - timedelta(hours=8)  # 00:30 on New Year's Day, in the city
CSRF = "form-token-of-this-test"
Answer = tuple[int, Any]


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Upstream:
    """The services, as a table of (method, path) → answer; every request they were sent is kept."""

    answers: dict[tuple[str, str], Answer | Callable[[httpx.Request], Answer]] = field(default_factory=dict)
    sent: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "未找到 (not found)"}})
        status, body = answer(request) if callable(answer) else answer
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status)

    def asked(self, path: str) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path == path]


def console(upstream: Upstream, role: Role, org: str, clock: FixedClock | None = None) -> TestClient:
    app = create_app(WebSettings(environment="development"), clock=clock or FixedClock(NOW))
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    person = Staff(token="token", user=Actor(sub="someone", name="某人", role=role, org=org), csrf=CSRF)
    app.dependency_overrides[staff] = lambda: person
    return TestClient(app)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    yield Upstream()


def iso(moment: datetime) -> str:
    return moment.isoformat()


def queued_ticket(ticket_id: str, *, queued_at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id, "ticket_number": f"QH-20261231-{ticket_id}", "category_code": "SJ-0101",
        "category_name": "暴露垃圾", "description": "路边垃圾", "street_code": "LJ", "community_code": "LJ01",
        "grid_code": "LJ01-01", "priority": "normal", "status": "pending_dispatch", "round": 1,
        "queue_reason": "no_rule", "queued_at": iso(queued_at), "rejections": [], "reported_at": iso(queued_at),
        "possible_duplicates": [],
    }  # fmt: skip


def report(ticket_id: str) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id, "ticket_number": f"QH-20261231-{ticket_id}", "status": "pending_dispatch",
        "category_code": "SJ-0101", "category_name": "暴露垃圾", "description": "路边垃圾", "location": None,
        "address": "", "grid_code": "LJ01-01", "community_code": "LJ01", "street_code": "LJ", "photos": [],
        "priority": "normal", "possible_duplicates": [], "duplicate_of": None,
        "reporter": {"sub": "gw-lj01", "name": "网格员小林", "role": "grid_worker", "org": "LJ01"},
        "created_at": iso(NOW), "updated_at": iso(NOW), "history": [], "resolve_deadline": None,
        "resolve_deadline_provisional": False,
    }  # fmt: skip


def work_order(ticket_id: str, *, resolve_deadline: datetime, status: str = "accepted") -> dict[str, Any]:
    return {
        "ticket_id": ticket_id, "ticket_number": f"QH-20261231-{ticket_id}", "department": "CG", "role": "lead",
        "round": 1, "status": status, "category_code": "SJ-0101", "category_name": "暴露垃圾",
        "description": "路边垃圾", "location": None, "address": "", "grid_code": "LJ01-01", "street_code": "LJ",
        "photos": [], "priority": "normal", "accept_deadline": iso(NOW - timedelta(hours=1)),
        "resolve_deadline": iso(resolve_deadline), "deadlines_provisional": False, "dispatched_at": iso(NOW),
        "accepted_at": iso(NOW), "resolved_at": None, "rework_count": 0, "notes": [], "extension_pending": None,
        "part": None, "evidence_required": False, "ticket_status": "accepted",
        "allowed_actions": ["progress", "extension", "resolve"], "overdue": False,
        "history": [
            {"kind": "dispatched", "at": iso(NOW), "note": "", "reason": "", "photos": [], "approved": None},
            {"kind": "accepted", "at": iso(NOW), "note": "", "reason": "", "photos": [], "approved": None},
        ],
        "deadline_owed": "resolve",
    }  # fmt: skip


def indicators(code: str, name: str) -> dict[str, Any]:
    """A unit's figures in supervision's shape: no work yet (counts 0, rates and times null)."""
    empty = {key: 0 if spec.annotation is int else None for key, spec in UnitIndicators.model_fields.items()}
    return {**empty, "code": code, "name": name}


def window_echo(request: httpx.Request) -> dict[str, Any]:
    return {
        "from": request.url.params["from"],
        "to": request.url.params["to"],
        "timestamp": "occurred_at",
        "time_zone": "Asia/Shanghai",
    }


def command_centre(upstream: Upstream) -> None:
    upstream.answers.update(
        {
            ("GET", "/v1/supervision/stats/districts"): lambda r: (
                200, {"unit": "districts", "window": window_echo(r), "items": [indicators("QH", "青禾区")]},
            ),
            ("GET", "/v1/supervision/stats/departments"): lambda r: (
                200, {"unit": "departments", "window": window_echo(r), "items": [indicators("CG", "区城市管理局")]},
            ),
            ("GET", "/v1/supervision/ranking/departments"): lambda r: (
                200,
                {"unit": "departments", "window": window_echo(r), "weights": {}, "min_volume": 10, "ranked": [],
                 "red_list": [], "black_list": [], "unranked": ["CG"]},
            ),
            ("GET", "/v1/supervision/map"): (200, {"grids": [], "points": [], "truncated": False}),
            ("GET", "/v1/directory/grids"): (200, {"items": []}),
            ("GET", "/v1/supervision/volunteering/streets"): lambda r: (200, volunteering_streets(r)),
        }
    )  # fmt: skip


def volunteering_streets(request: httpx.Request) -> dict[str, Any]:
    """双报到 figures of the year asked for: one street, one of its two units reported."""
    year = int(request.url.params["year"])
    counts = {key: 0 for key, spec in VolunteeringFigures.model_fields.items() if spec.annotation is int}
    street = {
        **counts,
        "code": "LJ",
        "name": "临江街道",
        "units_obligated": 2,
        "units_reported": 1,
        "unit_report_rate": 0.5,
        "party_report_rate": None,
        "participation_rate": None,
        "completion_rate": None,
        "post_claim_rate": None,
        "hours": 0.0,
        "hours_per_member": None,
    }
    window = {
        "from": f"{year - 1}-12-31T16:00:00+00:00",
        "to": f"{year}-12-31T16:00:00+00:00",
        "timestamp": "occurred_at",
        "time_zone": "Asia/Shanghai",
    }
    rules = {"min_services": 2, "min_minutes": 480}
    return {"unit": "streets", "year": year, "window": window, **rules, "items": [street]}


def test_the_command_centre_counts_this_month_on_the_clock_it_is_given(upstream: Upstream) -> None:
    command_centre(upstream)
    page = console(upstream, Role.SUPERVISOR, "QH").get("/console/command")
    assert page.status_code == 200, page.text
    # New Year's Day in the city (still 31 December in UTC, and weeks away on this machine's clock).
    asked = upstream.asked("/v1/supervision/stats/districts")[0].url.params
    assert (asked["from"], asked["to"]) == ("2026-12-31T16:00:00+00:00", "2027-01-01T16:00:00+00:00")
    assert 'value="2027-01-01"' in page.text  # the window's fields
    assert 'name="month" value="2027-01"' in page.text  # the evaluation sheet's month
    assert upstream.asked("/v1/supervision/volunteering/streets")[0].url.params["year"] == "2027"
    assert "双报到（2027 年" in page.text and "50.0%（1/2）" in page.text  # each rate with its numerator/denominator


def test_a_countdown_counts_from_the_clock_it_is_given(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/dispatch/queue")] = (
        200, {"items": [queued_ticket("T1", queued_at=NOW - timedelta(hours=2, minutes=5))], "next_cursor": None},
    )  # fmt: skip
    rows = console(upstream, Role.STREET_DISPATCHER, "LJ").get("/console/desk/queue")
    assert re.search(r"已等\s*2小时5分", rows.text), rows.text
    upstream.answers[("GET", "/v1/work-orders/T2")] = (
        200, work_order("T2", resolve_deadline=NOW + timedelta(days=1, hours=3)),
    )  # fmt: skip
    order = console(upstream, Role.DEPARTMENT_AGENT, "CG").get("/console/inbox/T2")
    assert order.status_code == 200, order.text
    assert "剩 1天3小时0分" in order.text
    # A later clock, a shorter wait.
    later = console(upstream, Role.DEPARTMENT_AGENT, "CG", FixedClock(NOW + timedelta(days=1))).get("/console/inbox/T2")
    assert "剩 3小时0分" in later.text


def test_the_desk_reads_the_one_queued_ticket_it_shows(upstream: Upstream) -> None:
    upstream.answers.update(
        {
            ("GET", "/v1/reports/T9"): (200, report("T9")),
            ("GET", "/v1/dispatch/queue/T9"): (200, queued_ticket("T9", queued_at=NOW)),
            ("GET", "/v1/directory/departments"): (200, {"items": []}),
        }
    )
    desk = console(upstream, Role.STREET_DISPATCHER, "LJ")
    page = desk.get("/console/desk/tickets/T9")
    assert page.status_code == 200, page.text
    assert labels.QUEUE_REASON["no_rule"] in page.text
    assert not upstream.asked("/v1/dispatch/queue")  # never the queue's first page, searched for it
    # Not in the desk's queue (dispatched since, say): the page says nothing about a queue.
    upstream.answers[("GET", "/v1/dispatch/queue/T9")] = (
        404, {"error": {"code": "not_queued", "message": "不在派遣队列中 (not queued)"}},
    )  # fmt: skip
    page = desk.get("/console/desk/tickets/T9")
    assert page.status_code == 200 and labels.QUEUE_REASON["no_rule"] not in page.text


def test_the_desk_can_turn_a_report_into_a_residents_need(upstream: Upstream) -> None:
    cancelled = {
        "ticket_id": "T9",
        "status": "cancelled",
        "reason": "converted_to_need",
        "comment": "",
        "duplicate_of": None,
    }
    upstream.answers.update(
        {
            ("GET", "/v1/reports/T9"): (200, report("T9")),
            ("GET", "/v1/dispatch/queue/T9"): (200, queued_ticket("T9", queued_at=NOW)),
            ("GET", "/v1/directory/departments"): (200, {"items": []}),
            ("POST", "/v1/dispatch/tickets/T9/cancel"): (200, cancelled),
        }
    )
    desk = console(upstream, Role.STREET_DISPATCHER, "LJ")
    page = desk.get("/console/desk/tickets/T9").text
    assert re.search(r'<option value="converted_to_need">转为居民需求</option>', page)
    comment = "独居老人家中杂物清理，转社区需求"
    done = desk.post(
        "/console/desk/tickets/T9/cancel",
        data={"csrf": CSRF, "reason": "converted_to_need", "comment": comment, "duplicate_of": "T1"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/desk/tickets/T9?done=cancelled"
    [sent] = upstream.asked("/v1/dispatch/tickets/T9/cancel")
    assert json.loads(sent.content) == {"reason": "converted_to_need", "comment": comment}  # merges into nothing


def overdue_record(ticket_id: str, number: str) -> dict[str, Any]:
    """A ticket past its resolve deadline, as supervision's overdue list gives it."""
    return {
        "ticket_id": ticket_id, "ticket_number": number, "category_code": "SJ-0101", "category_name": "暴露垃圾",
        "street_code": "LJ", "community_code": "LJ01", "grid_code": "LJ01-01", "district_code": "QH",
        "priority": "normal", "reporter": "gw-lj01", "status": "accepted", "lead_department": "CG",
        "assisting_departments": [], "round": 1, "reported_at": iso(NOW), "dispatched_at": iso(NOW),
        "accepted_at": None, "resolved_at": None, "closed_at": None, "cancelled_at": None, "accept_deadline": None,
        "resolve_deadline": iso(NOW - timedelta(hours=1)), "rejections": 0, "reworks": 0, "rating": None,
        "last_event_at": iso(NOW),
    }  # fmt: skip


def test_overdue_tickets_of_a_department_are_selected_by_supervision(upstream: Upstream) -> None:
    record = overdue_record("T5", "QH-20261231-T5")
    command_centre(upstream)
    upstream.answers[("GET", "/v1/supervision/overdue")] = (200, {"items": [record], "next_cursor": None})
    centre = console(upstream, Role.SUPERVISOR, "QH")
    listed = centre.get("/console/command/overdue?department=CG")
    assert listed.status_code == 200 and "QH-20261231-T5" in listed.text
    assert upstream.asked("/v1/supervision/overdue")[-1].url.params["department"] == "CG"
    drilled = centre.get("/console/command/departments/CG")
    assert drilled.status_code == 200 and "区城市管理局 · 超期工单" in drilled.text
    assert upstream.asked("/v1/supervision/overdue")[-1].url.params["department"] == "CG"


def test_the_overdue_list_pages_by_supervision_cursor(upstream: Upstream) -> None:
    def pages(request: httpx.Request) -> Answer:
        if request.url.params.get("cursor") == "after-50":
            return 200, {"items": [overdue_record("T51", "QH-20261231-00051")], "next_cursor": None}
        return 200, {
            "items": [overdue_record(f"T{n}", f"QH-20261231-{n:05d}") for n in range(1, 51)],
            "next_cursor": "after-50",
        }

    command_centre(upstream)
    upstream.answers[("GET", "/v1/supervision/overdue")] = pages
    centre = console(upstream, Role.SUPERVISOR, "QH")
    for start in ("/console/command/overdue?department=CG", "/console/command/departments/CG?from=2026-12-01"):
        first = centre.get(start)
        asked = upstream.asked("/v1/supervision/overdue")[-1].url.params
        assert first.status_code == 200 and asked["limit"] == "50" and "cursor" not in asked
        assert "QH-20261231-00050" in first.text and "QH-20261231-00051" not in first.text
        more = re.search(r'href="([^"]*cursor=after-50[^"]*)">下一页', first.text)
        assert more, "the first page links to the next"
        second = centre.get(more.group(1).replace("&amp;", "&"))
        asked = upstream.asked("/v1/supervision/overdue")[-1].url.params
        assert asked["cursor"] == "after-50" and asked["department"] == "CG"
        assert "QH-20261231-00051" in second.text and "下一页" not in second.text
    assert "from=2026-12-01" in more.group(1)


def test_the_app_reads_its_labels_and_limits_from_the_server() -> None:
    answer = console(Upstream(), Role.GRID_WORKER, "LJ01").get("/app/labels.json")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"
    document = answer.json()
    assert document["limits"] == {"text_min": TEXT_MIN, "photos_max": PHOTOS_MAX}
    assert document["ticket_status"]["closed"] == "已办结" and document["rating"]["satisfied"] == "满意"
    assert set(document) == {
        "ticket_status",
        "order_status",
        "event",
        "rating",
        "queue_reason",
        "need_status",
        "need_kind",
        "limits",
    }


def test_every_state_and_reason_the_services_send_has_a_chinese_name() -> None:
    named = {
        TicketStatus: labels.TICKET_STATUS, OrderStatus: labels.ORDER_STATUS, OrderRole: labels.ORDER_ROLE,
        QueueReason: labels.QUEUE_REASON, CancelReason: labels.CANCEL_REASON, Rating: labels.RATING,
        StepKind: labels.ORDER_STEP,
    }  # fmt: skip
    for kind, names in named.items():
        assert set(names) == set(kind), kind.__name__
    document = labels.document()
    assert document["queue_reason"]["possible_duplicate"] == "疑似重复"
    assert json.loads(json.dumps(document))["order_status"]["part_done"] == "协办已反馈"


def test_a_webhook_offers_the_events_handling_accepts(upstream: Upstream) -> None:
    upstream.answers.update(
        {
            ("GET", "/v1/webhooks/endpoints"): (200, {"items": []}),
            ("GET", "/v1/webhooks/allow-lists"): (200, {"items": []}),
            ("GET", "/v1/webhooks/event-types"): (
                200, {"items": [{"event_type": "ticket.dispatched"}, {"event_type": "ticket.newly_registered"}]},
            ),
        }
    )  # fmt: skip
    page = console(upstream, Role.DEPARTMENT_AGENT, "CG").get("/console/integrations")
    assert page.status_code == 200, page.text
    offered = [line.split('value="', 1)[1].split('"', 1)[0] for line in page.text.split('name="event_types"')[1:]]
    assert offered == ["ticket.dispatched", "ticket.newly_registered"]
    assert "> 派遣</label>" in page.text  # named from the labels


def test_a_refusal_is_shown_beside_the_form_and_a_failure_is_the_pages_error(upstream: Upstream) -> None:
    upstream.answers[("GET", "/v1/work-orders/T3")] = (200, work_order("T3", resolve_deadline=NOW, status="dispatched"))
    agent = console(upstream, Role.DEPARTMENT_AGENT, "CG")
    # Too short a reason: refused before it is sent, in the limit's words.
    short = agent.post("/console/inbox/T3/reject", data={"csrf": CSRF, "reason_choice": "", "reason_text": "不"})
    assert short.status_code == 422 and f"至少 {TEXT_MIN} 个字" in short.text
    assert not upstream.asked("/v1/work-orders/T3/reject")
    # The service says no: the order again, with its reason and status.
    upstream.answers[("POST", "/v1/work-orders/T3/accept")] = (
        409, {"error": {"code": "invalid_state", "message": "工单当前状态不允许此操作 (already accepted)"}},
    )  # fmt: skip
    refused = agent.post("/console/inbox/T3/accept", data={"csrf": CSRF})
    assert refused.status_code == 409 and "工单当前状态不允许此操作" in refused.text
    assert "QH-20261231-T3" in refused.text
    # The service fails: not a form's refusal, the page's error.
    upstream.answers[("POST", "/v1/work-orders/T3/accept")] = (
        500, {"error": {"code": "internal", "message": "服务出错 (internal error)"}},
    )  # fmt: skip
    agent.app.state.sessions = SignedInStore()  # type: ignore[attr-defined]
    failed = agent.post("/console/inbox/T3/accept", data={"csrf": CSRF})
    assert failed.status_code == 500 and "无法完成" in failed.text and "QH-20261231-T3" not in failed.text
    # Done: back to the order.
    upstream.answers[("POST", "/v1/work-orders/T3/accept")] = (200, work_order("T3", resolve_deadline=NOW))
    done = agent.post("/console/inbox/T3/accept", data={"csrf": CSRF}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/inbox/T3?done=accept"
    assert json.loads(upstream.asked("/v1/work-orders/T3/accept")[-1].content or b"null") is None


class SignedInStore:
    """A sessions' store with one live session, for the error page (rendered outside the routes)."""

    async def current(self, sid: object) -> Any:
        from gridloop.web.signin import SessionRecord

        return SessionRecord(
            sid="s", user=Actor(sub="a", name="城管受理员", role=Role.DEPARTMENT_AGENT, org="CG"), started_at=NOW,
            expires_at=NOW + timedelta(days=9999), token="token", token_expires_at=NOW, renewable=False,
        )  # fmt: skip


def test_the_webhook_form_offers_events_in_the_order_a_ticket_lives_them() -> None:
    offered = labels.events_in_order(["ticket.overdue", "ticket.accepted", "ticket.future_kind", "ticket.dispatched"])
    assert offered == [
        ("ticket.dispatched", "派遣"),
        ("ticket.accepted", "接单"),
        ("ticket.overdue", "超期"),
        ("ticket.future_kind", "ticket.future_kind"),  # no Chinese name yet: offered last, by its code
    ]
