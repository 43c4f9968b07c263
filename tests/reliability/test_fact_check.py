"""The fault run's check of cobuild's ticket facts, on made-up facts: it must see a ticket cobuild
lost, one it holds twice or never saw reported, and a rework or send-back applied twice, or a
fault run whose cobuild double-counts would pass."""

from datetime import UTC, datetime

import pytest

from gridloop.shared.events import (
    Actor,
    Envelope,
    Payload,
    Rating,
    Role,
    TicketClosed,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    envelope,
)
from gridloop.shared.mongo import Doc
from tests.reliability.harness import ExpectedFact, Plan, expected_facts, facts_mismatch

pytestmark = pytest.mark.unit
AT = datetime(2026, 12, 7, 9, tzinfo=UTC)
AGENT = Actor(sub="agent-CG", role=Role.DEPARTMENT_AGENT, org="CG")


def event(ticket_id: str, payload: Payload, n: int) -> Envelope:
    return envelope(
        payload,
        event_id=f"{ticket_id}-{n}",
        ticket_id=ticket_id,
        producer="test",
        actor=AGENT,
        occurred_at=AT,
        correlation_id=ticket_id,
    )


def reported(ticket_id: str) -> TicketReported:
    return TicketReported(
        ticket_number=f"GD-{ticket_id}",
        category_code="SJ-0101",
        category_name="占道经营",
        description="可靠性测试",
        location=None,
        address="",
        grid_code="LJ01-G1",
        community_code="LJ01",
        street_code="LJ",
        district_code="QH",
    )


def plan(n: int, *, rework: bool) -> Plan:
    return Plan(n=n, community="LJ01", category="SJ-0101", lead="CG", rework=rework, rating="satisfied")


# t1 reworked once, t2 sent back once, both closed and rated; p1 a probe left reported
PLANS = {"t1": plan(1, rework=True), "t2": plan(2, rework=False)}
TOPIC = [
    event("t1", reported("t1"), 1),
    event("t1", TicketReopened(department="CG", rework_count=1), 2),
    event("t1", TicketClosed(), 3),
    event("t1", TicketRated(rating=Rating.SATISFIED), 4),
    event("t2", reported("t2"), 1),
    event("t2", TicketRejected(department="SW", round=1, reason="非本部门职责"), 2),
    event("t2", TicketRejected(department="SW", round=1, reason="非本部门职责"), 2),  # one event published twice
    event("t2", TicketClosed(), 3),
    event("t2", TicketRated(rating=Rating.SATISFIED), 4),
    event("p1", reported("p1"), 1),
]


def held() -> list[Doc]:
    """What cobuild holds when it applied every event once."""
    return [
        {"_id": "t1", "status": "closed", "closed_at": AT, "reworks": 1, "send_backs": 0, "rating": "satisfied"},
        {"_id": "t2", "status": "closed", "closed_at": AT, "reworks": 0, "send_backs": 1, "rating": "satisfied"},
        {"_id": "p1", "status": "reported", "closed_at": None, "reworks": 0, "send_backs": 0, "rating": None},
    ]


def test_the_ground_truth_counts_each_event_once_and_the_plan_decides_the_outcome() -> None:
    assert expected_facts(PLANS, TOPIC) == {
        "t1": ExpectedFact(status="closed", reworks=1, send_backs=0, rating="satisfied"),
        "t2": ExpectedFact(status="closed", reworks=0, send_backs=1, rating="satisfied"),
        "p1": ExpectedFact(status="reported", reworks=0, send_backs=0),
    }
    # a planned ticket that never closed on the topic is still expected closed and rated
    assert expected_facts(PLANS, TOPIC[:2])["t1"] == ExpectedFact(
        status="closed", reworks=1, send_backs=0, rating="satisfied"
    )


def test_facts_that_match_every_event_once_pass() -> None:
    assert facts_mismatch(expected_facts(PLANS, TOPIC), held()) == {}


def test_an_event_applied_twice_is_named_with_the_count_it_left() -> None:
    facts = held()
    facts[0]["reworks"] = 2  # the reopening applied twice
    facts[1]["send_backs"] = 2  # the send-back applied twice
    assert facts_mismatch(expected_facts(PLANS, TOPIC), facts) == {"t1.reworks": (2, 1), "t2.send_backs": (2, 1)}


def test_a_lost_extra_or_second_fact_and_a_lost_closure_are_named() -> None:
    facts = held()
    facts[0].update(status="reopened", closed_at=None)  # the closure never applied
    facts[2] = {**facts[1], "_id": "x9"}  # the probe lost, and a ticket never reported held
    facts.append(dict(facts[1]))  # t2 held twice
    assert facts_mismatch(expected_facts(PLANS, TOPIC), facts) == {
        "t1.status": ("reopened", "closed"),
        "t1.closed_at": (None, "set"),
        "t2.copies": (2, 1),
        "p1.fact": (None, "held"),
        "x9.fact": ("held", None),
    }
