from datetime import UTC, datetime, timedelta

import pytest

from gridloop.handling import domain
from gridloop.shared.events import Actor, Role
from gridloop.shared.lifecycle import TicketStatus, TransitionNotAllowed, is_overdue

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LEAD = {
    "department": "CG",
    "role": "lead",
    "round": 2,
    "status": "dispatched",
    "accept_deadline": NOW + timedelta(hours=1),
    "resolve_deadline": NOW + timedelta(hours=4),
}
ASSIST = {**LEAD, "department": "SCJG", "role": "assisting"}
TAKEN = {**LEAD, "status": "accepted"}  # the lead's order after 接单


def _ticket(status: TicketStatus, round_: int = 2) -> domain.Ticket:
    return domain.Ticket(status=status, round=round_)


def test_the_lead_accepts_for_the_current_round() -> None:
    assert domain.accept(order=LEAD, ticket=_ticket(TicketStatus.DISPATCHED), department="CG").round == 2


def test_another_department_or_an_assisting_one_cannot_act_as_lead() -> None:
    with pytest.raises(domain.NotYourOrder):
        domain.accept(order=LEAD, ticket=_ticket(TicketStatus.DISPATCHED), department="JJ")
    with pytest.raises(domain.NotYourOrder):
        domain.resolve(
            order=ASSIST,
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="SCJG",
            note="好了",
            photos=[],
            pending_parts=[],
        )


def test_a_cancelled_ticket_cannot_be_accepted_and_an_unaccepted_one_not_resolved() -> None:
    with pytest.raises(TransitionNotAllowed):
        domain.accept(order=LEAD, ticket=_ticket(TicketStatus.CANCELLED), department="CG")
    with pytest.raises(domain.ActionNotAllowed):
        domain.resolve(
            order=LEAD,
            ticket=_ticket(TicketStatus.DISPATCHED),
            department="CG",
            note="好了",
            photos=[],
            pending_parts=[],
        )


def test_rejection_is_only_possible_before_acceptance() -> None:
    assert domain.reject(
        order=LEAD, ticket=_ticket(TicketStatus.DISPATCHED), department="CG", reason="非本部门职责"
    ).reason
    with pytest.raises(domain.ActionNotAllowed):
        domain.reject(order=TAKEN, ticket=_ticket(TicketStatus.ACCEPTED), department="CG", reason="非本部门职责")


def test_a_work_order_is_overdue_past_the_deadline_of_the_step_it_owes() -> None:
    # The one overdue rule (shared.lifecycle) on work orders, whose states are the order's own.
    assert not is_overdue(LEAD, NOW)
    assert is_overdue(LEAD, NOW + timedelta(hours=2))
    accepted = {**LEAD, "status": "accepted"}
    assert not is_overdue(accepted, NOW + timedelta(hours=2))
    assert is_overdue(accepted, NOW + timedelta(hours=5))
    assert not is_overdue({**LEAD, "status": "resolved"}, NOW + timedelta(days=9))


def test_an_extension_asks_for_a_later_deadline_once_while_the_work_is_under_way() -> None:
    accepted = {**LEAD, "status": "accepted"}
    later = LEAD["resolve_deadline"] + timedelta(days=2)
    assert (
        domain.request_extension(
            order=accepted, ticket=_ticket(TicketStatus.ACCEPTED), department="CG", until=later, reason="需要采购配件"
        ).requested_resolve_deadline
        == later
    )
    with pytest.raises(domain.InvalidExtension):
        domain.request_extension(
            order=accepted,
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="CG",
            until=LEAD["resolve_deadline"],
            reason="不需要",
        )
    with pytest.raises(domain.InvalidExtension):
        domain.request_extension(
            order={**accepted, "extension_pending": {"until": later}},
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="CG",
            until=later,
            reason="再次申请",
        )
    with pytest.raises(domain.ActionNotAllowed):
        domain.request_extension(
            order=LEAD, ticket=_ticket(TicketStatus.DISPATCHED), department="CG", until=later, reason="还没接单"
        )


