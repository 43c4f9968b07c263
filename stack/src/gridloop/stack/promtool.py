"""promtool from Debian's prometheus package, unpacked by `make` into .venv/tools: it checks the
alert rules and evaluates them against series a test gives."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PROMTOOL = Path(sys.prefix) / "tools/usr/bin/promtool"
ALERTS = Path(__file__).resolve().parents[4] / "deploy/prometheus/alerts.yml"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL.exists(), f"{PROMTOOL} is missing: `make test` unpacks it from Debian's prometheus package"
    return subprocess.run([str(PROMTOOL), *args], capture_output=True, text=True, timeout=60, check=False)


def firing(alert: str) -> list[dict[str, Any]]:
    """The alert as `rule_test` expects it when it fires: its rule's labels and annotations."""
    rules = [r for group in yaml.safe_load(ALERTS.read_text())["groups"] for r in group["rules"]]
    [rule] = [r for r in rules if r.get("alert") == alert]
    return [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]


def rule_test(tmp: Path, *, series: dict[str, float], alert: str, firing: list[dict[str, Any]]) -> str:
    """Run `promtool test rules` on the real alert rules: each series holds its value for 10
    minutes; `firing` lists the alerts expected at minute 5 (empty: none). Returns promtool's
    output when it agrees, else fails with it."""
    test = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": f"{value}+0x10"} for name, value in series.items()],
                "alert_rule_test": [{"eval_time": "5m", "alertname": alert, "exp_alerts": firing}],
            }
        ],
    }
    path = tmp / "alerts_test.yml"
    path.write_text(yaml.safe_dump(test, allow_unicode=True), encoding="utf-8")
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
