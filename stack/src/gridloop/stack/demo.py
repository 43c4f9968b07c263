"""`make demo`: realistic traffic through a running `make run`, so a newcomer sees tickets move and close.

Grid workers report problems across the three streets; rules dispatch most of them, the street
desk whistles (吹哨) a lead and an assisting department for the rest, and the assisting one reports
its part before the lead resolves; one department sends a ticket back (退单); a report made twice is
flagged and merged; the admin tightens the time limit of 违章停车 (the change reaches every service
without a restart) and two such tickets are left too long, so the watchdog flags them overdue; some
fixes fail the on-site check and are reworked (返工); every reporter rates the result, hears of each
step, and supervision's figures are printed. Then one round of the 共建 loop (demo_cobuild): needs,
resources and projects, a conversion each way, and a hotspot made a project."""

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from gridloop.shared.events import Role
from gridloop.stack import demo_cobuild
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import DEFAULT_PORTS

STREETS = {"LJ": 0, "WH": 1, "SL": 2}  # each street's column of grids, 0.02° wide, west to east
PROBLEMS = [
    ("SJ-0101", "小区门口垃圾堆积无人清运"),
    ("BJ-0101", "人行道上水井盖破损下陷"),
    ("SJ-0201", "消防通道被车辆占用"),
    ("SJ-0202", "早市摊贩占道经营"),
    ("BJ-0201", "路灯夜间不亮"),
    ("SJ-0302", "夜间施工噪声扰民"),
    ("SJ-0401", "餐馆油烟直排"),
    ("BJ-0301", "行道树倾斜有倒伏风险"),
    ("SJ-0601", "供水管道破裂路面积水"),
    ("SJ-0701", "疑似群租房，人员进出频繁"),
]
DEPARTMENTS = ["CG", "JJ", "ZJ", "STHJ", "SCJG", "SW", "YLLH", "GD"]
RATINGS = ["satisfied", "satisfied", "basically_satisfied", "unsatisfied"]


def _wait(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.2)
    raise SystemExit(f"gave up waiting for {what}: is `make run` running?")


LATE_ACCEPT_MINUTES = 1


def _file(
    worker: ApiUser, category: str, text: str, point: dict[str, float], street: str, *, key: str
) -> dict[str, Any]:
    report = worker.ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": category, "description": text, "location": point},
        headers={"Idempotency-Key": key},
    )
    print(f"  {report['ticket_number']}  {report['category_name']:<8} {report['grid_code']}")
    return {
        "id": report["ticket_id"],
        "number": report["ticket_number"],
        "street": street,
        "worker": worker,
        "name": report["category_name"],
        "category": category,
        "point": point,
    }


