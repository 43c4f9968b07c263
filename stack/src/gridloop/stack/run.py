"""`make run`: start the whole system with demo data, print where it is, stop cleanly on Ctrl-C."""

import argparse
import signal
import threading
from pathlib import Path

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import GatewayMissing
from gridloop.stack.stack import API_SERVICES, PortsInUse, Stack, StackConfig

DEMO_USERS = [
    ("grid_worker", "gw-lj01", "网格员小林", Role.GRID_WORKER, "LJ01"),
    ("street_dispatcher", "sd-lj", "临江街道派遣员", Role.STREET_DISPATCHER, "LJ"),
    ("department_agent (城管 CG)", "agent-cg", "城管受理员", Role.DEPARTMENT_AGENT, "CG"),
    ("department_agent (水务 SW)", "agent-sw", "水务受理员", Role.DEPARTMENT_AGENT, "SW"),
    ("supervisor", "sup-qh", "区指挥中心", Role.SUPERVISOR, "QH"),
    ("admin", "admin", "系统管理员", Role.ADMIN, "QH"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run GridLoop on the embedded stack")
    parser.add_argument("--data", type=Path, default=Path("var"), help="data and logs folder (git-ignored)")
    args = parser.parse_args()
    config = StackConfig(storage=(args.data / "mongo").resolve(), log_dir=(args.data / "log").resolve())
    stack = Stack(config)
    print("Starting the Tansu broker, SecantusDB, the seven services and the gateway ...", flush=True)
    try:
        stack.start()
    except (PortsInUse, GatewayMissing) as exc:
        raise SystemExit(f"GridLoop did not start: {exc}") from None
    verifier = TokenVerifier(ServiceSettings())
    print("\nGridLoop is running.\n")
    print(f"  app (grid workers) {stack.gateway_url}/app/")
    print(f"  sign-in {stack.gateway_url}/signin")
    print("  (one origin, nginx from deploy/gateway: /v1/... to each service below, the rest to web)\n")
    print(f"  broker    127.0.0.1:{config.broker_port} (Tansu, Kafka protocol, in memory)")
    print(f"  database  127.0.0.1:{config.db_port} (SecantusDB, MongoDB protocol, data in {config.storage})")
    for name in API_SERVICES:
        print(f"  {name:<12} {stack.url(name)}  (API docs: {stack.url(name)}/docs)")
    print(f"  {'web':<12} {stack.url('web')}  (sign-in and the apps' pages, behind {stack.gateway_url})")
    print(f"\n  logs in {config.log_dir}\n\nDevelopment tokens (valid 12 h):")
    for label, sub, name, role, org in DEMO_USERS:
        print(f"  {label}: {verifier.mint(sub=sub, name=name, role=role, org=org)}")
    print("\nTry `make demo` in another terminal. Ctrl-C stops everything.", flush=True)
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        for name, process in stack.services.items():
            if process.proc.poll() is not None:
                print(f"{name} exited ({process.proc.returncode}); restarting it", flush=True)
                stack.start_service(name)
        if stack.gateway and stack.gateway.proc.poll() is not None:
            print(f"the gateway exited ({stack.gateway.proc.returncode}); restarting it", flush=True)
            stack.start_gateway()
    print("\nStopping ...", flush=True)
    stack.stop()
    print("Stopped.")


if __name__ == "__main__":
    main()
