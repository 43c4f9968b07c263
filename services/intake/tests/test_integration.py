"""Intake against the real broker and database: what a grid worker's app sees, and what goes on the topic."""

import base64
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from gridloop.shared.events import Role
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, ok

pytestmark = pytest.mark.integration
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
JPEG_16PX = base64.b64decode(  # 16x16, with nothing but JFIF
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q"
    "EBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQID"
    "BAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/"
    "2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx"
    "4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+"
    "Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolv"
    "w4KOp1KM6iCNvngZHwetf//Z"
)
IN_LJ01_G1 = {"lon": 120.105, "lat": 30.205}
REPORTS_PER_MINUTE = 6
PHOTOS_PER_MINUTE = 8
OPEN311_READS_PER_MINUTE = 5


@pytest.fixture(scope="module")
def intake(servers: Servers, bus: Bus, service_logs: Path) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch(
        "intake",
        servers,
        service_logs,
        env={
            "GRIDLOOP_REPORT_RATE_LIMIT": f"{REPORTS_PER_MINUTE}/minute",
            "GRIDLOOP_PHOTO_RATE_LIMIT": f"{PHOTOS_PER_MINUTE}/minute",
            "GRIDLOOP_OPEN311_READ_RATE_LIMIT_PER_ADDRESS": f"{OPEN311_READS_PER_MINUTE}/minute",
            "GRIDLOOP_OPEN311_READ_RATE_LIMIT_PER_KEY": f"{2 * OPEN311_READS_PER_MINUTE}/minute",
        },
    )
    yield service
    service.process.stop()


def test_a_report_becomes_a_numbered_ticket_in_the_grid_found_from_its_point(intake: RunningService, bus: Bus) -> None:
    worker = intake.user(sub="gw-int-1", role=Role.GRID_WORKER, org="LJ01")
    report = ok(
        worker.call(
            "intake",
            "POST",
            "/v1/reports",
            json={"category_code": "BJ-0101", "description": "上水井盖破损", "location": IN_LJ01_G1},
        ),
        201,
    )
    assert report["grid_code"] == "LJ01-G1" and report["street_code"] == "LJ"
    assert report["ticket_number"].startswith("QH-")
    [event] = bus.wait_for(report["ticket_id"], "ticket.reported")
    assert event.payload.category_name == "上水井盖"
    assert event.actor.sub == "gw-int-1"
    assert ok(worker.call("intake", "GET", f"/v1/reports/{report['ticket_id']}"))["status"] == "reported"


