"""docker-compose.yml describes production and cannot run here; this checks it says what the code expects."""

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from gridloop.directory.app import DirectorySettings
from gridloop.dispatch.app import DispatchSettings
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.stack import DEFAULT_PORTS
from gridloop.stack.topics import topic_specs

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_kafka_runs_in_kraft_mode_and_mongodb_as_a_replica_set(compose: dict) -> None:  # type: ignore[type-arg]
    kafka = compose["services"]["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"] and "broker" in kafka["KAFKA_PROCESS_ROLES"]
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "--replSet" in compose["services"]["mongo"]["command"]
    assert "rs.initiate" in " ".join(compose["services"]["mongo-init"]["command"])


def test_every_service_is_built_from_one_image_on_its_port_with_real_kafka_settings(compose: dict) -> None:  # type: ignore[type-arg]
    known = set(ServiceSettings.model_fields) | set(DirectorySettings.model_fields) | set(DispatchSettings.model_fields)
    images = set()
    for name, port in DEFAULT_PORTS.items():
        service = compose["services"][name]
        images.add(service["image"])
        env = service["environment"]
        assert service["command"] == ["python", "-m", f"gridloop.{name}"]
        assert env["GRIDLOOP_PORT"] == str(port)
        assert service["ports"] == [f"{port}:{port}"]
        assert env["GRIDLOOP_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["GRIDLOOP_KAFKA_IDEMPOTENCE"] == "true"
        assert "replicaSet=rs0" in env["GRIDLOOP_MONGO_URI"]
        assert env["GRIDLOOP_ENVIRONMENT"] == "production"
        assert env["GRIDLOOP_JWT_JWKS_URL"].startswith("${GRIDLOOP_JWT_JWKS_URL:?")  # no default key
        assert env["GRIDLOOP_JWT_ISSUER"].startswith("${GRIDLOOP_JWT_ISSUER:?")
        assert "GRIDLOOP_JWT_SECRET" not in env
        unknown = {k for k in env if k.removeprefix("GRIDLOOP_").lower() not in known}
        assert not unknown, f"{name} sets settings no code reads: {unknown}"
    assert len(images) == 1


def test_prometheus_scrapes_every_service(compose: dict) -> None:  # type: ignore[type-arg]
    assert "prometheus" in compose["services"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{port}" for name, port in DEFAULT_PORTS.items()}


def test_production_creates_the_topics_the_embedded_stack_creates() -> None:
    script = (ROOT / "deploy/kafka/create-topics.sh").read_text()
    for topic in topic_specs(6):
        name = topic.name
        if name.startswith("gridloop.dlq."):
            assert name.removeprefix("gridloop.dlq.") in script
        else:
            assert name in script
    assert "cleanup.policy=compact" in script


def test_production_refuses_shared_secret_tokens() -> None:
    with pytest.raises(ValueError, match="shared-secret"):
        ServiceSettings(environment="production")
    settings = ServiceSettings(
        environment="production", jwt_algorithm="RS256", jwt_jwks_url="https://idp/certs", jwt_issuer="https://idp"
    )
    assert settings.environment == "production"


def test_the_production_calendar_override_file_loads() -> None:
    compose_path = "deploy/calendar/overrides.yaml"
    settings = DispatchSettings(work_calendar="china", calendar_overrides=ROOT / compose_path)
    assert settings.working_calendar().is_workday(date(2026, 10, 10))  # a 调休 Saturday


def test_alert_rules_watch_metrics_the_services_export_without_ids_in_labels() -> None:
    # promtool is a Go binary not available from the package registries here: check the rules' shape.
    from gridloop.shared.metrics import Metrics

    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["alerts.yml"]
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    exported = {metric.name for metric in Metrics("any").registry.collect()} | {
        f"{m.name}_total" for m in Metrics("any").registry.collect()
    }
    alerts = {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}
    assert {"GridLoopOverdueGrowing", "GridLoopConsumerLag", "GridLoopDeadLetters", "GridLoopOutboxBacklog"} <= set(
        alerts
    )
    for name, rule in alerts.items():
        used = set(re.findall(r"\b(gridloop_[a-z_]+)", rule["expr"]))
        assert used <= exported, f"{name} watches metrics nobody exports: {used - exported}"
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        assert not re.search(r"ticket_id|user|sub\b", rule["expr"] + str(rule.get("labels")))
    for collector in vars(Metrics("any")).values():
        label_names = set(getattr(collector, "_labelnames", ()))
        assert not {"ticket_id", "ticket", "user", "sub"} & label_names
