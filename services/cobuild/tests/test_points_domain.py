"""The points ledger's rules without a stack: movements sum to zero, whole points for minutes,
post duty, reversal of an unsatisfied record, the shop's windows and redemption, FIFO expiry."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from gridloop.cobuild.points import domain
from gridloop.shared.events import LedgerEntry, PointsReason, RecordApproved

pytestmark = pytest.mark.unit
CITY_NOON = 4  # 12:00 in the city is 04:00 UTC


def _record(minutes: int, post_id: str | None = None) -> RecordApproved:
    return RecordApproved(
        record_id="R-1",
        activity_id="A-1",
        member_id="M-1",
        unit_code="U-LJ-HOSP",
        community_code="LJ01",
        grid_code="LJ01-G1",
        street_code="LJ",
        district_code="QH",
        service_date=datetime(2027, 3, 1, tzinfo=UTC),
        minutes=minutes,
        post_id=post_id,
    )


def _doc(m: domain.Movement, at: datetime) -> dict[str, Any]:
    return {
        "reason": m.reason.value,
        "source_ref": m.source_ref,
        "member_id": m.member_id,
        "community_code": m.community_code,
        "unit_code": m.unit_code,
        "at": at,
        "entries": [e.model_dump() for e in m.entries],
    }


def test_a_movement_must_balance() -> None:
    with pytest.raises(domain.UnbalancedMovement):
        domain.Movement(
            reason=PointsReason.SERVICE_HOURS,
            source_ref="R",
            member_id="M",
            community_code="LJ01",
            entries=(LedgerEntry(account="member:M", amount=2), LedgerEntry(account="community_pool:LJ01", amount=-1)),
        )
    with pytest.raises(domain.UnbalancedMovement):
        domain.Movement(
            reason=PointsReason.SERVICE_HOURS,
            source_ref="R",
            member_id="M",
            community_code="LJ01",
            entries=(LedgerEntry(account="member:M", amount=0),),
        )


@pytest.mark.parametrize(("minutes", "rate", "points"), [(45, 1, 0), (60, 1, 1), (90, 1, 1), (150, 1, 2), (90, 10, 15)])
def test_whole_points_for_minutes(minutes: int, rate: int, points: int) -> None:
    assert domain.hours_points(minutes, rate) == points


def test_an_approved_record_pays_hours_and_post_duty_from_the_pool() -> None:
    paid = domain.approved(_record(150, post_id="P-1"), domain.Rates())
    assert [(m.reason, m.member_amount) for m in paid] == [(PointsReason.SERVICE_HOURS, 2), (PointsReason.POST_DUTY, 1)]
    for m in paid:
        assert sum(e.amount for e in m.entries) == 0
        assert {e.account for e in m.entries} == {"member:M-1", "community_pool:LJ01"}
    assert domain.approved(_record(30), domain.Rates()) == []  # nothing for nothing


def test_reversal_gives_back_what_a_record_paid() -> None:
    at = datetime(2027, 3, 1, tzinfo=UTC)
    paid = [_doc(m, at) for m in domain.approved(_record(120, post_id="P-1"), domain.Rates())]
    back = domain.reversal(record_id="R-1", member_id="M-1", community="LJ01", paid=paid)
    assert back is not None and back.reason == PointsReason.REVERSAL
    assert back.member_amount == -3 and sum(e.amount for e in back.entries) == 0
    assert domain.reversal(record_id="R-1", member_id="M-1", community="LJ01", paid=[]) is None


def _shop(*windows: dict[str, Any]) -> domain.Shop:
    return domain.shop(
        "LJ01",
        items=[{"code": "RICE", "name": "大米5斤", "price": 5}, {"code": "OIL", "name": "食用油", "price": 3}],
        windows=list(windows),
    )


def _city(day: date, hour: int = CITY_NOON) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_monthly_window_in_city_time() -> None:
    shop = _shop({"kind": "monthly", "day": 15})
    assert domain.is_open(shop, _city(date(2027, 3, 15)))
    assert not domain.is_open(shop, _city(date(2027, 3, 16)))
    # 23:30 UTC on the 14th is 07:30 on the 15th in the city
    assert domain.is_open(shop, datetime(2027, 3, 14, 23, 30, tzinfo=UTC))
    assert domain.next_open(shop, _city(date(2027, 12, 16))) == date(2028, 1, 15)
    # the 31st in a short month is its last day
    end = _shop({"kind": "monthly", "day": 31})
    assert domain.is_open(end, _city(date(2027, 2, 28)))
    assert domain.next_open(end, _city(date(2027, 4, 1))) == date(2027, 4, 30)


def test_range_windows_and_none_ahead() -> None:
    shop = _shop({"kind": "range", "start": "2027-06-01", "end": "2027-06-07"})
    assert domain.is_open(shop, _city(date(2027, 6, 7)))
    assert domain.next_open(shop, _city(date(2027, 5, 20))) == date(2027, 6, 1)
    assert domain.next_open(shop, _city(date(2027, 6, 8))) is None
    with pytest.raises(domain.InvalidShop):
        _shop({"kind": "range", "start": "2027-06-07", "end": "2027-06-01"})
    with pytest.raises(domain.InvalidShop):
        domain.shop("LJ01", items=[{"code": "A", "name": "甲", "price": 1}] * 2, windows=[])


def test_redemption_inside_a_window_up_to_the_balance() -> None:
    shop = _shop({"kind": "monthly", "day": 15})
    day = _city(date(2027, 3, 15))
    lines = [domain.Line("RICE", 1), domain.Line("OIL", 2)]
    moved = domain.redeem(shop, lines=lines, balance=11, member_id="M-1", redemption_id="X", now=day)
    assert moved.member_amount == -11 and {e.account: e.amount for e in moved.entries}["shop:LJ01"] == 11
    with pytest.raises(domain.InsufficientPoints, match="需要 11 分"):
        domain.redeem(shop, lines=lines, balance=10, member_id="M-1", redemption_id="X", now=day)
    with pytest.raises(domain.ShopClosed, match="2027-04-15"):
        domain.redeem(shop, lines=lines, balance=99, member_id="M-1", redemption_id="X", now=_city(date(2027, 3, 16)))
    with pytest.raises(domain.UnknownItem):
        domain.redeem(shop, lines=[domain.Line("TV", 1)], balance=99, member_id="M-1", redemption_id="X", now=day)


def _earn(ref: str, amount: int, at: datetime) -> dict[str, Any]:
    m = domain.issue(PointsReason.SERVICE_HOURS, source_ref=ref, member_id="M-1", community="LJ01", amount=amount)
    assert m is not None
    return _doc(m, at)


def _spend(ref: str, amount: int, at: datetime) -> dict[str, Any]:
    return {
        "reason": "redeem",
        "source_ref": ref,
        "at": at,
        "entries": [{"account": "member:M-1", "amount": -amount}, {"account": "shop:LJ01", "amount": amount}],
    }


def test_fifo_expiry_across_a_year_boundary() -> None:
    history = [
        _earn("R-a", 10, datetime(2025, 12, 20, tzinfo=UTC)),
        _earn("R-b", 5, datetime(2026, 1, 10, tzinfo=UTC)),
        _spend("X-1", 4, datetime(2026, 6, 15, tzinfo=UTC)),  # uses the December points first
    ]
    # 2027-12-20 (city) minus 24 months: points earned before 2025-12-20 00:00 city expire; none yet
    cutoff = domain.expiry_cutoff(_city(date(2027, 12, 20)), 24)
    assert cutoff == datetime(2025, 12, 19, 16, tzinfo=UTC)
    assert domain.expiring(history, member_id="M-1", cutoff=cutoff) == 0
    # on New Year's Day 2028 the December lot is past: 10 earned, 4 of them spent, 6 expire
    cutoff = domain.expiry_cutoff(_city(date(2028, 1, 1)), 24)
    assert domain.expiring(history, member_id="M-1", cutoff=cutoff) == 6
    gone = domain.expire(member_id="M-1", community="LJ01", amount=6, cutoff=cutoff)
    assert gone is not None and gone.source_ref == "before:2026-01-01"
    history.append(_doc(gone, _city(date(2028, 1, 1))))
    assert domain.expiring(history, member_id="M-1", cutoff=cutoff) == 0  # the same day again: nothing
    # ten days later the January lot goes too
    cutoff = domain.expiry_cutoff(_city(date(2028, 1, 11)), 24)
    assert domain.expiring(history, member_id="M-1", cutoff=cutoff) == 5


def test_a_reversed_record_is_no_lot_to_expire() -> None:
    history = [
        _earn("R-a", 10, datetime(2025, 1, 5, tzinfo=UTC)),
        _earn("R-b", 3, datetime(2026, 12, 1, tzinfo=UTC)),
        {
            "reason": "reversal",
            "source_ref": "R-b",
            "at": datetime(2026, 12, 2, tzinfo=UTC),
            "entries": [{"account": "member:M-1", "amount": -3}, {"account": "community_pool:LJ01", "amount": 3}],
        },
    ]
    cutoff = domain.expiry_cutoff(_city(date(2027, 2, 1)), 24)
    assert domain.expiring(history, member_id="M-1", cutoff=cutoff) == 10


def test_months_before_a_leap_day() -> None:
    assert domain.months_before(date(2028, 2, 29), 24) == date(2026, 2, 28)


def test_ranking_is_positive_only_and_names_are_masked() -> None:
    earned = {f"M-{i:02d}": 30 - i for i in range(25)} | {"M-neg": -2, "M-zero": 0}
    top = domain.ranking(earned)
    assert len(top) == 20 and top[0] == ("M-00", 30) and all(p > 0 for _, p in top)
    assert "M-neg" not in dict(domain.ranking(earned, size=100)) and "M-zero" not in dict(domain.ranking(earned, 100))
    assert domain.mask_name("张明") == "张*" and domain.mask_name("欧阳明华") == "欧***"


def test_the_check_finds_a_balance_off_its_movements() -> None:
    assert domain.check({"member:M": 3, "community_pool:LJ01": -3}, {"member:M": 3, "community_pool:LJ01": -3}).ok
    off = domain.check({"member:M": 4, "community_pool:LJ01": -3}, {"member:M": 3, "community_pool:LJ01": -3})
    assert not off.ok and off.total == 1 and off.mismatched == [("member:M", 4, 3)]
    assert domain.parse_account("member:M-1") == ("member", "M-1") and domain.parse_account("bank:X") is None
