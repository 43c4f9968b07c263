from datetime import UTC, datetime, timedelta

import pytest

from gridloop.dispatch import domain
from gridloop.shared.events import CancelReason, Priority
from gridloop.shared.lifecycle import TicketStatus, TransitionNotAllowed
from gridloop.shared.worktime import WorkCalendar, around_the_clock

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RULES = [
    {"id": "R-SJ-0202", "category": "SJ-0202", "street": None, "lead": "CG", "assisting": []},
    {"id": "R-SJ-0202-WH", "category": "SJ-0202", "street": "WH", "lead": "CG", "assisting": ["SCJG"]},
    {"id": "R-SJ-0301", "category": "SJ-0301", "lead": "ZJ", "assisting": ["CG"]},
]
SLA = {
    "code": "SJ-0101",
    "accept": {"within": 1, "unit": "working_hours"},
    "resolve": {"within": 4, "unit": "working_hours"},
    "urgent": {"accept": {"within": 0.5, "unit": "hours"}, "resolve": {"within": 2, "unit": "hours"}},
}
ALWAYS = around_the_clock()
OFFICE = WorkCalendar(is_workday=lambda day: day.weekday() < 5)


DEPARTMENTS = {
    "CG": {"code": "CG"},
    "SCJG": {"code": "SCJG"},
    "ZJ": {"code": "ZJ"},
    "SW": {"code": "SW"},
    "ZF-LJ": {"code": "ZF-LJ", "serves": ["LJ"]},
    "ZF-WH": {"code": "ZF-WH", "serves": ["WH"]},
}


def _route(category: str, street: str, *, family: str = "event", community: str = "", rules: list | None = None):
    return domain.route(
        category_code=category,
        family=family,
        street_code=street,
        community_code=community or f"{street}01",
        rules=RULES if rules is None else rules,
        departments=DEPARTMENTS,
    )


def test_a_street_specific_rule_beats_the_district_wide_one() -> None:
    assert _route("SJ-0202", "WH") == domain.Route(rule_id="R-SJ-0202-WH", lead="CG", assisting=("SCJG",))
    assert _route("SJ-0202", "LJ") == domain.Route(rule_id="R-SJ-0202", lead="CG", assisting=())


def test_a_community_rule_beats_a_street_rule() -> None:
    rules = [
        *RULES,
        {"id": "R-SJ-0202-WH02", "category": "SJ-0202", "community": "WH02", "lead": "SCJG", "assisting": []},
    ]
    assert _route("SJ-0202", "WH", community="WH02", rules=rules).rule_id == "R-SJ-0202-WH02"
    assert _route("SJ-0202", "WH", community="WH01", rules=rules).rule_id == "R-SJ-0202-WH"


def test_no_rule_means_the_street_queue() -> None:
    assert _route("SJ-0701", "LJ") is None


# One owner rule (属主) and one area rule (属地) for the same category, both matching everywhere.
OWNER_AND_AREA = [
    {"id": "R-OWNER", "category": "X", "basis": "owner", "lead": "SW"},
    {"id": "R-AREA-LJ", "category": "X", "basis": "area", "lead": "ZF-LJ"},
    {"id": "R-AREA-WH", "category": "X", "basis": "area", "lead": "ZF-WH"},
]


def test_components_go_to_their_owner_first() -> None:
    # 部件先属主后属地: even a street-specific area rule loses to the district-wide owner rule.
    assert _route("X", "LJ", family="component", rules=OWNER_AND_AREA).lead == "SW"


def test_events_go_to_the_area_first() -> None:
    # 事件先属地后属主: each street's own team takes it, where the team serves that street.
    assert _route("X", "LJ", family="event", rules=OWNER_AND_AREA).lead == "ZF-LJ"
    assert _route("X", "WH", family="event", rules=OWNER_AND_AREA).lead == "ZF-WH"


def test_a_rule_whose_department_does_not_serve_the_street_falls_through_to_the_other_basis() -> None:
    # No area team serves 松林 (SL): the owner takes the event there rather than a stranger's team.
    assert _route("X", "SL", family="event", rules=OWNER_AND_AREA).lead == "SW"
    area_only = [r for r in OWNER_AND_AREA if r["basis"] == "area"]
    assert _route("X", "SL", family="event", rules=area_only) is None


