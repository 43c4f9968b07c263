"""The needs' rules on a clock the test holds: who may act on a need in which state, claim locks
and their expiry, group claims, releases, and deadlines on the working calendar."""

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridloop.cobuild import scope
from gridloop.cobuild.needs import domain
from gridloop.cobuild.needs.domain import Limits, NotAllowed, Place
from gridloop.shared.api.cobuild import NeedAction
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.events import (
    Actor,
    NeedClaimed,
    NeedClaimExpired,
    NeedDone,
    NeedEscalated,
    NeedKind,
    NeedOverdue,
    NeedSource,
    Rating,
    Role,
)
from gridloop.shared.worktime import china_calendar

pytestmark = pytest.mark.unit
CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 10, tzinfo=CST)
LIMITS = Limits()
CALENDAR = china_calendar([])
PLACE = Place(grid_code="LJ01-G1", community_code="LJ01", street_code="LJ", district_code="QH")
RESIDENT = Actor(sub="res-lj01", name="居民王阿姨", role=Role.RESIDENT, org="LJ01")
WORKER = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
OTHER_WORKER = Actor(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01")
HOSPITAL = Actor(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
SCHOOL = Actor(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
PAIRED = frozenset({"LJ01", "LJ02"})


def _need(at: datetime = NOW, **changes: Any) -> dict[str, Any]:
    submitted = domain.submit(
        number="XQ-20261207-0001",
        kind=NeedKind.WISH,
        source=NeedSource.APP,
        category_code="NC-ELDER",
        place=PLACE,
        now=at,
        limits=LIMITS,
        calendar=CALENDAR,
    )
    need = domain.new_need(submitted, need_id="n1", submitter=RESIDENT, location=None, now=at)
    return {**need, **changes}


def _apply(need: dict[str, Any], decision: domain.Decision) -> dict[str, Any]:
    return {**need, **decision[1]}


def _published(at: datetime = NOW) -> dict[str, Any]:
    need = _apply(_need(at), domain.review(_need(at), summary="独居老人需要每周代购", category_code=None))
    return _apply(need, domain.publish(need, now=at, limits=LIMITS))


def test_the_review_deadline_counts_working_days_across_a_weekend_and_new_year() -> None:
    # Wednesday 30 December 2026: Thursday 31, then 元旦 (Friday 1 January 2027) and the weekend
    # are not working days; the third working day is Tuesday 5 January
    need = _need(datetime(2026, 12, 30, 10, tzinfo=CST))
    assert need["review_deadline"] == datetime(2027, 1, 5, 10, tzinfo=CST)
    friday = _need(datetime(2026, 12, 11, 16, tzinfo=CST))
    assert friday["review_deadline"] == datetime(2026, 12, 16, 16, tzinfo=CST)


def test_a_category_record_sets_the_limits_and_missing_ones_keep_the_defaults() -> None:
    limits = Limits.of({"code": "NC-REPAIR", "name": "家电维修", "claim_days": 3, "contact_days": 2})
    assert (limits.claim_days, limits.contact_days, limits.review_days, limits.deliver_days) == (3, 2, 3, 30)
    assert Limits.of(None) == Limits()


def test_only_the_community_of_the_need_reviews_and_publishes_it() -> None:
    need = _need()
    with pytest.raises(NotAllowed):
        domain.authorise(NeedAction.REVIEW, need, OTHER_WORKER)
    with pytest.raises(NotAllowed):
        domain.authorise(NeedAction.REVIEW, need, RESIDENT)
    domain.authorise(NeedAction.REVIEW, need, WORKER)
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.publish(need, now=NOW, limits=LIMITS)  # not reviewed yet
    published = _published()
    assert published["status"] == "published" and published["summary"] == "独居老人需要每周代购"
    assert published["claim_deadline"] == NOW + timedelta(days=10)
    assert domain.allowed_actions(published, WORKER) == [NeedAction.ASSIGN, NeedAction.MERGE, NeedAction.CONVERT]


def test_a_claim_locks_the_need_and_expires_without_contact() -> None:
    need = _published()
    domain.authorise(NeedAction.CLAIM, need, HOSPITAL, unit_communities=PAIRED)
    with pytest.raises(NotAllowed):  # a unit not paired with the community
        domain.authorise(NeedAction.CLAIM, need, HOSPITAL, unit_communities=frozenset({"WH01"}))
    claimed_at = NOW + timedelta(days=1)
    payload, changes = domain.claim(need, actor=HOSPITAL, group=False, now=claimed_at, limits=LIMITS)
    assert isinstance(payload, NeedClaimed) and payload.contact_deadline == claimed_at + timedelta(days=7)
    need = {**need, **changes}
    assert need["status"] == "claimed" and need["claimant_codes"] == ["U-LJ-HOSP"]
    assert not scope.on_wall(need)
    # a second unit may not join a claim that was not a group's
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.claim(need, actor=SCHOOL, group=True, now=claimed_at, limits=LIMITS)
    assert NeedAction.CLAIM not in domain.allowed_actions(need, SCHOOL, unit_communities=PAIRED)

    assert domain.watchdog(need, now=claimed_at + timedelta(days=6), limits=LIMITS) is None
    late = claimed_at + timedelta(days=7, minutes=1)
    expired, changes = domain.watchdog(need, now=late, limits=LIMITS) or (None, {})
    assert isinstance(expired, NeedClaimExpired)
    assert [c.code for c in expired.claimants] == ["U-LJ-HOSP"] and expired.claim_deadline == late + timedelta(days=10)
    need = {**need, **changes}
    assert need["status"] == "published" and need["claimants"] == [] and scope.on_wall(need)
    assert domain.watchdog(need, now=late, limits=LIMITS) is None  # once


def test_a_contact_holds_the_claim_and_the_delivery_is_confirmed_by_itself() -> None:
    need = _published()
    need = _apply(need, domain.claim(need, actor=HOSPITAL, group=False, now=NOW, limits=LIMITS))
    need = _apply(need, domain.contact(need, actor=HOSPITAL, now=NOW + timedelta(days=2), limits=LIMITS))
    assert need["status"] == "in_service" and need["deliver_deadline"] == NOW + timedelta(days=32)
    assert domain.watchdog(need, now=NOW + timedelta(days=20), limits=LIMITS) is None  # no expiry once contacted
    overdue, changes = domain.watchdog(need, now=NOW + timedelta(days=33), limits=LIMITS) or (None, {})
    assert isinstance(overdue, NeedOverdue) and overdue.kind == "deliver"
    need = {**need, **changes}
    assert domain.watchdog(need, now=NOW + timedelta(days=33), limits=LIMITS) is None
    delivered_at = NOW + timedelta(days=34)
    need = _apply(need, domain.deliver(need, actor=HOSPITAL, note="已送达", photos=[], now=delivered_at, limits=LIMITS))
    assert need["status"] == "delivered" and need["on_time"] is False
    assert need["confirm_by"] == delivered_at + timedelta(days=7)
    done, changes = domain.watchdog(need, now=delivered_at + timedelta(days=8), limits=LIMITS) or (None, {})
    assert isinstance(done, NeedDone) and done.auto and not done.on_time
    need = {**need, **changes}
    assert need["status"] == "done"
    domain.authorise(NeedAction.RATE, need, RESIDENT)
    need = _apply(need, domain.rate(need, rating=Rating.SATISFIED, comment="", now=delivered_at))
    with pytest.raises(domain.AlreadyRated):
        domain.rate(need, rating=Rating.UNSATISFIED, comment="", now=delivered_at)


def test_a_group_claim_is_joined_and_a_release_publishes_the_need_again() -> None:
    need = _published()
    need = _apply(need, domain.claim(need, actor=HOSPITAL, group=True, now=NOW, limits=LIMITS))
    assert scope.on_wall(need)
    assert NeedAction.CLAIM in domain.allowed_actions(need, SCHOOL, unit_communities=PAIRED)
    joined, changes = domain.claim(need, actor=SCHOOL, group=False, now=NOW + timedelta(days=1), limits=LIMITS)
    assert isinstance(joined, NeedClaimed) and joined.group and joined.contact_deadline == NOW + timedelta(days=8)
    need = {**need, **changes}
    assert need["claimant_codes"] == ["U-LJ-HOSP", "U-LJ-SCHOOL"]
    # one of the group has reached the household: the claim holds past the joiner's contact deadline
    contacted = _apply(need, domain.contact(need, actor=HOSPITAL, now=NOW + timedelta(days=2), limits=LIMITS))
    assert contacted["status"] == "in_service"
    power = Actor(sub="ua-power", role=Role.UNIT_ADMIN, org="U-LJ-POWER")
    rejoined = _apply(contacted, domain.claim(contacted, actor=power, group=True, now=NOW, limits=LIMITS))
    assert rejoined["status"] == "claimed"  # by the table, until the one who joined contacts too
    assert domain.watchdog(rejoined, now=NOW + timedelta(days=30), limits=LIMITS) is None
    with pytest.raises(NotAllowed):  # already a claimant
        domain.authorise(NeedAction.CLAIM, need, SCHOOL, unit_communities=PAIRED)

    with pytest.raises(domain.NoReleaseRequested):
        domain.approve_release(need, now=NOW, limits=LIMITS)
    need = _apply(need, domain.request_release(need, actor=SCHOOL, reason="人手不足", now=NOW))
    with pytest.raises(domain.ReleaseAlreadyRequested):
        domain.request_release(need, actor=HOSPITAL, reason="再申请", now=NOW)
    assert NeedAction.APPROVE_RELEASE in domain.allowed_actions(need, WORKER)
    later = NOW + timedelta(days=2)
    released, changes = domain.approve_release(need, now=later, limits=LIMITS)
    assert [c.code for c in released.claimants] == ["U-LJ-HOSP", "U-LJ-SCHOOL"]  # type: ignore[attr-defined]
    need = {**need, **changes}
    assert need["status"] == "published" and need["claimants"] == [] and need["release_request"] is None
    assert need["claim_deadline"] == later + timedelta(days=10)


def test_an_unclaimed_need_goes_to_the_street_and_an_unreviewed_one_is_overdue_once() -> None:
    fresh = _need()
    overdue, changes = domain.watchdog(fresh, now=NOW + timedelta(days=5), limits=LIMITS) or (None, {})
    assert isinstance(overdue, NeedOverdue) and overdue.kind == "review"
    assert domain.watchdog({**fresh, **changes}, now=NOW + timedelta(days=6), limits=LIMITS) is None
    published = _published()
    escalated, changes = domain.watchdog(published, now=NOW + timedelta(days=11), limits=LIMITS) or (None, {})
    assert isinstance(escalated, NeedEscalated) and changes["status"] == "escalated"
    street = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    assert domain.allowed_actions({**published, **changes}, street) == [
        NeedAction.PUBLISH,
        NeedAction.ASSIGN,
        NeedAction.CONVERT,
    ]


def test_an_assignment_goes_only_to_a_paired_unit_which_accepts_or_returns_it() -> None:
    reviewed = _apply(_need(), domain.review(_need(), summary="需要义诊", category_code="NC-HEALTH"))
    with pytest.raises(domain.InvalidNeedRequest) as refused:
        domain.assign(reviewed, unit_code="U-WH-TAX", unit={"communities": ["WH01"]}, now=NOW, limits=LIMITS)
    assert refused.value.code == "unit_not_paired"
    need = _apply(
        reviewed,
        domain.assign(reviewed, unit_code="U-LJ-HOSP", unit={"communities": ["LJ01"]}, now=NOW, limits=LIMITS),
    )
    with pytest.raises(NotAllowed):
        domain.authorise(NeedAction.ACCEPT_ASSIGNMENT, need, SCHOOL)
    with pytest.raises(NotAllowed):  # an assigned need is not on the wall for others to claim
        domain.authorise(NeedAction.CLAIM, need, SCHOOL, unit_communities=PAIRED)
    returned = _apply(need, domain.return_assignment(need, actor=HOSPITAL, reason="本月无医生排班"))
    assert returned["status"] == "reviewed" and returned["assigned_unit"] is None
    accepted = _apply(need, domain.accept_assignment(need, actor=HOSPITAL, now=NOW, limits=LIMITS))
    assert accepted["status"] == "claimed" and accepted["claimant_codes"] == ["U-LJ-HOSP"]


def test_a_converted_need_takes_its_tickets_rating_and_is_not_rated_again() -> None:
    need = _need()
    converted = _apply(
        need,
        domain.convert(
            need,
            ticket_category={"code": "BJ-0101"},
            ticket_category_code="BJ-0101",
            description="楼道灯坏了",
            address="江畔小区3栋",
            grid_code=None,
            grid={"code": "LJ01-G1", "street": "LJ"},
            location=None,
        ),
    )
    assert converted["status"] == "converted"
    linked = domain.linked(converted, ticket_id="t1", ticket_number="QH-1")
    assert linked is not None
    converted = _apply(converted, linked)
    assert domain.linked(converted, ticket_id="t1", ticket_number="QH-1") is None  # once
    with pytest.raises(domain.RatedByTicket):
        domain.rate(converted, rating=Rating.SATISFIED, comment="", now=NOW)
    rated = domain.rated_by_ticket(converted, ticket_id="t1", rating=Rating.SATISFIED, comment="", now=NOW)
    assert rated is not None and rated[0].ticket_id == "t1"  # type: ignore[attr-defined]
    again = _apply(converted, rated)
    assert domain.rated_by_ticket(again, ticket_id="t1", rating=Rating.SATISFIED, comment="", now=NOW) is None


def test_who_sees_the_beneficiary() -> None:
    need = _published()
    assert scope.sees_private(WORKER, need) and scope.sees_private(RESIDENT, need)
    assert not scope.sees_private(OTHER_WORKER, need) and not scope.sees_private(HOSPITAL, need)
    assert scope.sees(HOSPITAL, need, unit_communities=PAIRED)  # on its wall, public part only
    claimed = _apply(need, domain.claim(need, actor=HOSPITAL, group=False, now=NOW, limits=LIMITS))
    assert scope.sees_private(HOSPITAL, claimed) and not scope.sees(SCHOOL, claimed, unit_communities=PAIRED)
    with pytest.raises(NotAllowed):
        domain.authorise(NeedAction.WITHDRAW, need, WORKER)


def test_a_submission_is_filed_in_the_submitters_own_area() -> None:
    assert domain.source_of(RESIDENT, community_code="LJ01", street_code="LJ") == NeedSource.APP
    street = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    assert domain.source_of(street, community_code="LJ02", street_code="LJ") == NeedSource.HOTLINE
    with pytest.raises(domain.NeedSubmissionRefused) as refused:
        domain.source_of(RESIDENT, community_code="WH01", street_code="WH")
    assert refused.value.status == 403
    with pytest.raises(domain.NeedSubmissionRefused):
        domain.source_of(HOSPITAL, community_code="LJ01", street_code="LJ")
    assert not domain.needs_beneficiary(NeedKind.WISH, RESIDENT) and domain.needs_beneficiary(NeedKind.WISH, WORKER)
    assert domain.need_number(now=datetime(2026, 12, 31, 23, tzinfo=CST), seq=42) == "XQ-20261231-0042"


def _step(action: NeedAction, need: dict[str, Any], actor: Actor) -> None:
    """The domain's decision of `action` with a body it may refuse (an unknown unit, a merge into
    nothing): only the caller's relation and the need's state are in question here."""
    steps = {
        NeedAction.REVIEW: lambda: domain.review(need, summary="独居老人需要每周代购", category_code=None),
        NeedAction.PUBLISH: lambda: domain.publish(need, now=NOW, limits=LIMITS),
        NeedAction.ASSIGN: lambda: domain.assign(need, unit_code="U-X", unit=None, now=NOW, limits=LIMITS),
        NeedAction.REJECT: lambda: domain.reject(need, reason="不属于服务范围"),
        NeedAction.MERGE: lambda: domain.merge(need, into=None, into_id="n2"),
        NeedAction.CONVERT: lambda: domain.convert(
            need,
            ticket_category=None,
            ticket_category_code="C-X",
            description="路灯损坏需维修",
            address="江畔路1号",
            grid_code=None,
            grid=None,
            location=None,
        ),
        NeedAction.APPROVE_RELEASE: lambda: domain.approve_release(need, now=NOW, limits=LIMITS),
        NeedAction.ACCEPT_ASSIGNMENT: lambda: domain.accept_assignment(need, actor=actor, now=NOW, limits=LIMITS),
        NeedAction.RETURN: lambda: domain.return_assignment(need, actor=actor, reason="人手不足无法承接"),
        NeedAction.CLAIM: lambda: domain.claim(need, actor=actor, group=False, now=NOW, limits=LIMITS),
        NeedAction.CONTACT: lambda: domain.contact(need, actor=actor, now=NOW, limits=LIMITS),
        NeedAction.REQUEST_RELEASE: lambda: domain.request_release(need, actor=actor, reason="人手不足", now=NOW),
        NeedAction.DELIVER: lambda: domain.deliver(
            need, actor=actor, note="已上门服务完毕", photos=[], now=NOW, limits=LIMITS
        ),
        NeedAction.CONFIRM: lambda: domain.confirm(need, now=NOW),
        NeedAction.RATE: lambda: domain.rate(need, rating=Rating.SATISFIED, comment="", now=NOW),
        NeedAction.WITHDRAW: lambda: domain.withdraw(need, reason="已自行解决"),
    }
    domain.authorise(action, need, actor, unit_communities=PAIRED)
    with suppress(domain.InvalidNeedRequest):  # the body named something that cannot be: the step was open
        steps[action]()


def test_a_need_shows_exactly_the_steps_its_caller_may_take_now_in_every_state() -> None:
    street = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    callers = [RESIDENT, WORKER, OTHER_WORKER, HOSPITAL, SCHOOL, street]
    claimed = {"claimants": [{"kind": "unit", "code": "U-LJ-HOSP"}], "claimant_codes": ["U-LJ-HOSP"]}
    release = {"claimant": {"kind": "unit", "code": "U-LJ-HOSP"}, "reason": "人手不足", "at": NOW}
    variants: list[dict[str, Any]] = [
        {},
        {"assigned_unit": "U-LJ-HOSP"},
        claimed,
        {**claimed, "group": True},
        {**claimed, "release_request": release},
        {"rating": "satisfied"},
    ]
    refusals = (
        NotAllowed,
        CobuildTransitionNotAllowed,
        domain.RatedByTicket,
        domain.AlreadyRated,
        domain.NoReleaseRequested,
        domain.ReleaseAlreadyRequested,
    )
    for status in domain.N:
        for variant in variants:
            need = _need(status=status.value, summary="独居老人需要每周代购", **variant)
            for actor in callers:
                accepted = []
                for action in NeedAction:
                    try:
                        _step(action, need, actor)
                    except refusals:
                        continue
                    accepted.append(action)
                shown = domain.allowed_actions(need, actor, unit_communities=PAIRED)
                assert shown == accepted, (status, variant, actor.sub)
