"""The fault schedule: which faults, in which order, while reports keep flowing."""

import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from gridloop.stack.stack import Stack
from tests.reliability.harness import Fault, Outcome, Simulation, check, consumers_caught_up, probe_recovery

PAUSE_S = 6.0


def run(stack: Stack, *, reports: int, long_form: bool, stall_s: float = 180.0) -> Outcome:
    """Drive `reports` reports round the loop while injecting faults; return what held."""
    rng = random.Random(4)
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    extra = [stack.start_extra_instance("dispatch", 2), stack.start_extra_instance("handling", 2)]
    stack.wait_ready(extra)
    sim = Simulation(stack, reports)
    users = threading.Thread(target=sim.run_users, name="users", daemon=True)
    users.start()
    faults: list[Fault] = []

    def inject(name: str, fault: Callable[[], None]) -> None:
        record = Fault(name=name, at=time.monotonic() - t0)
        faults.append(record)
        fault()
        record.recovered_s = probe_recovery(stack, time.monotonic())

    def kill_restart(*services: str) -> Callable[[], None]:
        def go() -> None:
            for service in services:
                stack.services[service].kill()
            time.sleep(rng.uniform(0.5, 1.5))
            for service in services:
                stack.start_service(service)

        return go

    def kill_second_instances() -> None:
        stack.services["dispatch-2"].kill()
        stack.services["handling-2"].kill()

    def freeze(process_name: str) -> Callable[[], None]:
        def go() -> None:
            process = getattr(stack.servers, process_name)
            process.pause()
            time.sleep(PAUSE_S)
            process.resume()

        return go

    # The short form (make test) kills one consumer mid-batch, and cobuild (which follows every
    # ticket) with it, and restarts both: one fault, so the run takes as long as it did; the
    # second-instance kill below takes a handling instance too. The long form kills every service
    # in turn.
    kills = (
        [("intake",), ("dispatch",), ("handling",), ("feedback",), ("supervision",), ("directory",), ("cobuild",)]
        if long_form
        else [("dispatch", "cobuild")]
    )
    schedule: list[tuple[str, Callable[[], None]]] = []
    schedule += [(f"SIGKILL {' and '.join(names)}, restart", kill_restart(*names)) for names in kills]
    schedule += [
        (f"SIGSTOP broker {PAUSE_S:.0f} s, SIGCONT", freeze("broker")),
        (f"SIGSTOP database {PAUSE_S:.0f} s, SIGCONT", freeze("database")),
    ]
    if long_form:
        schedule += [
            ("SIGKILL second handling instance", lambda: stack.services["handling-2"].kill()),
            ("SIGKILL second dispatch instance", lambda: stack.services["dispatch-2"].kill()),
        ]
    else:
        schedule += [("SIGKILL second dispatch and handling instances", kill_second_instances)]
    waves = [sim.plans[i :: len(schedule) + 1] for i in range(len(schedule) + 1)]
    filer: threading.Thread | None = None
    for wave, (name, fault) in zip(waves, schedule, strict=False):
        filer = threading.Thread(target=sim.file, args=(wave,), daemon=True)
        filer.start()
        # Reports are in flight when the fault comes: dispatch dies mid-batch; the rest of the wave
        # (about twenty reports, seconds of filing) is still being filed through the other faults.
        time.sleep(0.3 if name.startswith("SIGKILL dispatch") else 0.75)
        inject(name, fault)
        filer.join()
    sim.file(waves[-1])
    settle(sim, stall_s=stall_s)
    sim.stop.set()
    users.join(timeout=30)
    caught_up = consumers_caught_up(stack)
    return check(stack, sim, faults, started_at, time.monotonic() - t0, caught_up)


def settle(sim: Simulation, *, stall_s: float) -> None:
    """Wait for the backlog the faults left to drain: as long as tickets keep closing, however
    long that takes under load; give up once nothing has moved for `stall_s`."""
    last, moved_at = -1, time.monotonic()
    while not sim.all_rated() and time.monotonic() - moved_at < stall_s:
        done = sim.rated_count()
        if done != last:
            last, moved_at = done, time.monotonic()
        time.sleep(0.2)  # counted in memory: looking often costs nothing, and the run ends when the last is rated


def configured_reports(default: int) -> int:
    return int(os.environ.get("GRIDLOOP_FAULT_REPORTS", default))
