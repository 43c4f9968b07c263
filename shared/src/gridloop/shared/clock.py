"""Time as a dependency, so deadline rules are tested without sleeping."""

from datetime import UTC, datetime
from typing import Annotated, Protocol

from pydantic import BeforeValidator


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


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
