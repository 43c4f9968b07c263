"""Pure intake rules: what makes a report fileable, ticket numbers, idempotency fingerprints."""

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
from shapely.geometry import Point, shape

from gridloop.shared.api.intake import ReportRequest
from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import Actor, GeoPoint, NeedConverted, Role, TicketReported

PHOTO_NAMESPACE = uuid.UUID("5b0f7c1e-3d4a-4c7e-9a51-2f1b8e6d9c03")  # names photos by their app-given ids
ALLOWED_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}


class ReportRefused(Exception):
    """A report that cannot become a ticket; the API answers 422 with this code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(message)


def check_caller(request: ReportRequest, reporter: Actor) -> None:
    """A caller's contact is what the street desk takes down from a 12345 call or a visit; no one
    else files one, as no one else would see it again."""
    if request.caller and reporter.role != Role.STREET_DISPATCHER:
        raise ReportRefused(
            "caller_not_allowed",
            "只有街道受理热线或来访时可登记来电人 (only a street desk records a caller)",
            {"field": "caller"},
        )


def sees_caller(reader: Actor, report: dict[str, Any]) -> bool:
    """The caller's contact is for the desk of the report's street alone: it calls them back. The
    grid workers, supervisors and departments who read the ticket never see it."""
    return reader.role == Role.STREET_DISPATCHER and reader.org == report.get("street_code")


def check_point_in_grid(grid: dict[str, Any], location: GeoPoint | None) -> None:
    """A report that names its grid and gives a point: the point lies in that grid (its edge
    included), or the report is refused rather than filed, and counted, in a grid it is not in. A
    grid kept without a boundary cannot be checked."""
    geometry = grid.get("geometry")
    if location is None or not isinstance(geometry, dict):
        return
    if not shape(geometry).intersects(Point(location.lon, location.lat)):
        raise ReportRefused(
            "point_outside_grid",
            f"定位不在所选网格 {grid['code']} 内，请核对网格或定位 (the point lies outside grid {grid['code']})",
            {"grid_code": grid["code"], "location": location.model_dump()},
        )


def ticket_day(now: datetime) -> str:
    """The city's date of a filing, which its ticket number carries: a report at 07:00 on New
    Year's Day in Shanghai is of 1 January, though it is still 31 December in UTC."""
    return f"{now.astimezone(CITY_ZONE):%Y%m%d}"


def ticket_number(*, district: str, day: str, seq: int) -> str:
    """Human-readable and sortable, e.g. QH-20261122-00042 (the 42nd report of the city's day)."""
    return f"{district}-{day}-{seq:05d}"


def fingerprint(body: ReportRequest) -> str:
    """Same request body, same fingerprint: an Idempotency-Key replay must match the first body."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_report(
    request: ReportRequest,
    *,
    number: str,
    category: dict[str, Any],
    grid: dict[str, Any],
    district: str,
    possible_duplicates: list[str] | None = None,
    origin_need_id: str | None = None,
) -> TicketReported:
    """The registered ticket (立案), from a checked request and the reference data it names;
    `origin_need_id`: the resident's need it was filed from (转办)."""
    return TicketReported(
        ticket_number=number,
        category_code=category["code"],
        category_name=category["name"],
        description=request.description,
        location=request.location,
        address=request.address,
        grid_code=grid["code"],
        community_code=grid["community"],
        street_code=grid["street"],
        district_code=district,
        photos=request.photos,
        priority=request.priority,
        evidence_required=bool(category.get("evidence_required", False)),
        possible_duplicates=possible_duplicates or [],
        origin_need_id=origin_need_id,
    )


@dataclass(frozen=True)
class Area:
    """Where a filer that is not a person at the counter may file (an Open311 client application,
    whoever converted a need): district, street or community codes. People file by the one rule
    of `shared.access.files_in`."""

    codes: frozenset[str]

    def covers(self, grid: dict[str, Any], district: str) -> bool:
        return bool(self.codes & {grid["community"], grid["street"], district})

    def as_filter(self) -> dict[str, Any]:
        """The reports of the area, as a MongoDB filter."""
        codes = sorted(self.codes)
        fields = ("community_code", "street_code", "district_code")
        return {"$or": [{field: {"$in": codes}} for field in fields]}


def converted_report(need: NeedConverted) -> ReportRequest:
    """转办: a resident's need that is a department's job, as the report the street desk would file
    for it from the hotline: the community's description, address, grid and point, in the ticket
    category the community chose. No caller: the need's beneficiary stays in cobuild."""
    return ReportRequest(
        category_code=need.ticket_category_code,
        description=need.description,
        address=need.address,
        grid_code=need.grid_code,
        location=need.location,
    )


def conversion_key(need_id: str) -> str:
    """The idempotency record of a need's filing: one ticket per need, however often it is announced.
    No colon, so no person's key (`sub:key`) can be it."""
    return f"need/{need_id}"


def conversion_area(converter: Actor) -> Area:
    """Where whoever converted a need may have it filed: their own community (a community worker),
    or street (a street desk)."""
    return Area(frozenset({converter.org}))


