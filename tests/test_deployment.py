"""docker-compose.yml describes production and cannot run here; this checks it says what the code expects."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from gridloop.cobuild.app import CobuildSettings
from gridloop.directory.app import DirectorySettings
from gridloop.dispatch.app import DispatchSettings
from gridloop.feedback.app import FeedbackSettings
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.stack import API_SERVICES, DEFAULT_PORTS
from gridloop.stack.topics import topic_specs
from gridloop.supervision.api import router as supervision_router
from gridloop.supervision.app import SupervisionSettings

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
    assert "/deploy/mongo/init.js" in compose["services"]["mongo-init"]["command"]
    assert "rs.initiate" in (ROOT / "deploy/mongo/init.js").read_text()


def test_every_service_is_built_from_one_image_on_its_port_with_real_kafka_settings(compose: dict) -> None:  # type: ignore[type-arg]
    known = (
        set(ServiceSettings.model_fields)
        | set(DirectorySettings.model_fields)
        | set(DispatchSettings.model_fields)
        | set(FeedbackSettings.model_fields)
        | set(SupervisionSettings.model_fields)
        | set(CobuildSettings.model_fields)
    )
    images = set()
    for name in API_SERVICES:  # web, whose environment differs: tests/test_gateway.py
        port = DEFAULT_PORTS[name]
        service = compose["services"][name]
        images.add(service["image"])
        env = service["environment"]
        assert service["command"] == ["python", "-m", f"gridloop.{name}"]
        assert env["GRIDLOOP_PORT"] == str(port)
        assert "ports" not in service  # reached through the gateway, on the compose network
        assert env["GRIDLOOP_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["GRIDLOOP_KAFKA_IDEMPOTENCE"] == "true"
        assert "replicaSet=rs0" in env["GRIDLOOP_MONGO_URI"]
        # transport security on: SASL over TLS to Kafka, a password and TLS to MongoDB, all from .env
        assert env["GRIDLOOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["GRIDLOOP_KAFKA_SASL_PASSWORD"].startswith("${KAFKA_GRIDLOOP_PASSWORD:?")
        assert "tls=true" in env["GRIDLOOP_MONGO_URI"] and "${MONGO_GRIDLOOP_PASSWORD:?" in env["GRIDLOOP_MONGO_URI"]
        assert "./deploy/tls/ca.pem:/etc/gridloop/tls/ca.pem:ro" in service["volumes"]
        assert env["GRIDLOOP_ENVIRONMENT"] == "production"
        assert env["GRIDLOOP_JWT_JWKS_URL"].startswith("${GRIDLOOP_JWT_JWKS_URL:?")  # no default key
        assert env["GRIDLOOP_JWT_ISSUER"].startswith("${GRIDLOOP_JWT_ISSUER:?")
        assert "GRIDLOOP_JWT_SECRET" not in env
        # FORWARDED_ALLOW_IPS is uvicorn's: intake limits Open311 reads per client address
        assert ("FORWARDED_ALLOW_IPS" in env) == (name == "intake"), name
        unknown = {k for k in env if k != "FORWARDED_ALLOW_IPS" and k.removeprefix("GRIDLOOP_").lower() not in known}
        assert not unknown, f"{name} sets settings no code reads: {unknown}"
    assert len(images) == 1


def test_every_service_traces_to_the_collector_which_forwards_to_jaeger(compose: dict) -> None:  # type: ignore[type-arg]
    for name in API_SERVICES:
        assert compose["services"][name]["environment"]["GRIDLOOP_OTEL_ENDPOINT"].endswith(
            "http://otel-collector:4318}"
        )
    collector = yaml.safe_load((ROOT / "deploy/otel/collector.yaml").read_text())
    volume = compose["services"]["otel-collector"]["volumes"][0]
    assert volume == "./deploy/otel:/etc/otelcol:ro"
    assert compose["services"]["otel-collector"]["command"] == ["--config=/etc/otelcol/collector.yaml"]
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    pipeline = collector["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"] and set(pipeline["processors"]) <= set(collector["processors"])
    (exporter,) = pipeline["exporters"]
    assert collector["exporters"][exporter]["endpoint"] == "jaeger:4317"  # Jaeger's OTLP receiver
    assert compose["services"]["jaeger"]["ports"] == ["127.0.0.1:16686:16686"]  # its UI, on the host only


def published(mapping: str | dict) -> tuple[str, str]:  # type: ignore[type-arg]
    """(host address, host port) of a compose port mapping, in its short or long form; an address
    left out means every interface of the host."""
    if isinstance(mapping, dict):
        return str(mapping.get("host_ip", "0.0.0.0")), str(mapping.get("published", mapping["target"]))
    parts = str(mapping).rsplit(":", 2)
    if len(parts) == 3:
        return parts[0].strip("[]"), parts[1]
    return "0.0.0.0", parts[0]


def test_only_the_gateway_is_published_on_the_hosts_interfaces(compose: dict) -> None:  # type: ignore[type-arg]
    everywhere = {
        (name, published(mapping)[1])
        for name, service in compose["services"].items()
        for mapping in service.get("ports", [])
        if published(mapping)[0] not in ("127.0.0.1", "::1")
    }
    assert everywhere == {("gateway", "443"), ("gateway", "80")}
    for name in (*API_SERVICES, "web", "kafka", "mongo", "otel-collector"):
        assert "ports" not in compose["services"][name], name
    operators = {name: compose["services"][name]["ports"] for name in ("prometheus", "jaeger", "grafana")}
    assert operators == {
        "prometheus": ["127.0.0.1:9090:9090"],
        "jaeger": ["127.0.0.1:16686:16686"],
        "grafana": ["127.0.0.1:3000:3000"],
    }


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


def test_photo_ids_are_sealed_with_the_citys_own_key_outside_development(compose: dict) -> None:  # type: ignore[type-arg]
    production = {"jwt_algorithm": "RS256", "jwt_jwks_url": "https://idp/certs", "jwt_issuer": "https://idp"}
    with pytest.raises(ValidationError, match="GRIDLOOP_PHOTO_KEY"):
        FeedbackSettings(environment="production", **production)
    assert FeedbackSettings(environment="production", photo_key="k" * 48, **production).photo_key == "k" * 48
    for name in ("intake", "handling", "feedback", "cobuild"):
        assert compose["services"][name]["environment"]["GRIDLOOP_PHOTO_KEY"].startswith("${PHOTO_KEY:?")


def test_production_runs_on_the_system_clock() -> None:
    production = {"jwt_algorithm": "RS256", "jwt_jwks_url": "https://idp/certs", "jwt_issuer": "https://idp"}
    with pytest.raises(ValidationError, match="CLOCK_START"):
        DispatchSettings(environment="production", clock_start="2026-12-28T10:00:00+08:00", **production)
    shifted = DispatchSettings(environment="development", clock_start="2026-12-28T10:00:00+08:00").clock()
    assert abs(shifted.now() - datetime(2026, 12, 28, 2, tzinfo=UTC)) < timedelta(minutes=1)


def test_alert_rules_watch_metrics_the_services_export_without_ids_in_labels() -> None:
    # Beside `promtool check rules` (test_alerts.py): every metric a rule names is one the services export.
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


def test_the_broker_and_the_database_refuse_unauthenticated_plaintext(compose: dict) -> None:  # type: ignore[type-arg]
    kafka = compose["services"]["kafka"]["environment"]
    assert "PLAINTEXT://" not in kafka["KAFKA_LISTENERS"].replace("CONTROLLER://", "")
    assert kafka["KAFKA_ADVERTISED_LISTENERS"] == "SASL_SSL://kafka:9092"
    assert "user_gridloop=" in kafka["KAFKA_LISTENER_NAME_SASL__SSL_PLAIN_SASL_JAAS_CONFIG"]
    mongod = compose["services"]["mongo"]["command"]
    assert "--auth" in mongod and mongod[mongod.index("--tlsMode") + 1] == "requireTLS"
    assert "client.sh" in (ROOT / "deploy/kafka/create-topics.sh").read_text()


def test_the_command_centre_dashboard_is_provisioned_and_reads_what_exists(compose: dict) -> None:  # type: ignore[type-arg]
    from gridloop.shared.metrics import Metrics

    grafana = compose["services"]["grafana"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/command-centre.json").read_text())
    exported = {metric.name for metric in Metrics("any").registry.collect()}
    routes = [re.sub(r"\{[^}]+\}", "[^/]+", route.path) for route in supervision_router.routes]  # type: ignore[attr-defined]
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for wanted in ("吞吐", "处置时长", "超期工单", "三率排名"):
        assert wanted in titles
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            if "expr" in target:
                names = set(re.findall(r"gridloop_[a-z_]+", target["expr"]))
                assert names, target["expr"]
                for name in names:
                    assert name.removesuffix("_bucket").removesuffix("_total") in exported, name
            else:
                path = target["url"].removeprefix("http://supervision:8005")
                assert any(re.fullmatch(route, path) for route in routes), path


def test_identity_numbers_are_hashed_with_the_citys_own_salt_outside_development(compose: dict) -> None:  # type: ignore[type-arg]
    from gridloop.cobuild.app import CobuildSettings

    production = {"jwt_algorithm": "RS256", "jwt_jwks_url": "https://idp/certs", "jwt_issuer": "https://idp"}
    keys = {"photo_key": "k" * 48, "checkin_key": "c" * 48}
    with pytest.raises(ValidationError, match="GRIDLOOP_ID_SALT"):
        CobuildSettings(environment="production", **keys, **production)
    assert CobuildSettings(environment="production", **keys, id_salt="s" * 48, **production).id_salt
    assert compose["services"]["cobuild"]["environment"]["GRIDLOOP_ID_SALT"].startswith("${ID_SALT:?")
