"""Working time (工作时 / 工作日): office hours on working days, where working days follow the
Chinese public holidays and 调休 make-up days. Pure arithmetic: the calendar is passed in."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import yaml


class UnknownCalendarDate(LookupError):
    """Neither the holiday data nor the override file knows whether this day is a working day."""


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时: counted only inside office hours of working days
    WORKING_DAYS = "working_days"  # 工作日: the same time of day, that many working days later
    HOURS = "hours"  # plain hours, for urgent matters, around the clock
    MINUTES = "minutes"  # plain minutes, for what must be seen to at once (a car blocking a fire lane)


IsWorkday = Callable[[date], bool]


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, and the office hours on them, in the city's time zone."""

    is_workday: IsWorkday
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
    """Office hours of a working day; empty means open all day."""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(day):
            return []
        if not self.periods:  # open all day
            midnight = datetime.combine(day, time(0), self.zone)
            return [(midnight, datetime.combine(day + timedelta(days=1), time(0), self.zone))]
        return [(datetime.combine(day, a, self.zone), datetime.combine(day, b, self.zone)) for a, b in self.periods]

    def add(self, start: datetime, amount: float, unit: TimeUnit, *, max_days: int = 400) -> datetime:
        """The deadline `amount` units after `start` (an aware datetime); returned in the same zone as start."""
        if unit == TimeUnit.HOURS:
            return start + timedelta(hours=amount)
        if unit == TimeUnit.MINUTES:
            return start + timedelta(minutes=amount)
        local = start.astimezone(self.zone)
        if unit == TimeUnit.WORKING_DAYS:
            return self._add_working_days(local, amount, max_days).astimezone(start.tzinfo)
        remaining = timedelta(hours=amount)
        day = local.date()
        for _ in range(max_days):
            for opens, closes in self._windows(day):
                begin = max(opens, local)
                if begin >= closes:
                    continue
                if begin + remaining <= closes:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= closes - begin
            day += timedelta(days=1)
        raise ValueError(f"no deadline within {max_days} days of {start}")

    def _add_working_days(self, local: datetime, amount: float, max_days: int) -> datetime:
        whole = int(amount)
        if whole != amount:
            raise ValueError("working days are counted whole; use working hours for fractions")
        day = local.date()
        for _ in range(max_days):
            if whole == 0:
                break
            day += timedelta(days=1)
            if self.is_workday(day):
                whole -= 1
        else:
            raise ValueError(f"no deadline within {max_days} days of {local}")
        same_time = datetime.combine(day, local.timetz().replace(tzinfo=None), self.zone)
        if not self.periods:
            return same_time
        return min(same_time, datetime.combine(day, self.periods[-1][1], self.zone))

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero if end is not after start)."""
        total = timedelta()
        if end <= start:
            return total
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self._windows(day):
                overlap = min(closes, end) - max(opens, start)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total


def around_the_clock() -> WorkCalendar:
    """Every day, all day: for tests and for services that never close."""
    return WorkCalendar(is_workday=lambda _: True, periods=())


def chinese_workdays(overrides: Mapping[date, bool]) -> IsWorkday:
    """Working days from the chinesecalendar package, with an override file for years it lacks."""

    def is_workday(day: date) -> bool:
        if day in overrides:
            return overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise UnknownCalendarDate(
                f"{day} is in a year the holiday data does not cover; add that year's holidays and "
                f"make-up days (调休) to the working-calendar override file"
            ) from exc

    return is_workday


def load_calendar(kind: str, overrides_file: Path | None = None) -> WorkCalendar:
    """The city's working calendar: `china` (office hours on Chinese working days, holidays and
    调休 included, plus the override file for years the package does not know) or `always_open`."""
    if kind == "always_open":
        return around_the_clock()
    overrides: dict[date, bool] = {}
    if overrides_file:
        data = yaml.safe_load(overrides_file.read_text(encoding="utf-8")) or {}
        overrides |= {d: True for d in data.get("workdays", [])}
        overrides |= {d: False for d in data.get("holidays", [])}
    return WorkCalendar(is_workday=chinese_workdays(overrides))