def test_an_assisting_department_reports_its_part_once() -> None:
    part = domain.report_part(
        order=ASSIST, ticket=_ticket(TicketStatus.ACCEPTED), department="SCJG", note="已配合", photos=[]
    )
    assert part.part_done and part.department == "SCJG"
    with pytest.raises(domain.PartAlreadyReported):
        domain.report_part(
            order={**ASSIST, "part": {"note": "已配合"}},
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="SCJG",
            note="再报",
            photos=[],
        )
    with pytest.raises(domain.NotYourOrder):  # the lead resolves; it has no part to report
        domain.report_part(order=LEAD, ticket=_ticket(TicketStatus.ACCEPTED), department="CG", note="x", photos=[])
    with pytest.raises(TransitionNotAllowed):  # nothing to report on before the lead took the ticket on
        domain.report_part(
            order=ASSIST, ticket=_ticket(TicketStatus.DISPATCHED), department="SCJG", note="x", photos=[]
        )


def test_the_lead_resolves_after_every_part_or_overrides_with_a_reason() -> None:
    orders = [TAKEN, ASSIST, {**ASSIST, "department": "JJ", "part": {"note": "已完成"}}]
    assert domain.pending_parts(orders) == ["SCJG"]
    with pytest.raises(domain.PartsPending):
        domain.resolve(
            order=TAKEN,
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="CG",
            note="好了",
            photos=[],
            pending_parts=["SCJG"],
        )
    overridden = domain.resolve(
        order=TAKEN,
        ticket=_ticket(TicketStatus.ACCEPTED),
        department="CG",
        note="好了",
        photos=[],
        pending_parts=["SCJG"],
        override_reason="市场监管已电话确认，书面反馈后补",
    )
    assert overridden.override_reason.startswith("市场监管")
    done = domain.resolve(
        order=TAKEN, ticket=_ticket(TicketStatus.ACCEPTED), department="CG", note="好了", photos=[], pending_parts=[]
    )
    assert done.override_reason == ""


def test_a_category_that_requires_evidence_cannot_be_resolved_without_photos() -> None:
    order = {**TAKEN, "evidence_required": True}
    with pytest.raises(domain.EvidenceRequired):
        domain.resolve(
            order=order,
            ticket=_ticket(TicketStatus.ACCEPTED),
            department="CG",
            note="好了",
            photos=[],
            pending_parts=[],
        )
    ok = domain.resolve(
        order=order,
        ticket=_ticket(TicketStatus.ACCEPTED),
        department="CG",
        note="好了",
        photos=["p1"],
        pending_parts=[],
    )
    assert ok.photos == ["p1"]


def test_a_department_sees_its_own_latest_order_and_a_supervisor_the_leads() -> None:
    first_round = {**LEAD, "round": 1, "department": "SCJG", "status": "rejected"}
    both = {**ASSIST, "department": "CG"}  # a department named lead and assisting in one round
    orders = [first_round, ASSIST, LEAD, both]

    def reader(role: Role, org: str) -> Actor:
        return Actor(sub="u", role=role, org=org)

    assert domain.shown_order(orders, reader=reader(Role.DEPARTMENT_AGENT, "CG")) is LEAD
    assert domain.shown_order(orders, reader=reader(Role.DEPARTMENT_AGENT, "SCJG")) is ASSIST
    assert domain.shown_order([first_round], reader=reader(Role.DEPARTMENT_AGENT, "SCJG")) is first_round
    assert domain.shown_order(orders, reader=reader(Role.SUPERVISOR, "QH")) is LEAD
    assert domain.shown_order([ASSIST], reader=reader(Role.SUPERVISOR, "QH")) is None
    assert domain.shown_order(orders, reader=reader(Role.DEPARTMENT_AGENT, "JJ")) is None
    assert domain.shown_order(orders, reader=reader(Role.STREET_DISPATCHER, "LJ")) is None


A = domain.Action
AGENT_CG = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
AGENT_SCJG = Actor(sub="agent-scjg", role=Role.DEPARTMENT_AGENT, org="SCJG")


