"""Time as a dependency, so deadline rules are tested without sleeping."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BeforeValidator, PlainSerializer, WithJsonSchema

CITY_ZONE = ZoneInfo("Asia/Shanghai")
"""The city's time zone: its days, months, years and office hours are counted in it."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The system clock moved to start at a chosen instant, then running at its normal pace: for
    development and tests that must see a given day (28 December, New Year's Eve) on any machine."""

    def __init__(self, start: datetime) -> None:
        self._offset: timedelta = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def as_utc(value: datetime) -> datetime:
    """MongoDB hands back naive datetimes; every comparison in GridLoop is in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso_only(value: object) -> object:
    """Epoch numbers are ambiguous (seconds? milliseconds?); the API takes ISO 8601 only."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-01T00:00:00+08:00")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date-time such as 2026-11-01T00:00:00+08:00")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
AwareIsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
"""A date-time a request sends, with its offset, written in ISO 8601 (never an epoch number)."""


def _iso(value: datetime) -> str:
    return value.isoformat()


Instant = Annotated[
    datetime,
    # Answers write an instant as its ISO form with an offset (+00:00), as they did before they had models.
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An instant in a response model."""
