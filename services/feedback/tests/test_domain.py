from datetime import UTC, datetime, timedelta

import pytest

from gridloop.feedback import domain
from gridloop.shared.events import (
    Actor,
    CancelReason,
    Rating,
    Role,
    TicketCancelled,
    TicketClosed,
    TicketReopened,
)
from gridloop.shared.lifecycle import TicketStatus, TransitionNotAllowed

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GW1 = Actor(sub="gw-1", role=Role.GRID_WORKER, org="LJ01")
GW2 = Actor(sub="gw-2", role=Role.GRID_WORKER, org="LJ01")
GW_ELSEWHERE = Actor(sub="gw-9", role=Role.GRID_WORKER, org="WH02")
DESK = Actor(sub="desk-lj", role=Role.STREET_DISPATCHER, org="LJ")
TICKET = {
    "reporter": "gw-1",
    "verifier": domain.verifier_for(GW1, "LJ01"),
    "department": "CG",
    "reworks": 1,
    "rating": None,
}
HOTLINE_TICKET = {**TICKET, "reporter": "desk-lj", "verifier": domain.verifier_for(DESK, "LJ01")}


def test_a_pass_closes_and_a_fail_reopens_to_the_same_department_counting_a_rework() -> None:
    closed = domain.verify(
        ticket=TICKET, status=TicketStatus.RESOLVED, verifier=GW1, passed=True, comment="", photos=[]
    )
    reopened = domain.verify(
        ticket=TICKET, status=TicketStatus.RESOLVED, verifier=GW1, passed=False, comment="井盖仍松动", photos=[]
    )
    assert isinstance(closed, TicketClosed) and not closed.auto
    assert isinstance(reopened, TicketReopened)
    assert (reopened.department, reopened.rework_count) == ("CG", 2)


def test_a_grid_workers_report_is_verified_by_that_worker_and_only_a_resolved_one() -> None:
    with pytest.raises(domain.NotYourTicket):
        domain.verify(ticket=TICKET, status=TicketStatus.RESOLVED, verifier=GW2, passed=True, comment="", photos=[])
    with pytest.raises(TransitionNotAllowed):
        domain.verify(ticket=TICKET, status=TicketStatus.ACCEPTED, verifier=GW1, passed=True, comment="", photos=[])


def test_a_report_the_street_registered_is_verified_by_the_grid_workers_of_its_community() -> None:
    assert HOTLINE_TICKET["verifier"] == {"kind": "community", "community": "LJ01"}
    closed = domain.verify(
        ticket=HOTLINE_TICKET, status=TicketStatus.RESOLVED, verifier=GW2, passed=True, comment="", photos=[]
    )
    assert isinstance(closed, TicketClosed)
    for outsider in (GW_ELSEWHERE, DESK):
        with pytest.raises(domain.NotYourTicket):
            domain.verify(
                ticket=HOTLINE_TICKET,
                status=TicketStatus.RESOLVED,
                verifier=outsider,
                passed=True,
                comment="",
                photos=[],
            )


def test_a_closed_ticket_is_rated_once() -> None:
    rated = domain.rate(ticket=TICKET, status=TicketStatus.CLOSED, rater=GW1, rating=Rating.SATISFIED, comment="")
    assert rated.rating == Rating.SATISFIED
    with pytest.raises(domain.AlreadyRated):
        domain.rate(
            ticket={**TICKET, "rating": {"rating": "satisfied"}},
            status=TicketStatus.CLOSED,
            rater=GW1,
            rating=Rating.UNSATISFIED,
            comment="",
        )
    with pytest.raises(TransitionNotAllowed):
        domain.rate(ticket=TICKET, status=TicketStatus.RESOLVED, rater=GW1, rating=Rating.SATISFIED, comment="")


def test_an_unverified_ticket_closes_by_itself_after_the_configured_time() -> None:
    waiting = {**TICKET, "verification": {"status": "pending", "since": NOW}}
    after = timedelta(hours=72)
    assert domain.auto_close(ticket=waiting, status=TicketStatus.RESOLVED, now=NOW + after / 2, after=after) is None
    closed = domain.auto_close(ticket=waiting, status=TicketStatus.RESOLVED, now=NOW + after, after=after)
    assert closed is not None and closed.auto and "自动结案" in closed.comment
    verified = {**TICKET, "verification": {"status": "passed", "since": NOW}}
    assert domain.auto_close(ticket=verified, status=TicketStatus.CLOSED, now=NOW + 2 * after, after=after) is None


def test_the_reporter_is_told_in_chinese_of_each_step_they_care_about() -> None:
    def text(payload: object) -> str | None:
        return domain.notification_text("QH-20261123-00001", payload)

    assert text(TicketClosed(auto=True)) == "您上报的问题 QH-20261123-00001 逾期未核查，已自动结案"
    merged = text(TicketCancelled(reason=CancelReason.DUPLICATE, duplicate_of="t0"))
    assert merged is not None and "重复" in merged
