"""The closed loop end to end, through HTTP only: 50 reports from grid workers reach their departments,
are handled, verified (some fail and are reworked), rated, and supervision counts exactly what happened."""

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e

ROUTED = {  # category -> lead department, as in the demo directory
    "BJ-0101": "SW",
    "BJ-0102": "SW",
    "BJ-0105": "GD",
    "BJ-0201": "CG",
    "BJ-0202": "JJ",
    "BJ-0301": "YLLH",
    "SJ-0101": "CG",
    "SJ-0102": "CG",
    "SJ-0201": "JJ",
    "SJ-0301": "ZJ",
    "SJ-0302": "STHJ",
    "SJ-0401": "STHJ",
    "SJ-0501": "SCJG",
    "SJ-0502": "SCJG",
    "SJ-0601": "SW",
}
ASSISTING = {"SJ-0301": ["CG"]}  # 违法建设: 住建 leads, 城管 assists (demo rule R-SJ-0301)
UNROUTED = "SJ-0701"  # 群租房: no rule, waits for the street desk
COMMUNITIES = {"LJ": ["LJ01", "LJ02", "LJ03"], "WH": ["WH01", "WH02", "WH03"], "SL": ["SL01", "SL02", "SL03"]}
DEPARTMENTS = ["CG", "JJ", "ZJ", "STHJ", "SCJG", "SW", "YLLH", "GD"]
RATINGS = ["satisfied", "basically_satisfied", "unsatisfied"]


def _point(street_index: int, rng: random.Random) -> dict[str, float]:
    """A point inside the demo grid area of a street (each street is 0.02° wide, 0.05° tall)."""
    return {
        "lon": round(120.10 + 0.02 * street_index + rng.uniform(0.001, 0.019), 5),
        "lat": round(30.20 + rng.uniform(0.001, 0.049), 5),
    }


