"""社区事务准入 against the real broker and database, through HTTP: a department's requests decided
by the lists or by the district, the community's inbox of admitted tasks, a revocation, a flag of an
unadmitted task, the certificate check; and each step announced on the volunteering topic."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.events import VOLUNTEERING_TOPIC, Envelope, Role
from gridloop.stack.client import ApiUser
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch

pytestmark = pytest.mark.integration
BASE = "/v1/cobuild/admission"


@pytest.fixture(scope="module")
def cobuild(servers: Servers, service_logs: Path, bus: Bus) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    yield service
    service.process.stop()


def _users(service: RunningService) -> dict[str, ApiUser]:
    return {
        "cg": service.user(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG"),
        "sw": service.user(sub="agent-sw", role=Role.DEPARTMENT_AGENT, org="SW"),
        "qh": service.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH"),
        "cw": service.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01"),
        "cw-wh": service.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01"),
        "res": service.user(sub="res-lj01", role=Role.RESIDENT, org="LJ01"),
    }


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _request(**changes: Any) -> dict[str, Any]:
    return {
        "task_type": "form",
        "title": "沿街商户门前三包责任书签订台账",
        "description": "每户签订责任书并建立台账",
        "community_codes": ["LJ01"],
        "starts_on": (_today() + timedelta(days=70)).isoformat(),
        "resources_provided": "工作经费每社区2000元",
        **changes,
    }


def _file(user: ApiUser, body: dict[str, Any]) -> Any:
    # the directory's lists reach the service a moment after it starts
    def attempt() -> Any:
        response = user.call("cobuild", "POST", f"{BASE}/requests", json=body)
        return response.status_code == 201 and response.json()

    return eventually(attempt, what="admission request filed")


def _events(bus: Bus, key: str) -> list[Envelope]:
    parsed = [Envelope.from_wire(v) for _, v, _ in bus.read(VOLUNTEERING_TOPIC) if v is not None]
    return [e for e in parsed if e.ticket_id == key]


def _wait(bus: Bus, key: str, event_type: str) -> Envelope:
    return eventually(
        lambda: next((e for e in _events(bus, key) if e.event_type == event_type), None),
        interval=0.3,
        what=f"{event_type} of {key}",
    )


def test_requests_are_decided_by_the_lists_or_the_district_and_reach_the_inbox(
    cobuild: RunningService, bus: Bus
) -> None:
    u = _users(cobuild)
    census = _file(
        u["cg"], _request(task_type="survey", title="人口普查入户登记", community_codes=[], street_code="LJ")
    )
    assert census["status"] == "admitted" and census["decided_by"] == "list"
    assert census["list_item"]["code"] == "QH-2026-1-A01"
    assert census["community_codes"] == ["LJ01", "LJ02", "LJ03"]

    sign = _file(u["cg"], _request(task_type="sign", title="社区挂牌城管工作站"))
    assert (sign["status"], sign["decided_by"]) == ("refused", "negative_list")
    assert "不得要求社区挂牌" in sign["reason"]

    waiting = _file(u["cg"], _request())
    assert waiting["status"] == "submitted" and not waiting["overdue"]
    assert date.fromisoformat(waiting["decision_due"][:10]) > _today()

    late = u["cg"].call("cobuild", "POST", f"{BASE}/requests", json=_request(starts_on=_today().isoformat()))
    assert late.status_code == 422 and late.json()["error"]["code"] == "too_late"
    urgent = _file(
        u["cg"],
        _request(
            task_type="inspection",
            title="寒潮期间燃气使用安全排查",
            starts_on=(_today() + timedelta(days=1)).isoformat(),
            emergency=True,
            emergency_reason="寒潮预警，公共安全",
        ),
    )
    assert urgent["status"] == "submitted" and urgent["emergency"]

    pending = u["qh"].ok("cobuild", "GET", f"{BASE}/requests?status=submitted")["items"]
    assert {waiting["id"], urgent["id"]} <= {r["id"] for r in pending}
    assert u["sw"].call("cobuild", "GET", f"{BASE}/requests/{waiting['id']}").status_code == 404
    decided_by_a_department = u["cg"].call(
        "cobuild", "POST", f"{BASE}/requests/{waiting['id']}/decision", json={"admitted": True}
    )
    assert decided_by_a_department.status_code == 403
    admitted = u["qh"].ok("cobuild", "POST", f"{BASE}/requests/{waiting['id']}/decision", json={"admitted": True})
    assert admitted["status"] == "admitted" and admitted["decided_by"] == "district"
    refused = u["qh"].call("cobuild", "POST", f"{BASE}/requests/{urgent['id']}/decision", json={"admitted": False})
    assert refused.status_code == 422  # a refusal needs its reason
    u["qh"].ok(
        "cobuild", "POST", f"{BASE}/requests/{urgent['id']}/decision", json={"admitted": False, "reason": "属部门职责"}
    )

    inbox = u["cw"].ok("cobuild", "GET", f"{BASE}/inbox")
    assert {t["request_id"] for t in inbox["items"]} == {census["id"], waiting["id"]}
    assert u["cw-wh"].ok("cobuild", "GET", f"{BASE}/inbox")["items"] == []
    assert u["cg"].call("cobuild", "GET", f"{BASE}/inbox").status_code == 403

    u["qh"].ok("cobuild", "POST", f"{BASE}/requests/{census['id']}/revoke", json={"reason": "普查时间调整"})
    assert [t["request_id"] for t in u["cw"].ok("cobuild", "GET", f"{BASE}/inbox")["items"]] == [waiting["id"]]
    again = u["qh"].call("cobuild", "POST", f"{BASE}/requests/{census['id']}/revoke", json={"reason": "再撤一次"})
    assert again.status_code == 409

    _wait(bus, census["id"], "admission.revoked")
    assert [e.event_type for e in _events(bus, census["id"])] == [
        "admission.requested",
        "admission.decided",
        "admission.revoked",
    ]
    decided = _wait(bus, waiting["id"], "admission.decided")
    assert decided.payload.model_dump()["decided_by"] == "district"


def test_a_flag_and_the_certificate_check(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    body = {
        "department_code": "CG",
        "task_type": "form",
        "title": "临时摸排沿街商铺表",
        "received_on": _today().isoformat(),
        "note": "工作群直接下发，未经准入",
    }
    assert u["res"].call("cobuild", "POST", f"{BASE}/flags", json=body).status_code == 403
    flag = u["cw"].ok("cobuild", "POST", f"{BASE}/flags", json=body)
    assert flag["department_name"] == "区城市管理局"
    assert u["cg"].ok("cobuild", "GET", f"{BASE}/flags")["items"][0]["id"] == flag["id"]
    flagged = _wait(bus, flag["id"], "task.flagged")
    assert flagged.payload.model_dump()["department_code"] == "CG"
    unknown = u["cw"].call("cobuild", "POST", f"{BASE}/flags", json={**body, "department_code": "NOPE"})
    assert unknown.status_code == 422

    listed = u["res"].ok("cobuild", "GET", f"{BASE}/certificates?community=LJ01")
    assert listed["version"] == "2026-1" and len(listed["items"]) == 6
    ok = u["res"].ok(
        "cobuild", "POST", f"{BASE}/certificate-requests", json={"community_code": "LJ01", "certificate": "居住证明"}
    )
    assert ok["accepted"] and ok["item"]["code"] == "QH-2026-1-C01"
    kin = u["cw"].call(
        "cobuild",
        "POST",
        f"{BASE}/certificate-requests",
        json={"community_code": "LJ01", "certificate": "亲属关系证明"},
    )
    assert kin.status_code == 422
    error = kin.json()["error"]
    assert error["code"] == "certificate_not_issued_here" and "户籍所在地公安派出所" in error["message"]
    assert error["details"]["department_code"] == "GA"
    other = u["cw"].call(
        "cobuild", "POST", f"{BASE}/certificate-requests", json={"community_code": "WH01", "certificate": "居住证明"}
    )
    assert other.status_code == 403
