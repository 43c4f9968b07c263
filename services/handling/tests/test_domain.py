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


def test_the_lead_accepts_for_the_current_round() -> None:
    assert domain.accept(order=LEAD, status=TicketStatus.DISPATCHED, department="CG").round == 2


def test_another_department_or_an_assisting_one_cannot_act_as_lead() -> None:
    with pytest.raises(domain.NotYourOrder):
        domain.accept(order=LEAD, status=TicketStatus.DISPATCHED, department="JJ")
    with pytest.raises(domain.NotYourOrder):
        domain.resolve(
            order=ASSIST, status=TicketStatus.ACCEPTED, department="SCJG", note="好了", photos=[], pending_parts=[]
        )


def test_a_cancelled_ticket_cannot_be_accepted_and_an_unaccepted_one_not_resolved() -> None:
    with pytest.raises(TransitionNotAllowed):
        domain.accept(order=LEAD, status=TicketStatus.CANCELLED, department="CG")
    with pytest.raises(TransitionNotAllowed):
        domain.resolve(
            order=LEAD, status=TicketStatus.DISPATCHED, department="CG", note="好了", photos=[], pending_parts=[]
        )


def test_rejection_is_only_possible_before_acceptance() -> None:
    assert domain.reject(order=LEAD, status=TicketStatus.DISPATCHED, department="CG", reason="非本部门职责").reason
    with pytest.raises(TransitionNotAllowed):
        domain.reject(order=LEAD, status=TicketStatus.ACCEPTED, department="CG", reason="非本部门职责")


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
            order=accepted, status=TicketStatus.ACCEPTED, department="CG", until=later, reason="需要采购配件"
        ).requested_resolve_deadline
        == later
    )
    with pytest.raises(domain.InvalidExtension):
        domain.request_extension(
            order=accepted,
            status=TicketStatus.ACCEPTED,
            department="CG",
            until=LEAD["resolve_deadline"],
            reason="不需要",
        )
    with pytest.raises(domain.InvalidExtension):
        domain.request_extension(
            order={**accepted, "extension_pending": {"until": later}},
            status=TicketStatus.ACCEPTED,
            department="CG",
            until=later,
            reason="再次申请",
        )
    with pytest.raises(TransitionNotAllowed):
        domain.request_extension(
            order=LEAD, status=TicketStatus.DISPATCHED, department="CG", until=later, reason="还没接单"
        )


def test_an_assisting_department_reports_its_part_once() -> None:
    part = domain.report_part(order=ASSIST, status=TicketStatus.ACCEPTED, department="SCJG", note="已配合", photos=[])
    assert part.part_done and part.department == "SCJG"
    with pytest.raises(domain.PartAlreadyReported):
        domain.report_part(
            order={**ASSIST, "part": {"note": "已配合"}},
            status=TicketStatus.ACCEPTED,
            department="SCJG",
            note="再报",
            photos=[],
        )
    with pytest.raises(domain.NotYourOrder):  # the lead resolves; it has no part to report
        domain.report_part(order=LEAD, status=TicketStatus.ACCEPTED, department="CG", note="x", photos=[])
    with pytest.raises(TransitionNotAllowed):  # nothing to report on before the lead took the ticket on
        domain.report_part(order=ASSIST, status=TicketStatus.DISPATCHED, department="SCJG", note="x", photos=[])


def test_the_lead_resolves_after_every_part_or_overrides_with_a_reason() -> None:
    orders = [LEAD, ASSIST, {**ASSIST, "department": "JJ", "part": {"note": "已完成"}}]
    assert domain.pending_parts(orders) == ["SCJG"]
    with pytest.raises(domain.PartsPending):
        domain.resolve(
            order=LEAD, status=TicketStatus.ACCEPTED, department="CG", note="好了", photos=[], pending_parts=["SCJG"]
        )
    overridden = domain.resolve(
        order=LEAD,
        status=TicketStatus.ACCEPTED,
        department="CG",
        note="好了",
        photos=[],
        pending_parts=["SCJG"],
        override_reason="市场监管已电话确认，书面反馈后补",
    )
    assert overridden.override_reason.startswith("市场监管")
    done = domain.resolve(
        order=LEAD, status=TicketStatus.ACCEPTED, department="CG", note="好了", photos=[], pending_parts=[]
    )
    assert done.override_reason == ""


def test_a_category_that_requires_evidence_cannot_be_resolved_without_photos() -> None:
    order = {**LEAD, "evidence_required": True}
    with pytest.raises(domain.EvidenceRequired):
        domain.resolve(
            order=order, status=TicketStatus.ACCEPTED, department="CG", note="好了", photos=[], pending_parts=[]
        )
    ok = domain.resolve(
        order=order, status=TicketStatus.ACCEPTED, department="CG", note="好了", photos=["p1"], pending_parts=[]
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