def test_a_retry_with_the_same_key_returns_the_first_answer_and_files_nothing_new(
    intake: RunningService, bus: Bus
) -> None:
    worker = intake.user(sub="gw-int-2", role=Role.GRID_WORKER, org="WH02")
    body = {"category_code": "SJ-0101", "description": "垃圾满溢", "grid_code": "WH02-G1"}
    first = ok(worker.call("intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": "k-1"}), 201)
    again = ok(worker.call("intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": "k-1"}), 200)
    assert again["ticket_id"] == first["ticket_id"]
    other = worker.call(
        "intake", "POST", "/v1/reports", json={**body, "description": "另一处垃圾"}, headers={"Idempotency-Key": "k-1"}
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    bus.wait_for(first["ticket_id"], "ticket.reported")
    assert len(ok(worker.call("intake", "GET", "/v1/reports?mine=true"))["items"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"category_code": "XX-9999", "description": "未知类别", "location": IN_LJ01_G1}, 422, "unknown_category"),
        (
            {"category_code": "SJ-0101", "description": "定位在区外", "location": {"lon": 116.4, "lat": 39.9}},
            422,
            "outside_grids",
        ),
        ({"category_code": "SJ-0101", "description": "网格不存在", "grid_code": "NOPE"}, 422, "unknown_grid"),
        ({"category_code": "SJ-0101", "description": "没有位置"}, 422, "validation_error"),
        ({"description": "缺少类别", "location": IN_LJ01_G1}, 422, "validation_error"),
        (
            {"category_code": "SJ-0101", "description": "照片不存在", "location": IN_LJ01_G1, "photos": ["nope"]},
            422,
            "unknown_photos",
        ),
    ],
)
def test_bad_reports_get_a_clear_error_and_create_nothing(
    intake: RunningService, body: dict[str, object], status: int, code: str
) -> None:
    worker = intake.user(sub=f"gw-bad-{code}", role=Role.GRID_WORKER, org="LJ01")
    response = worker.call("intake", "POST", "/v1/reports", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert ok(worker.call("intake", "GET", "/v1/reports?mine=true"))["items"] == []


def test_no_token_or_a_bad_token_is_refused(intake: RunningService) -> None:
    import httpx

    body = {"category_code": "SJ-0101", "description": "无令牌", "location": IN_LJ01_G1}
    assert httpx.post(f"{intake.url}/v1/reports", json=body).status_code == 401
    bad = httpx.post(f"{intake.url}/v1/reports", json=body, headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_token"


def test_photos_are_checked_by_content_and_can_be_attached(intake: RunningService, bus: Bus) -> None:
    worker = intake.user(sub="gw-int-photo", role=Role.GRID_WORKER, org="LJ01")
    fake = worker.call(
        "intake", "POST", "/v1/attachments", files={"file": ("photo.jpg", b"%PDF-1.7 ...", "image/jpeg")}
    )
    assert fake.status_code == 422 and fake.json()["error"]["code"] == "not_an_image"
    photo = ok(worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.png", PNG_1PX, "image/png")}), 201)
    assert photo["content_type"] == "image/png"
    report = ok(
        worker.call(
            "intake",
            "POST",
            "/v1/reports",
            json={
                "category_code": "SJ-0101",
                "description": "带照片的上报",
                "location": IN_LJ01_G1,
                "photos": [photo["attachment_id"]],
            },
        ),
        201,
    )
    [event] = bus.wait_for(report["ticket_id"], "ticket.reported")
    assert event.payload.photos == [photo["attachment_id"]]
    assert worker.call("intake", "GET", f"/v1/attachments/{photo['attachment_id']}").content == PNG_1PX


def test_a_photo_uploaded_again_with_its_client_id_is_stored_once(intake: RunningService) -> None:
    """The app names each photo; after a lost answer it uploads the photo again with that name."""
    worker = intake.user(sub="gw-int-photo-retry", role=Role.GRID_WORKER, org="LJ01")
    other = intake.user(sub="gw-int-photo-other", role=Role.GRID_WORKER, org="LJ01")
    key = {"Idempotency-Key": "photo-client-id-1"}
    upload = {"file": ("p.png", PNG_1PX, "image/png")}
    first = ok(worker.call("intake", "POST", "/v1/attachments", files=upload, headers=key), 201)
    again = ok(worker.call("intake", "POST", "/v1/attachments", files=upload, headers=key), 200)
    assert again == first
    # Another worker's photo with the same client id is a different photo, and only theirs.
    theirs = ok(other.call("intake", "POST", "/v1/attachments", files=upload, headers=key), 201)
    assert theirs["attachment_id"] != first["attachment_id"]
    stolen = worker.call(
        "intake",
        "POST",
        "/v1/reports",
        json={
            "category_code": "SJ-0101",
            "description": "别人的照片",
            "location": IN_LJ01_G1,
            "photos": [theirs["attachment_id"]],
        },
    )
    assert stolen.status_code == 422 and stolen.json()["error"]["code"] == "unknown_photos"


def test_an_oversized_photo_is_refused_and_stored_nowhere(intake: RunningService) -> None:
    worker = intake.user(sub="gw-int-big", role=Role.GRID_WORKER, org="LJ01")
    huge = PNG_1PX + b"\0" * (10 * 1024 * 1024)
    response = worker.call("intake", "POST", "/v1/attachments", files={"file": ("big.png", huge, "image/png")})
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"


def test_a_report_is_seen_by_its_community_street_and_district_and_by_no_one_else(intake: RunningService) -> None:
    alice = intake.user(sub="gw-alice", role=Role.GRID_WORKER, org="LJ01")
    report = ok(
        alice.call(
            "intake",
            "POST",
            "/v1/reports",
            json={"category_code": "SJ-0101", "description": "我的上报", "location": IN_LJ01_G1},
        ),
        201,
    )
    path = f"/v1/reports/{report['ticket_id']}"
    sees = {
        ("gw-bob", Role.GRID_WORKER, "LJ01"): 200,  # same community: the grid's other worker
        ("gw-carol", Role.GRID_WORKER, "WH01"): 404,
        ("sd-lj", Role.STREET_DISPATCHER, "LJ"): 200,
        ("sd-wh", Role.STREET_DISPATCHER, "WH"): 404,
        ("sup-qh", Role.SUPERVISOR, "QH"): 200,
        ("sup-wh", Role.SUPERVISOR, "WH"): 404,
        ("agent-cg", Role.DEPARTMENT_AGENT, "CG"): 403,  # departments work from their inbox
    }
    for (sub, role, org), status in sees.items():
        user = intake.user(sub=sub, role=role, org=org)
        assert user.call("intake", "GET", path).status_code == status, (sub, status)
        if status == 200:
            listed = ok(user.call("intake", "GET", "/v1/reports", params={"limit": 200}))["items"]
            assert report["ticket_id"] in {i["ticket_id"] for i in listed}
        elif status == 404:
            listed = ok(user.call("intake", "GET", "/v1/reports", params={"limit": 200}))["items"]
            assert report["ticket_id"] not in {i["ticket_id"] for i in listed}


def test_metrics_count_requests_by_route_template(intake: RunningService) -> None:
    import httpx

    text = httpx.get(f"{intake.url}/metrics").text
    assert 'route="/v1/reports"' in text
    assert "gridloop_events_published_total" in text


def test_a_report_close_to_an_open_ticket_of_its_category_is_flagged_with_the_candidate(
    intake: RunningService, bus: Bus
) -> None:
    worker = intake.user(sub="gw-int-dup", role=Role.GRID_WORKER, org="LJ01")
    spot = {"lon": 120.1032, "lat": 30.2032}

    def file(category: str, lat_offset: float) -> dict[str, object]:
        body = {
            "category_code": category,
            "description": "路面污物",
            "location": {"lon": spot["lon"], "lat": spot["lat"] + lat_offset},
        }
        return ok(worker.call("intake", "POST", "/v1/reports", json=body), 201)

    first = file("SJ-0102", 0.0)
    assert first["possible_duplicates"] == []
    close_by = file("SJ-0102", 0.00027)  # 30 m north
    other_kind = file("SJ-0101", 0.00027)  # same place, another category
    far = file("SJ-0102", 0.0018)  # 200 m north
    assert close_by["possible_duplicates"] == [first["ticket_id"]]
    assert other_kind["possible_duplicates"] == [] and far["possible_duplicates"] == []
    [event] = bus.wait_for(str(close_by["ticket_id"]), "ticket.reported")
    assert event.payload.possible_duplicates == [first["ticket_id"]]


def test_a_user_filing_too_fast_is_told_when_to_retry_and_nothing_is_filed(intake: RunningService) -> None:
    flooder = intake.user(sub="gw-int-flood", role=Role.GRID_WORKER, org="LJ01")
    neighbour = intake.user(sub="gw-int-calm", role=Role.GRID_WORKER, org="LJ01")
    body = {"category_code": "SJ-0101", "description": "垃圾", "grid_code": "LJ01-G2"}
    for _ in range(REPORTS_PER_MINUTE):
        ok(flooder.call("intake", "POST", "/v1/reports", json=body), 201)
    refused = flooder.call("intake", "POST", "/v1/reports", json=body)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(ok(flooder.call("intake", "GET", "/v1/reports?mine=true"))["items"]) == REPORTS_PER_MINUTE
    ok(neighbour.call("intake", "POST", "/v1/reports", json=body), 201)  # a limit per user, not per street


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(intake: RunningService) -> None:
    worker = intake.user(sub="gw-int-huge", role=Role.GRID_WORKER, org="LJ01")
    huge = {"category_code": "SJ-0101", "description": "x" * (12 * 1024 * 1024), "grid_code": "LJ01-G2"}
    response = worker.call("intake", "POST", "/v1/reports", json=huge)
    assert response.status_code == 413
    assert ok(worker.call("intake", "GET", "/v1/reports?mine=true"))["items"] == []


def test_reports_are_filed_only_inside_the_reporters_own_area(intake: RunningService) -> None:
    body = {"category_code": "SJ-0101", "description": "别处的问题", "grid_code": "WH01-G1"}
    worker = intake.user(sub="gw-area", role=Role.GRID_WORKER, org="LJ01")  # 临江 community 01
    refused = worker.call("intake", "POST", "/v1/reports", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {"grid_code": "WH01-G1"}
    assert ok(worker.call("intake", "GET", "/v1/reports?mine=true"))["items"] == []
    # the other community of the same street is not theirs either; their own grid is
    assert worker.call("intake", "POST", "/v1/reports", json={**body, "grid_code": "LJ02-G1"}).status_code == 403
    ok(worker.call("intake", "POST", "/v1/reports", json={**body, "grid_code": "LJ01-G1"}), 201)
    desk = intake.user(sub="sd-area", role=Role.STREET_DISPATCHER, org="LJ")  # the street desk: the whole street
    ok(desk.call("intake", "POST", "/v1/reports", json={**body, "grid_code": "LJ02-G1"}), 201)
    assert desk.call("intake", "POST", "/v1/reports", json=body).status_code == 403


def test_reports_filed_at_the_same_moment_all_get_their_own_number_and_none_fails(
    intake: RunningService, bus: Bus
) -> None:
    """A street's morning: 32 grid workers press 上报 together, in the same district and day."""
    workers = [intake.user(sub=f"gw-rush-{n}", role=Role.GRID_WORKER, org="LJ01") for n in range(32)]
    start = threading.Barrier(len(workers))

    def file(n: int) -> tuple[int, dict[str, object]]:
        body = {
            "category_code": "SJ-0101",
            "description": "早高峰巡查发现暴露垃圾",
            "location": {"lon": 120.1006 + 0.0006 * (n % 8), "lat": 30.2006 + 0.0006 * (n // 8)},
        }
        start.wait()
        answer = workers[n].call("intake", "POST", "/v1/reports", json=body, headers={"Idempotency-Key": f"rush-{n}"})
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        answers = list(pool.map(file, range(len(workers))))
    assert [status for status, _ in answers] == [201] * len(workers)
    numbers = [str(report["ticket_number"]) for _, report in answers]
    assert len(set(numbers)) == len(workers)
    assert len({n.rsplit("-", 1)[0] for n in numbers}) == 1  # one district, one day
    for _, report in answers:
        [event] = bus.wait_for(str(report["ticket_id"]), "ticket.reported")
        assert event.payload.ticket_number == report["ticket_number"]


def test_a_filing_while_the_database_is_stalled_is_answered_503_at_once_and_filed_once_when_retried(
    intake: RunningService, servers: Servers
) -> None:
    worker = intake.user(sub="gw-int-stall", role=Role.GRID_WORKER, org="LJ01")
    body = {
        "category_code": "SJ-0101",
        "description": "数据库停顿时的上报",
        "location": {"lon": 120.1043, "lat": 30.2061},
    }
    headers = {"Idempotency-Key": "stall-1"}
    servers.database.pause()
    try:
        # The phone gives up after 8 s; intake answers by its 5 s bound on a change, not hanging.
        answer = worker.http.post(f"{intake.url}/v1/reports", json=body, headers=headers, timeout=8.0)
    finally:
        servers.database.resume()
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "unavailable"
    assert int(answer.headers["Retry-After"]) >= 1
    filed = eventually(
        lambda: (
            (r := worker.call("intake", "POST", "/v1/reports", json=body, headers=headers)).status_code in (200, 201)
            and r.json()
        ),
        timeout=30,
        what="the retried filing accepted",
    )
    mine = ok(worker.call("intake", "GET", "/v1/reports?mine=true"))["items"]
    assert [r["ticket_id"] for r in mine if r["description"] == body["description"]] == [filed["ticket_id"]]


def _exif_app1(*, make: bytes, orientation: int) -> bytes:
    """An Exif segment as a phone writes one: its make, how it was held, and where (GPS)."""
    make += b"\x00"
    make_at = 8 + 2 + 12 * 3 + 4
    gps_at = make_at + len(make)
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 3)
    tiff += struct.pack(">HHII", 0x010F, 2, len(make), make_at)  # Make
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)  # Orientation
    tiff += struct.pack(">HHII", 0x8825, 4, 1, gps_at) + struct.pack(">I", 0) + make  # GPS IFD
    tiff += struct.pack(">HHHI4sI", 1, 0x0001, 2, 2, b"N\x00\x00\x00", 0)  # GPSLatitudeRef N
    body = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def test_a_photo_is_kept_without_where_and_with_what_it_was_taken(intake: RunningService) -> None:
    """Whatever client uploads it, a photo comes back without its Exif (place, device) and without
    bytes hidden after the picture; a phone photo held sideways still says so, and nothing else."""
    worker = intake.user(sub="gw-int-exif", role=Role.GRID_WORKER, org="LJ01")
    tagged = JPEG_16PX[:2] + _exif_app1(make=b"GridPhone P60", orientation=1) + JPEG_16PX[2:] + b"GPS 30.205N"
    stored = ok(worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.jpg", tagged, "image/jpeg")}), 201)
    assert stored["size"] == len(JPEG_16PX)
    assert worker.call("intake", "GET", f"/v1/attachments/{stored['attachment_id']}").content == JPEG_16PX

    turned = JPEG_16PX[:2] + _exif_app1(make=b"GridPhone P60", orientation=6) + JPEG_16PX[2:]
    upright = ok(worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.jpg", turned, "image/jpeg")}), 201)
    kept = worker.call("intake", "GET", f"/v1/attachments/{upright['attachment_id']}").content
    assert b"GridPhone" not in kept and b"N\x00\x00\x00" not in kept
    jfif = 20  # SOI and the JFIF segment: the Exif that says only how it is turned comes after them
    assert kept[:jfif] == JPEG_16PX[:jfif] and kept.endswith(JPEG_16PX[jfif:]) and b"\x01\x12\x00\x03" in kept

    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    refused = worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.heic", heic, "image/heic")})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unsupported_image"


def test_a_user_uploading_too_fast_is_told_when_to_retry_and_nothing_is_stored(intake: RunningService) -> None:
    flooder = intake.user(sub="gw-int-photo-flood", role=Role.GRID_WORKER, org="LJ01")
    neighbour = intake.user(sub="gw-int-photo-calm", role=Role.GRID_WORKER, org="LJ01")
    upload = {"file": ("p.png", PNG_1PX, "image/png")}
    for n in range(PHOTOS_PER_MINUTE):
        ok(flooder.call("intake", "POST", "/v1/attachments", files=upload, headers={"Idempotency-Key": f"f{n}"}), 201)
    key = {"Idempotency-Key": "one-too-many"}
    refused = flooder.call("intake", "POST", "/v1/attachments", files=upload, headers=key)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    ok(neighbour.call("intake", "POST", "/v1/attachments", files=upload), 201)  # a limit per user


def test_a_photo_is_read_by_its_uploader_and_the_readers_of_a_report_naming_it_and_by_no_one_else(
    intake: RunningService,
) -> None:
    worker = intake.user(sub="gw-int-photo-own", role=Role.GRID_WORKER, org="LJ01")
    desk = intake.user(sub="sd-int-photo", role=Role.STREET_DISPATCHER, org="LJ")
    elsewhere = intake.user(sub="gw-int-photo-wh", role=Role.GRID_WORKER, org="WH01")
    named = ok(worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.png", PNG_1PX, "image/png")}), 201)
    loose = ok(worker.call("intake", "POST", "/v1/attachments", files={"file": ("p.png", PNG_1PX, "image/png")}), 201)
    body = {"category_code": "SJ-0101", "description": "照片可见范围", "location": IN_LJ01_G1}
    ok(worker.call("intake", "POST", "/v1/reports", json={**body, "photos": [named["attachment_id"]]}), 201)
    path = "/v1/attachments/{}".format
    assert worker.call("intake", "GET", path(loose["attachment_id"])).status_code == 200
    assert desk.call("intake", "GET", path(named["attachment_id"])).status_code == 200
    for reader, photo in ((desk, loose), (elsewhere, named), (elsewhere, loose)):
        hidden = reader.call("intake", "GET", path(photo["attachment_id"]))
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


def test_open311_reads_past_the_allowance_of_an_address_or_a_key_are_told_when_to_retry(
    intake: RunningService,
) -> None:
    """Reads need no sign-in: anyone is counted by the address they call from (the gateway's
    X-Forwarded-For, which uvicorn believes from loopback), a client application by its key."""

    def read(path: str, address: str, **params: str) -> httpx.Response:
        return httpx.get(f"{intake.url}/open311/v2/{path}", params=params, headers={"X-Forwarded-For": address})

    for n in range(OPEN311_READS_PER_MINUTE):
        assert read("services.json" if n % 2 else "requests.xml", "198.51.100.7").status_code == 200
    refused = read("requests.json", "198.51.100.7")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()[0]["code"] == 429 and "频繁" in refused.json()[0]["description"]
    assert read("requests.json", "198.51.100.8").status_code == 200  # another address is not held back

    admin = intake.user(sub="admin-int-311", role=Role.ADMIN, org="QH")
    key = ok(admin.call("intake", "POST", "/v1/open311-clients", json={"name": "随手拍", "area": ["LJ"]}), 201)[
        "api_key"
    ]
    for _ in range(2 * OPEN311_READS_PER_MINUTE):  # the key's allowance, from an address already spent
        assert read("requests.json", "198.51.100.7", api_key=key).status_code == 200
    spent = read("requests.xml", "198.51.100.9", api_key=key)
    assert spent.status_code == 429 and spent.headers["Retry-After"] and spent.text.startswith("<?xml")
