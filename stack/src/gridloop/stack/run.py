"""`make run`: start the whole system with demo data, print where it is, stop cleanly on Ctrl-C."""

import argparse
import signal
import threading
import time
from pathlib import Path

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.settings import ServiceSettings
from gridloop.stack.servers import tie_children_to_launcher
from gridloop.stack.stack import API_SERVICES, Stack, StackConfig
from gridloop.web.signin import DEMO_USERS


def main() -> None:
    parser = argparse.ArgumentParser(description="Run GridLoop on the embedded stack")
    parser.add_argument("--data", type=Path, default=Path("var"), help="data and logs folder (git-ignored)")
    args = parser.parse_args()
    config = StackConfig.kept(args.data)
    stack = Stack(config)
    tie_children_to_launcher()  # a killed launcher takes its servers and services with it
    print("Starting SeaweedFS, the Tansu broker, SecantusDB, the eight services and the gateway ...", flush=True)
    started = time.monotonic()
    try:
        stack.start()
    except (RuntimeError, TimeoutError) as exc:  # ports in use, a missing binary, a server that did not come up
        raise SystemExit(f"GridLoop did not start: {exc}") from None
    verifier = TokenVerifier(ServiceSettings(environment="development"))
    print(f"\nGridLoop is running (started in {time.monotonic() - started:.0f} s).\n")
    print(f"  app (grid workers) {stack.gateway_url}/app/")
    print(
        f"  staff console (street desk, department workbench, command centre, directory) {stack.gateway_url}/console/"
    )
    print(f"  sign-in {stack.gateway_url}/signin")
    print("  (one origin, nginx from deploy/gateway: /v1/... to each service below, the rest to web)\n")
    print(
        f"  broker    127.0.0.1:{config.broker_port} (Tansu, Kafka protocol; topics and offsets in"
        f" {config.broker_store}, SeaweedFS's S3 on 127.0.0.1:{config.store_ports['s3']})"
    )
    print(f"  database  127.0.0.1:{config.db_port} (SecantusDB, MongoDB protocol, data in {config.storage})")
    for name in API_SERVICES:
        print(f"  {name:<12} {stack.url(name)}  (API docs: {stack.url(name)}/docs)")
    print(f"  {'web':<12} {stack.url('web')}  (sign-in and the apps' pages, behind {stack.gateway_url})")
    print(f"\n  logs in {config.log_dir}\n\nDevelopment tokens (valid 12 h):")
    for user in DEMO_USERS:
        print(
            f"  {user.label} ({user.sub}): {verifier.mint(sub=user.sub, name=user.name, role=user.role, org=user.org)}"
        )
    print(
        "\nTry `make demo` in another terminal. Ctrl-C stops everything; `make run` again carries on where it"
        " stopped (`make clean` forgets it all).",
        flush=True,
    )
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        restarted = stack.restart_exited_server()
        if restarted:
            print(restarted, flush=True)
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
