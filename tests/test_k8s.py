"""deploy/k8s, the Kubernetes manifests, checked without a cluster: every document against the
Kubernetes API schemas that kubernetes-validate bundles, KEDA's kinds against KEDA's models, and
what a schema cannot see: that selectors, probes, ports, consumer groups, partitions, settings and
Secret keys agree with the code, with docker-compose.yml and with each other."""

import copy
import inspect
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pydantic
import pytest
import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication
from kubernetes_validate.utils import latest_version  # type: ignore[import-untyped]
from pydantic_settings import BaseSettings

from gridloop.cobuild.app import CobuildSettings
from gridloop.directory.app import DirectorySettings
from gridloop.dispatch.app import DispatchSettings
from gridloop.feedback.app import FeedbackSettings
from gridloop.handling.app import HandlingSettings
from gridloop.intake.app import IntakeSettings
from gridloop.shared import service
from gridloop.shared.events import TICKETS_TOPIC
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.stack import API_SERVICES, DEFAULT_PORTS, SERVICES
from gridloop.stack.topics import CONSUMER_GROUPS
from gridloop.supervision.app import SupervisionSettings
from gridloop.web.app import WebSettings
from tests.test_gateway import nginx_test, self_signed

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy/k8s"
# The oldest Kubernetes the manifests are written for (the preStop sleep action is on by default
# from 1.30, unhealthyPodEvictionPolicy is GA in 1.31) and the newest the package has schemas of.
K8S_VERSIONS = ("1.32", latest_version())
SETTINGS: dict[str, type[BaseSettings]] = {
    "directory": DirectorySettings,
    "intake": IntakeSettings,
    "dispatch": DispatchSettings,
    "handling": HandlingSettings,
    "feedback": FeedbackSettings,
    "supervision": SupervisionSettings,
    "cobuild": CobuildSettings,
    "web": WebSettings,
}
KEDA_MODELS: dict[str, type[pydantic.BaseModel]] = {
    "ScaledObject": ScaledObject,
    "TriggerAuthentication": TriggerAuthentication,
}
# The services whose tickets consumer group is the service's name (topics.py), and the one of them
# that runs as a single instance (supervision.yaml says why).
TICKET_CONSUMERS = {group for group in CONSUMER_GROUPS if "." not in group}
SINGLE_INSTANCE = {"supervision"}
Doc = dict[str, Any]


