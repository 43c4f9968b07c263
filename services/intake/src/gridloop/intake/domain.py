"""Pure intake rules: what makes a report fileable, ticket numbers, idempotency fingerprints."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridloop.shared.clock import CITY_ZONE
from gridloop.shared.events import GeoPoint, Priority, TicketReported

PHOTO_NAMESPACE = uuid.UUID("5b0f7c1e-3d4a-4c7e-9a51-2f1b8e6d9c03")  # names photos by their app-given ids
ALLOWED_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}


class ReportRequest(BaseModel):
    """What a grid worker's app sends to file a report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category_code: str = Field(min_length=1, max_length=32, description="Category code, e.g. SJ-0101 暴露垃圾")
    description: str = Field(min_length=2, max_length=2000, description="What was found (问题描述)")
    location: GeoPoint | None = Field(default=None, description="GPS point (WGS84)")
    grid_code: str | None = Field(
        default=None, max_length=32, description="Grid, when known; else found from the point"
    )
    address: str = Field(default="", max_length=300)
    photos: list[str] = Field(
        default_factory=list, max_length=9, description="Attachment ids from POST /v1/attachments"
    )
    priority: Priority = Priority.NORMAL

    @model_validator(mode="after")
    def _needs_a_place(self) -> "ReportRequest":
        if self.location is None and not self.grid_code:
            raise ValueError("give a GPS location or a grid code (需要定位或网格编码)")
        return self


class ReportRefused(Exception):
    """A report that cannot become a ticket; the API answers 422 with this code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(message)


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
) -> TicketReported:
    """The registered ticket (立案), from a checked request and the reference data it names."""
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
    )


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


EARTH_RADIUS_M = 6_378_100.0  # the radius MongoDB's $centerSphere measures with
CLOSED_STATES = ["closed", "cancelled"]


def duplicate_filter(
    *, category_code: str, location: GeoPoint | None, now: datetime, policy: DuplicatePolicy
) -> dict[str, Any] | None:
    """The query for open tickets a new report may duplicate; None when the report has no point."""
    if location is None:
        return None
    return {
        "category_code": category_code,
        "status": {"$nin": CLOSED_STATES},
        "created_at": {"$gte": now - policy.window},
        "point": {"$geoWithin": {"$centerSphere": [[location.lon, location.lat], policy.radius_m / EARTH_RADIUS_M]}},
    }


def geo_point(location: GeoPoint | None) -> dict[str, Any] | None:
    return None if location is None else {"type": "Point", "coordinates": [location.lon, location.lat]}


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
