"""The 共建 indicators' arithmetic on a hand-built set of records, and how events change the
records they are made of (docs/metrics.md, "共建 indicators")."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.shared.events import (
    Claimant,
    ClaimantKind,
    NeedClaimed,
    NeedClaimExpired,
    NeedContacted,
    NeedDelivered,
    NeedDone,
    NeedKind,
    NeedPublished,
    NeedRated,
    NeedReviewed,
    NeedSource,
    NeedSubmitted,
    OfferAccepted,
    OfferKind,
    OfferSubmitted,
    OfferUsed,
    ProjectApproved,
    ProjectCompleted,
    ProjectProposed,
    ProjectStarted,
    Rating,
)
from gridloop.stack.testing import make_event
from gridloop.supervision.cobuild import domain
from gridloop.supervision.cobuild.domain import CobuildUnit, WindowRecords

pytestmark = pytest.mark.unit
START = datetime(2030, 6, 1, tzinfo=UTC)
END = START + timedelta(days=30)
IN = START + timedelta(days=3)
AFTER = END + timedelta(days=1)
PLACES = {
    "LJ01": {"grid_code": "LJ01-G1", "community_code": "LJ01", "street_code": "LJ", "district_code": "QH"},
    "LJ02": {"grid_code": "LJ02-G1", "community_code": "LJ02", "street_code": "LJ", "district_code": "QH"},
}


def need(community: str = "LJ01", **fields: Any) -> dict[str, Any]:
    return {
        "_id": f"n-{len(fields)}",
        **PLACES[community],
        "submitted_at": IN,
        "offered_at": None,
        "claimed_at": None,
        "done_at": None,
        "on_time": None,
        "exit": None,
        "exited_at": None,
        "rating": None,
        "rated_at": None,
        **fields,
    }


DONE_ON_TIME = need(offered_at=IN, claimed_at=IN, done_at=IN, on_time=True, rating="satisfied", rated_at=IN)
DONE_LATE = need(offered_at=IN, claimed_at=IN, done_at=IN, on_time=False, rating="unsatisfied", rated_at=IN)
LJ01_NEEDS = [
    DONE_ON_TIME,
    DONE_LATE,
    need(offered_at=IN),  # published, nobody claimed it (escalated)
    need(exit="converted", exited_at=IN, rating="basically_satisfied", rated_at=IN),  # rated by its ticket
    need(exit="rejected", exited_at=IN),
    need(offered_at=IN, claimed_at=IN, done_at=AFTER, on_time=True),  # done only after the window
    need(exit="withdrawn", exited_at=AFTER),  # withdrawn after the window: still in the base
]
EARLIER_NEED_DONE_IN_WINDOW = need(submitted_at=START - timedelta(days=5), done_at=IN, on_time=True)
LJ01 = WindowRecords(
    needs_collected=LJ01_NEEDS,
    needs_done=[DONE_ON_TIME, DONE_LATE, EARLIER_NEED_DONE_IN_WINDOW],
    offers_accepted=[
        {**PLACES["LJ01"], "accepted_at": IN, "used_at": IN},
        {**PLACES["LJ01"], "accepted_at": IN, "used_at": None},
        {**PLACES["LJ01"], "accepted_at": IN, "used_at": AFTER},
    ],
    projects_approved=[
        {**PLACES["LJ01"], "approved_at": IN, "completed_at": IN, "beneficiaries": 40},
        {**PLACES["LJ01"], "approved_at": IN, "completed_at": None, "beneficiaries": 0},
    ],
    projects_completed=[
        {**PLACES["LJ01"], "approved_at": IN, "completed_at": IN, "beneficiaries": 40},
        {**PLACES["LJ01"], "approved_at": START - timedelta(days=40), "completed_at": IN, "beneficiaries": 15},
    ],
    hotspots_solved=[{**PLACES["LJ01"], "solved_at": IN}, {**PLACES["LJ01"], "solved_at": IN}],
)


def test_a_communitys_figures_follow_the_written_definitions() -> None:
    figures = domain.indicators(LJ01, end=END)
    assert (figures["needs_collected"], figures["needs_offered"], figures["needs_claimed"]) == (7, 4, 3)
    assert figures["claim_rate"] == 0.75
    # converted and rejected leave the base; a withdrawal after the window's end does not
    assert (figures["needs_converted"], figures["needs_rejected"], figures["needs_withdrawn"]) == (1, 1, 0)
    assert figures["needs_fulfilment_base"] == 5
    assert (figures["needs_done"], figures["fulfilment_rate"]) == (2, 0.4)
    assert (figures["needs_done_on_time"], figures["on_time_rate"]) == (1, 0.5)
    assert figures["conversion_rate"] == round(1 / 7, 4)
    assert (figures["needs_rated"], figures["satisfaction_rate"]) == (3, round(2 / 3, 4))
    assert (figures["offers_accepted"], figures["offers_used"], figures["offer_use_rate"]) == (3, 1, round(1 / 3, 4))
    assert (figures["projects_approved"], figures["projects_completed"]) == (2, 1)
    assert figures["project_completion_rate"] == 0.5
    # 受益人次: projects completed in the window, and every need done in it (one collected earlier too)
    assert (figures["beneficiaries_from_projects"], figures["beneficiaries_from_needs"]) == (55, 3)
    assert figures["beneficiaries"] == 58
    assert figures["hotspots_solved"] == 2


def test_every_rate_is_null_when_its_base_is_zero() -> None:
    only_rejected = WindowRecords(needs_collected=[need(exit="rejected", exited_at=IN)])
    figures = domain.indicators(only_rejected, end=END)
    assert figures["needs_collected"] == 1 and figures["conversion_rate"] == 0.0
    assert {rate: figures[rate] for rate in domain.RATES if rate != "conversion_rate"} == dict.fromkeys(
        set(domain.RATES) - {"conversion_rate"}
    )
    assert all(value is None for value in domain.rates(domain.tally(WindowRecords(), end=END)).values())


def test_figures_split_by_unit_and_add_up_for_the_street() -> None:
    lj02 = need("LJ02", offered_at=IN, claimed_at=IN)
    records = WindowRecords(
        needs_collected=[*LJ01.needs_collected, lj02],
        needs_done=LJ01.needs_done,
        offers_accepted=LJ01.offers_accepted,
        projects_approved=LJ01.projects_approved,
        projects_completed=LJ01.projects_completed,
        hotspots_solved=LJ01.hotspots_solved,
    )
    communities = domain.unit_indicators(records, CobuildUnit.COMMUNITIES, end=END)
    assert list(communities) == ["LJ01", "LJ02"]
    assert communities["LJ01"] == domain.indicators(LJ01, end=END)
    assert (communities["LJ02"]["needs_collected"], communities["LJ02"]["claim_rate"]) == (1, 1.0)
    assert communities["LJ02"]["offer_use_rate"] is None
    streets = domain.unit_indicators(records, CobuildUnit.STREETS, end=END)
    assert list(streets) == ["LJ"]
    assert (streets["LJ"]["needs_collected"], streets["LJ"]["needs_claimed"]) == (8, 4)
    assert streets["LJ"]["claim_rate"] == 0.8
    grids = domain.unit_indicators(records, CobuildUnit.GRIDS, end=END)
    assert sorted(grids) == ["LJ01-G1", "LJ02-G1"]


def test_the_board_marks_communities_below_the_minimum_volume_as_insufficient() -> None:
    records = WindowRecords(needs_collected=[*LJ01.needs_collected, need("LJ02", offered_at=IN, claimed_at=IN)])
    figures = domain.unit_indicators(records, CobuildUnit.COMMUNITIES, end=END)
    rows = {r["code"]: r for r in domain.board(figures, ["LJ01", "LJ02", "LJ03"], end=END, min_volume=5)}
    assert list(rows) == ["LJ01", "LJ02", "LJ03"]
    assert (rows["LJ01"]["insufficient"], rows["LJ01"]["note"], rows["LJ01"]["claim_rate"]) == (False, "", 0.75)
    assert (rows["LJ02"]["insufficient"], rows["LJ02"]["note"]) == (True, "样本不足")
    assert rows["LJ02"]["needs_collected"] == 1  # the counts stay, the rates go
    assert all(rows["LJ02"][rate] is None for rate in domain.RATES)
    assert rows["LJ03"]["needs_collected"] == 0 and rows["LJ03"]["insufficient"]


# Records from events ---------------------------------------------------------------------

UNIT = Claimant(kind=ClaimantKind.UNIT, code="U-LJ-HOSP")


def _submitted(at: datetime) -> Any:
    return make_event(
        NeedSubmitted(
            need_number="XQ-1",
            kind=NeedKind.WISH,
            source=NeedSource.APP,
            category_code="NC-ELDER",
            review_deadline=at + timedelta(days=3),
            **PLACES["LJ01"],
        ),
        ticket_id="need-1",
        at=at,
    )


def test_a_needs_record_keeps_its_first_publication_and_claim_across_an_expired_claim() -> None:
    t = iter(START + timedelta(hours=h) for h in range(100))
    submitted = _submitted(next(t))
    record = domain.new_need(submitted, submitted.payload)
    events = [
        NeedReviewed(summary="老人需要助餐", category_code="NC-ELDER"),
        NeedPublished(claim_deadline=END),
        NeedClaimed(claimant=UNIT, contact_deadline=END),
        NeedClaimExpired(claimants=[UNIT], claim_deadline=END),
        NeedPublished(claim_deadline=END, again=True),  # not allowed while published: left out
        NeedClaimed(claimant=UNIT, contact_deadline=END),
        NeedContacted(claimant=UNIT, deliver_deadline=END),
        NeedDelivered(claimant=UNIT, note="送到", confirm_by=END),
        NeedDone(on_time=False),
        NeedRated(rating=Rating.BASICALLY_SATISFIED),
    ]
    moments = []
    for payload in events:
        at = next(t)
        moments.append(at)
        changes = domain.need_changes(record, make_event(payload, ticket_id="need-1", at=at))
        if changes is not None:
            record = {**record, **changes}
    assert record["status"] == "done"
    assert record["offered_at"] == moments[1] and record["claimed_at"] == moments[2]
    assert (record["done_at"], record["on_time"]) == (moments[8], False)
    assert (record["rating"], record["rated_at"]) == ("basically_satisfied", moments[9])


def test_an_event_the_needs_state_does_not_allow_changes_nothing() -> None:
    submitted = _submitted(START)
    record = domain.new_need(submitted, submitted.payload)
    assert domain.need_changes(record, make_event(NeedDone(), ticket_id="need-1", at=IN)) is None


def test_an_offer_counts_as_used_from_its_first_use_and_a_project_keeps_its_beneficiaries() -> None:
    submitted = make_event(
        OfferSubmitted(
            offer_number="ZY-1",
            unit_code="U-LJ-HOSP",
            kind=OfferKind.SERVICE,
            title="义诊",
            category_codes=["NC-HEALTH"],
            capacity=3,
            grid_code="LJ01-G1",
            community_codes=["LJ01", "LJ02"],
            street_code="LJ",
            district_code="QH",
            available_from=START,
            available_until=END,
        ),
        ticket_id="offer-1",
        at=START,
    )
    offer = domain.new_offer(submitted, submitted.payload)  # type: ignore[arg-type]
    for payload, at in [
        (OfferAccepted(community_code="LJ02"), IN),
        (OfferUsed(project_id="p", amount=1), IN + timedelta(days=1)),
        (OfferUsed(project_id="p", amount=2), IN + timedelta(days=2)),
    ]:
        offer = {**offer, **(domain.offer_changes(offer, make_event(payload, ticket_id="offer-1", at=at)) or {})}
    assert (offer["community_code"], offer["accepted_at"], offer["used_at"]) == ("LJ02", IN, IN + timedelta(days=1))
    assert (offer["uses"], offer["used_amount"]) == (2, 3)

    proposed = make_event(
        ProjectProposed(
            project_number="XM-1",
            title="助老食堂",
            summary="为老人助餐",
            category_code="NC-ELDER",
            planned_end=END,
            **PLACES["LJ01"],
        ),
        ticket_id="project-1",
        at=START,
    )
    project = domain.new_project(proposed, proposed.payload)  # type: ignore[arg-type]
    assert domain.project_changes(project, make_event(ProjectStarted(), ticket_id="project-1", at=IN)) is None
    for payload in (ProjectApproved(), ProjectStarted(), ProjectCompleted(report="完成", beneficiaries=12)):
        project = {
            **project,
            **(domain.project_changes(project, make_event(payload, ticket_id="project-1", at=IN)) or {}),
        }
    assert (project["status"], project["approved_at"], project["completed_at"]) == ("completed", IN, IN)
    assert project["beneficiaries"] == 12