def test_deadlines_count_working_hours_and_urgent_limits_run_around_the_clock() -> None:
    friday_4pm = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # 16:00 in Beijing
    assert domain.deadlines(start=friday_4pm, limits=domain.limits_for(SLA, Priority.NORMAL), calendar=OFFICE) == (
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 3, 0, tzinfo=UTC),  # 1.5 h on Friday, 2.5 h on Monday
    )
    assert domain.deadlines(start=friday_4pm, limits=domain.limits_for(SLA, Priority.URGENT), calendar=OFFICE) == (
        friday_4pm + timedelta(minutes=30),
        friday_4pm + timedelta(hours=2),
    )


def test_on_a_24x7_calendar_working_hours_are_plain_hours() -> None:
    assert domain.deadlines(start=NOW, limits=domain.limits_for(SLA, Priority.NORMAL), calendar=ALWAYS) == (
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=4),
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
        calendar=ALWAYS,
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
            calendar=ALWAYS,
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
            calendar=ALWAYS,
            manual=True,
        )


def _assign(street: str, lead: str, assisting: list[str] | None = None, status: TicketStatus = TicketStatus.REPORTED):
    return domain.assign(
        status=status,
        street_code=street,
        previous_round=0,
        lead=lead,
        assisting=assisting or [],
        departments=DEPARTMENTS,
        now=NOW,
        sla=SLA,
        priority=Priority.NORMAL,
        calendar=ALWAYS,
    )


def test_a_department_serves_the_streets_it_names_or_the_whole_district_when_it_names_none() -> None:
    assert domain.serves(DEPARTMENTS["ZF-LJ"], "LJ") and not domain.serves(DEPARTMENTS["ZF-LJ"], "WH")
    assert domain.serves(DEPARTMENTS["CG"], "LJ") and domain.serves(DEPARTMENTS["CG"], "SL")
    assert domain.serves({"code": "X", "serves": []}, "SL")


def test_the_street_dispatches_by_hand_only_to_departments_that_serve_the_tickets_street() -> None:
    dispatched = _assign("LJ", "ZF-LJ", ["CG"])
    assert (dispatched.lead_department, dispatched.assisting_departments, dispatched.manual) == ("ZF-LJ", ["CG"], True)
    with pytest.raises(domain.DepartmentNotServing) as lead:
        _assign("WH", "ZF-LJ")  # 临江's team, for a ticket in 望湖
    assert (str(lead.value), lead.value.departments) == (
        "该部门不负责本街道 (department does not serve this street)",
        ["ZF-LJ"],
    )
    with pytest.raises(domain.DepartmentNotServing) as assisting:
        _assign("SL", "CG", ["ZF-WH", "SCJG", "ZF-LJ"])  # two street teams asked to help in 松林
    assert assisting.value.departments == ["ZF-WH", "ZF-LJ"]


def test_an_unknown_department_is_refused_and_a_ticket_not_waiting_is_refused_before_any_department() -> None:
    with pytest.raises(domain.InvalidAssignment, match="NOPE") as unknown:
        _assign("LJ", "CG", ["NOPE"])
    assert not isinstance(unknown.value, domain.DepartmentNotServing)
    with pytest.raises(TransitionNotAllowed):
        _assign("WH", "ZF-LJ", status=TicketStatus.DISPATCHED)


def test_a_duplicate_must_name_its_original_and_closed_tickets_cannot_be_cancelled() -> None:
    with pytest.raises(domain.InvalidAssignment):
        domain.cancel(
            status=TicketStatus.REPORTED, reason=CancelReason.DUPLICATE, comment="", duplicate_of=None, ticket_id="t1"
        )
    with pytest.raises(TransitionNotAllowed):
        domain.cancel(
            status=TicketStatus.CLOSED, reason=CancelReason.INVALID, comment="", duplicate_of=None, ticket_id="t1"
        )
    merge = {"status": TicketStatus.DISPATCHED, "reason": CancelReason.DUPLICATE, "comment": "同一井盖"}
    cancelled = domain.cancel(**merge, duplicate_of="t0", ticket_id="t1", original_status=TicketStatus.ACCEPTED)
    assert cancelled.duplicate_of == "t0"
    for finished in (TicketStatus.CLOSED, TicketStatus.CANCELLED):  # merged only into an open ticket
        with pytest.raises(domain.InvalidAssignment):
            domain.cancel(**merge, duplicate_of="t0", ticket_id="t1", original_status=finished)