@pytest.mark.parametrize(
    ("order", "status", "expected"),
    [
        (LEAD, TicketStatus.DISPATCHED, [A.ACCEPT, A.REJECT]),
        ({**LEAD, "status": "reopened"}, TicketStatus.REOPENED, [A.ACCEPT]),
        (TAKEN, TicketStatus.ACCEPTED, [A.PROGRESS, A.EXTENSION, A.RESOLVE]),
        ({**TAKEN, "extension_pending": {"until": NOW}}, TicketStatus.ACCEPTED, [A.PROGRESS, A.RESOLVE]),
        ({**LEAD, "status": "resolved"}, TicketStatus.RESOLVED, []),
        ({**LEAD, "status": "rejected"}, TicketStatus.PENDING_DISPATCH, []),
        ({**LEAD, "status": "closed"}, TicketStatus.CLOSED, []),
        ({**LEAD, "status": "cancelled"}, TicketStatus.CANCELLED, []),
        (LEAD, TicketStatus.CANCELLED, []),  # the order not yet told: the ticket's state decides too
    ],
)
def test_the_lead_may_do_what_its_order_status_allows(
    order: dict[str, object], status: TicketStatus, expected: list[domain.Action]
) -> None:
    assert domain.allowed_actions(order, ticket=_ticket(status), reader=AGENT_CG) == expected


def test_an_assisting_department_reports_its_part_only_while_the_lead_handles_the_ticket() -> None:
    def allowed(order: dict[str, object], status: TicketStatus) -> list[domain.Action]:
        return domain.allowed_actions(order, ticket=_ticket(status), reader=AGENT_SCJG)

    assert allowed(ASSIST, TicketStatus.DISPATCHED) == []
    assert allowed(ASSIST, TicketStatus.ACCEPTED) == [A.PART]
    assert allowed({**ASSIST, "status": "part_done", "part": {"note": "已配合"}}, TicketStatus.ACCEPTED) == []
    assert allowed(ASSIST, TicketStatus.RESOLVED) == []


EVERY_ORDER = [{**order, "status": status.value} for order in (LEAD, ASSIST) for status in domain.OrderStatus]


@pytest.mark.parametrize("order", EVERY_ORDER, ids=lambda o: f"{o['role']}-{o['status']}")
@pytest.mark.parametrize("status", list(TicketStatus), ids=str)
def test_an_order_of_an_earlier_round_allows_nothing(order: dict[str, object], status: TicketStatus) -> None:
    # 退单 in round 2, and the street dispatched the ticket again: it is in round 3 now.
    ticket = _ticket(status, round_=3)
    reader = AGENT_CG if order["role"] == "lead" else AGENT_SCJG
    assert domain.round_of(order, ticket) is domain.Round.SUPERSEDED
    assert domain.allowed_actions(order, ticket=ticket, reader=reader) == []
    for action in domain.Action:
        refused = domain.refusal(action, order=order, ticket=ticket, department=reader.org)
        assert isinstance(refused, domain.RoundSuperseded), action
        assert (refused.order_round, refused.current_round) == (2, 3)


def test_a_department_that_sent_the_ticket_back_cannot_take_it_up_again_after_it_went_elsewhere() -> None:
    sent_back = {**LEAD, "round": 1, "status": "rejected"}
    again = _ticket(TicketStatus.DISPATCHED)  # round 2: the street gave it to another department
    with pytest.raises(domain.RoundSuperseded):
        domain.accept(order=sent_back, ticket=again, department="CG")
    with pytest.raises(domain.RoundSuperseded):
        domain.reject(order=sent_back, ticket=again, department="CG", reason="再退一次")
    taken = _ticket(TicketStatus.ACCEPTED)  # and the other department took it on
    with pytest.raises(domain.RoundSuperseded):
        domain.resolve(order=sent_back, ticket=taken, department="CG", note="已处置", photos=[], pending_parts=[])
    with pytest.raises(domain.RoundSuperseded):
        domain.progress(order=sent_back, ticket=taken, department="CG", note="到场", photos=[])
    with pytest.raises(domain.RoundSuperseded):
        domain.request_extension(
            order={**sent_back, "status": "accepted"},
            ticket=taken,
            department="CG",
            until=NOW + timedelta(days=9),
            reason="待料",
        )
    with pytest.raises(domain.RoundSuperseded):  # nor assist in a round it is no part of
        domain.report_part(order={**ASSIST, "round": 1}, ticket=taken, department="SCJG", note="已配合", photos=[])


