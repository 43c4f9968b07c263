"""Working time (工作时 / 工作日): office hours on working days, where working days follow the
Chinese public holidays and 调休 make-up days. Pure arithmetic: the calendar is passed in.

Which days are working days comes from the holiday schedules (节假日安排) the directory holds,
one per year, as the State Council publishes them. A year without a published schedule never
stops the loop: its days follow the statutory rule (weekends off, the public holidays of
《全国年节及纪念日放假办法》 and the weekday given for one falling on a weekend, 补假), and what is
counted on them is provisional (预计) until the year's schedule is loaded."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from gridloop.shared.clock import CITY_ZONE


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时: counted only inside office hours of working days
    WORKING_DAYS = "working_days"  # 工作日: the same time of day, that many working days later
    HOURS = "hours"  # plain hours, for urgent matters, around the clock
    MINUTES = "minutes"  # plain minutes, for what must be seen to at once (a car blocking a fire lane)


IsWorkday = Callable[[date], bool]


@dataclass(frozen=True)
class YearSchedule:
    """One year's published holiday schedule: the days off (放假) and the weekend days worked (调休上班)."""

    year: int
    revision: int
    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_workday(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)

    @classmethod
    def from_record(cls, *, code: str, revision: int, data: Mapping[str, Any]) -> "YearSchedule":
        """A `calendar` record of the directory topic (its data as the directory checked it)."""
        return cls(
            year=int(code),
            revision=revision,
            holidays=frozenset(date.fromisoformat(str(d)) for d in data.get("holidays", [])),
            workdays=frozenset(date.fromisoformat(str(d)) for d in data.get("workdays", [])),
        )


@lru_cache(maxsize=64)
def _statutory(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year)


def statutory_workday(day: date) -> bool:
    """The statutory rule, from the python-holidays China calendar (lunar and solar-term dates,
    补假 for a holiday on a weekend)."""
    return bool(_statutory(day.year).is_working_day(day))


class ChinaWorkdays:
    """Chinese working days: a year with a published schedule follows it, any other year the statutory rule."""

    def __init__(self, schedules: Iterable[YearSchedule]) -> None:
        self._years: dict[int, YearSchedule] = {s.year: s for s in schedules}

    def __call__(self, day: date) -> bool:
        schedule = self._years.get(day.year)
        return schedule.is_workday(day) if schedule else statutory_workday(day)

    def published(self, year: int) -> bool:
        return year in self._years

    def basis(self, year: int) -> str:
        """What a year's days were counted on: `2027@r2` (the schedule's second revision) or
        `2027@statutory` (none published: provisional)."""
        schedule = self._years.get(year)
        return f"{year}@r{schedule.revision}" if schedule else f"{year}@statutory"

    def stale_bases(self) -> list[str]:
        """Bases that are no longer what the calendar says: anything counted on an earlier revision
        of a published year, or on the statutory rule for a year published since."""
        return sorted(
            f"{s.year}@{tag}"
            for s in self._years.values()
            for tag in ["statutory", *(f"r{k}" for k in range(1, s.revision))]
        )

    def published_until(self) -> date | None:
        """The last day the published schedules cover (the end of the latest year)."""
        return date(max(self._years), 12, 31) if self._years else None


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, and the office hours on them, in the city's time zone."""

    is_workday: IsWorkday
    periods: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
    """Office hours of a working day; empty means open all day."""
    zone: ZoneInfo = CITY_ZONE
    schedules: ChinaWorkdays | None = field(default=None, compare=False)
    """The published schedules behind `is_workday`; None for a calendar that knows no holidays."""

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

    def basis(self, start: datetime, end: datetime) -> list[str]:
        """What time counted from `start` to `end` rests on: each calendar year it touches, with
        the schedule revision it was counted on (empty for a calendar without holidays)."""
        if self.schedules is None:
            return []
        first, last = sorted((start.astimezone(self.zone).year, end.astimezone(self.zone).year))
        return [self.schedules.basis(year) for year in range(first, last + 1)]

    def provisional(self, start: datetime, end: datetime) -> bool:
        """Whether time counted from `start` to `end` crosses a year with no published schedule (预计)."""
        return any(b.endswith("@statutory") for b in self.basis(start, end))

    def stale_bases(self) -> list[str]:
        return self.schedules.stale_bases() if self.schedules else []


def around_the_clock() -> WorkCalendar:
    """Every day, all day: for tests and for services that never close."""
    return WorkCalendar(is_workday=lambda _: True, periods=())


def china_calendar(schedules: Iterable[YearSchedule]) -> WorkCalendar:
    """Office hours on Chinese working days: published schedules where there are, else the statutory rule."""
    days = ChinaWorkdays(schedules)
    return WorkCalendar(is_workday=days, schedules=days)
