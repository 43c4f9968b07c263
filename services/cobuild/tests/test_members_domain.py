"""The rules of 双报到 and 公益岗位, without the stack: identity numbers, receipts, each step of a
member's lifecycle, the lapse rules across a year boundary, and posts' holders and headcount."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild.members import domain
from gridloop.cobuild.members.domain import MemberRefused, Residence, Rules
from gridloop.cobuild.posts import domain as posts
from gridloop.shared.api.members import PostCategory
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.events import LapseReason, ReportChannel
from gridloop.shared.volunteering_lifecycle import MemberStatus

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
VALID_ID = "11010519491231002X"  # GB 11643's own example
HOME = Residence(community_code="LJ01", street_code="LJ", district_code="QH")
RULES = Rules()


def member(status: MemberStatus = MemberStatus.PENDING, **extra: Any) -> dict[str, Any]:
    _, doc = domain.register(
        member_id="M-1",
        sub="pm-lj01",
        previous=None,
        residence=HOME,
        party_member=True,
        unit_code="U-LJ-HOSP",
        skills=["急救"],
        service_types=["NC-ELDER"],
        availability="周末",
        channel=ReportChannel.ONLINE,
        now=NOW,
    )
    return {**doc, "status": status.value, **extra}


# ---- identity numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [VALID_ID, "11010519491231002x", "440524188001010014", "110101199003074477"])
def test_valid_identity_numbers_pass_the_check(value: str) -> None:
    assert domain.valid_id_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # wrong check character
        "11010519491231002",  # 17 characters
        "1101051949123100211",  # 19
        "11010519491231X02X",  # a letter among the digits
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "",
    ],
)
def test_invalid_identity_numbers_are_refused(value: str) -> None:
    assert not domain.valid_id_number(value)
    with pytest.raises(MemberRefused) as refused:
        domain.check_registration(
            id_number=value,
            party_member=False,
            unit_code=None,
            unit=None,
            service_types=[],
            known_service_types=frozenset(),
        )
    assert (refused.value.status, refused.value.code) == (422, "invalid_id_number")


def test_only_a_salted_hash_and_the_tail_are_kept() -> None:
    one = domain.id_hash(VALID_ID, salt="salt-a-0123456789")
    assert VALID_ID not in one and len(one) == 64
    assert one == domain.id_hash(VALID_ID.lower(), salt="salt-a-0123456789")  # x and X are the same number
    assert one != domain.id_hash(VALID_ID, salt="salt-b-0123456789")
    assert domain.id_tail("11010519491231002x") == "002X"


def test_a_unit_must_exist_and_names_a_party_member_and_service_types_are_need_categories() -> None:
    def check(**kw: Any) -> str:
        base: dict[str, Any] = {
            "id_number": VALID_ID,
            "party_member": True,
            "unit_code": None,
            "unit": None,
            "service_types": [],
            "known_service_types": frozenset({"NC-ELDER"}),
        }
        with pytest.raises(MemberRefused) as refused:
            domain.check_registration(**{**base, **kw})
        return refused.value.code

    assert check(unit_code="U-NONE") == "unknown_unit"
    assert check(unit_code="U-LJ-HOSP", unit={"code": "U-LJ-HOSP"}, party_member=False) == "unit_needs_party_member"
    assert check(service_types=["NC-ELDER", "NC-MOON"]) == "unknown_service_type"


# ---- units --------------------------------------------------------------------------------------


def test_receipt_numbers_and_paired_communities_only() -> None:
    assert domain.receipt_number(community_code="LJ01", year=2026, seq=1) == "HZ-LJ01-2026-0001"
    hosp = {"code": "U-LJ-HOSP", "communities": ["LJ01", "LJ02"]}
    domain.report_unit(unit_code="U-LJ-HOSP", unit=hosp, community_code="LJ02")
    with pytest.raises(MemberRefused) as refused:
        domain.report_unit(unit_code="U-LJ-HOSP", unit=hosp, community_code="WH01")
    assert refused.value.code == "not_paired"
    with pytest.raises(MemberRefused):
        domain.report_unit(unit_code="U-NONE", unit=None, community_code="LJ01")
    # the city's year: 31 December 17:00 UTC is already New Year in the city
    assert domain.city_year(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == 2027


# ---- a member's lifecycle -----------------------------------------------------------------------


def test_registration_keeps_no_name_and_one_registration_per_person() -> None:
    doc = member()
    assert doc["status"] == "pending" and doc["current_sub"] == "pm-lj01"
    assert not {"name", "phone", "id_number", "id_hash"} & set(doc)
    for current in (MemberStatus.PENDING, MemberStatus.REPORTED, MemberStatus.ACTIVE, MemberStatus.LAPSED):
        with pytest.raises(MemberRefused) as refused:
            domain.register(**{**_register_args(), "previous": current})
        assert (refused.value.status, refused.value.code) == (409, "already_registered")
    for gone in (MemberStatus.INACTIVE, MemberStatus.TRANSFERRED):
        event, _ = domain.register(**{**_register_args(), "previous": gone})
        assert event.member_id == "M-2"


def _register_args() -> dict[str, Any]:
    return {
        "member_id": "M-2",
        "sub": "pm-lj01",
        "previous": None,
        "residence": HOME,
        "party_member": False,
        "unit_code": None,
        "skills": [],
        "service_types": [],
        "availability": "",
        "channel": ReportChannel.DESK,
        "now": NOW,
    }


def test_confirm_place_return_and_the_states_they_need() -> None:
    pending = member()
    event, changes = domain.confirm(pending, now=NOW)
    assert event.EVENT_TYPE == "member.confirmed" and changes["status"] == "reported"
    reported = {**pending, **changes}
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.place(pending, grid_code="LJ01-G1", grid_community="LJ01", squad="一队", now=NOW)
    with pytest.raises(MemberRefused) as refused:
        domain.place(reported, grid_code="WH01-G1", grid_community="WH01", squad="一队", now=NOW)
    assert refused.value.code == "grid_not_in_community"
    event, changes = domain.place(reported, grid_code="LJ01-G2", grid_community="LJ01", squad="一队", now=NOW)
    assert changes["status"] == "active" and changes["last_return_at"] == NOW
    active = {**reported, **changes}
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.confirm(active, now=NOW)
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.return_to_community(reported, now=NOW)
    lapsed = {**active, **domain.lapse(active, reason=LapseReason.MISSED_RETURN)[1]}
    assert lapsed["status"] == "lapsed" and lapsed["lapsed_reason"] == "missed_return"
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.lapse(lapsed, reason=LapseReason.MISSED_RETURN)
    back = domain.return_to_community(lapsed, now=NOW + timedelta(days=1))[1]
    assert back == {"status": "active", "last_return_at": NOW + timedelta(days=1), "lapsed_reason": None}


def test_deactivation_and_transfer_end_the_registration() -> None:
    _, changes = domain.deactivate(member(), reason="搬离本社区")
    assert changes == {"status": "inactive", "current_sub": None}
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.transfer(member(), to_community_code="LJ02", known=True)  # pending: not yet on the roll
    active = member(MemberStatus.ACTIVE)
    event, changes = domain.transfer(active, to_community_code="LJ02", known=True)
    assert changes["status"] == "transferred" and changes["current_sub"] is None and event.to_community_code == "LJ02"
    for target, known, code in (("LJ01", True, "same_community"), ("XX99", False, "unknown_community")):
        with pytest.raises(MemberRefused) as refused:
            domain.transfer(active, to_community_code=target, known=known)
        assert refused.value.code == code


def test_erase_blanks_free_text_in_any_state() -> None:
    for status in MemberStatus:
        event, changes = domain.erase(member(status))
        assert event.member_id == "M-1" and changes == {"skills": [], "availability": "", "erased": True}
    with pytest.raises(MemberRefused) as again:
        domain.erase(member(MemberStatus.ACTIVE, erased=True))
    assert (again.value.status, again.value.code) == (409, "already_erased")


# ---- lapse --------------------------------------------------------------------------------------


def test_missed_return_after_the_half_year_window() -> None:
    placed = member(MemberStatus.ACTIVE, placed_at=NOW, last_return_at=NOW)
    day_183 = NOW + timedelta(days=183)
    assert not domain.missed_return(placed, now=day_183, rules=RULES)
    assert domain.missed_return(placed, now=day_183 + timedelta(seconds=1), rules=RULES)
    assert not domain.missed_return(placed, now=NOW + timedelta(days=31), rules=Rules(return_interval_days=31))
    assert domain.missed_return(placed, now=NOW + timedelta(days=32), rules=Rules(return_interval_days=31))
    assert not domain.missed_return({**placed, "status": "lapsed"}, now=day_183 + timedelta(days=9), rules=RULES)


def test_the_yearly_minimum_is_judged_once_for_the_year_just_ended() -> None:
    new_year_in_city = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 1 January 2027 00:00 in the city
    assert domain.year_to_judge(now=new_year_in_city - timedelta(seconds=1), judged=2025) is None
    assert domain.year_to_judge(now=new_year_in_city, judged=2025) == 2026
    assert domain.year_to_judge(now=new_year_in_city, judged=2026) is None  # idempotent
    assert domain.year_to_judge(now=new_year_in_city, judged=None) == 2026
    assert domain.year_to_judge(now=datetime(2029, 5, 1, tzinfo=UTC), judged=2026) == 2028  # never stops on a date
    start, end = domain.year_bounds(2026)
    assert (start, end) == (datetime(2025, 12, 31, 16, tzinfo=UTC), new_year_in_city)


def test_who_is_held_to_the_minimum_and_what_is_short() -> None:
    early = member(MemberStatus.ACTIVE, placed_at=datetime(2026, 3, 1, tzinfo=UTC))
    late = member(MemberStatus.ACTIVE, placed_at=datetime(2026, 11, 1, tzinfo=UTC))
    assert domain.judged_in_year(early, year=2026, rules=RULES)
    assert not domain.judged_in_year(late, year=2026, rules=RULES)  # not a half-year to serve
    assert domain.judged_in_year(late, year=2027, rules=RULES)
    assert not domain.judged_in_year({**early, "status": "lapsed"}, year=2026, rules=RULES)
    assert domain.below_minimum(services=1, minutes=600, rules=RULES)
    assert domain.below_minimum(services=5, minutes=479, rules=RULES)
    assert not domain.below_minimum(services=2, minutes=480, rules=RULES)
    assert not domain.below_minimum(services=0, minutes=0, rules=Rules(min_services_per_year=0, min_minutes_per_year=0))


# ---- posts --------------------------------------------------------------------------------------


def post(headcount: int = 2, holders: list[str] | None = None) -> dict[str, Any]:
    _, doc = posts.publish(
        post_id="P-1",
        grid_code="LJ01-G1",
        grid_community="LJ01",
        community_code="LJ01",
        street_code="LJ",
        district_code="QH",
        category=PostCategory.SAFETY,
        title="楼道安全巡查",
        duties="每周巡查楼道消防通道",
        headcount=headcount,
        now=NOW,
    )
    return {**doc, "holders": holders or []}


def test_a_post_is_published_only_in_a_grid_of_the_community() -> None:
    event, doc = posts.publish(**{**_post_args(), "grid_community": "LJ01"})
    assert event.category == "安全宣传" and doc["status"] == "open" and doc["holders"] == []
    with pytest.raises(MemberRefused) as refused:
        posts.publish(**{**_post_args(), "grid_community": "WH01"})
    assert refused.value.code == "grid_not_in_community"


def _post_args() -> dict[str, Any]:
    return {
        "post_id": "P-9",
        "grid_code": "LJ01-G1",
        "grid_community": "LJ01",
        "community_code": "LJ01",
        "street_code": "LJ",
        "district_code": "QH",
        "category": PostCategory.SAFETY,
        "title": "楼道安全巡查",
        "duties": "每周巡查",
        "headcount": 1,
        "now": NOW,
    }


def test_claims_within_headcount_once_by_confirmed_members_of_the_community() -> None:
    one = {**member(MemberStatus.ACTIVE), "_id": "M-1"}
    two = {**member(MemberStatus.REPORTED), "_id": "M-2"}
    three = {**member(MemberStatus.ACTIVE), "_id": "M-3"}
    p = post(headcount=2)
    event, changes = posts.claim(p, one)
    assert event.member_id == "M-1" and changes["holders"] == ["M-1"]
    p = {**p, **changes}
    with pytest.raises(MemberRefused) as twice:
        posts.claim(p, one)
    assert twice.value.code == "already_claimed"
    p = {**p, **posts.claim(p, two)[1]}
    with pytest.raises(MemberRefused) as full:
        posts.claim(p, three)
    assert (full.value.status, full.value.code) == (409, "post_full")
    assert posts.open_places(p) == 0
    for status in (MemberStatus.PENDING, MemberStatus.LAPSED, MemberStatus.INACTIVE):
        with pytest.raises(MemberRefused) as refused:
            posts.claim(post(), {**member(status), "_id": "M-4"})
        assert refused.value.code == "member_not_active"
    with pytest.raises(MemberRefused) as elsewhere:
        posts.claim(post(), {**three, "community_code": "WH01"})
    assert elsewhere.value.status == 403


def test_the_last_post_is_not_released_while_every_member_must_hold_one() -> None:
    active = {**member(MemberStatus.ACTIVE), "_id": "M-1"}
    p = post(holders=["M-1"])
    with pytest.raises(MemberRefused) as refused:
        posts.release(p, active, other_posts=0, require_post=True)
    assert (refused.value.status, refused.value.code) == (409, "last_post")
    assert posts.release(p, active, other_posts=1, require_post=True)[1]["holders"] == []
    assert posts.release(p, active, other_posts=0, require_post=False)[1]["holders"] == []
    reported = {**active, "status": "reported"}
    assert posts.release(p, reported, other_posts=0, require_post=True)[1]["holders"] == []
    with pytest.raises(MemberRefused) as not_holder:
        posts.release(post(), active, other_posts=0, require_post=False)
    assert not_holder.value.code == "not_holder"


def test_a_closed_post_takes_no_claims() -> None:
    event, changes = posts.close(post())
    closed = {**post(), **changes}
    assert event.EVENT_TYPE == "post.closed" and closed["status"] == "closed"
    for step in (lambda: posts.close(closed), lambda: posts.claim(closed, member(MemberStatus.ACTIVE))):
        with pytest.raises(MemberRefused) as refused:
            step()
        assert refused.value.code == "post_closed"


def test_a_member_who_left_frees_their_place() -> None:
    event, changes = posts.vacate(post(holders=["M-1", "M-2"]), "M-1")
    assert (event.EVENT_TYPE, event.member_id, changes["holders"]) == ("post.released", "M-1", ["M-2"])