def test_only_the_orders_own_department_acting_as_an_agent_is_offered_actions() -> None:
    ticket = _ticket(TicketStatus.DISPATCHED)
    assert domain.allowed_actions(LEAD, ticket=ticket, reader=AGENT_SCJG) == []
    assert domain.allowed_actions(LEAD, ticket=ticket, reader=Actor(sub="s", role=Role.SUPERVISOR, org="CG")) == []
    assert domain.allowed_actions(LEAD, ticket=None, reader=AGENT_CG) == []


@pytest.mark.parametrize("order", EVERY_ORDER, ids=lambda o: f"{o['role']}-{o['status']}")
@pytest.mark.parametrize("status", list(TicketStatus), ids=str)
def test_the_actions_offered_are_exactly_those_the_domain_lets_through(
    order: dict[str, object], status: TicketStatus
) -> None:
    ticket = _ticket(status)
    reader = AGENT_CG if order["role"] == "lead" else AGENT_SCJG
    later = NOW + timedelta(days=9)
    attempts = {
        A.ACCEPT: lambda: domain.accept(order=order, ticket=ticket, department=reader.org),
        A.REJECT: lambda: domain.reject(order=order, ticket=ticket, department=reader.org, reason="非本部门职责"),
        A.PROGRESS: lambda: domain.progress(order=order, ticket=ticket, department=reader.org, note="到场", photos=[]),
        A.EXTENSION: lambda: domain.request_extension(
            order=order, ticket=ticket, department=reader.org, until=later, reason="待料"
        ),
        A.PART: lambda: domain.report_part(order=order, ticket=ticket, department=reader.org, note="好", photos=[]),
        A.RESOLVE: lambda: domain.resolve(
            order=order, ticket=ticket, department=reader.org, note="好", photos=[], pending_parts=[]
        ),
    }
    let_through = []
    for action, attempt in attempts.items():
        try:
            attempt()
        except (domain.NotYourOrder, domain.ActionNotAllowed, TransitionNotAllowed, domain.PartAlreadyReported):
            continue
        let_through.append(action)
    assert domain.allowed_actions(order, ticket=ticket, reader=reader) == let_through


def test_sending_a_joint_ticket_back_withdraws_the_parts_not_yet_reported() -> None:
    reported = {**ASSIST, "department": "JJ", "status": "part_done", "part": {"note": "已完成"}}
    withdrawn = domain.withdrawn_on_rejection([LEAD, ASSIST, reported], at=NOW)
    assert [(order, changes["status"]) for order, changes in withdrawn] == [(ASSIST, "cancelled")]


@pytest.mark.parametrize(
    ("status", "owed"),
    [
        ("dispatched", "accept"),
        ("accepted", "resolve"),
        ("reopened", "resolve"),
        ("part_done", None),
        ("resolved", None),
        ("rejected", None),
        ("closed", None),
        ("cancelled", None),
    ],
)
def test_an_order_counts_down_only_to_the_deadline_of_the_step_it_owes(status: str, owed: str | None) -> None:
    order = {**LEAD, "status": status}
    assert domain.deadline_owed(order, ticket=_ticket(TicketStatus.ACCEPTED)) == owed
    assert domain.deadline_owed(order, ticket=_ticket(TicketStatus.ACCEPTED, round_=3)) is None  # an earlier round


def test_an_order_stored_before_its_steps_were_recorded_still_shows_its_rejection() -> None:
    sent_back = {
        **LEAD,
        "status": "rejected",
        "reject_reason": "不属于本部门职责",
        "dispatched_at": NOW,
        "updated_at": NOW + timedelta(minutes=20),
        "notes": [],
    }
    steps = domain.history(sent_back)
    assert [(s["kind"], s["reason"]) for s in steps] == [("dispatched", ""), ("rejected", "不属于本部门职责")]
    # A step recorded from then on follows the ones the order's fields told.
    later = domain.with_step(sent_back, domain.step(domain.StepKind.CANCELLED, NOW + timedelta(hours=1)))
    assert [s["kind"] for s in later["history"]] == ["dispatched", "rejected", "cancelled"]


def test_withdrawing_an_assisting_order_records_why() -> None:
    [(_, changes)] = domain.withdrawn_on_rejection([LEAD, {**ASSIST, "history": []}], at=NOW)
    assert changes["history"] == [domain.step(domain.StepKind.CANCELLED, NOW, reason=domain.WITHDRAWN_REASON)]
