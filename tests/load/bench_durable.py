"""`make bench`: what the durable broker costs. The same run starts the in-memory stack (the tests')
and the durable one (`make run`'s: Tansu on SeaweedFS), and on each times report -> inbox one
report at a time (p50, p95) and then how many filings per second a few workers sustain."""

import argparse
import tempfile
import threading
import time
from pathlib import Path

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack, StackConfig
from tests.load.bench_load import ROUTED as CATEGORIES
from tests.load.bench_load import percentile

GRID = (120.1, 30.2, 120.11, 30.21)  # LJ01-G1, the bench worker's own community
SPACING = 0.0006  # about 60 m: beyond the 50 m within which a report of the same category is a possible duplicate


def point(n: int) -> dict[str, float]:
    """The n-th report's own place in the grid, so no duplicate hint holds it at the street desk."""
    lon0, lat0, lon1, lat1 = GRID
    per_row = int((lon1 - lon0) / SPACING) - 1
    row, column = divmod(n, per_row)
    if (row + 1) * SPACING >= lat1 - lat0:
        raise SystemExit(f"at most {per_row * (int((lat1 - lat0) / SPACING) - 1)} reports fit the grid")
    return {"lon": round(lon0 + (column + 1) * SPACING, 6), "lat": round(lat0 + (row + 1) * SPACING, 6)}


def _latencies(stack: Stack, reports: int) -> list[float]:
    urls = {name: stack.url(name) for name in SERVICES}
    worker = ApiUser(urls=urls, sub="gw-bench", role=Role.GRID_WORKER, org="LJ01")
    agents = {d: ApiUser(urls=urls, sub=f"agent-{d}", role=Role.DEPARTMENT_AGENT, org=d) for d in CATEGORIES.values()}
    codes = list(CATEGORIES)
    out = []
    for n in range(reports):
        category = codes[n % len(codes)]
        started = time.perf_counter()
        body = {"category_code": category, "description": f"基准测试上报 {n}", "location": point(n)}
        ticket_id = worker.ok("intake", "POST", "/v1/reports", json=body)["ticket_id"]
        agent = agents[CATEGORIES[category]]
        while agent.call("handling", "GET", f"/v1/work-orders/{ticket_id}").status_code != 200:
            if time.perf_counter() - started > 30:
                raise SystemExit(f"report {n} not in the inbox after 30 s")
            time.sleep(0.01)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _filings_per_second(stack: Stack, *, workers: int, seconds: float, first: int) -> float:
    """Filings acknowledged per second with `workers` grid workers filing back to back."""
    urls = {"intake": stack.url("intake")}
    done = [0] * workers
    stop = time.perf_counter() + seconds

    def file(k: int) -> None:
        user = ApiUser(urls=urls, sub=f"gw-rate-{k}", role=Role.GRID_WORKER, org="LJ01")
        n = first + k
        while time.perf_counter() < stop:
            body = {"category_code": "SJ-0101", "description": f"吞吐测试 {n}", "grid_code": "LJ01-G1"}
            user.ok("intake", "POST", "/v1/reports", json=body)
            done[k] += 1
            n += workers

    threads = [threading.Thread(target=file, args=(k,)) for k in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for label, config in [
            ("in memory", StackConfig.ephemeral(log_dir=Path(folder) / "memory")),
            ("durable (SeaweedFS)", StackConfig.durable(Path(folder) / "durable")),
        ]:
            stack = Stack(config)
            started = time.perf_counter()
            stack.start()
            start_s = time.perf_counter() - started
            try:
                ms = _latencies(stack, args.reports)
                rate = _filings_per_second(stack, workers=args.workers, seconds=args.seconds, first=args.reports)
            finally:
                stack.stop()
            rows.append((label, start_s, percentile(ms, 0.5), percentile(ms, 0.95), max(ms), rate))
    print(f"\nreport -> inbox over {args.reports} reports one at a time; filings/s with {args.workers} workers")
    print(f"{'broker':<22}{'start s':>8}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'filings/s':>11}")
    for label, start_s, p50, p95, worst, rate in rows:
        print(f"{label:<22}{start_s:>8.1f}{p50:>8.0f}{p95:>8.0f}{worst:>8.0f}{rate:>11.1f}")


if __name__ == "__main__":
    main()
