"""Tracing across the loop: a grid worker's report, filed through the gateway with the caller's
own trace context, is one trace from the HTTP request through intake's outbox, Kafka and
dispatch to the department's inbox in handling, as an operator would follow it in the viewer."""

import secrets
from functools import partial

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import Stack
from gridloop.stack.testing import eventually
from gridloop.stack.traces import Span, TraceReceiver

pytestmark = pytest.mark.e2e


def chain(span: Span, spans: list[Span]) -> list[Span]:
    """`span` and its ancestors up to the trace's first span in GridLoop."""
    by_id = {s.span_id: s for s in spans}
    out = [span]
    while out[-1].parent_id in by_id:
        out.append(by_id[out[-1].parent_id])
    return out


def test_a_report_is_one_trace_from_the_phone_to_the_department_inbox(stack: Stack, traces: TraceReceiver) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    worker = ApiUser(urls={"intake": stack.gateway_url}, sub="gw-tracing", role=Role.GRID_WORKER, org="LJ01")
    response = worker.call(
        "intake",
        "POST",
        "/v1/reports",
        json={
            "category_code": "SJ-0302",
            "description": "河道边有人倾倒垃圾",
            "location": {"lon": 120.1087, "lat": 30.2093},
        },
        headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
    )
    assert response.status_code == 201, response.text
    ticket_id = response.json()["ticket_id"]

    def whole_path() -> list[Span] | None:
        """From handling's span for the dispatch back to the filing, once every service exported its part."""
        spans = traces.trace(trace_id)
        arrived = [
            s
            for s in spans
            if s.service == "handling"
            and s.kind == "consumer"
            and s.attributes.get("gridloop.event_type") == "ticket.dispatched"
        ]
        path = chain(arrived[0], spans) if arrived else []
        return path if path and path[-1].kind == "server" else None

    path = eventually(whole_path, timeout=20, what="the report's whole path in the caller's trace")
    arrived, spans = path[0], traces.trace(trace_id)
    hops = [(s.service, s.kind) for s in path if s.kind != "internal"]
    assert hops == [
        ("handling", "consumer"),
        ("dispatch", "producer"),
        ("dispatch", "consumer"),
        ("intake", "producer"),
        ("intake", "server"),
    ]
    server = path[-1]
    assert server.name == "POST /v1/reports"
    assert server.parent_id == caller_span  # the caller's context was honoured through the gateway
    assert server.attributes["http.response.status_code"] == 201
    assert server.attributes["gridloop.correlation_id"] == response.headers["x-correlation-id"]
    # Each service's work is inside its own transaction span, which the next hop's publish follows.
    assert {(s.service, s.name) for s in path if s.kind == "internal"} >= {
        ("intake", "transaction"),
        ("dispatch", "transaction"),
    }
    published = [s for s in path if s.kind == "producer"]
    assert [s.attributes["gridloop.event_type"] for s in published] == ["ticket.dispatched", "ticket.reported"]
    assert all(s.attributes["messaging.kafka.message.key"] == ticket_id for s in published)
    assert all(s.attributes["gridloop.outbox.waited_ms"] >= 0 for s in published)
    assert arrived.attributes["gridloop.ticket_id"] == ticket_id
    assert not [(s.service, s.name, s.attributes, s.events) for s in spans if s.failed]
    # Time runs forward along the path: each hop starts after the one that caused it.
    starts = [s.start_ns for s in reversed(path)]
    assert starts == sorted(starts)


def test_probes_and_scrapes_make_no_traces(stack: Stack, traces: TraceReceiver) -> None:
    probe_trace, read_trace = secrets.token_hex(16), secrets.token_hex(16)
    intake = stack.url("intake")
    for path in ("/healthz", "/readyz", "/metrics"):
        assert httpx.get(
            f"{intake}{path}", headers={"traceparent": f"00-{probe_trace}-{secrets.token_hex(8)}-01"}
        ).is_success
    worker = ApiUser(urls={"intake": intake}, sub="gw-tracing", role=Role.GRID_WORKER, org="LJ01")
    read = worker.call(
        "intake", "GET", "/v1/reports", headers={"traceparent": f"00-{read_trace}-{secrets.token_hex(8)}-01"}
    )
    assert read.status_code == 200
    # Once the read's span is exported (probes answer first, and the exporter sends in order),
    # nothing of the probes' trace has come.
    eventually(lambda: traces.trace(read_trace) or None, timeout=20, what="the read's span")
    assert traces.trace(probe_trace) == []


