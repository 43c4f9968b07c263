"""Offers' rules on a set clock: who may offer what to whom, who answers, what is left to use."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild.offers import domain
from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed, Place
from gridloop.shared.api.cobuild import OfferAction, OfferRequest
from gridloop.shared.events import Actor, OfferKind, Role

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOSPITAL = {
    "code": "U-LJ-HOSP",
    "name": "区人民医院",
    "kind": "hospital",
    "grid": "LJ01-G1",
    "street": "LJ",
    "liaison": "工会 王主任",
    "communities": ["LJ01", "LJ02"],
}
HOSP_ADMIN = Actor(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
SCHOOL_ADMIN = Actor(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
LJ01 = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
LJ02 = Actor(sub="cw-lj02", role=Role.COMMUNITY_WORKER, org="LJ02")
WH01 = Actor(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01")
HOME = Place(grid_code="LJ01-G1", community_code="LJ01", street_code="LJ", district_code="QH")


def _request(**changes: Any) -> OfferRequest:
    body: dict[str, Any] = {
        "kind": "service",
        "title": "义诊进社区",
        "description": "每月一次",
        "category_codes": ["NC-HEALTH"],
        "capacity": 3,
        "community_codes": ["LJ01", "LJ02"],
        "available_from": NOW.isoformat(),
        "available_until": (NOW + timedelta(days=60)).isoformat(),
        **changes,
    }
    return OfferRequest.model_validate(body)


def _offer(**changes: Any) -> dict[str, Any]:
    doc, _ = domain.submit(
        offer_id="o1",
        number="ZY-20261207-0001",
        request=_request(**changes),
        unit=HOSPITAL,
        unit_code="U-LJ-HOSP",
        place=HOME,
        need_categories={"NC-HEALTH", "NC-ELDER"},
        actor=HOSP_ADMIN,
        now=NOW,
    )
    return doc


def test_a_unit_offers_to_its_paired_communities_and_the_event_names_where_it_is() -> None:
    doc, event = domain.submit(
        offer_id="o1",
        number="ZY-20261207-0001",
        request=_request(),
        unit=HOSPITAL,
        unit_code="U-LJ-HOSP",
        place=HOME,
        need_categories={"NC-HEALTH"},
        actor=HOSP_ADMIN,
        now=NOW,
    )
    assert (doc["status"], doc["unit_name"], doc["used"]) == ("submitted", "区人民医院", 0)
    assert (event.kind, event.street_code, event.community_codes) == (OfferKind.SERVICE, "LJ", ["LJ01", "LJ02"])
    assert domain.kind_label(doc["kind"]) == "服务"


@pytest.mark.parametrize(
    ("changes", "unit", "code"),
    [
        ({"community_codes": ["LJ01", "WH01"]}, HOSPITAL, "community_not_paired"),
        ({"category_codes": ["NC-NOPE"]}, HOSPITAL, "unknown_category"),
        ({}, None, "unknown_unit"),
        (
            {
                "available_from": (NOW - timedelta(days=9)).isoformat(),
                "available_until": (NOW - timedelta(days=1)).isoformat(),
            },
            HOSPITAL,
            "offer_expired",
        ),
    ],
)
def test_an_offer_outside_the_units_pairing_or_the_directory_is_refused(
    changes: dict[str, Any], unit: dict[str, Any] | None, code: str
) -> None:
    with pytest.raises(Invalid) as refused:
        domain.submit(
            offer_id="o1",
            number="n",
            request=_request(**changes),
            unit=unit,
            unit_code="U-LJ-HOSP",
            place=HOME,
            need_categories={"NC-HEALTH"},
            actor=HOSP_ADMIN,
            now=NOW,
        )
    assert refused.value.code == code and refused.value.status == 422


def test_a_window_that_ends_before_it_starts_is_not_a_request() -> None:
    with pytest.raises(ValueError, match="available_until"):
        _request(available_until=(NOW - timedelta(days=1)).isoformat())


def test_the_first_community_accepts_the_offer_and_the_next_ones_are_recorded_without_a_second_event() -> None:
    offer = _offer()
    assert domain.allowed_actions(offer, LJ01, NOW) == [OfferAction.ACCEPT, OfferAction.DECLINE]
    assert domain.allowed_actions(offer, WH01, NOW) == []
    changes, event = domain.accept(offer, actor=LJ01, now=NOW)
    assert event is not None and event.community_code == "LJ01" and changes["status"] == "accepted"
    offer = {**offer, **changes}
    with pytest.raises(Conflict, match="已答复"):
        domain.accept(offer, actor=LJ01, now=NOW)
    more, again = domain.accept(offer, actor=LJ02, now=NOW)
    assert again is None and more["accepted_communities"] == ["LJ01", "LJ02"]
    with pytest.raises(NotAllowed):
        domain.accept(offer, actor=WH01, now=NOW)


def test_an_offer_is_declined_only_when_every_listed_community_declined_it() -> None:
    offer = _offer()
    changes, event = domain.decline(offer, actor=LJ01, reason="本社区暂无需要", now=NOW)
    assert event is None and "status" not in changes
    offer = {**offer, **changes}
    changes, event = domain.decline(offer, actor=LJ02, reason="场地不合适", now=NOW)
    assert event is not None and changes["status"] == "declined"


def test_only_its_unit_withdraws_an_offer_and_an_expired_one_is_not_accepted() -> None:
    offer = _offer()
    with pytest.raises(NotAllowed):
        domain.withdraw(offer, actor=SCHOOL_ADMIN, reason="不再提供", now=NOW)
    changes, event = domain.withdraw(offer, actor=HOSP_ADMIN, reason="人员调整", now=NOW)
    assert changes["status"] == "withdrawn" and event.reason == "人员调整"
    with pytest.raises(Conflict, match="过有效期"):
        domain.accept(offer, actor=LJ01, now=NOW + timedelta(days=61))


def test_a_project_uses_capacity_only_of_an_offer_its_community_accepted_while_some_is_left() -> None:
    offer = _offer()
    with pytest.raises(Conflict) as not_yet:
        domain.use(offer, community="LJ01", project_id="p1", amount=1, now=NOW)
    assert not_yet.value.code == "offer_not_accepted"
    offer = {**offer, **domain.accept(offer, actor=LJ01, now=NOW)[0]}
    changes, used = domain.use(offer, community="LJ01", project_id="p1", amount=2, now=NOW)
    assert (changes["used"], used.amount) == (2, 2)
    offer = {**offer, **changes}
    assert domain.remaining(offer) == 1
    with pytest.raises(Conflict) as exhausted:
        domain.use(offer, community="LJ01", project_id="p2", amount=2, now=NOW)
    assert exhausted.value.code == "offer_capacity_exhausted"
    with pytest.raises(Conflict):
        domain.use(offer, community="LJ02", project_id="p2", amount=1, now=NOW)


def test_who_sees_an_offer() -> None:
    offer = _offer()
    assert domain.visible(offer, HOSP_ADMIN) and domain.visible(offer, LJ02)
    assert not domain.visible(offer, SCHOOL_ADMIN) and not domain.visible(offer, WH01)
    assert domain.visible(offer, Actor(sub="sd", role=Role.STREET_DISPATCHER, org="LJ"))
    assert domain.list_filter(Actor(sub="r", role=Role.RESIDENT, org="LJ01")) is None
