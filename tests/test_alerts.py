"""The alert rules as Prometheus reads them: promtool checks them, and evaluates one on series."""

from pathlib import Path
from typing import Any

import pytest
import yaml

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


LAG = "GridLoopConsumerLag"


def lag_test(tmp_path: Path, *, series: dict[str, str], at: str, firing: list[dict[str, Any]]) -> None:
    """`promtool test rules` on the real rules with series given minute by minute (promtool's
    expanding notation), expecting `firing` at `at`."""
    test = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": values} for name, values in series.items()],
                "alert_rule_test": [{"eval_time": at, "alertname": LAG, "exp_alerts": firing}],
            }
        ],
    }
    path = tmp_path / "lag_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def _lag(instance: str, group: str = "supervision") -> str:
    return f'gridloop_consumer_lag{{service="{group}",group="{group}",instance="{instance}"}}'


def _behind(group: str, messages: int) -> list[dict[str, Any]]:
    """The alert as the on-call person reads it."""
    [alert] = firing(LAG)
    return [
        {
            "exp_labels": {**alert["exp_labels"], "service": group, "group": group},
            "exp_annotations": {"summary": f"{group} is {messages} messages behind the broker (消费滞后)"},
        }
    ]


def test_a_group_behind_for_ten_minutes_raises_the_lag_alert(tmp_path: Path) -> None:
    behind = {_lag("supervision:8005"): "1500+0x20"}
    lag_test(tmp_path, series=behind, at="9m", firing=[])
    lag_test(tmp_path, series=behind, at="11m", firing=_behind("supervision", 1500))


def test_the_lag_of_a_groups_instances_adds_up(tmp_path: Path) -> None:
    two = {_lag("supervision-1:8005"): "600+0x20", _lag("supervision-2:8005"): "600+0x20"}
    lag_test(tmp_path, series=two, at="11m", firing=_behind("supervision", 1200))


def test_a_burst_that_drains_and_a_group_caught_up_raise_nothing(tmp_path: Path) -> None:
    burst = {_lag("supervision:8005"): "5000 2000 0+0x20", _lag("dispatch:8002", "dispatch"): "0+0x20"}
    lag_test(tmp_path, series=burst, at="11m", firing=[])


def test_a_webhook_endpoint_switched_off_raises_an_alert_naming_its_department(tmp_path: Path) -> None:
    name = "GridLoopWebhookEndpointDisabled"
    counter = 'gridloop_webhook_endpoints_disabled_total{service="handling",department="CG",instance="handling:8003"}'
    [alert] = firing(name)
    expected = [
        {
            "exp_labels": {**alert["exp_labels"], "service": "handling", "department": "CG"},
            "exp_annotations": {
                "summary": "CG's webhook endpoint was switched off after repeated failure;"
                " its deliveries wait (接收地址已停用)"
            },
        }
    ]
    test = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": counter, "values": "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"}],
                "alert_rule_test": [
                    {"eval_time": "2m", "alertname": name, "exp_alerts": []},
                    {"eval_time": "5m", "alertname": name, "exp_alerts": expected},
                    {"eval_time": "24m", "alertname": name, "exp_alerts": []},
                ],
            }
        ],
    }
    path = tmp_path / "webhook_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


STUCK = "GridLoopOutboxStuck"


def test_an_outbox_row_unpublished_for_a_minute_raises_the_stuck_alert(tmp_path: Path) -> None:
    def age(seconds: float) -> dict[str, float]:
        return {'gridloop_outbox_oldest_age_seconds{service="intake",instance="intake:8001"}': seconds}

    [alert] = firing(STUCK)
    stuck = [
        {
            "exp_labels": {**alert["exp_labels"], "service": "intake"},
            "exp_annotations": {
                **alert["exp_annotations"],
                "summary": "intake's oldest unpublished event has waited 1m 1s (发件箱停滞)",
            },
        }
    ]
    rule_test(tmp_path, series=age(61), alert=STUCK, firing=stuck)
    rule_test(tmp_path, series=age(45), alert=STUCK, firing=[])
