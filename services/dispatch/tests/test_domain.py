from datetime import UTC, datetime, timedelta

import pytest

from gridloop.dispatch import domain
from gridloop.shared.events import CancelReason, Priority
from gridloop.shared.lifecycle import TicketStatus, TransitionNotAllowed

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RULES = [
    {"id": "R-SJ-0202", "category": "SJ-0202", "street": None, "lead": "CG", "assisting": []},
    {"id": "R-SJ-0202-WH", "category": "SJ-0202", "street": "WH", "lead": "CG", "assisting": ["SCJG"]},
    {"id": "R-SJ-0301", "category": "SJ-0301", "lead": "ZJ", "assisting": ["CG"]},
]
SLA = {"code": "SJ-0101", "accept_hours": 1, "resolve_hours": 4}


def test_a_street_specific_rule_beats_the_district_wide_one() -> None:
    in_wh = domain.route(category_code="SJ-0202", street_code="WH", rules=RULES)
    in_lj = domain.route(category_code="SJ-0202", street_code="LJ", rules=RULES)
    assert in_wh == domain.Route(rule_id="R-SJ-0202-WH", lead="CG", assisting=("SCJG",))
    assert in_lj == domain.Route(rule_id="R-SJ-0202", lead="CG", assisting=())


def test_no_rule_means_the_street_queue() -> None:
    assert domain.route(category_code="SJ-0701", street_code="LJ", rules=RULES) is None


def test_deadlines_follow_the_time_limit_and_urgent_halves_them() -> None:
    assert domain.deadlines(now=NOW, sla=SLA, priority=Priority.NORMAL) == (
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=4),
    )
    assert domain.deadlines(now=NOW, sla=SLA, priority=Priority.URGENT) == (
        NOW + timedelta(minutes=30),
        NOW + timedelta(hours=2),
    )


def test_a_redispatch_after_a_rejection_starts_the_next_round() -> None:
    dispatched = domain.dispatch(
        status=TicketStatus.PENDING_DISPATCH,
        previous_round=1,
        lead="ZJ",
        assisting=["CG", "STHJ"],
        now=NOW,
        sla=SLA,
        priority=Priority.NORMAL,
        manual=True,
    )
    assert dispatched.round == 2
    assert dispatched.manual
    assert dispatched.accept_deadline == NOW + timedelta(hours=1)


def test_a_ticket_already_with_a_department_cannot_be_dispatched_again() -> None:
    with pytest.raises(TransitionNotAllowed):
        domain.dispatch(
            status=TicketStatus.ACCEPTED,
            previous_round=1,
            lead="CG",
            assisting=[],
            now=NOW,
            sla=SLA,
            priority=Priority.NORMAL,
            manual=True,
        )


def test_the_lead_cannot_also_assist() -> None:
    with pytest.raises(domain.InvalidAssignment):
        domain.dispatch(
            status=TicketStatus.REPORTED,
            previous_round=0,
            lead="CG",
            assisting=["CG"],
            now=NOW,
            sla=SLA,
            priority=Priority.NORMAL,
            manual=True,
        )


def test_a_duplicate_must_name_its_original_and_closed_tickets_cannot_be_cancelled() -> None:
    with pytest.raises(domain.InvalidAssignment):
        domain.cancel(
            status=TicketStatus.REPORTED, reason=CancelReason.DUPLICATE, comment="", duplicate_of=None, ticket_id="t1"
        )
    with pytest.raises(TransitionNotAllowed):
        domain.cancel(
            status=TicketStatus.CLOSED, reason=CancelReason.INVALID, comment="", duplicate_of=None, ticket_id="t1"
        )
    cancelled = domain.cancel(
        status=TicketStatus.DISPATCHED,
        reason=CancelReason.DUPLICATE,
        comment="同一井盖",
        duplicate_of="t0",
        ticket_id="t1",
    )
    assert cancelled.duplicate_of == "t0"


def test_categories_without_their_own_time_limit_use_the_default() -> None:
    slas = {"default": {"code": "default", "accept_hours": 2, "resolve_hours": 72}, "SJ-0101": SLA}
    assert domain.sla_for("SJ-0101", slas) is SLA
    assert domain.sla_for("BJ-0301", slas)["resolve_hours"] == 72
