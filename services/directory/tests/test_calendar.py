"""The holiday schedules as the directory's reference data, on a directory whose clock reads
1 December 2026: checked, versioned, announced, and watched by the alert that asks for next year's."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import DIRECTORY_TOPIC, Role
from gridloop.shared.ids import new_id
from gridloop.stack.promtool import firing, rule_test
from gridloop.stack.servers import Servers
from gridloop.stack.testing import TEST_SCHEDULE_2027, Bus, RunningService, eventually, launch, ok

pytestmark = pytest.mark.integration
DAY = 86400
AHEAD = "gridloop_calendar_published_ahead_seconds"
ALERT = "GridLoopHolidayScheduleMissing"


@pytest.fixture(scope="module")
def directory(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    env = {
        "GRIDLOOP_MONGO_DB": f"directory_calendar_{new_id()[-6:]}",
        "GRIDLOOP_CLOCK_START": "2026-12-01T00:00:00+08:00",
        "GRIDLOOP_CALENDAR_GAUGE_SECONDS": "0.2",
    }
    service = launch("directory", servers, service_logs, env=env)
    yield service
    service.process.stop()


def _gauge(directory: RunningService, name: str) -> float:
    text = directory.user(sub="prom", role=Role.SUPERVISOR, org="QH").call("directory", "GET", "/metrics").text
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not exported"
    return float(match.group(1))


def test_next_years_schedule_is_loaded_through_the_admin_api_and_the_alert_stops(
    directory: RunningService, bus: Bus, tmp_path: Path
) -> None:
    admin = directory.user(sub="admin", role=Role.ADMIN, org="QH")
    reader = directory.user(sub="sup", role=Role.SUPERVISOR, org="QH")
    years = [c["code"] for c in ok(reader.call("directory", "GET", "/v1/directory/calendars"))["items"]]
    assert years == ["2024", "2025", "2026"]
    # 1 December 2026 in the city, 2026 the last year published: 31 days ahead, and the alert fires.
    ahead = eventually(lambda: _gauge(directory, AHEAD) or None, what="the calendar gauge")
    assert 31 * DAY - 120 < ahead <= 31 * DAY
    assert _gauge(directory, "gridloop_calendar_published_until_timestamp_seconds") == 1798732800  # 2027-01-01 CST
    series = f'{AHEAD}{{job="gridloop",instance="directory:8006"}}'
    rule_test(tmp_path, series={series: ahead}, alert=ALERT, firing=firing(ALERT))

    weekday_worked = {**TEST_SCHEDULE_2027, "workdays": ["2027-01-29"]}  # a Friday is a working day anyway
    refused = admin.call("directory", "PUT", "/v1/directory/calendars/2027", json=weekday_worked)
    assert refused.status_code == 422 and "2027-01-29" in refused.text
    wrong_year = admin.call(
        "directory", "PUT", "/v1/directory/calendars/2027", json={**TEST_SCHEDULE_2027, "holidays": ["2028-01-01"]}
    )
    assert wrong_year.status_code == 422
    assert reader.call("directory", "GET", "/v1/directory/calendars/2027").status_code == 404
    assert reader.call("directory", "PUT", "/v1/directory/calendars/2027", json=TEST_SCHEDULE_2027).status_code == 403

    created = ok(admin.call("directory", "PUT", "/v1/directory/calendars/2027", json=TEST_SCHEDULE_2027))
    assert (created["outcome"], created["revision"]) == ("created", 1)
    announced = eventually(
        lambda: [
            r
            for _, v, _ in bus.read(DIRECTORY_TOPIC)
            if v and (r := DirectoryRecord.model_validate_json(v)).kind == "calendar" and r.code == "2027"
        ],
        what="the 2027 schedule on the directory topic",
    )
    assert announced[-1].data["workdays"] == ["2027-01-30", "2027-02-20"]
    ahead = eventually(lambda: (v := _gauge(directory, AHEAD)) > 365 * DAY and v, what="the gauge moving on")
    rule_test(tmp_path, series={series: ahead}, alert=ALERT, firing=[])

    amended = {**TEST_SCHEDULE_2027, "workdays": ["2027-01-30"]}  # a schedule changed after it came out
    assert ok(admin.call("directory", "PUT", "/v1/directory/calendars/2027", json=amended))["revision"] == 2
    history = ok(admin.call("directory", "GET", "/v1/directory/calendars/2027/history"))["revisions"]
    assert [(r["revision"], r["data"]["workdays"]) for r in history] == [
        (1, ["2027-01-30", "2027-02-20"]),
        (2, ["2027-01-30"]),
    ]
