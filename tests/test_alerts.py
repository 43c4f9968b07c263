"""The alert rules as Prometheus reads them: promtool checks them, and evaluates one on series."""

from pathlib import Path

import pytest

from gridloop.stack.promtool import ALERTS, firing, promtool, rule_test

pytestmark = pytest.mark.unit
DAY = 86400
ALERT = "GridLoopHolidayScheduleMissing"


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_holiday_schedule_alert_starts_on_the_first_of_december(tmp_path: Path) -> None:
    series = 'gridloop_calendar_published_ahead_seconds{job="gridloop",instance="directory:8006"}'
    rule_test(tmp_path, series={series: 31 * DAY}, alert=ALERT, firing=firing(ALERT))
    rule_test(tmp_path, series={series: 31 * DAY + 60}, alert=ALERT, firing=[])