def test_a_report_that_is_a_households_need_is_cancelled_as_converted_and_merges_into_nothing() -> None:
    converted = domain.cancel(
        status=TicketStatus.PENDING_DISPATCH,
        reason=CancelReason.CONVERTED_TO_NEED,
        comment="独居老人家中水龙头坏了，由社区认领",
        duplicate_of=None,
        ticket_id="t1",
    )
    assert converted.reason == CancelReason.CONVERTED_TO_NEED and converted.duplicate_of is None
    with pytest.raises(domain.InvalidAssignment, match="转为居民需求"):
        domain.cancel(
            status=TicketStatus.REPORTED,
            reason=CancelReason.CONVERTED_TO_NEED,
            comment="",
            duplicate_of="t0",
            ticket_id="t1",
            original_status=TicketStatus.DISPATCHED,
        )


def test_categories_without_their_own_time_limit_use_the_default() -> None:
    default = {
        "code": "default",
        "accept": {"within": 2, "unit": "working_hours"},
        "resolve": {"within": 5, "unit": "working_days"},
    }
    slas = {"default": default, "SJ-0101": SLA}
    assert domain.sla_for("SJ-0101", slas) is SLA
    assert domain.sla_for("BJ-0301", slas) is default


def _watched(**changes: object) -> dict[str, object]:
    dispatched_at = NOW
    resolve_by = NOW + timedelta(hours=4)
    return {
        "status": "dispatched",
        "lead": "CG",
        "overdue": [],
        "escalated": False,
        "dispatched_at": dispatched_at,
        "accept_deadline": NOW + timedelta(hours=1),
        "resolve_deadline": resolve_by,
        "escalate_at": domain.escalate_at(dispatched_at=dispatched_at, resolve_deadline=resolve_by),
    } | changes


def test_the_watchdog_announces_each_lapse_once_then_escalates_at_half_the_time_again() -> None:
    assert domain.watchdog_findings(_watched(), now=NOW + timedelta(minutes=59)) == []
    [late] = domain.watchdog_findings(_watched(), now=NOW + timedelta(hours=2))
    assert (late.kind, late.department) == ("accept", "CG")
    assert domain.watchdog_findings(_watched(overdue=["accept"]), now=NOW + timedelta(hours=2)) == []
    accepted = _watched(status="accepted", overdue=["accept"])
    [resolve_late] = domain.watchdog_findings(accepted, now=NOW + timedelta(hours=5))
    assert resolve_late.kind == "resolve"
    # 4 hours allowed: escalated 2 hours after the resolve deadline
    assert domain.watchdog_findings(accepted | {"overdue": ["accept", "resolve"]}, now=NOW + timedelta(hours=5)) == []
    [escalated] = domain.watchdog_findings(
        accepted | {"overdue": ["accept", "resolve"]}, now=NOW + timedelta(hours=6, minutes=1)
    )
    assert escalated.level == "district"
    marks = domain.watchdog_marks(accepted, [resolve_late, escalated])
    assert marks == {"overdue": ["accept", "resolve"], "escalated": True}


def test_a_resolved_ticket_is_never_late() -> None:
    assert domain.watchdog_findings(_watched(status="resolved"), now=NOW + timedelta(days=9)) == []


def test_the_third_rejection_escalates_to_the_district() -> None:
    assert domain.escalation_for_rejections(2) is None
    assert domain.escalation_for_rejections(3).level == "district"


def test_an_approved_extension_moves_the_deadline_and_restarts_the_watch_and_is_decided_once() -> None:
    until = NOW + timedelta(hours=10)
    ticket = _watched(
        status="accepted",
        overdue=["accept", "resolve"],
        extension={"status": "pending", "until": until, "reason": "需要采购配件"},
    )
    decided, changes = domain.decide_extension(
        ticket=ticket, status=TicketStatus.ACCEPTED, approved=True, comment="同意", now=NOW
    )
    assert decided.approved and decided.resolve_deadline == until
    assert changes["overdue"] == ["accept"] and changes["extended"]
    assert changes["escalate_at"] == until + (until - NOW) / 2
    with pytest.raises(domain.NoPendingExtension):
        domain.decide_extension(
            ticket=ticket | changes, status=TicketStatus.ACCEPTED, approved=False, comment="", now=NOW
        )


def test_a_denied_extension_keeps_the_deadline() -> None:
    ticket = _watched(status="accepted", extension={"status": "pending", "until": NOW + timedelta(days=3)})
    decided, changes = domain.decide_extension(
        ticket=ticket, status=TicketStatus.ACCEPTED, approved=False, comment="理由不充分", now=NOW
    )
    assert not decided.approved and decided.resolve_deadline == ticket["resolve_deadline"]
    assert "resolve_deadline" not in changes and changes["extension"]["status"] == "denied"