def _worker_at(reader: ApiUser, point: dict[str, float]) -> ApiUser:
    """The grid worker of the community whose grid holds the point."""
    community = reader.ok("directory", "GET", "/v1/directory/grids/locate", params=point)["community"]
    return ApiUser(
        urls=reader.urls, sub=f"gw-{community.lower()}", role=Role.GRID_WORKER, org=community, name=f"{community}网格员"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Drive demo traffic through a running GridLoop")
    parser.add_argument("--reports", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cobuild-only", action="store_true", help="only the 共建 round (needs, offers, projects)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    urls = {name: f"http://127.0.0.1:{port}" for name, port in DEFAULT_PORTS.items()}
    agents = {d: ApiUser(urls=urls, sub=f"agent-{d.lower()}", role=Role.DEPARTMENT_AGENT, org=d) for d in DEPARTMENTS}
    desks = {s: ApiUser(urls=urls, sub=f"sd-{s.lower()}", role=Role.STREET_DISPATCHER, org=s) for s in STREETS}
    chief = ApiUser(urls=urls, sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    if not args.cobuild_only:
        _tickets(args, rng, urls, agents, desks, chief)
    demo_cobuild.run(urls, agents)


def _tickets(
    args: argparse.Namespace,
    rng: random.Random,
    urls: dict[str, str],
    agents: dict[str, ApiUser],
    desks: dict[str, ApiUser],
    chief: ApiUser,
) -> None:
    """The tickets' closed loop: reports filed, dispatched, handled, checked, closed and rated."""
    admin = ApiUser(urls=urls, sub="admin-qh", role=Role.ADMIN, org="QH")
    fire_lane = {
        "code": "SJ-0201",
        "accept": {"within": LATE_ACCEPT_MINUTES, "unit": "minutes"},
        "resolve": {"within": 30, "unit": "minutes"},
    }
    admin.ok("directory", "PUT", "/v1/directory/slas/SJ-0201", json=fire_lane)
    print(f"Admin: 违章停车 must now be accepted within {LATE_ACCEPT_MINUTES} minute(s) (live change, no restart)")
    time.sleep(3.0)  # the change travels the directory topic to dispatch

    tickets: list[dict[str, Any]] = []
    print(f"Filing {args.reports} reports ...")
    for n in range(args.reports):
        street = rng.choice(list(STREETS))
        index = STREETS[street]
        category, text = rng.choice(PROBLEMS)
        point = {
            "lon": round(120.10 + 0.02 * index + rng.uniform(0.001, 0.019), 5),
            "lat": round(30.20 + rng.uniform(0.001, 0.049), 5),
        }
        worker = _worker_at(chief, point)  # grid workers report in their own community's grids
        tickets.append(_file(worker, category, text, point, street, key=f"demo-{args.seed}-{n}-{time.time_ns()}"))
    late = []
    for n, street in enumerate(["LJ", "WH"]):
        point = {"lon": 120.105 + 0.02 * n, "lat": 30.215}
        worker = _worker_at(chief, point)
        late.append(_file(worker, "SJ-0201", "私家车长时间占用消防通道", point, street, key=f"late-{time.time_ns()}"))
    tickets += late

    def lead_of(ticket: dict[str, Any]) -> str | None:
        view = chief.call("supervision", "GET", f"/v1/supervision/tickets/{ticket['id']}")
        if view.status_code != 200:
            return None
        body = view.json()["ticket"]
        return str(body["lead_department"]) if body["status"] == "dispatched" else None

    original = tickets[0]
    neighbour = ApiUser(urls=urls, sub="gw-dup", role=Role.GRID_WORKER, org=original["worker"].org)
    near = {"lon": original["point"]["lon"], "lat": round(original["point"]["lat"] + 0.0002, 5)}  # 22 m away
    twice = _file(
        neighbour, original["category"], "同一问题再次上报", near, original["street"], key=f"dup-{time.time_ns()}"
    )

    def queued_item(t: dict[str, Any]) -> dict[str, Any] | None:
        items = desks[t["street"]].ok("dispatch", "GET", "/v1/dispatch/queue")["items"]
        return next((i for i in items if i["ticket_id"] == t["id"]), None)

    flagged = _wait(lambda: queued_item(twice), "the possible duplicate in the queue")
    desks[twice["street"]].ok(
        "dispatch",
        "POST",
        f"/v1/dispatch/tickets/{twice['id']}/cancel",
        json={"reason": "duplicate", "duplicate_of": original["id"], "comment": "同一点位同一问题"},
    )
    print(
        f"  {twice['number']}  flagged {flagged['queue_reason']} of {original['number']}: "
        "the street desk merges it (合并); its reporter will hear when the original closes"
    )

    for ticket in tickets:

        def queued(t: dict[str, Any] = ticket) -> dict[str, Any] | None:
            items = desks[t["street"]].ok("dispatch", "GET", "/v1/dispatch/queue")["items"]
            return next((i for i in items if i["ticket_id"] == t["id"]), None)

        def routed(t: dict[str, Any] = ticket) -> str | dict[str, Any] | None:
            return lead_of(t) or queued(t)

        entry = _wait(routed, f"dispatch of {ticket['number']}")
        if isinstance(entry, dict):
            desks[ticket["street"]].ok(
                "dispatch",
                "POST",
                f"/v1/dispatch/tickets/{ticket['id']}/assign",
                json={"lead_department": "ZJ", "assisting_departments": ["CG"]},
            )
            print(f"  {ticket['number']}  no rule: the street desk whistles 住建 (lead) + 城管 (assisting)")
            entry = _wait(partial(lead_of, ticket), f"assignment of {ticket['number']}")
            ticket["assisting"] = ["CG"]
        ticket["lead"] = entry

    bounced = next((t for t in tickets if t["lead"] == "CG"), None)
    if bounced:
        agents["CG"].ok(
            "handling", "POST", f"/v1/work-orders/{bounced['id']}/reject", json={"reason": "该点位由交警负责"}
        )
        print(f"  {bounced['number']}  城管 sends it back (退单): 该点位由交警负责")
        _wait(
            lambda: any(
                i["ticket_id"] == bounced["id"]
                for i in desks[bounced["street"]].ok("dispatch", "GET", "/v1/dispatch/queue")["items"]
            ),
            "the bounced ticket in the queue",
        )
        desks[bounced["street"]].ok(
            "dispatch", "POST", f"/v1/dispatch/tickets/{bounced['id']}/assign", json={"lead_department": "JJ"}
        )
        bounced["lead"] = _wait(lambda: lead_of(bounced), "re-dispatch")
        print(f"  {bounced['number']}  re-dispatched to 交警")

    def handle(ticket: dict[str, Any]) -> None:
        agent = agents[ticket["lead"]]
        agent.ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/accept")
        agent.ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/progress", json={"note": "已派人到场处置"})
        for helper in ticket.pop("assisting", []):
            agents[helper].ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/part", json={"note": "已配合完成"})
            print(f"  {ticket['number']}  {helper} reports its assisting part (协办反馈); the lead may resolve")
        agent.ok("handling", "POST", f"/v1/work-orders/{ticket['id']}/resolve", json={"note": "已处置完毕"})

    def verify(ticket: dict[str, Any], passed: bool) -> None:
        worker: ApiUser = ticket["worker"]

        def pending() -> bool:
            task = worker.call("feedback", "GET", f"/v1/verifications/{ticket['id']}")
            return task.status_code == 200 and (task.json()["verification"] or {}).get("status") == "pending"

        _wait(pending, "verification task")
        worker.ok(
            "feedback",
            "POST",
            f"/v1/verifications/{ticket['id']}",
            json={"passed": passed, "comment": "已核实" if passed else "现场问题仍在"},
        )

    print("Departments accept and resolve; reporters check on site ...")
    for i, ticket in enumerate([t for t in tickets if t not in late] + late):
        if ticket in late:

            def flagged(t: dict[str, Any] = ticket) -> bool:
                timeline = chief.ok("supervision", "GET", f"/v1/supervision/tickets/{t['id']}")["timeline"]
                return any(e["event_type"] == "ticket.overdue" for e in timeline)

            _wait(
                flagged,
                f"the watchdog to flag {ticket['number']}",
                timeout=LATE_ACCEPT_MINUTES * 60 + 60,
            )
            print(
                f"  {ticket['number']}  违章停车 not accepted within {LATE_ACCEPT_MINUTES} min: flagged overdue (超期)"
            )
        handle(ticket)
        verify(ticket, passed=i % 4 != 1)
        if i % 4 == 1:
            print(f"  {ticket['number']}  check failed: back to the department for rework (返工)")

            def reopened(t: dict[str, Any] = ticket) -> bool:
                orders = agents[t["lead"]].ok("handling", "GET", "/v1/work-orders", params={"status": "reopened"})
                return any(o["ticket_id"] == t["id"] and o["status"] == "reopened" for o in orders["items"])

            _wait(reopened, "reopened work order")
            handle(ticket)
            verify(ticket, passed=True)

        def closed(t: dict[str, Any] = ticket) -> bool:
            return bool(t["worker"].ok("intake", "GET", f"/v1/reports/{t['id']}")["status"] == "closed")

        _wait(closed, "closure")
        rating = rng.choice(RATINGS)
        ticket["worker"].ok("feedback", "POST", f"/v1/ratings/{ticket['id']}", json={"rating": rating})
        print(f"  {ticket['number']}  {ticket['name']:<8} {ticket['lead']:<5} closed, rated {rating}")

    told = neighbour.ok("feedback", "GET", "/v1/notifications")["items"]
    print(f"\nNotifications to the reporter of the merged duplicate: {[n['text'] for n in told][:2]}")
    time.sleep(1.0)
    stats = chief.ok("supervision", "GET", "/v1/supervision/stats/departments")
    print("\nSupervision (last 30 days):")
    print(
        f"  {'dept':<6}{'dispatched':>11}{'rejected':>9}{'overdue':>8}{'resolved':>9}{'reopened':>9}"
        f"{'closed':>7}{'满意率':>8}"
    )
    for row in stats["items"]:
        rate = "-" if row["satisfaction_rate"] is None else f"{row['satisfaction_rate']:.0%}"
        print(
            f"  {row['code']:<6}{row['dispatched']:>11}{row['rejected']:>9}{row['overdue']:>8}{row['resolved']:>9}"
            f"{row['reopened']:>9}{row['closed']:>7}{rate:>8}"
        )
    ranking = chief.ok("supervision", "GET", "/v1/supervision/ranking/departments", params={"min_volume": 2})

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    print("\n三率 ranking (红黑榜), departments with at least 2 dispatches:")
    for row in ranking["ranked"]:
        board = "红榜" if row in ranking["red_list"] else "黑榜" if row in ranking["black_list"] else ""
        print(
            f"  {row['rank']:>2}. {row['name']:<10} 响应率 {pct(row['response_rate']):>5}  解决率 "
            f"{pct(row['resolution_rate']):>5}  满意率 {pct(row['satisfaction_rate']):>5}  "
            f"综合得分 {row['score']:>6}  {board}"
        )
    month = datetime.now(UTC).strftime("%Y-%m")
    sheet = chief.call("supervision", "GET", f"/v1/supervision/evaluation/{month}", params={"format": "xlsx"})
    print(
        f"\nMonthly evaluation sheet (街道评议部门): GET /v1/supervision/evaluation/{month}?format=xlsx|csv "
        f"-> {sheet.status_code}, {len(sheet.content)} bytes"
    )


if __name__ == "__main__":
    main()
