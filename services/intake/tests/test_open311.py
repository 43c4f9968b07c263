"""Open311's rules on their own: states as open/closed with notes, a 311 form as a report, keys,
areas, and the filters of GET requests across a year's end."""

from datetime import UTC, datetime, timedelta

import pytest

from gridloop.intake.domain import Area
from gridloop.intake.open311 import domain
from gridloop.intake.open311.domain import Open311Error
from gridloop.intake.open311.render import to_xml
from gridloop.shared.lifecycle import TicketStatus

pytestmark = pytest.mark.unit
GARBAGE = {"code": "SJ-0101", "name": "暴露垃圾", "family": "event", "major": {"code": "01", "name": "市容环境"}}
POINT = {"lat": "30.205", "long": "120.105"}


def test_only_closed_and_cancelled_tickets_are_closed_for_open311() -> None:
    closed = {s for s in TicketStatus if domain.open_or_closed(s.value) == "closed"}
    assert closed == {TicketStatus.CLOSED, TicketStatus.CANCELLED}


@pytest.mark.parametrize(
    ("report", "notes"),
    [
        ({"status": "dispatched"}, "已派遣至城管局，等待接单"),
        ({"status": "reopened"}, "核查未通过，已退回城管局返工"),
        ({"status": "closed"}, "已办结：现场核查通过"),
        (
            {"status": "cancelled", "cancel_reason": "duplicate", "duplicate_of": "QH-20261231-00007"},
            "已撤销：重复上报，已并入（QH-20261231-00007）",
        ),
    ],
)
def test_status_notes_say_what_became_of_it_in_chinese(report: dict[str, str], notes: str) -> None:
    assert domain.status_notes(report, "城管局") == notes


def test_a_form_becomes_a_report_at_its_point_with_its_priority() -> None:
    filing = domain.parse_filing(
        {**POINT, "service_code": "SJ-0101", "attribute[priority]": "urgent", "api_key": "secret"}, category=GARBAGE
    )
    assert filing.report.location is not None and filing.report.location.lat == 30.205
    assert filing.report.priority == "urgent"
    assert filing.report.description == "暴露垃圾"  # the specification makes the text optional
    assert all(k != "api_key" for k, _ in filing.fingerprint_fields)


@pytest.mark.parametrize(
    "form",
    [
        {"service_code": "SJ-0101", "address_string": "江畔路1号"},  # no geocoder: an address cannot be placed
        {"service_code": "SJ-0101", "lat": "30.2"},
        {"service_code": "SJ-0101", "lat": "95", "long": "120.1"},
        {**POINT, "attribute[colour]": "red"},
        {**POINT, "media_url": "ftp://files.example/photo.jpg"},
        {**POINT, "description": "长" * 2001},
    ],
)
def test_a_form_that_cannot_be_filed_is_a_400(form: dict[str, str]) -> None:
    with pytest.raises(Open311Error) as refused:
        domain.parse_filing(form, category=GARBAGE)
    assert refused.value.status == 400 and refused.value.description


def test_the_same_form_from_the_same_application_is_the_same_filing() -> None:
    fields = domain.parse_filing({**POINT, "description": "井盖缺失"}, category=GARBAGE).fingerprint_fields
    again = domain.parse_filing({"description": "井盖缺失", **POINT}, category=GARBAGE).fingerprint_fields
    assert domain.implied_idempotency_key("app-1", fields) == domain.implied_idempotency_key("app-1", again)
    assert domain.implied_idempotency_key("app-1", fields) != domain.implied_idempotency_key("app-2", fields)


def test_keys_are_kept_only_as_hashes_and_checked_in_constant_time() -> None:
    key = domain.new_api_key()
    stored = domain.hash_key(key)
    assert key not in stored and domain.key_matches(key, stored) and not domain.key_matches(key + "x", stored)


def test_an_area_covers_its_communities_streets_and_district() -> None:
    grid = {"community": "LJ01", "street": "LJ"}
    assert Area(frozenset({"LJ"})).covers(grid, "QH")
    assert Area(frozenset({"QH"})).covers(grid, "QH")
    assert not Area(frozenset({"WH", "LJ02"})).covers(grid, "QH")


def test_the_default_window_is_ninety_days_back_across_the_new_year() -> None:
    now = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    query = domain.parse_query({}, now=now)
    assert query.start == now - timedelta(days=90) and query.end is None
    wanted = domain.parse_query({"status": "open", "start_date": "2026-12-31T23:00:00+08:00"}, now=now)
    assert "closed" not in (wanted.statuses or []) and "accepted" in (wanted.statuses or [])
    with pytest.raises(Open311Error):
        domain.parse_query({"start_date": "2027-01-02T00:00:00Z", "end_date": "2027-01-01T00:00:00Z"}, now=now)


def test_times_carry_the_citys_zone() -> None:
    assert domain.city_time(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01-01T00:00:00+08:00"


def test_xml_lists_are_plural_elements_of_singular_items() -> None:
    xml = to_xml("service_requests", [{"service_request_id": "QH-20270101-00001", "lat": 30.2, "token": None}])
    assert xml.endswith(
        b"<service_requests><request><service_request_id>QH-20270101-00001</service_request_id>"
        b"<lat>30.2</lat><token /></request></service_requests>"
    )
