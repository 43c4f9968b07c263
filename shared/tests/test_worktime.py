"""Working-time arithmetic with the time passed in: weekends, public holidays, 调休 make-up days,
lunch breaks and the end of the working day."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.worktime import TimeUnit, YearSchedule, around_the_clock, china_calendar
from gridloop.stack.testing import TEST_SCHEDULE_2027

pytestmark = pytest.mark.unit
CST = ZoneInfo("Asia/Shanghai")
# 国务院办公厅关于2026年部分节假日安排的通知, as the directory's seed holds it
PUBLISHED_2026 = YearSchedule.from_record(
    code="2026",
    revision=1,
    data={
        "holidays": [
            "2026-01-01",
            "2026-01-02",
            "2026-02-16",
            "2026-02-17",
            "2026-02-18",
            "2026-02-19",
            "2026-02-20",
            "2026-02-23",
            "2026-04-06",
            "2026-05-01",
            "2026-05-04",
            "2026-05-05",
            "2026-06-19",
            "2026-09-25",
            "2026-10-01",
            "2026-10-02",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07",
        ],
        "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    },
)
CALENDAR = china_calendar([PUBLISHED_2026])
WITH_2027 = china_calendar([PUBLISHED_2026, YearSchedule.from_record(code="2027", revision=1, data=TEST_SCHEDULE_2027)])


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


@pytest.mark.parametrize(
    ("filed", "amount", "unit", "deadline", "provisional"),
    [
        (at(2026, 12, 1, 10), 2, TimeUnit.WORKING_HOURS, at(2026, 12, 1, 12), False),
        (at(2026, 12, 1, 10), 5, TimeUnit.WORKING_DAYS, at(2026, 12, 8, 10), False),
        (at(2026, 12, 1, 10), 20, TimeUnit.WORKING_DAYS, at(2026, 12, 29, 10), False),
        (at(2026, 12, 24, 10), 5, TimeUnit.WORKING_DAYS, at(2026, 12, 31, 10), False),
        # 元旦 2027 (Friday 1 January) is a statutory holiday, then the weekend
        (at(2026, 12, 24, 10), 20, TimeUnit.WORKING_DAYS, at(2027, 1, 22, 10), True),
        (at(2026, 12, 28, 10), 5, TimeUnit.WORKING_DAYS, at(2027, 1, 5, 10), True),
        (at(2026, 12, 31, 16), 2, TimeUnit.WORKING_HOURS, at(2027, 1, 4, 9), True),
        # 春节 2027 by the statutory rule: 除夕 5 February to 初三 8 February, 初一 and 初二 on the
        # weekend given back on 9 and 10 February (补假)
        (at(2027, 2, 4, 10), 5, TimeUnit.WORKING_DAYS, at(2027, 2, 17, 10), True),
    ],
)
def test_the_loop_never_stops_at_the_new_year(
    filed: datetime, amount: int, unit: TimeUnit, deadline: datetime, provisional: bool
) -> None:
    assert CALENDAR.add(filed, amount, unit) == deadline
    assert CALENDAR.provisional(filed, deadline) is provisional


def test_the_published_schedule_replaces_the_statutory_rule_when_it_arrives() -> None:
    # The test schedule: 春节 5–12 February off, Saturday 30 January and Saturday 20 February worked.
    assert WITH_2027.add(at(2027, 2, 4, 10), 5, TimeUnit.WORKING_DAYS) == at(2027, 2, 19, 10)
    assert WITH_2027.add(at(2026, 12, 28, 10), 25, TimeUnit.WORKING_DAYS) == at(2027, 2, 1, 10)
    assert CALENDAR.add(at(2026, 12, 28, 10), 25, TimeUnit.WORKING_DAYS) == at(2027, 2, 2, 10)
    assert not WITH_2027.provisional(at(2026, 12, 28, 10), at(2027, 2, 1, 10))
    assert WITH_2027.is_workday(date(2027, 1, 30)) and not CALENDAR.is_workday(date(2027, 1, 30))


def test_what_was_counted_on_the_statutory_rule_is_stale_once_the_year_is_published() -> None:
    span = (at(2026, 12, 28, 10), at(2027, 1, 5, 10))
    assert CALENDAR.basis(*span) == ["2026@r1", "2027@statutory"]
    assert CALENDAR.stale_bases() == ["2026@statutory"]
    assert set(CALENDAR.basis(*span)) & set(WITH_2027.stale_bases()) == {"2027@statutory"}
    amended = china_calendar([YearSchedule.from_record(code="2026", revision=2, data={"holidays": []})])
    assert "2026@r1" in amended.stale_bases()  # a schedule changed for a year in force (as in 2020)
    assert around_the_clock().basis(*span) == [] and not around_the_clock().provisional(*span)


def test_around_the_clock_counts_every_minute() -> None:
    assert around_the_clock().add(at(2026, 10, 1, 23, 0), 2, TimeUnit.WORKING_HOURS) == at(2026, 10, 2, 1, 0)
