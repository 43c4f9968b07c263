"""Time as a dependency, so deadline rules are tested without sleeping."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
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


class SteppedClock:
    """Development and tests: the instant written in a file, running on at the normal pace from
    when the file was written, so a test steps every process of a stack through a year (a quarter's
    end, 31 December, the next January) by writing the file. No file: the system clock. Read again
    only when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, float] | None = None  # (mtime_ns, offset seconds)

    def now(self) -> datetime:
        real = datetime.now(UTC)
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return real
        if self._seen is None or self._seen[0] != stat.st_mtime_ns:
            written = datetime.fromisoformat(self._path.read_text(encoding="utf-8").strip())
            self._seen = (stat.st_mtime_ns, (written - datetime.fromtimestamp(stat.st_mtime, UTC)).total_seconds())
        return real + timedelta(seconds=self._seen[1])


def step_clock(path: Path, to: datetime) -> None:
    """Set a SteppedClock's file to `to` (atomically: a reader never sees half an instant)."""
    partial = path.with_suffix(".partial")
    partial.write_text(to.isoformat(), encoding="utf-8")
    partial.replace(path)


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
