"""`make bench`: time from POST /v1/reports to the work order showing in the department's inbox.

Starts its own embedded stack on free ports, files reports one at a time and polls the lead
department for its work order every 10 ms, then prints p50, p95 and max over the run."""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack, StackConfig

CATEGORIES = {"SJ-0101": "CG", "BJ-0101": "SW", "SJ-0201": "JJ", "SJ-0302": "STHJ", "BJ-0301": "YLLH"}
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs:
        stack = Stack(StackConfig.ephemeral(log_dir=Path(logs)))
        stack.start()
        try:
            urls = {name: stack.url(name) for name in SERVICES}
            worker = ApiUser(urls=urls, sub="gw-bench", role=Role.GRID_WORKER, org="LJ01")
            agents = {
                d: ApiUser(urls=urls, sub=f"agent-{d}", role=Role.DEPARTMENT_AGENT, org=d)
                for d in set(CATEGORIES.values())
            }
            latencies = []
            codes = list(CATEGORIES)
            for n in range(args.reports):
                category = codes[n % len(codes)]
                started = time.perf_counter()
                report = worker.ok(
                    "intake",
                    "POST",
                    "/v1/reports",
                    json={
                        "category_code": category,
                        "description": f"基准测试上报 {n}",
                        "location": point(n),
                    },
                )
                agent = agents[CATEGORIES[category]]
                while True:
                    # the inbox lists by deadline, so the newest order is not on its first page; ask for it
                    order = agent.call("handling", "GET", f"/v1/work-orders/{report['ticket_id']}")
                    if order.status_code == 200:
                        break
                    if time.perf_counter() - started > 30:
                        raise SystemExit(f"report {n} not in the inbox after 30 s")
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - started)
        finally:
            stack.stop()
    ms = [v * 1000 for v in latencies]
    print(
        f"report -> inbox over {len(ms)} reports: p50 {percentile(ms, 0.5):.0f} ms, "
        f"p95 {percentile(ms, 0.95):.0f} ms, max {max(ms):.0f} ms, mean {statistics.mean(ms):.0f} ms"
    )


if __name__ == "__main__":
    main()
