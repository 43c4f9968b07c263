"""The whole system on one machine: servers, topics, the seven API services and web, started in
order, then the gateway in front of them (one origin for browsers, as in production)."""

import asyncio
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gridloop.stack import objectstore
from gridloop.stack.objectstore import DEFAULT_STORE_PORTS, STORE_PORT_NAMES
from gridloop.stack.servers import (
    BrokerStore,
    Process,
    Servers,
    free_port,
    nginx_binary,
    port_in_use,
    start_broker,
    start_database,
    start_gateway,
    start_object_store,
    start_servers,
    start_service,
)
from gridloop.stack.topics import create_topics

DEVELOPMENT = {"GRIDLOOP_ENVIRONMENT": "development"}
"""The embedded stack is development: its services take the development tokens it mints (a service
started without GRIDLOOP_ENVIRONMENT runs as in production and refuses them)."""
TEST_ENV = {
    **DEVELOPMENT,
    "GRIDLOOP_WORK_CALENDAR": "always_open",
    "GRIDLOOP_WATCHDOG_INTERVAL_SECONDS": "0.5",
    "GRIDLOOP_REPORT_RATE_LIMIT": "100000/minute",  # load tests file hundreds of reports per user
    "GRIDLOOP_OPEN311_READ_RATE_LIMIT_PER_ADDRESS": "100000/minute",  # the tests all read from 127.0.0.1
    # a consumer joins its group in 2 s instead of 5 (Tansu answers a join after half the session),
    # and a killed instance's partitions move after 4 s instead of 10
    "GRIDLOOP_CONSUMER_SESSION_TIMEOUT_MS": "4000",
}
RUN_ENV = {"GRIDLOOP_HOTSPOT_INTERVAL_SECONDS": "10"}
"""`make run`'s own settings: cobuild looks for hotspots every 10 s rather than every minute, so
`make demo` sees its hotspot become a project idea without a long wait."""
# The services behind /v1 (each with its OpenAPI document), then web: sign-in and the apps' pages.
API_SERVICES = ["directory", "intake", "dispatch", "handling", "feedback", "supervision", "cobuild"]
SERVICES = [*API_SERVICES, "web"]
DEFAULT_PORTS = {
    "intake": 8001,
    "dispatch": 8002,
    "handling": 8003,
    "feedback": 8004,
    "supervision": 8005,
    "directory": 8006,
    "cobuild": 8007,
    "web": 8008,
}


@dataclass
class StackConfig:
    broker_port: int = 9092
    db_port: int = 27017
    storage: Path | str = ":memory:"
    log_dir: Path | None = None
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    env: dict[str, str] = field(default_factory=dict)
    gateway_port: int = 8000
    # Where the broker keeps its topics and offsets (SeaweedFS's folder); None: in memory.
    broker_store: Path | None = None
    store_ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STORE_PORTS))

    @classmethod
    def kept(cls, data: Path) -> "StackConfig":
        """`make run`: the default ports, and everything kept in `data` (database, broker, logs)."""
        data = data.resolve()
        return cls(storage=data / "mongo", log_dir=data / "log", broker_store=data / "broker-store", env=dict(RUN_ENV))

    @classmethod
    def durable(cls, data: Path, env: dict[str, str] | None = None) -> "StackConfig":
        """As `make run` keeps its data, in `data`, on free ports: for the tests that restart a stack."""
        config = cls.ephemeral(log_dir=data / "log", env=env)
        config.storage = data / "mongo"
        config.broker_store = data / "broker-store"
        config.store_ports = {name: free_port() for name in STORE_PORT_NAMES}
        return config

    @property
    def store(self) -> BrokerStore | None:
        return BrokerStore(self.broker_store, self.store_ports) if self.broker_store else None

    @classmethod
    def ephemeral(cls, log_dir: Path | None = None, env: dict[str, str] | None = None) -> "StackConfig":
        """Free ports and in-memory storage: for tests, which run beside a `make run` stack.

        Deadlines run on a 24x7 calendar, so tests do not depend on the day they run."""
        return cls(
            broker_port=free_port(),
            db_port=free_port(),
            storage=":memory:",
            log_dir=log_dir,
            ports={name: free_port() for name in SERVICES},
            env={**TEST_ENV, **(env or {})},
            gateway_port=free_port(),
        )


