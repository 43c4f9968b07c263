import base64
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from gridloop.intake import domain
from gridloop.intake.domain import (
    DuplicatePolicy,
    distance_m,
    duplicate_filter,
    duplicate_key,
    duplicates_within,
)
from gridloop.shared.api.intake import ReportRequest
from gridloop.shared.events import Actor, GeoPoint, NeedConverted, Role

pytestmark = pytest.mark.unit
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
GRID = {"code": "LJ01-G1", "community": "LJ01", "street": "LJ"}
CATEGORY = {"code": "SJ-0101", "name": "暴露垃圾"}


def test_a_report_needs_a_place() -> None:
    with pytest.raises(ValidationError):
        ReportRequest(category_code="SJ-0101", description="垃圾堆积")
    assert ReportRequest(category_code="SJ-0101", description="垃圾堆积", grid_code="LJ01-G1").grid_code


def test_ticket_numbers_are_readable_and_sortable() -> None:
    day = domain.ticket_day(datetime(2026, 11, 22, 8, tzinfo=UTC))
    assert domain.ticket_number(district="QH", day=day, seq=42) == "QH-20261122-00042"


def test_ticket_numbers_carry_the_citys_date_across_midnight_and_the_new_year() -> None:
    # 23:30 UTC on New Year's Eve is 07:30 on 1 January in the city: a new day, a new year, a new count.
    assert domain.ticket_day(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == "20261231"
    assert domain.ticket_day(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "20270101"
    assert domain.ticket_day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "20270101"


def test_the_same_body_has_the_same_fingerprint_and_any_change_another() -> None:
    a = ReportRequest(category_code="SJ-0101", description="垃圾堆积", grid_code="LJ01-G1")
    b = ReportRequest(category_code="SJ-0101", description="垃圾堆积", grid_code="LJ01-G1")
    c = ReportRequest(category_code="SJ-0101", description="垃圾堆积很多", grid_code="LJ01-G1")
    assert domain.fingerprint(a) == domain.fingerprint(b) != domain.fingerprint(c)


def test_the_registered_ticket_carries_the_grid_tree_and_category_name() -> None:
    request = ReportRequest(category_code="SJ-0101", description="垃圾堆积", location={"lon": 120.105, "lat": 30.205})
    reported = domain.build_report(request, number="QH-20261122-00001", category=CATEGORY, grid=GRID, district="QH")
    assert (reported.grid_code, reported.community_code, reported.street_code, reported.district_code) == (
        "LJ01-G1",
        "LJ01",
        "LJ",
        "QH",
    )
    assert reported.category_name == "暴露垃圾"


def test_images_are_recognised_by_their_bytes_not_their_names() -> None:
    assert domain.image_type(PNG_1PX) == "image/png"
    assert domain.image_type(b"%PDF-1.7 pretending to be photo.jpg") is None
    assert domain.image_type(b"MZ\x90\x00 an executable") is None


def test_photos_are_refused_when_empty_too_large_or_not_images() -> None:
    assert domain.check_photo(PNG_1PX, max_bytes=1000) == "image/png"
    for data, code in [(b"", "empty_file"), (PNG_1PX * 100, "too_large"), (b"GIF89a-not-taken", "not_an_image")]:
        with pytest.raises(domain.ReportRefused) as refused:
            domain.check_photo(data, max_bytes=1000)
        assert refused.value.code == code


def test_a_report_is_numbered_in_its_streets_district_and_never_in_a_guessed_one() -> None:
    assert domain.district_of(GRID, {"code": "LJ", "name": "临江街道", "district": "QH"}) == "QH"
    # The grid arrived before its street: refused until the directory names the street's district.
    with pytest.raises(domain.ReportRefused) as refused:
        domain.district_of(GRID, None)
    assert refused.value.code == "unknown_street"
    assert refused.value.details == {"grid_code": "LJ01-G1", "street_code": "LJ"}


def test_the_duplicate_hint_names_every_report_within_reach_and_keeps_only_the_close_open_recent_ones() -> None:
    policy = DuplicatePolicy(radius_m=50.0, window=timedelta(hours=72))
    here = GeoPoint(lon=120.10099, lat=30.20099)  # a corner shared by four cells
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    query = duplicate_filter(category_code="SJ-0101", location=here, now=now, policy=policy)
    assert query is not None
    keys = set(query["duplicate_key"]["$in"])
    assert len(keys) <= 9 * 4  # cells the radius touches, times the days the window touches

    def report(n: int, point: GeoPoint, *, hours_ago: float, status: str = "dispatched") -> dict[str, object]:
        at = now - timedelta(hours=hours_ago)
        return {
            "_id": f"t{n}",
            "location": point.model_dump(),
            "status": status,
            "created_at": at,
            "key": duplicate_key("SJ-0101", point.lon, point.lat, at),
        }

    # 45 m away in each direction: each in a neighbouring cell, and filed up to three days ago
    nearby = [
        report(0, GeoPoint(lon=here.lon, lat=here.lat + 0.000405), hours_ago=71),
        report(1, GeoPoint(lon=here.lon, lat=here.lat - 0.000405), hours_ago=1),
        report(2, GeoPoint(lon=here.lon + 0.00047, lat=here.lat), hours_ago=30),
        report(3, GeoPoint(lon=here.lon - 0.00047, lat=here.lat), hours_ago=50),
    ]
    assert all(r["key"] in keys for r in nearby)
    assert all(40 < distance_m(here, GeoPoint.model_validate(r["location"])) < 50 for r in nearby)
    others = [
        report(4, GeoPoint(lon=here.lon, lat=here.lat + 0.00063), hours_ago=1),  # 70 m: a cell in reach, too far
        report(5, here, hours_ago=1, status="closed"),
        report(6, here, hours_ago=73),  # on a day in reach, older than the window
    ]
    assert duplicate_key("SJ-0102", here.lon, here.lat, now) not in keys
    assert duplicate_key("SJ-0101", here.lon, here.lat, now - timedelta(days=4)) not in keys
    assert duplicates_within(here, [*nearby, *others], now=now, policy=policy) == ["t3", "t2", "t1", "t0"]


def test_a_converted_need_is_the_report_a_hotline_desk_would_file_in_the_converters_area() -> None:
    need = NeedConverted(
        ticket_category_code="BJ-0101", description="楼前井盖缺失", address="江畔路12号", grid_code="LJ01-G1"
    )
    request = domain.converted_report(need)
    assert request == ReportRequest(
        category_code="BJ-0101", description="楼前井盖缺失", address="江畔路12号", grid_code="LJ01-G1"
    )
    assert request.caller is None  # the need's beneficiary stays in cobuild
    report = domain.build_report(
        request, number="QH-20261207-00001", category=CATEGORY, grid=GRID, district="QH", origin_need_id="N-1"
    )
    assert report.origin_need_id == "N-1"
    worker = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    assert domain.conversion_area(worker).covers(GRID, "QH")
    assert not domain.conversion_area(worker.model_copy(update={"org": "WH01"})).covers(GRID, "QH")
    # one record per need, never a person's `sub:key`
    assert domain.conversion_key("N-1") == domain.conversion_key("N-1") != domain.conversion_key("N-2")
    assert ":" not in domain.conversion_key("N-1")