def test_fifty_reports_go_round_the_loop_and_supervision_counts_exactly_that(urls: dict[str, str]) -> None:
    rng = random.Random(20261122)
    started = datetime.now(UTC)
    workers = {
        c: ApiUser(urls=urls, sub=f"gw-{c}", role=Role.GRID_WORKER, org=c, name=f"{c}网格员")
        for cs in COMMUNITIES.values()
        for c in cs
    }
    agents = {d: ApiUser(urls=urls, sub=f"agent-{d}", role=Role.DEPARTMENT_AGENT, org=d) for d in DEPARTMENTS}
    desks = {s: ApiUser(urls=urls, sub=f"sd-{s}", role=Role.STREET_DISPATCHER, org=s) for s in COMMUNITIES}
    chief = ApiUser(urls=urls, sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    expected: dict[str, Counter[str]] = defaultdict(Counter)

    # 1. Collect: 50 reports across categories and streets; 3 have no routing rule.
    tickets = []
    for n in range(50):
        street_index = rng.randrange(3)
        street = list(COMMUNITIES)[street_index]
        category = UNROUTED if n % 17 == 5 else rng.choice(sorted(ROUTED))
        body = {"category_code": category, "description": f"第{n + 1}号问题：现场发现{category}", "address": "演示路"}
        if n % 4 == 0:
            community = rng.choice(COMMUNITIES[street])
            body["grid_code"] = f"{community}-G1"
        else:
            body["location"] = point = _point(street_index, rng)
            community = chief.ok("directory", "GET", "/v1/directory/grids/locate", params=point)["community"]
        worker = workers[community]  # a grid worker reports in their own community's grids
        response = worker.call(
            "intake",
            "POST",
            "/v1/reports",
            json=body,
            headers={"Idempotency-Key": f"e2e-{n}", "X-Correlation-ID": f"e2e-corr-{n}"},
        )
        assert response.status_code == 201, response.text
        report = response.json()
        tickets.append(
            {"id": report["ticket_id"], "category": category, "street": report["street_code"], "worker": worker, "n": n}
        )
    assert len({t["id"] for t in tickets}) == 50

    # 2. Dispatch: routed tickets reach their department; the street desk assigns the rest by hand.
    for ticket in tickets:
        if ticket["category"] == UNROUTED:
            desk = desks[ticket["street"]]
            eventually(
                lambda t=ticket, d=desk: any(
                    i["ticket_id"] == t["id"] for i in d.ok("dispatch", "GET", "/v1/dispatch/queue")["items"]
                ),
                what="unrouted ticket queued",
            )
            desk.ok(
                "dispatch",
                "POST",
                f"/v1/dispatch/tickets/{ticket['id']}/assign",
                json={"lead_department": "ZJ", "assisting_departments": ["CG"]},
            )
            ticket["lead"] = "ZJ"
            ticket["assisting"] = ["CG"]
            expected["ZJ"]["dispatched_manual"] += 1
        else:
            ticket["lead"] = ROUTED[ticket["category"]]
            ticket["assisting"] = ASSISTING.get(str(ticket["category"]), [])
            expected[ticket["lead"]]["dispatched_auto"] += 1
        expected[ticket["lead"]]["dispatched"] += 1

    def wait_in_inbox(ticket: dict[str, object], department: str, status: str = "dispatched") -> None:
        agent = agents[department]
        eventually(
            lambda: any(
                o["ticket_id"] == ticket["id"] and o["status"] == status
                for o in agent.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
            ),
            what=f"{ticket['id']} {status} in {department} inbox",
        )

    # 3. One department sends a ticket back (退单); the street re-assigns it from its queue.
    bounced = next(t for t in tickets if t["lead"] == "CG")
    wait_in_inbox(bounced, "CG")
    agents["CG"].ok("handling", "POST", f"/v1/work-orders/{bounced['id']}/reject", json={"reason": "属于交警职责"})
    expected["CG"]["rejected"] += 1
    desk = desks[bounced["street"]]
    eventually(
        lambda: any(
            i["ticket_id"] == bounced["id"] and i["queue_reason"] == "rejected"
            for i in desk.ok("dispatch", "GET", "/v1/dispatch/queue")["items"]
        ),
        what="bounced ticket back in the street queue",
    )
    desk.ok("dispatch", "POST", f"/v1/dispatch/tickets/{bounced['id']}/assign", json={"lead_department": "JJ"})
    bounced["lead"] = "JJ"
    expected["JJ"]["dispatched"] += 1
    expected["JJ"]["dispatched_manual"] += 1

    # 4. Handle: each lead accepts; assisting departments report their parts (协办反馈); the lead resolves.
    def handle(ticket: dict[str, object], status: str) -> None:
        lead = str(ticket["lead"])
        wait_in_inbox(ticket, lead, status)
        agents[lead].ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/accept")
        if status == "dispatched":  # a rework keeps the parts already reported in this round
            for helper in ticket.get("assisting", []):  # type: ignore[attr-defined]
                wait_in_inbox(ticket, helper)
                agents[helper].ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/part", json={"note": "已配合"})
        agents[lead].ok(
            "handling", "POST", f"/v1/work-orders/{ticket['id']}/resolve", json={"note": "已处置完毕", "photos": []}
        )
        expected[lead]["accepted"] += 1
        expected[lead]["resolved"] += 1

    for ticket in tickets:
        handle(ticket, "dispatched")

    # 5. Verify: one in five fails on site and is reworked by the same department, then passes.
    def verify(ticket: dict[str, object], passed: bool) -> None:
        worker: ApiUser = ticket["worker"]  # type: ignore[assignment]
        eventually(
            lambda: any(
                v["ticket_id"] == ticket["id"]
                for v in worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
            ),
            what="verification task",
        )
        worker.ok(
            "feedback", "POST", f"/v1/verifications/{ticket['id']}", json={"passed": passed, "comment": "现场核查"}
        )

    reworked = [t for t in tickets if t["n"] % 5 == 0]
    for ticket in tickets:
        verify(ticket, passed=ticket not in reworked)
    for ticket in reworked:
        expected[str(ticket["lead"])]["reopened"] += 1
        handle(ticket, "reopened")
        verify(ticket, passed=True)

    # 6. Evaluate: every reporter rates.
    for ticket in tickets:
        worker = ticket["worker"]
        eventually(
            lambda t=ticket, w=worker: w.ok("intake", "GET", f"/v1/reports/{t['id']}")["status"] == "closed",
            what="reporter sees the ticket closed",
        )
        rating = RATINGS[ticket["n"] % 3]
        worker.ok("feedback", "POST", f"/v1/ratings/{ticket['id']}", json={"rating": rating})
        expected[str(ticket["lead"])]["closed"] += 1
        expected[str(ticket["lead"])]["rated"] += 1
        expected[str(ticket["lead"])][rating] += 1

    # Every acknowledged report is in supervision, closed, with a timeline that carries its request's correlation id.
    for ticket in tickets:
        view = eventually(
            lambda t=ticket: (lambda r: r.json() if r.status_code == 200 and r.json()["ticket"]["rating"] else None)(
                chief.call("supervision", "GET", f"/v1/supervision/tickets/{t['id']}")
            ),
            what="ticket rated in supervision",
        )
        assert view["ticket"]["status"] == "closed"
        reported, dispatched = view["timeline"][0], view["timeline"][1]
        assert reported["correlation_id"] == f"e2e-corr-{ticket['n']}"
        assert reported["actor"]["sub"] == ticket["worker"].sub
        if ticket["category"] != UNROUTED:  # the rule's dispatch belongs to the report's request
            assert dispatched["correlation_id"] == reported["correlation_id"]

    window = {  # from this test's start: the test before it may still be acting a second earlier
        "from": started.isoformat(),
        "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
    }
    stats = chief.ok("supervision", "GET", "/v1/supervision/stats/departments", params=window)
    fields = [
        "dispatched",
        "dispatched_auto",
        "dispatched_manual",
        "accepted",
        "rejected",
        "resolved",
        "reopened",
        "closed",
        "rated",
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
    ]
    # departments with nothing in the window are listed too when they have open tickets (open_now)
    active = [item for item in stats["items"] if any(item[f] for f in fields)]
    actual = {item["code"]: {f: item[f] for f in fields} for item in active}
    assert actual == {d: {f: expected[d][f] for f in fields} for d in expected}
    streets = chief.ok("supervision", "GET", "/v1/supervision/stats/streets", params=window)
    assert sum(item["reported"] for item in streets["items"]) == 50
    assert {i["code"]: i["reported"] for i in streets["items"] if i["reported"]} == dict(
        Counter(t["street"] for t in tickets)
    )