def test_a_console_page_is_one_trace_with_the_service_calls_it_makes(stack: Stack, traces: TraceReceiver) -> None:
    page_trace, asset_trace, caller_span = secrets.token_hex(16), secrets.token_hex(16), secrets.token_hex(8)
    with httpx.Client(base_url=stack.gateway_url, follow_redirects=True, timeout=15) as browser:
        assert browser.post("/signin/dev", data={"sub": "agent-cg"}).is_success
        page = browser.get("/console/inbox", headers={"traceparent": f"00-{page_trace}-{caller_span}-01"})
        assert page.status_code == 200 and "部门工单" in page.text
        asset = browser.get(
            "/app/vendor/htmx/htmx.min.js", headers={"traceparent": f"00-{asset_trace}-{secrets.token_hex(8)}-01"}
        )
        assert asset.status_code == 200

    def page_path() -> list[Span] | None:
        """From handling's span for the inbox read back to the page, once both services exported."""
        spans = traces.trace(page_trace)
        read = [s for s in spans if s.service == "handling" and s.kind == "server"]
        path = chain(read[0], spans) if read else []
        return path if path and path[-1].service == "web" and path[-1].kind == "server" else None

    path = eventually(page_path, timeout=20, what="the inbox page's calls in the caller's trace")
    assert [(s.service, s.kind) for s in path if s.kind != "internal"] == [
        ("handling", "server"),
        ("web", "client"),
        ("web", "server"),
    ]
    read, call, served = path[0], path[1], path[-1]
    assert read.name == "GET /v1/work-orders" and read.attributes["http.response.status_code"] == 200
    assert call.name == "GET handling" and call.attributes["http.response.status_code"] == 200
    assert served.name == "GET /console/inbox" and served.parent_id == caller_span
    assert not [s for s in traces.trace(page_trace) if s.failed]
    # The page's own files are the same for everyone: no trace of them.
    eventually(lambda: traces.trace(page_trace) or None, timeout=20, what="the page's spans")
    assert traces.trace(asset_trace) == []


def test_a_correlation_id_too_long_or_unprintable_is_replaced_not_carried(stack: Stack, urls: dict[str, str]) -> None:
    worker = ApiUser(urls=urls, sub="gw-correlation", role=Role.GRID_WORKER, org="LJ01")
    chief = ApiUser(urls=urls, sub="sup-correlation", role=Role.SUPERVISOR, org="QH")
    long_id = "corr-" + "x" * 5000
    body = {"category_code": "SJ-0101", "description": "垃圾堆积", "grid_code": "LJ01-G1"}
    kept, ids = "e2e-corr-kept-1", {}
    for given in (long_id.encode(), b"e2e corr\tbad", "关联-1".encode(), kept.encode()):
        response = worker.call("intake", "POST", "/v1/reports", json=body, headers={"X-Correlation-ID": given})
        assert response.status_code == 201, response.text
        answered = response.headers["x-correlation-id"]
        assert len(answered) <= 64 and (answered == kept) == (given == kept.encode())
        ids[response.json()["ticket_id"]] = answered

    def carried(ticket_id: str) -> str | None:
        answer = chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket_id}")
        return answer.json()["timeline"][0]["correlation_id"] if answer.status_code == 200 else None

    for ticket_id, answered in ids.items():
        assert eventually(partial(carried, ticket_id), what="the reported event") == answered
    assert stack.config.log_dir is not None
    for log in stack.config.log_dir.glob("*.log"):
        assert "x" * 100 not in log.read_text(errors="replace"), log.name
