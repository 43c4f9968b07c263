"""`make bench`: supervision's projection rate in events/s beside the loop's peak event rate.

Starts its own embedded stack on free ports with supervision stopped, drives the loop as people
do (grid workers filing from several clients at once, departments accepting and resolving,
reporters verifying and rating) and reads the loop's busiest 10 s off the tickets topic. Then it
starts supervision, which finds every one of those events waiting, and times how fast its
consumer group's committed offsets reach the end of the topic (lag zero on the broker)."""

import argparse
import tempfile
import threading
import time
from pathlib import Path

from gridloop.shared.events import TICKETS_TOPIC, Envelope
from gridloop.stack.stack import Stack, StackConfig
from gridloop.stack.testing import Bus
from tests.reliability.harness import RATE_WINDOW_S, Simulation, bootstrap, consumer_lag, peak_rate
from tests.reliability.scenario import settle

GROUP = "supervision"


def drive_loop(stack: Stack, *, reports: int, clients: int) -> tuple[list[Envelope], float, int]:
    """Reports round the loop; the events they left on the topic, the seconds it took and how
    many were rated (on a machine too busy for all of them, the rest still left their events)."""
    sim = Simulation(stack, reports)
    started = time.monotonic()
    people = threading.Thread(target=sim.run_users, name="users", daemon=True)
    people.start()
    filers = [threading.Thread(target=sim.file, args=(sim.plans[i::clients],), daemon=True) for i in range(clients)]
    for filer in filers:
        filer.start()
    for filer in filers:
        filer.join()
    settle(sim, stall_s=120)
    sim.stop.set()
    people.join(timeout=30)
    bus = Bus(bootstrap(stack))
    events = [Envelope.from_wire(value) for _, value, _ in bus.read(TICKETS_TOPIC) if value is not None]
    return events, time.monotonic() - started, sim.rated_count()


def backlog(stack: Stack) -> int:
    return sum(consumer_lag(stack, [GROUP])[GROUP].values())


def drain(stack: Stack, timeout_s: float = 600.0) -> tuple[int, float]:
    """(events, seconds) from supervision's first commit to lag zero: its projection rate, start-up left out."""
    waiting = backlog(stack)
    stack.start_service(GROUP)
    give_up = time.monotonic() + timeout_s
    while (left := backlog(stack)) == waiting:
        if time.monotonic() > give_up:
            raise SystemExit(f"supervision handled nothing of {waiting} events in {timeout_s:.0f} s")
        time.sleep(0.05)
    started, counted = time.monotonic(), left
    while left:
        if time.monotonic() > give_up:
            raise SystemExit(f"supervision still {left} events behind after {timeout_s:.0f} s")
        time.sleep(0.05)
        left = backlog(stack)
    return counted, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4, help="grid workers' clients filing at once")
    parser.add_argument("--logs", type=Path, help="keep the services' logs here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        stack = Stack(StackConfig.ephemeral(log_dir=args.logs or Path(scratch)))
        stack.start()
        try:
            stack.services[GROUP].stop()
            events, seconds, rated = drive_loop(stack, reports=args.reports, clients=args.clients)
            peak = peak_rate(events)
            projected, drained_s = drain(stack)
        finally:
            stack.stop()
    rate = projected / drained_s
    print(
        f"loop: {rated} of {args.reports} reports round the loop from {args.clients} clients in {seconds:.0f} s, "
        f"{len(events)} events; peak {peak:.1f} events/s (busiest {RATE_WINDOW_S:.0f} s), "
        f"mean {len(events) / seconds:.1f} events/s"
    )
    print(
        f"supervision projection: {projected} waiting events in {drained_s:.1f} s -> {rate:.0f} events/s, "
        f"{rate / peak:.1f}x the loop's peak"
    )


if __name__ == "__main__":
    main()
