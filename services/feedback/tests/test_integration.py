"""Feedback against the real broker and database: the reporter verifies and rates."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest

from gridloop.shared.events import Actor, Role, TicketAccepted, TicketDispatched, TicketResolved
from gridloop.shared.ids import new_id
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, eventually, launch, make_event, ok, reported

pytestmark = pytest.mark.integration
AGENT = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")


@pytest.fixture(scope="module")
def feedback(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    service = launch("feedback", servers, service_logs)
    yield service
    service.process.stop()


def _resolved(bus: Bus, reporter: str, role: Role = Role.GRID_WORKER, org: str = "LJ01") -> str:
    ticket_id = new_id()
    now = datetime.now(UTC)
    bus.publish_events(
        [
            reported(ticket_id, reporter=Actor(sub=reporter, role=role, org=org)),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department="CG",
                    accept_deadline=now + timedelta(hours=1),
                    resolve_deadline=now + timedelta(hours=4),
                    manual=False,
                ),
                ticket_id=ticket_id,
            ),
            make_event(TicketAccepted(department="CG", round=1), ticket_id=ticket_id, actor=AGENT),
            make_event(TicketResolved(department="CG", round=1, note="已清运"), ticket_id=ticket_id, actor=AGENT),
        ]
    )
    return ticket_id


def _pending(user, ticket_id: str) -> dict[str, object] | None:  # type: ignore[no-untyped-def]
    items = ok(user.call("feedback", "GET", "/v1/verifications", params={"status": "pending"}))["items"]
    return next((i for i in items if i["ticket_id"] == ticket_id), None)


def test_a_failed_check_reopens_to_the_department_and_a_passed_one_closes(feedback: RunningService, bus: Bus) -> None:
    reporter = feedback.user(sub="gw-f1", role=Role.GRID_WORKER, org="LJ01")
    stranger = feedback.user(sub="gw-f2", role=Role.GRID_WORKER, org="LJ01")
    ticket_id = _resolved(bus, "gw-f1")
    task = eventually(lambda: _pending(reporter, ticket_id), what="verification task")
    assert task["verification"]["resolution_note"] == "已清运"
    assert _pending(stranger, ticket_id) is None
    assert stranger.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True}).status_code == 404
    ok(
        reporter.call(
            "feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": False, "comment": "仍有垃圾"}
        )
    )
    [reopened] = bus.wait_for(ticket_id, "ticket.reopened")
    assert (reopened.payload.department, reopened.payload.rework_count) == ("CG", 1)
    again = reporter.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True})
    assert again.status_code == 409

    bus.publish_events(
        [
            make_event(TicketAccepted(department="CG", round=1), ticket_id=ticket_id, actor=AGENT),
            make_event(TicketResolved(department="CG", round=1, note="二次清运"), ticket_id=ticket_id, actor=AGENT),
        ]
    )
    eventually(lambda: _pending(reporter, ticket_id), what="second verification task")
    early_rating = reporter.call("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "satisfied"})
    assert early_rating.status_code == 409
    ok(reporter.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True}))
    [closed] = bus.wait_for(ticket_id, "ticket.closed")
    assert not closed.payload.auto
    ok(reporter.call("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "basically_satisfied"}))
    twice = reporter.call("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "unsatisfied"})
    assert twice.status_code == 409
    [rated] = bus.wait_for(ticket_id, "ticket.rated")
    assert rated.payload.rating == "basically_satisfied"
    told = [n["text"] for n in _notifications(reporter, ticket_id)]
    assert len(told) == 7 and told[0].endswith("已结案")  # newest first
    assert sum("退回返工" in t for t in told) == 1 and sum("请现场核查" in t for t in told) == 2


def _notifications(user, ticket_id: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    items = ok(user.call("feedback", "GET", "/v1/notifications"))["items"]
    return [n for n in items if n["ticket_id"] == ticket_id]


def test_a_report_the_street_registered_is_verified_by_a_grid_worker_of_its_community(
    feedback: RunningService, bus: Bus
) -> None:
    desk = feedback.user(sub="desk-lj-1", role=Role.STREET_DISPATCHER, org="LJ")
    neighbour = feedback.user(sub="gw-f3", role=Role.GRID_WORKER, org="LJ01")
    elsewhere = feedback.user(sub="gw-f4", role=Role.GRID_WORKER, org="WH02")
    ticket_id = _resolved(bus, "desk-lj-1", role=Role.STREET_DISPATCHER, org="LJ")
    task = eventually(lambda: _pending(neighbour, ticket_id), what="the community's verification task")
    assert task["verifier"] == {"kind": "community", "community": "LJ01"}
    assert ok(neighbour.call("feedback", "GET", f"/v1/verifications/{ticket_id}")) == task
    assert _pending(elsewhere, ticket_id) is None
    assert elsewhere.call("feedback", "GET", f"/v1/verifications/{ticket_id}").status_code == 404
    refused = elsewhere.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True})
    assert refused.status_code == 404
    ok(neighbour.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True, "comment": "已核实"}))
    bus.wait_for(ticket_id, "ticket.closed")
    told = eventually(lambda: _notifications(desk, ticket_id) if len(_notifications(desk, ticket_id)) == 4 else None)
    assert [n["event_type"] for n in told] == [
        "ticket.closed",
        "ticket.resolved",
        "ticket.accepted",
        "ticket.dispatched",
    ]
    first = told[-1]
    read = ok(desk.call("feedback", "POST", f"/v1/notifications/{first['notification_id']}/read"))
    assert read["read"] is True
    assert all(n["notification_id"] != first["notification_id"] for n in _unread(desk))
    assert neighbour.call("feedback", "POST", f"/v1/notifications/{first['notification_id']}/read").status_code == 404


def _unread(user) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    return ok(user.call("feedback", "GET", "/v1/notifications", params={"unread": "true"}))["items"]


def test_an_unknown_rating_is_refused(feedback: RunningService) -> None:
    reporter = feedback.user(sub="gw-f1", role=Role.GRID_WORKER, org="LJ01")
    response = reporter.call("feedback", "POST", "/v1/ratings/whatever", json={"rating": "great"})
    assert response.status_code == 422


def _tasks(user, **params: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["ticket_id"] for i in ok(user.call("feedback", "GET", "/v1/verifications", params=params))["items"]]


def test_the_lists_of_what_to_check_and_to_rate_follow_each_task_and_include_tasks_stored_without_a_verifier(
    feedback: RunningService, bus: Bus, servers: Servers, service_logs: Path
) -> None:
    reporter = feedback.user(sub="gw-f6", role=Role.GRID_WORKER, org="WH01")
    ticket_id = _resolved(bus, "gw-f6", org="WH01")
    eventually(lambda: _pending(reporter, ticket_id), what="verification task")
    assert ticket_id not in _tasks(reporter, status="passed", rated="false")
    ok(reporter.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True}))
    bus.wait_for(ticket_id, "ticket.closed")
    assert _tasks(reporter, status="passed", rated="false") == [ticket_id]  # closed: to be rated
    assert ticket_id in _tasks(reporter) and ticket_id not in _tasks(reporter, status="pending")
    ok(reporter.call("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "satisfied"}))
    assert _tasks(reporter, status="passed", rated="false") == []
    assert _tasks(reporter, rated="true") == [ticket_id]

    # A task stored before verifiers were recorded: its reporter verifies it once a service starts.
    older = _resolved(bus, "gw-f6", org="WH01")
    eventually(lambda: _pending(reporter, older), what="second verification task")
    with pymongo.MongoClient(servers.mongo_uri) as client:
        client["gridloop_feedback"]["tickets"].update_one({"_id": older}, {"$unset": {"verifier": ""}})
    assert _pending(reporter, older) is None
    restarted = launch("feedback", servers, service_logs)
    try:
        assert _pending(restarted.user(sub="gw-f6", role=Role.GRID_WORKER, org="WH01"), older) is not None
        ok(reporter.call("feedback", "POST", f"/v1/verifications/{older}", json={"passed": True}))
    finally:
        restarted.process.stop()


def _listed(user: ApiUser, ticket_id: str, **params: str) -> dict[str, Any] | None:
    items = ok(user.call("feedback", "GET", "/v1/verifications", params=params))["items"]
    return next((i for i in items if i["ticket_id"] == ticket_id), None)


def test_a_worker_reads_one_verification_task_of_theirs_as_their_list_shows_it_and_no_one_elses(
    feedback: RunningService, bus: Bus
) -> None:
    reporter = feedback.user(sub="gw-f7", role=Role.GRID_WORKER, org="WH03")
    colleague = feedback.user(sub="gw-f8", role=Role.GRID_WORKER, org="WH03")  # same community, not the verifier
    elsewhere = feedback.user(sub="gw-f9", role=Role.GRID_WORKER, org="LJ01")
    supervisor = feedback.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    ticket_id = _resolved(bus, "gw-f7", org="WH03")

    def task(user: ApiUser, ticket: str = ticket_id) -> httpx.Response:
        return user.call("feedback", "GET", f"/v1/verifications/{ticket}")

    def refused(answer: httpx.Response) -> bool:
        return (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")

    pending = eventually(lambda: _pending(reporter, ticket_id), what="verification task")
    assert ok(task(reporter)) == pending
    assert ok(task(supervisor)) == pending  # the district's supervisor lists it too
    assert refused(task(colleague)) and refused(task(elsewhere))
    assert refused(task(reporter, new_id()))

    # a report of theirs not yet resolved has no task
    waiting = new_id()
    now = datetime.now(UTC)
    bus.publish_events(
        [
            reported(waiting, reporter=Actor(sub="gw-f7", role=Role.GRID_WORKER, org="WH03"), grid="WH03-G1"),
            make_event(
                TicketDispatched(
                    round=1,
                    lead_department="CG",
                    accept_deadline=now + timedelta(hours=1),
                    resolve_deadline=now + timedelta(hours=4),
                    manual=False,
                ),
                ticket_id=waiting,
            ),
        ]
    )
    eventually(lambda: _notifications(reporter, waiting), what="the reporter told of the dispatch")
    assert refused(task(reporter, waiting))

    # done and not yet rated, then rated: the same view as the list's to rate, then the list of the rated
    ok(reporter.call("feedback", "POST", f"/v1/verifications/{ticket_id}", json={"passed": True, "comment": "已核实"}))
    bus.wait_for(ticket_id, "ticket.closed")
    done = eventually(lambda: _listed(reporter, ticket_id, status="passed", rated="false"), what="the task to rate")
    assert ok(task(reporter)) == done
    assert done["verification"]["status"] == "passed" and done["verification"]["comment"] == "已核实"
    assert done["rating"] is None
    ok(reporter.call("feedback", "POST", f"/v1/ratings/{ticket_id}", json={"rating": "satisfied", "comment": "很快"}))
    rated = ok(task(reporter))
    assert rated == _listed(reporter, ticket_id, rated="true")
    assert rated["rating"]["rating"] == "satisfied" and rated["status"] == "closed"
    assert refused(task(colleague))
