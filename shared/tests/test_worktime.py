"""Working-time arithmetic with the time passed in: weekends, public holidays, 调休 make-up days,
lunch breaks and the end of the working day."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.worktime import TimeUnit, UnknownCalendarDate, WorkCalendar, around_the_clock, chinese_workdays

pytestmark = pytest.mark.unit
CST = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar(is_workday=chinese_workdays({date(2027, 1, 4): True}))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


def test_working_hours_skip_the_lunch_break_and_the_night() -> None:
    assert CALENDAR.add(at(2026, 11, 23, 11, 0), 2, TimeUnit.WORKING_HOURS) == at(2026, 11, 23, 14, 30)
    assert CALENDAR.add(at(2026, 11, 23, 16, 30), 4, TimeUnit.WORKING_HOURS) == at(2026, 11, 24, 11, 30)


def test_a_report_filed_at_night_starts_counting_when_the_office_opens() -> None:
    assert CALENDAR.add(at(2026, 11, 23, 22, 0), 1, TimeUnit.WORKING_HOURS) == at(2026, 11, 24, 9, 30)


def test_friday_afternoon_runs_on_into_monday() -> None:
    assert CALENDAR.add(at(2026, 11, 20, 16, 30), 2, TimeUnit.WORKING_HOURS) == at(2026, 11, 23, 9, 30)


def test_national_day_is_skipped_and_the_make_up_saturday_counts() -> None:
    # 2026: 1–7 October are holidays, Saturday 10 October is a 调休 working day
    assert CALENDAR.add(at(2026, 9, 30, 17, 0), 1, TimeUnit.WORKING_HOURS) == at(2026, 10, 8, 9, 0)
    assert CALENDAR.add(at(2026, 10, 9, 10, 0), 1, TimeUnit.WORKING_DAYS) == at(2026, 10, 10, 10, 0)


def test_working_days_keep_the_time_of_day_but_not_past_closing() -> None:
    assert CALENDAR.add(at(2026, 11, 20, 10, 0), 1, TimeUnit.WORKING_DAYS) == at(2026, 11, 23, 10, 0)
    assert CALENDAR.add(at(2026, 11, 20, 21, 0), 1, TimeUnit.WORKING_DAYS) == at(2026, 11, 23, 17, 30)


def test_plain_hours_run_around_the_clock_for_urgent_matters() -> None:
    assert CALENDAR.add(at(2026, 10, 1, 23, 0), 2, TimeUnit.HOURS) == at(2026, 10, 2, 1, 0)
    assert CALENDAR.add(at(2026, 10, 1, 23, 55), 10, TimeUnit.MINUTES) == at(2026, 10, 2, 0, 5)


def test_a_deadline_keeps_the_callers_time_zone() -> None:
    start_utc = at(2026, 11, 23, 11, 0).astimezone(ZoneInfo("UTC"))
    deadline = CALENDAR.add(start_utc, 2, TimeUnit.WORKING_HOURS)
    assert deadline.utcoffset() == timedelta(0) and deadline == at(2026, 11, 23, 14, 30)


def test_working_time_between_two_instants() -> None:
    assert CALENDAR.between(at(2026, 11, 20, 17, 0), at(2026, 11, 23, 9, 0)) == timedelta(minutes=60)
    assert CALENDAR.between(at(2026, 11, 23, 9, 0), at(2026, 11, 23, 8, 0)) == timedelta(0)


def test_a_year_the_holiday_data_does_not_cover_is_an_error_unless_overridden() -> None:
    assert CALENDAR.is_workday(date(2027, 1, 4))
    with pytest.raises(UnknownCalendarDate, match="override file"):
        CALENDAR.add(at(2027, 1, 4, 17, 0), 1, TimeUnit.WORKING_HOURS)


def test_around_the_clock_counts_every_minute() -> None:
    assert around_the_clock().add(at(2026, 10, 1, 23, 0), 2, TimeUnit.WORKING_HOURS) == at(2026, 10, 2, 1, 0)