def district_of(grid: dict[str, Any], street: dict[str, Any] | None) -> str:
    """The district a report is numbered in, from its grid's street as the directory announced it.
    Never guessed: a grid can arrive before its street, and a ticket numbered in the wrong
    district would be counted, and supervised, there."""
    if street is None:
        raise ReportRefused(
            "unknown_street",
            "网格所属街道尚未登记，暂不能上报，请稍后重试或联系街道 "
            f"(grid {grid['code']} names street {grid['street']}, which the directory does not know)",
            {"grid_code": grid["code"], "street_code": grid["street"]},
        )
    return str(street["district"])


@dataclass(frozen=True)
class DuplicatePolicy:
    """疑似重复: a report of the same category this close to an open ticket filed this recently."""

    radius_m: float = 50.0
    window: timedelta = timedelta(hours=72)


EARTH_RADIUS_M = 6_371_008.8  # the mean radius, for the exact distance
CLOSED_STATES = ["closed", "cancelled"]
CELL_DEGREES = 0.001
"""The side of a duplicate-hint cell (格): about 111 m north-south, 96 m east-west in the Yangtze delta."""
DAY_SECONDS = 86_400


def cell_of(lon: float, lat: float) -> str:
    """The cell a point falls in."""
    return f"{math.floor(lat / CELL_DEGREES)}:{math.floor(lon / CELL_DEGREES)}"


def duplicate_key(category_code: str, lon: float, lat: float, at: datetime) -> str:
    """What a report is indexed by for the duplicate hint: its category, cell and (UTC) day. The
    hint's query is then an indexed `$in` over a handful of keys, whose work is bounded by the
    reports of those cells and days on any MongoDB-compatible server, however many are held."""
    return f"{category_code}|{cell_of(lon, lat)}|{int(at.timestamp() // DAY_SECONDS)}"


def cells_near(location: GeoPoint, radius_m: float) -> list[str]:
    """Every cell a circle of `radius_m` around the point touches (4 for 50 m, at most 9 for ~100 m)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(location.lat)), 0.01)
    rows = range(math.floor((location.lat - dlat) / CELL_DEGREES), math.floor((location.lat + dlat) / CELL_DEGREES) + 1)
    columns = range(
        math.floor((location.lon - dlon) / CELL_DEGREES), math.floor((location.lon + dlon) / CELL_DEGREES) + 1
    )
    return [f"{row}:{column}" for row in rows for column in columns]


def distance_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance (haversine) in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlambda = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def duplicate_filter(
    *, category_code: str, location: GeoPoint | None, now: datetime, policy: DuplicatePolicy
) -> dict[str, Any] | None:
    """The query for the reports a new one may duplicate: those of its category in the cells its
    radius touches, on the days its window touches; None when the report has no point. What it
    finds is then kept only if open, recent and within the radius (`duplicates_within`)."""
    if location is None:
        return None
    first = int((now - policy.window).timestamp() // DAY_SECONDS)
    last = int(now.timestamp() // DAY_SECONDS)
    keys = [
        f"{category_code}|{cell}|{day}"
        for cell in cells_near(location, policy.radius_m)
        for day in range(first, last + 1)
    ]
    return {"duplicate_key": {"$in": keys}}


def duplicates_within(
    location: GeoPoint, candidates: list[dict[str, Any]], *, now: datetime, policy: DuplicatePolicy, limit: int = 5
) -> list[str]:
    """The candidates' ids that are open, filed within the window and lie within the radius,
    newest first (ids sort by time), at most `limit`."""
    near = [
        c["_id"]
        for c in candidates
        if c["status"] not in CLOSED_STATES
        and c["created_at"] >= now - policy.window
        and distance_m(location, GeoPoint.model_validate(c["location"])) <= policy.radius_m
    ]
    return sorted(near, reverse=True)[:limit]


def indexed_place(category_code: str, location: GeoPoint | None, at: datetime) -> dict[str, Any]:
    """What a report keeps of its point besides `location`: GeoJSON for map queries on a real
    MongoDB, and the key the duplicate hint finds it by."""
    if location is None:
        return {}
    return {
        "point": {"type": "Point", "coordinates": [location.lon, location.lat]},
        "duplicate_key": duplicate_key(category_code, location.lon, location.lat, at),
    }


def image_type(head: bytes) -> str | None:
    """The image type the bytes really are, whatever the file name says; None if not an image we take."""
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ALLOWED_IMAGE_TYPES:
        return None
    return str(kind.mime)


def photo_id(owner: str, client_id: str) -> str:
    """The attachment id of a photo the app named itself: the same for the same owner and client id,
    so a retried upload finds the first one; different owners never collide."""
    return str(uuid.uuid5(PHOTO_NAMESPACE, f"{owner}\x00{client_id}"))


def check_photo(data: bytes, *, max_bytes: int) -> str:
    """The photo's real content type; refused when empty, too large, or not an image we take."""
    if len(data) > max_bytes:
        raise ReportRefused(
            "too_large", f"照片过大 (photo larger than {max_bytes} bytes)", {"size": len(data), "max_bytes": max_bytes}
        )
    if not data:
        raise ReportRefused("empty_file", "文件为空 (the file is empty)")
    content_type = image_type(data[:262])
    if content_type is None:
        raise ReportRefused("not_an_image", "文件不是受支持的图片 (not a JPEG, PNG, WebP or HEIC image)")
    return content_type