def load(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


@pytest.fixture(scope="module")
def kustomization() -> Doc:
    loaded: Doc = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def documents(kustomization: Doc) -> list[Doc]:
    """The manifests of this folder (the sibling folders it lists only generate ConfigMaps)."""
    return [doc for name in kustomization["resources"] if not name.startswith("../") for doc in load(K8S / name)]


@pytest.fixture(scope="module")
def secret_example() -> list[Doc]:
    return load(K8S / "secret.example.yaml")


@pytest.fixture(scope="module")
def compose() -> Doc:
    loaded: Doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def of_kind(documents: list[Doc], kind: str) -> dict[str, Doc]:
    found = [doc for doc in documents if doc["kind"] == kind]
    names = [doc["metadata"]["name"] for doc in found]
    assert len(names) == len(set(names)), f"two {kind}s share a name: {names}"
    return dict(zip(names, found, strict=True))


def container(deployment: Doc) -> Doc:
    containers: list[Doc] = deployment["spec"]["template"]["spec"]["containers"]
    [only] = containers
    return only


def generator(kustomization: Doc, name: str) -> Doc:
    generators: list[Doc] = kustomization["configMapGenerator"]
    [found] = [g for g in generators if g["name"] == name]
    return found


def generated_files(kustomization: Doc, name: str) -> dict[str, Path]:
    """A generator's `files:` as kustomize reads them: `key=path`, or the path's file name as the key."""
    files = {}
    for entry in generator(kustomization, name)["files"]:
        key, _, path = entry.rpartition("=")
        files[key or Path(path).name] = K8S / path
    return files


def settings_env(kustomization: Doc) -> dict[str, str]:
    [path] = generator(kustomization, "gridloop-settings")["envs"]
    lines = (K8S / path).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def environment(deployment: Doc, kustomization: Doc) -> dict[str, Doc]:
    """Every variable the container gets, as an env entry ({"value": ...} or {"valueFrom": ...}),
    the ConfigMap gridloop-settings (envFrom) resolved from its env file."""
    spec = container(deployment)
    env: dict[str, Doc] = {}
    for source in spec.get("envFrom", []):
        assert source == {"configMapRef": {"name": "gridloop-settings"}}, source
        env |= {name: {"value": value} for name, value in settings_env(kustomization).items()}
    for entry in spec.get("env", []):
        assert entry["name"] not in env, f"{entry['name']} set twice"
        env[entry["name"]] = {k: v for k, v in entry.items() if k != "name"}
    return env


def number(pattern: str, text: str) -> int:
    """The integer the pattern's group finds in text (the test fails when it is not there)."""
    found = re.search(pattern, text)
    assert found, pattern
    return int(found.group(1))


def secret_data(secret_example: list[Doc], name: str) -> dict[str, str]:
    [secret] = [doc for doc in secret_example if doc["metadata"]["name"] == name]
    data: dict[str, str] = secret["stringData"]
    return data


# The kustomization -----------------------------------------------------------------------------


def _bases(kustomization: Doc) -> dict[str, Doc]:
    """The sibling folders of deploy/ the kustomization takes ConfigMaps from, with their own kustomizations."""
    folders = [r for r in kustomization["resources"] if r.startswith("../")]
    return {r: yaml.safe_load((K8S / r / "kustomization.yaml").read_text()) for r in folders}


def test_the_kustomization_names_files_that_exist_and_leaves_the_secret_out(kustomization: Doc) -> None:
    listed = {r for r in kustomization["resources"] if not r.startswith("../")}
    for name in listed:
        assert (K8S / name).is_file(), name
    for entry in kustomization["configMapGenerator"]:
        for path in entry.get("envs", []):
            assert (K8S / path).is_file(), path
        for path in generated_files(kustomization, entry["name"]).values() if "files" in entry else []:
            assert path.resolve().is_relative_to(K8S), f"{path}: kubectl apply -k reads no file outside the folder"
    for folder, base in _bases(kustomization).items():
        for entry in base["configMapGenerator"]:
            for path in entry["files"]:
                assert (K8S / folder / path).is_file(), (folder, path)
    # every manifest here is applied, except the example Secret, which must never be
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert kustomization["namespace"] == "gridloop"


def test_the_config_maps_are_the_repositorys_files_not_copies(kustomization: Doc) -> None:
    made = {
        entry["name"]: {(K8S / folder / f).resolve() for f in entry["files"]}
        for folder, base in _bases(kustomization).items()
        for entry in base["configMapGenerator"]
    }
    assert made == {
        "gridloop-gateway-routes": {ROOT / "deploy/gateway/routes.conf"},
        "gridloop-prometheus-rules": {ROOT / "deploy/prometheus/alerts.yml"},
        "gridloop-grafana-dashboards": set((ROOT / "deploy/grafana/dashboards").glob("*.json")),
    }
    assert not list(K8S.rglob("routes.conf")) and not list(K8S.rglob("*.json")) and not list(K8S.rglob("alerts.yml"))


@pytest.fixture(scope="module")
def built() -> list[Doc]:
    """What `kubectl apply -k deploy/k8s` applies (kubectl's built-in kustomize, as it is: no flags)."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None, "kubectl builds the kustomization (this machine has it at /usr/bin/kubectl)"
    result = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_kustomize_builds_the_config_maps_from_the_files_and_points_the_pods_at_them(built: list[Doc]) -> None:
    assert {doc["metadata"].get("namespace") for doc in built if doc["kind"] != "Namespace"} == {"gridloop"}
    maps = {doc["metadata"]["name"]: doc for doc in built if doc["kind"] == "ConfigMap"}

    def hashed(prefix: str) -> str:
        [name] = [n for n in maps if n.rsplit("-", 1)[0] == prefix]
        return name

    gateway_name, routes_name = hashed("gridloop-gateway"), hashed("gridloop-gateway-routes")
    assert maps[routes_name]["data"]["routes.conf"] == (ROOT / "deploy/gateway/routes.conf").read_text()
    assert maps[gateway_name]["data"]["nginx.conf"] == (K8S / "gateway/nginx.conf").read_text()
    assert (
        maps["gridloop-prometheus-rules"]["data"]["alerts.yml"] == (ROOT / "deploy/prometheus/alerts.yml").read_text()
    )
    dashboard = maps["gridloop-grafana-dashboards"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["command-centre.json"])["panels"]
    settings_name = hashed("gridloop-settings")
    for doc in built:
        if doc["kind"] != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        refs = [s["configMapRef"]["name"] for c in pod["containers"] for s in c.get("envFrom", [])]
        refs += [v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v]
        refs += [
            source["configMap"]["name"]
            for v in pod.get("volumes", [])
            for source in v.get("projected", {}).get("sources", [])
            if "configMap" in source
        ]
        assert set(refs) <= {settings_name, gateway_name, routes_name}, refs
        if doc["metadata"]["name"] == "gateway":
            assert {gateway_name, routes_name} <= set(refs)  # nginx.conf and the routes it includes, side by side


# Schemas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_kubernetes_document_validates_strictly(
    documents: list[Doc], secret_example: list[Doc], version: str
) -> None:
    core = [doc for doc in documents + secret_example if doc["kind"] not in KEDA_MODELS]
    assert {doc["kind"] for doc in core} == {"Namespace", "Deployment", "Service", "PodDisruptionBudget", "Secret"}
    for doc in core:
        kubernetes_validate.validate(doc, version, strict=True)


def test_a_misspelt_field_fails_the_kubernetes_check(documents: list[Doc]) -> None:
    deployment = copy.deepcopy(of_kind(documents, "Deployment")["intake"])
    container(deployment)["readinesProbe"] = container(deployment).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[0], strict=True)


def dropped(given: Any, kept: Any, path: str = "") -> list[str]:
    """Where `given` has something the model did not keep: fields KEDA does not know."""
    if isinstance(given, dict) and isinstance(kept, dict):
        return [p for key, value in given.items() for p in dropped(value, kept.get(key), f"{path}.{key}")]
    if isinstance(given, list) and isinstance(kept, list) and len(given) == len(kept):
        return [p for i, (a, b) in enumerate(zip(given, kept, strict=True)) for p in dropped(a, b, f"{path}[{i}]")]
    return [] if given == kept else [path]


def keda_validate(doc: Doc) -> None:
    """KEDA's own schema (its CRDs, as cloudcoil's models): a missing or mistyped field fails in
    pydantic; an unknown one, which pydantic would drop, fails here."""
    model = KEDA_MODELS[doc["kind"]].model_validate(doc)
    unknown = dropped(doc, model.model_dump(mode="json", by_alias=True, exclude_unset=True))
    if unknown:
        raise ValueError(f"{doc['kind']} {doc['metadata']['name']}: fields KEDA does not know: {unknown}")


def test_the_keda_documents_validate_against_kedas_schema(documents: list[Doc]) -> None:
    keda = [doc for doc in documents if doc["kind"] in KEDA_MODELS]
    assert {doc["kind"] for doc in keda} == set(KEDA_MODELS)
    for doc in keda:
        keda_validate(doc)


@pytest.mark.parametrize(
    "breakage",
    ["unknown trigger field", "no scaleTargetRef", "a number for lagThreshold", "a misspelt secretTargetRef"],
)
def test_a_broken_keda_document_fails(documents: list[Doc], breakage: str) -> None:
    scaled = copy.deepcopy(of_kind(documents, "ScaledObject")["dispatch"])
    auth = copy.deepcopy(of_kind(documents, "TriggerAuthentication")["gridloop-kafka"])
    kafka = scaled["spec"]["triggers"][0]
    broken = scaled
    if breakage == "unknown trigger field":
        kafka["lagTreshold"] = kafka["metadata"].pop("lagThreshold")
    elif breakage == "no scaleTargetRef":
        del scaled["spec"]["scaleTargetRef"]
    elif breakage == "a number for lagThreshold":
        kafka["metadata"]["lagThreshold"] = 500
    else:
        auth["spec"]["secretTargetRefs"] = auth["spec"].pop("secretTargetRef")
        broken = auth
    with pytest.raises((pydantic.ValidationError, ValueError)):
        keda_validate(broken)


# What the schemas cannot see ---------------------------------------------------------------------


def test_every_service_and_the_gateway_run_as_compose_runs_them(documents: list[Doc], compose: Doc) -> None:
    deployments = of_kind(documents, "Deployment")
    assert set(deployments) == {*SERVICES, "gateway"}
    for name in SERVICES:
        spec = container(deployments[name])
        assert spec["image"] == compose["services"][name]["image"]
        assert spec["command"] == compose["services"][name]["command"] == ["python", "-m", f"gridloop.{name}"]
    gateway = container(deployments["gateway"])
    assert gateway["image"] == compose["services"]["gateway"]["image"]
    assert gateway["command"] == ["nginx", *compose["services"]["gateway"]["command"][1:]]


def test_every_deployment_has_a_service_and_a_disruption_budget_that_select_its_pods(documents: list[Doc]) -> None:
    deployments, services = of_kind(documents, "Deployment"), of_kind(documents, "Service")
    budgets = of_kind(documents, "PodDisruptionBudget")
    assert set(services) == set(budgets) == set(deployments)
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name
        assert services[name]["spec"]["selector"] == selector, name
        assert budgets[name]["spec"]["selector"] == {"matchLabels": selector}, name
        # the selector picks this Deployment's pods and no other's
        for other, them in deployments.items():
            if other != name:
                assert not selector.items() <= them["spec"]["template"]["metadata"]["labels"].items()
        ports = {p["name"]: p["containerPort"] for p in container(deployment)["ports"]}
        for port in services[name]["spec"]["ports"]:
            assert port["targetPort"] in ports, f"{name}: {port}"
        budget = budgets[name]["spec"]
        replicas = deployment["spec"].get("replicas")
        if replicas is not None and replicas >= 2:
            assert budget.get("minAvailable") == 1 and "maxUnavailable" not in budget, name
        else:  # one replica (or KEDA's minimum of one): minAvailable 1 would block every drain
            assert budget.get("maxUnavailable") == 1 and "minAvailable" not in budget, name


def test_the_services_listen_where_the_gateway_and_the_console_look(documents: list[Doc], kustomization: Doc) -> None:
    deployments, services = of_kind(documents, "Deployment"), of_kind(documents, "Service")
    for name in SERVICES:
        port = DEFAULT_PORTS[name]
        assert container(deployments[name])["ports"] == [{"name": "http", "containerPort": port}]
        assert environment(deployments[name], kustomization)["GRIDLOOP_PORT"] == {"value": str(port)}
        assert services[name]["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
        assert services[name]["spec"]["type"] == "ClusterIP"
    urls = json.loads(environment(deployments["web"], kustomization)["GRIDLOOP_SERVICE_URLS"]["value"])
    assert set(urls) == set(WebSettings.model_fields["service_urls"].default) == set(API_SERVICES)
    assert urls == {name: f"http://{name}:{DEFAULT_PORTS[name]}" for name in API_SERVICES}


def test_probes_ask_the_container_port_for_readiness_and_liveness(documents: list[Doc]) -> None:
    for name, deployment in of_kind(documents, "Deployment").items():
        spec = container(deployment)
        ports = {p["name"]: p["containerPort"] for p in spec["ports"]}
        probes = {kind: spec[kind]["httpGet"] for kind in ("readinessProbe", "livenessProbe")}
        assert probes["readinessProbe"]["path"] == "/readyz", name
        assert probes["livenessProbe"]["path"] == "/healthz", name
        if "startupProbe" in spec:
            probes["startupProbe"] = spec["startupProbe"]["httpGet"]
            assert probes["startupProbe"]["path"] == "/healthz", name
        for probe in probes.values():
            assert probe["port"] in ports or probe["port"] in ports.values(), f"{name}: {probe}"
        if name in SERVICES:
            assert {ports.get(p["port"], p["port"]) for p in probes.values()} == {DEFAULT_PORTS[name]}


def test_the_environment_is_composes_and_only_settings_the_code_reads(
    documents: list[Doc], kustomization: Doc, compose: Doc, secret_example: list[Doc]
) -> None:
    secrets = secret_data(secret_example, "gridloop-secrets")
    deployments = of_kind(documents, "Deployment")
    for name, settings in SETTINGS.items():
        env = environment(deployments[name], kustomization)
        gridloop = {k for k in env if k.startswith("GRIDLOOP_")}
        unknown = {k for k in gridloop if k.removeprefix("GRIDLOOP_").lower() not in settings.model_fields}
        assert not unknown, f"{name} sets settings no code reads: {unknown}"
        # uvicorn's own setting, for the services that read the client's address the gateway passes on
        assert set(env) - gridloop <= ({"FORWARDED_ALLOW_IPS"} if name in ("web", "intake") else set()), name
        ours = compose["services"][name]["environment"]
        assert set(env) == set(ours), name
        for key, wanted in ours.items():
            got = env[key]
            required = re.fullmatch(r".*\$\{[A-Z_]+:\?.*", wanted) is not None
            default = re.fullmatch(r"\$\{[A-Z_]+:-(.*)\}", wanted)
            if "valueFrom" in got:
                ref = got["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "gridloop-secrets" and ref["key"] in secrets, f"{name} {key}"
                # a value compose insists on is insisted on here; an empty default is an optional key
                assert ref.get("optional", False) == (default is not None and default.group(1) == ""), f"{name} {key}"
                if not required and default is None:
                    assert secrets[ref["key"]] == wanted, f"{name} {key}"
            else:
                assert not required, f"{name}: {key} comes from the Secret, not from a default"
                assert got["value"] == (default.group(1) if default else wanted), f"{name} {key}"
    # the MongoDB URI is compose's with the password left to the Secret
    compose_uri = compose["services"]["intake"]["environment"]["GRIDLOOP_MONGO_URI"]
    assert secrets["mongo-uri"] == re.sub(r"\$\{[^}]+\}", "REPLACE-ME", compose_uri)


def test_the_ca_is_mounted_where_the_settings_look_for_it(documents: list[Doc], kustomization: Doc) -> None:
    shared = settings_env(kustomization)
    cafile = Path(shared["GRIDLOOP_KAFKA_SSL_CAFILE"])
    for name in API_SERVICES:
        deployment = of_kind(documents, "Deployment")[name]
        mounts = {m["name"]: m for m in container(deployment)["volumeMounts"]}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        [tls] = [v for v in volumes.values() if v.get("secret", {}).get("secretName") == "gridloop-secrets"]
        assert Path(mounts[tls["name"]]["mountPath"]) / tls["secret"]["items"][0]["path"] == cafile
        assert tls["secret"]["items"][0]["key"] == "ca.pem"
    assert shared["GRIDLOOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and shared["GRIDLOOP_ENVIRONMENT"] == "production"


def test_pods_run_unprivileged_on_a_read_only_root(documents: list[Doc]) -> None:
    uid = number(r"useradd --system --uid (\d+)", (ROOT / "Dockerfile").read_text())
    for name, deployment in of_kind(documents, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == (101 if name == "gateway" else uid)
        assert pod["automountServiceAccountToken"] is False
        spec = container(deployment)
        assert spec["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        # what they write (uploads being read, nginx's buffers and pid) goes to an emptyDir
        [tmp] = [m for m in spec["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])
        for kind in ("requests", "limits"):
            assert set(spec["resources"][kind]) == {"cpu", "memory"}, name


def test_a_pod_is_given_time_to_drain_after_leaving_the_endpoints(documents: list[Doc]) -> None:
    drain = number(r"timeout_graceful_shutdown=(\d+)", inspect.getsource(service.serve))
    lifespan = ServiceSettings.model_fields["shutdown_grace_seconds"].default
    for name, deployment in of_kind(documents, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        sleep = container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert sleep >= 5, name
        # preStop, uvicorn's drain of requests in flight, the consumers' and relay's grace, closing
        assert pod["terminationGracePeriodSeconds"] >= sleep + drain + lifespan + 5, name


def test_keda_scales_each_consumer_on_its_own_group_within_the_partitions(
    documents: list[Doc], kustomization: Doc
) -> None:
    # production's partition count of gridloop.tickets.v1 (create-topics.sh), the one the settings assume
    partitions = number(r"TICKETS_PARTITIONS:-(\d+)", (ROOT / "deploy/kafka/create-topics.sh").read_text())
    assert partitions == ServiceSettings.model_fields["tickets_partitions"].default
    deployments = of_kind(documents, "Deployment")
    scaled = of_kind(documents, "ScaledObject")
    auth = of_kind(documents, "TriggerAuthentication")
    assert set(scaled) == TICKET_CONSUMERS - SINGLE_INSTANCE
    for name in SINGLE_INSTANCE:
        assert deployments[name]["spec"]["replicas"] == 1
    bootstrap = settings_env(kustomization)["GRIDLOOP_KAFKA_BOOTSTRAP"]
    for name, doc in scaled.items():
        spec = doc["spec"]
        target = spec["scaleTargetRef"]
        assert target.get("kind", "Deployment") == "Deployment" and target["name"] in deployments
        assert "replicas" not in deployments[target["name"]]["spec"], "KEDA sets the count; apply would reset it"
        assert spec["minReplicaCount"] == 1
        assert 1 < spec["maxReplicaCount"] <= partitions, name
        [kafka] = [t for t in spec["triggers"] if t["type"] == "kafka"]
        metadata = kafka["metadata"]
        assert metadata["consumerGroup"] in CONSUMER_GROUPS and metadata["consumerGroup"] == target["name"]
        assert metadata["topic"] == TICKETS_TOPIC
        assert metadata["bootstrapServers"] == bootstrap
        assert int(metadata["lagThreshold"]) > 0
        assert kafka["authenticationRef"]["name"] in auth
        assert kafka["authenticationRef"].get("kind", "TriggerAuthentication") == "TriggerAuthentication"
        for trigger in spec["triggers"]:
            if trigger["type"] == "cpu":  # a utilisation of what the container requests
                assert "cpu" in container(deployments[target["name"]])["resources"]["requests"]


def test_kedas_kafka_credentials_are_the_services(
    documents: list[Doc], kustomization: Doc, secret_example: list[Doc]
) -> None:
    [auth] = of_kind(documents, "TriggerAuthentication").values()
    refs = {ref["parameter"]: ref for ref in auth["spec"]["secretTargetRef"]}
    assert set(refs) == {"sasl", "username", "password", "tls", "ca"}
    secrets = secret_data(secret_example, "gridloop-secrets")
    for ref in refs.values():
        assert ref["name"] == "gridloop-secrets" and ref["key"] in secrets
    shared = settings_env(kustomization)
    # KEDA's names for what the services are told: SASL/PLAIN over TLS, the same user and CA
    assert shared["GRIDLOOP_KAFKA_SASL_MECHANISM"] == "PLAIN" and secrets[refs["sasl"]["key"]] == "plaintext"
    assert shared["GRIDLOOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and secrets[refs["tls"]["key"]] == "enable"
    intake = environment(of_kind(documents, "Deployment")["intake"], kustomization)
    for parameter, variable in (("username", "USERNAME"), ("password", "PASSWORD")):
        assert intake[f"GRIDLOOP_KAFKA_SASL_{variable}"]["valueFrom"]["secretKeyRef"]["key"] == refs[parameter]["key"]
    assert refs["ca"]["key"] == "ca.pem"


def test_every_secret_key_the_manifests_use_is_described_in_the_example(
    documents: list[Doc], secret_example: list[Doc]
) -> None:
    described = {doc["metadata"]["name"]: set(doc["stringData"]) for doc in secret_example}
    used: dict[str, set[str]] = {}
    for deployment in of_kind(documents, "Deployment").values():
        for entry in container(deployment).get("env", []):
            if "valueFrom" in entry:
                ref = entry["valueFrom"]["secretKeyRef"]
                used.setdefault(ref["name"], set()).add(ref["key"])
        mounts = {m["name"]: m["mountPath"] for m in container(deployment)["volumeMounts"]}
        for volume in deployment["spec"]["template"]["spec"]["volumes"]:
            if "secret" in volume:
                keys = {item["key"] for item in volume["secret"].get("items", [])}
                if not keys:  # the whole Secret mounted: the files the gateway's nginx.conf reads there
                    conf = (K8S / "gateway/nginx.conf").read_text()
                    keys = set(re.findall(rf"{re.escape(mounts[volume['name']])}/([^/;\s]+);", conf))
                used.setdefault(volume["secret"]["secretName"], set()).update(keys)
    for auth in of_kind(documents, "TriggerAuthentication").values():
        for ref in auth["spec"]["secretTargetRef"]:
            used.setdefault(ref["name"], set()).add(ref["key"])
    assert used.keys() == described.keys()
    for name, keys in used.items():
        assert keys == described[name], f"{name}: used {keys}, described {described[name]}"
    assert described["gridloop-gateway-tls"] == {"tls.crt", "tls.key"}
    # nothing real in git: every password, key and certificate is a placeholder
    for doc in secret_example:
        for key, value in doc["stringData"].items():
            if re.search(r"password|secret|mongo-uri|\.pem|tls\.", key):
                assert "REPLACE-ME" in value, key


# The gateway ---------------------------------------------------------------------------------------


def gateway_paths(documents: list[Doc]) -> dict[str, str]:
    """The gateway's mounts: mount path → the ConfigMap or Secret mounted there."""
    deployment = of_kind(documents, "Deployment")["gateway"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    paths = {}
    for mount in container(deployment)["volumeMounts"]:
        volume = volumes[mount["name"]]
        projected = sorted(s["configMap"]["name"] for s in volume.get("projected", {}).get("sources", []))
        source = (
            "+".join(projected)
            or volume.get("configMap", {}).get("name")
            or volume.get("secret", {}).get("secretName")
            or "emptyDir"
        )
        paths[mount["mountPath"]] = source
    return paths


def test_the_gateways_configuration_reaches_every_service_by_its_kubernetes_name(documents: list[Doc]) -> None:
    conf = (K8S / "gateway/nginx.conf").read_text()
    upstreams = dict(re.findall(r"upstream ([a-z]+)\s*\{\s*server ([a-z]+:\d+);", conf))
    services = of_kind(documents, "Service")
    assert upstreams == {name: f"{name}:{services[name]['spec']['ports'][0]['port']}" for name in SERVICES}
    # each variable routes.conf passes to names its upstream block (found by name, no resolver)
    assert dict(re.findall(r"set \$svc_([a-z]+) ([a-z]+);", conf)) == {name: name for name in SERVICES}
    used = set(re.findall(r"\$svc_([a-z]+)", (ROOT / "deploy/gateway/routes.conf").read_text()))
    assert used == set(SERVICES)
    assert not re.search(r"^\s*resolver\s", conf, flags=re.MULTILINE)
    # what the file includes and reads is where the Deployment mounts it
    paths = gateway_paths(documents)
    assert paths["/etc/nginx/gridloop"] == "gridloop-gateway+gridloop-gateway-routes"
    assert paths["/etc/nginx/tls"] == "gridloop-gateway-tls"
    gateway = container(of_kind(documents, "Deployment")["gateway"])
    assert gateway["command"][2] == "/etc/nginx/gridloop/nginx.conf"
    assert "include /etc/nginx/gridloop/routes.conf;" in conf
    listens = {int(port) for port in re.findall(r"listen (\d+)", conf)}
    assert listens == {p["containerPort"] for p in gateway["ports"]}


@pytest.fixture
def gateway_config(documents: list[Doc], kustomization: Doc, tmp_path: Path) -> Iterator[Path]:
    """The k8s nginx.conf with the pod's paths mapped to a temporary folder as the Deployment
    mounts them (the ConfigMap's files, a throwaway certificate, the emptyDir), and the Services'
    names, which only the cluster's DNS knows, as the loopback address."""
    folder = tmp_path / "gridloop"
    folder.mkdir()
    for key, source in generated_files(kustomization, "gridloop-gateway").items():
        shutil.copy(source, folder / key)
    shutil.copy(ROOT / "deploy/gateway/routes.conf", folder / "routes.conf")  # gridloop-gateway-routes, beside it
    tls = tmp_path / "tls"
    tls.mkdir()
    self_signed(tls / "tls.crt", tls / "tls.key")
    (tmp_path / "tmp").mkdir()
    mapping = {"/etc/nginx/gridloop": folder, "/etc/nginx/tls": tls, "/tmp": tmp_path / "tmp"}
    assert set(gateway_paths(documents)) == set(mapping)
    mounts = "|".join(re.escape(path) for path in mapping)
    text = re.sub(rf" ({mounts})/", lambda m: f" {mapping[m.group(1)]}/", (folder / "nginx.conf").read_text())
    text = re.sub(r"server ([a-z]+):(\d+);", r"server 127.0.0.1:\2;", text)
    paths = re.findall(r"^\s*[a-z_]+\s+(/\S*);", text, flags=re.MULTILINE)
    unmapped = [path for path in paths if not path.startswith((f"{tmp_path}/", "/dev/std"))]
    assert not unmapped, f"paths the Deployment does not mount: {unmapped}"
    (folder / "nginx.conf").write_text(text)
    yield folder / "nginx.conf"


def test_nginx_accepts_the_kubernetes_gateway(gateway_config: Path, tmp_path: Path) -> None:
    result = nginx_test(gateway_config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_a_service_the_kubernetes_gateway_lacks_fails_the_check(gateway_config: Path, tmp_path: Path) -> None:
    text = gateway_config.read_text()
    gateway_config.write_text(text.replace("set $svc_directory directory;", ""))
    result = nginx_test(gateway_config, tmp_path)
    assert result.returncode != 0
    assert "svc_directory" in result.stderr