class PortsInUse(RuntimeError):
    """Another process (often a GridLoop whose launcher was killed) holds the stack's ports."""


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.servers: Servers | None = None
        self.services: dict[str, Process] = {}
        self.gateway: Process | None = None
        self._gateway_folder: Path | None = None

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.config.ports[service]}"

    @property
    def gateway_url(self) -> str:
        """The one origin browsers use: every /v1 API and the web service, through nginx."""
        return f"http://127.0.0.1:{self.config.gateway_port}"

    @property
    def service_env(self) -> dict[str, str]:
        assert self.servers is not None
        return {
            **DEVELOPMENT,
            "GRIDLOOP_KAFKA_BOOTSTRAP": self.servers.kafka_bootstrap,
            "GRIDLOOP_MONGO_URI": self.servers.mongo_uri,
            # The web service's console calls the services directly, on this stack's ports.
            "GRIDLOOP_SERVICE_URLS": json.dumps({name: self.url(name) for name in API_SERVICES}),
            # Departments' receivers on this machine (tests', a developer's) may be on 127.0.0.1,
            # when the department's allow-list names it; the stack's own ports stay refused.
            "GRIDLOOP_WEBHOOK_ALLOW_LOOPBACK": "true",
            "GRIDLOOP_WEBHOOK_REFUSED_DESTINATIONS": json.dumps([f"127.0.0.1:{port}" for port in self._own_ports()]),
            **self.config.env,
        }

    def _own_ports(self) -> list[int]:
        """Every port the stack listens on: webhooks never reach them."""
        store = list(self.config.store_ports.values()) if self.config.store else []
        return [*store, self.config.broker_port, self.config.db_port, *self.config.ports.values(),
                self.config.gateway_port]  # fmt: skip

    def check_ports(self) -> None:
        """Refuse to start beside something that holds our ports, naming them, before starting anything."""
        wanted = {
            **({f"object store {n}": p for n, p in self.config.store_ports.items()} if self.config.store else {}),
            "broker": self.config.broker_port,
            "database": self.config.db_port,
            **self.config.ports,
            "gateway": self.config.gateway_port,
        }
        taken = [f"{name} {port}" for name, port in wanted.items() if port_in_use(port)]
        if taken:
            raise PortsInUse(
                "ports already in use on 127.0.0.1: "
                + ", ".join(taken)
                + ". Another GridLoop may still be running, or what is left of one whose launcher was killed:"
                " stop it (Ctrl-C in its terminal, or `pkill -f gridloop; pkill -f secantus; pkill -f 'weed server'`),"
                " then start again."
            )

    def start(self, timeout: float = 120.0) -> None:
        self.start_servers()
        self.start_services(timeout)

    def start_servers(self) -> None:
        """The object store (when the broker keeps data) and its bucket, the broker, the database,
        then the topics (kept ones are found there already)."""
        self.check_ports()
        nginx_binary()  # before anything starts: say how to get it
        if self.config.store:
            objectstore.weed_binary()
        if self.config.log_dir:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.servers = start_servers(
            broker_port=self.config.broker_port,
            db_port=self.config.db_port,
            storage=self.config.storage,
            log_dir=self.config.log_dir,
            broker_store=self.config.store,
        )
        try:
            asyncio.run(create_topics(self.servers.kafka_bootstrap))
        except BaseException:
            self.stop()
            raise

    def start_services(self, timeout: float = 120.0) -> None:
        """Every service, ready, then the gateway in front of them."""
        try:
            for name in SERVICES:
                self.start_service(name)
            self.wait_ready(SERVICES, timeout=timeout)
            self.start_gateway()
        except BaseException:
            self.stop()
            raise

    def restart_exited_server(self) -> str | None:
        """Start again a server that died (a crash, a SIGKILL), on its own data and port, and say
        which and how it ended; the services reconnect by themselves. The broker's store comes
        back before the broker, so a broker that died with it finds its data."""
        servers = self.servers
        if servers is None:
            return None
        if servers.store and servers.store.proc.poll() is not None and self.config.store:
            code = servers.store.proc.returncode
            servers.store = start_object_store(self.config.store, self.config.log_dir)
            return f"the broker's object store exited ({code}); started it again on {self.config.broker_store}"
        if servers.broker.proc.poll() is not None:
            code = servers.broker.proc.returncode
            servers.broker = start_broker(self.config.broker_port, self.config.log_dir, self.config.store)
            asyncio.run(create_topics(servers.kafka_bootstrap))
            kept = "its topics and offsets kept" if self.config.store else "in memory: its messages are gone"
            return f"the broker exited ({code}); started it again ({kept})"
        if servers.database.proc.poll() is not None:
            code = servers.database.proc.returncode
            servers.database = start_database(self.config.db_port, self.config.storage, self.config.log_dir)
            return f"the database exited ({code}); started it again on {self.config.storage}"
        return None

    def start_gateway(self, timeout: float = 30.0) -> Process:
        """nginx with deploy/gateway/routes.conf in front of the services; ready once web's /healthz
        answers through it. Its configuration, pid and logs go to the log folder (or a temporary one)."""
        if self._gateway_folder is None:
            self._gateway_folder = (
                self.config.log_dir / "gateway" if self.config.log_dir else Path(tempfile.mkdtemp(prefix="gateway-"))
            )
        self.gateway = start_gateway(
            port=self.config.gateway_port,
            upstreams={name: self.config.ports[name] for name in SERVICES},
            folder=self._gateway_folder,
            log_dir=self.config.log_dir,
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.gateway.proc.poll() is not None:
                raise RuntimeError(
                    f"the gateway exited with {self.gateway.proc.returncode}; see {self.gateway.log_path}"
                )
            try:
                if httpx.get(f"{self.gateway_url}/healthz", timeout=3).status_code == 200:
                    return self.gateway
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"web's /healthz does not answer through the gateway; see {self.gateway.log_path}")
            time.sleep(0.1)

    def start_service(self, name: str) -> Process:
        process = start_service(name, port=self.config.ports[name], env=self.service_env, log_dir=self.config.log_dir)
        self.services[name] = process
        return process

    def start_extra_instance(self, name: str, number: int) -> str:
        """Another instance of a service in the same consumer group, on a port of its own."""
        key = f"{name}-{number}"
        self.config.ports[key] = free_port()
        self.services[key] = start_service(
            name, port=self.config.ports[key], env=self.service_env, log_dir=self.config.log_dir, label=key
        )
        return key

    def wait_ready(self, names: list[str], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            process = self.services[name]
            url = f"http://127.0.0.1:{self.config.ports[name]}"
            if process.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.proc.returncode}; see its log {process.log_path}")
            answer = ""
            try:
                response = httpx.get(f"{url}/readyz", timeout=3)
                if response.status_code == 200:
                    pending.pop(0)
                    continue
                answer = f" (/readyz: {response.text[:300]})"
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout}s{answer}; see {process.log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        # The gateway first (no new requests), then every service drains at once (they do not wait
        # for one another), then the servers stop.
        if self.gateway:
            self.gateway.stop()
        if self._gateway_folder and not self.config.log_dir:
            shutil.rmtree(self._gateway_folder, ignore_errors=True)
        services = list(reversed(self.services.values()))
        for process in services:
            process.terminate()
        for process in services:
            process.wait_stopped()
        if self.servers:
            self.servers.stop()
