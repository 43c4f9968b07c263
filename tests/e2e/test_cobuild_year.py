"""共建 II end to end: a compressed year of 双报到 in 江畔社区 (LJ01) on a clock the test steps.

Every process of a stack of its own reads the instant the test writes (GRIDLOOP_CLOCK_FILE), so one
run walks 2031 from the first reports in January through service in March and May, the points shop in
June, the half-yearly return in July, points expiring in November and the yearly 评议 in January 2032.
Units and members report, posts are claimed, activities run (check-in by the rotating code at the
place, and logs by hand), records are approved and rated, points are earned, redeemed and expire; then
the ledger sums to zero with every balance equal to its movements, the yearly sheets (CSV, XLSX, PDF)
and supervision's indicators equal what the test works out from what it did, and the 准入 gate admits,
refuses and counts flags as its rules say. Bad input is refused with nothing changed."""

import csv
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pypdfium2
import pytest

from gridloop.shared.clock import CITY_ZONE, step_clock
from gridloop.shared.events import Role
from gridloop.stack.client import ApiUser
from gridloop.stack.stack import SERVICES, Stack, StackConfig
from gridloop.stack.testing import eventually

pytestmark = pytest.mark.e2e

Y = 2031
COMMUNITY, STREET = "LJ01", "LJ"
G1, G2 = "LJ01-G1", "LJ01-G2"
HOSP, SCHOOL, BANK = "U-LJ-HOSP", "U-LJ-SCHOOL", "U-LJ-BANK"  # LJ01's paired units; the bank never reports
PLACE = {"lon": 120.105, "lat": 30.205}  # in 江畔社区第1网格
NEAR = {"lon": 120.1052, "lat": 30.2051}  # about 20 m away
FAR = {"lon": 120.14, "lat": 30.23}  # about 4 km away
SCREENSHOTS = Path("var/screenshots")


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = Y) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CITY_ZONE)


def identity_number(serial: int) -> str:
    """A made-up 居民身份证号 (杭州 330106, born in 1985) with its GB 11643 check character."""
    body = f"3301061985{(serial % 12) + 1:02d}{(serial % 28) + 1:02d}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


@dataclass
class Year:
    urls: dict[str, str]
    clock: Path

    def to(self, instant: datetime) -> None:
        step_clock(self.clock, instant)

    def user(self, sub: str, role: Role, org: str) -> ApiUser:
        return ApiUser(urls=self.urls, sub=sub, role=role, org=org)


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    clock = tmp_path_factory.mktemp("year-clock") / "now"
    step_clock(clock, at(1, 6))
    env = {
        "GRIDLOOP_CLOCK_FILE": str(clock),
        "GRIDLOOP_OUTBOX_POLL_SECONDS": "0.2",
        "GRIDLOOP_RECOUNT_INTERVAL_SECONDS": "0.5",
        "GRIDLOOP_HOTSPOT_INTERVAL_SECONDS": "86400",
        "GRIDLOOP_MEMBER_LAPSE_INTERVAL_SECONDS": "0.5",
        "GRIDLOOP_POINTS_EXPIRY_INTERVAL_SECONDS": "0.5",
        "GRIDLOOP_POINTS_VALID_MONTHS": "8",  # so points earned in March expire within the year
    }
    running = Stack(StackConfig.ephemeral(log_dir=tmp_path_factory.mktemp("year-logs"), env=env))
    running.start()
    yield Year(urls={name: running.url(name) for name in SERVICES}, clock=clock)
    running.stop()


def _ok(user: ApiUser, method: str, path: str, **kwargs: Any) -> Any:
    return user.ok("cobuild", method, f"/v1/cobuild{path}", **kwargs)


def _refused(
    user: ApiUser, method: str, path: str, status: int | tuple[int, ...], code: str | None, **kwargs: Any
) -> dict[str, Any]:
    response = user.call("cobuild", method, f"/v1/cobuild{path}", **kwargs)
    expected = status if isinstance(status, tuple) else (status,)
    assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
    error: dict[str, Any] = response.json()["error"]
    assert code is None or error["code"] == code, error
    return error


def _until(probe: Callable[[], Any], what: str) -> Any:
    return eventually(probe, timeout=30, interval=0.2, what=what)


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_a_year_of_dual_reporting_from_the_first_report_to_the_yearly_sheets(year: Year) -> None:
    cw = year.user("cw-lj01", Role.COMMUNITY_WORKER, COMMUNITY)
    hosp = year.user("ua-hosp", Role.UNIT_ADMIN, HOSP)
    school = year.user("ua-school", Role.UNIT_ADMIN, SCHOOL)
    sup = year.user("sup-qh", Role.SUPERVISOR, "QH")
    m = {k: year.user(f"pm-year-{k}", Role.MEMBER, COMMUNITY) for k in ("a", "b", "c", "v", "n")}

    # ---- 6 January: units report, members report, the community confirms and places them, posts
    receipt = _ok(hosp, "POST", f"/units/{HOSP}/reports", json={"community_code": COMMUNITY})
    assert receipt["receipt_number"].startswith(f"HZ-{COMMUNITY}-{Y}-")
    _ok(school, "POST", f"/units/{SCHOOL}/reports", json={"community_code": COMMUNITY})
    _refused(school, "POST", f"/units/{SCHOOL}/reports", 422, "not_paired", json={"community_code": "LJ02"})
    _ok(hosp, "PUT", f"/units/{HOSP}/headcount", json={"party_members": 3})
    _ok(school, "PUT", f"/units/{SCHOOL}/headcount", json={"party_members": 2})

    units = {"a": HOSP, "b": HOSP, "c": SCHOOL, "v": None, "n": HOSP}
    names = {"a": "年度甲", "b": "年度乙", "c": "年度丙", "v": "年度丁", "n": "年度戊"}
    ids: dict[str, str] = {}
    _refused(
        m["a"],
        "POST",
        "/members",
        422,
        "invalid_id_number",
        json={"party_member": True, "unit_code": HOSP, "name": "甲", "phone": "13900000001", "id_number": "1" * 18},
    )
    for i, (key, unit) in enumerate(units.items()):
        body = {
            "party_member": unit is not None,
            "unit_code": unit,
            "name": names[key],
            "phone": f"1390000{i:04d}",
            "id_number": identity_number(100 + i),
            "service_types": ["NC-ELDER"],
            "availability": "周末",
        }
        ids[key] = _ok(m[key], "POST", "/members", json=body)["id"]
    for key in ("a", "b", "c", "v"):  # n never reported: the community never confirms them
        _ok(cw, "POST", f"/members/{ids[key]}/confirm", json={})
    for key, grid, squad in (
        ("a", G1, "第一小队"),
        ("b", G1, "第一小队"),
        ("c", G2, "第二小队"),
        ("v", G2, "第二小队"),
    ):
        assert _ok(cw, "POST", f"/members/{ids[key]}/place", json={"grid_code": grid, "squad": squad})["status"] == (
            "active"
        )
    p1 = _ok(
        cw,
        "POST",
        "/posts",
        json={
            "grid_code": G1,
            "category": "安全宣传",
            "title": "楼道消防巡查",
            "duties": "每周巡查楼道",
            "headcount": 2,
        },
    )["id"]
    p2 = _ok(
        cw,
        "POST",
        "/posts",
        json={"grid_code": G2, "category": "文体", "title": "广场舞指导", "duties": "周末指导", "headcount": 2},
    )["id"]
    for key, post in (("a", p1), ("b", p1), ("c", p2)):
        _ok(m[key], "POST", f"/posts/{post}/claim", json={})
    _refused(m["v"], "POST", f"/posts/{p1}/claim", 409, "post_full", json={})
    _refused(m["a"], "POST", f"/posts/{p1}/release", 409, "last_post", json={})  # every active member holds one

    # ---- the 准入 gate: the lists decide what they cover, the district the rest; a flag counts
    agent = year.user("agent-cg-year", Role.DEPARTMENT_AGENT, "CG")
    starts = "2031-04-15"
    base = {"community_codes": [COMMUNITY], "starts_on": starts, "description": "年度测试", "emergency": False}

    def request(task_type: str, title: str) -> dict[str, Any]:
        result: dict[str, Any] = _ok(
            agent, "POST", "/admission/requests", json={**base, "task_type": task_type, "title": title}
        )
        return result

    census = request("survey", "人口普查入户登记")
    sign = request("sign", "在社区挂牌城管服务站")
    ledger_form = request("form", "城管执法宣传台账")
    bikes = request("task", "共享单车停放统计")
    assert (census["status"], census["decided_by"]) == ("admitted", "list")
    assert (sign["status"], sign["decided_by"]) == ("refused", "negative_list")
    assert ledger_form["status"] == bikes["status"] == "submitted"
    _refused(
        agent,
        "POST",
        "/admission/requests",
        422,
        "too_late",
        json={**base, "task_type": "form", "title": "急表", "starts_on": "2031-01-20"},
    )
    _ok(
        sup,
        "POST",
        f"/admission/requests/{ledger_form['id']}/decision",
        json={"admitted": True, "reason": "经评估可行"},
    )
    _ok(
        sup,
        "POST",
        f"/admission/requests/{bikes['id']}/decision",
        json={"admitted": False, "reason": "属企业自身管理职责"},
    )
    inbox = {i["request_id"] for i in _ok(cw, "GET", "/admission/inbox")["items"]}
    assert inbox == {census["id"], ledger_form["id"]}
    _ok(
        cw,
        "POST",
        "/admission/flags",
        json={
            "department_code": "CG",
            "task_type": "form",
            "title": "占道经营排查表",
            "received_on": "2031-01-05",
            "note": "微信群下发",
        },
    )
    refusal = _refused(
        m["a"],
        "POST",
        "/admission/certificate-requests",
        422,
        "certificate_not_issued_here",
        json={"community_code": COMMUNITY, "certificate": "亲属关系证明"},
    )
    assert "户籍所在地公安派出所" in refusal["message"]
    assert _ok(
        m["a"], "POST", "/admission/certificate-requests", json={"community_code": COMMUNITY, "certificate": "居住证明"}
    )["accepted"]

    def flags_in_january() -> int | None:
        sheet = sup.call("supervision", "GET", f"/v1/supervision/evaluation/{Y}-01", params={"format": "csv"})
        row = next((r for r in _csv(sheet.content) if r["部门编码"] == "CG"), None)
        return int(row["未准入事项"]) if row and int(row["未准入事项"]) else None

    assert _until(flags_in_january, "the flag in 城管's January sheet") == 1

    # ---- 10 March: 服务活动 at the place, check-in by the rotating code, and logs by hand
    year.to(at(3, 10, 8))
    a1 = _ok(
        cw,
        "POST",
        "/activities",
        json={
            "title": "楼道消防巡查",
            "grid_code": G1,
            "place": PLACE,
            "starts_at": at(3, 10, 9).isoformat(),
            "ends_at": at(3, 10, 12).isoformat(),
            "capacity": 10,
            "post_id": p1,
        },
    )["id"]
    a2 = _ok(
        hosp,
        "POST",
        "/activities",
        json={
            "title": "义诊进社区",
            "grid_code": G2,
            "place": PLACE,
            "starts_at": at(3, 10, 14).isoformat(),
            "ends_at": at(3, 10, 16).isoformat(),
            "capacity": 5,
        },
    )["id"]
    for key, activity in (("a", a1), ("b", a1), ("v", a1), ("c", a2), ("v", a2)):
        _ok(m[key], "POST", f"/activities/{activity}/signup", json={})
    _refused(m["n"], "POST", f"/activities/{a1}/signup", 409, None, json={})  # never confirmed by the community

    year.to(at(3, 10, 9))
    code = _ok(cw, "GET", f"/activities/{a1}/code")["code"]
    _refused(m["a"], "POST", f"/activities/{a1}/checkin", 422, "too_far", json={"code": code, "location": FAR})
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    _refused(m["a"], "POST", f"/activities/{a1}/checkin", 422, "bad_code", json={"code": wrong, "location": NEAR})
    for key in ("a", "b"):
        _ok(m[key], "POST", f"/activities/{a1}/checkin", json={"code": code, "location": NEAR})
    year.to(at(3, 10, 11, 47))  # 2 h 47 min at the place: 165 minutes by the 15-minute rule
    code = _ok(cw, "GET", f"/activities/{a1}/code")["code"]
    records = {
        key: _ok(m[key], "POST", f"/activities/{a1}/checkout", json={"code": code, "location": NEAR})
        for key in ("a", "b")
    }

    year.to(at(3, 10, 16, 30))
    v1 = _ok(m["v"], "POST", f"/activities/{a1}/records", json={"minutes_claimed": 150, "note": "未带手机，补录"})
    c2 = _ok(m["c"], "POST", f"/activities/{a2}/records", json={"minutes_claimed": 120, "note": "义诊全程"})
    v2 = _ok(m["v"], "POST", f"/activities/{a2}/records", json={"minutes_claimed": 90, "note": "协助登记"})
    _refused(cw, "POST", f"/records/{c2['id']}/approve", (403, 404), None, json={})  # only the organiser decides
    _ok(hosp, "POST", f"/records/{c2['id']}/approve", json={})
    _ok(hosp, "POST", f"/records/{v2['id']}/approve", json={"minutes": 60})
    for record, counted in ((records["a"], 165), (records["b"], 165), (v1, 150)):  # 2 h 47 min: 165 by the rule
        assert _ok(cw, "POST", f"/records/{record['id']}/approve", json={})["minutes"] == counted
    _ok(cw, "POST", f"/records/{records['b']['id']}/rate", json={"rating": "unsatisfied"})  # earns no points

    # a verified report: a member's 随手拍 that the department fixes and the grid worker passes
    water = year.user("agent-sw-year", Role.DEPARTMENT_AGENT, "SW")
    grid_worker = year.user("gw-lj01-year", Role.GRID_WORKER, COMMUNITY)
    report = m["a"].ok(
        "intake",
        "POST",
        "/v1/reports",
        json={"category_code": "BJ-0102", "description": "江畔路下水井盖缺失", "grid_code": G1},
        headers={"Idempotency-Key": f"year-{secrets.token_hex(4)}"},
    )
    ticket = report["ticket_id"]

    def in_inbox() -> bool:
        orders = water.ok("handling", "GET", "/v1/work-orders", params={"limit": 500})["items"]
        return any(o["ticket_id"] == ticket and o["status"] == "dispatched" for o in orders)

    _until(in_inbox, "the member's report in 水务's inbox")
    water.ok("handling", "POST", f"/v1/work-orders/{ticket}/accept")
    water.ok("handling", "POST", f"/v1/work-orders/{ticket}/resolve", json={"note": "已补装井盖", "photos": []})

    def to_check() -> bool:
        pending = grid_worker.ok("feedback", "GET", "/v1/verifications", params={"status": "pending"})["items"]
        return any(v["ticket_id"] == ticket for v in pending)

    _until(to_check, "the check of the member's report")
    grid_worker.ok("feedback", "POST", f"/v1/verifications/{ticket}", json={"passed": True, "comment": "已补装"})

    # ---- 20 May: a six-hour activity, logged by hand afterwards
    year.to(at(5, 20, 8))
    a3 = _ok(
        cw,
        "POST",
        "/activities",
        json={
            "title": "江畔公园环境整治",
            "grid_code": G2,
            "place": PLACE,
            "starts_at": at(5, 20, 9).isoformat(),
            "ends_at": at(5, 20, 15).isoformat(),
            "capacity": 20,
        },
    )["id"]
    for key in ("a", "c"):
        _ok(m[key], "POST", f"/activities/{a3}/signup", json={})
    year.to(at(5, 20, 15, 30))
    for key in ("a", "c"):
        record = _ok(m[key], "POST", f"/activities/{a3}/records", json={"minutes_claimed": 400, "note": "全天参加"})
        assert _ok(cw, "POST", f"/records/{record['id']}/approve", json={})["minutes"] == 360  # capped to the window

    minutes = {"a": 165 + 360, "b": 165, "c": 120 + 360, "v": 150 + 60, "n": 0}
    services = {"a": 2, "b": 1, "c": 2, "v": 2, "n": 0}
    # 1 point an hour (whole points), +1 for duty on a post's activity, +1 for the verified report;
    # b's record was rated 不满意: nothing
    earned = {"a": 2 + 1 + 1 + 6, "b": 0, "c": 2 + 6, "v": (2 + 1) + 1, "n": 0}

    def balances_settled() -> dict[str, int] | None:
        now = {k: _ok(m[k], "GET", "/points/me")["balance"] for k in m}
        return now if now == earned else None

    _until(balances_settled, f"the points {earned}")

    # ---- 15 June: the 积分超市 opens on the 15th of each month
    year.to(at(6, 15, 10))
    _ok(
        cw,
        "PUT",
        f"/shops/{COMMUNITY}",
        json={
            "items": [{"code": "RICE", "name": "大米5斤", "price": 5}, {"code": "SOAP", "name": "洗衣皂", "price": 2}],
            "windows": [{"kind": "monthly", "day": 15}],
        },
    )
    _ok(
        cw,
        "POST",
        f"/shops/{COMMUNITY}/redemptions",
        json={"member_id": ids["a"], "items": [{"code": "RICE", "qty": 1}]},
    )
    _refused(
        cw,
        "POST",
        f"/shops/{COMMUNITY}/redemptions",
        409,
        "insufficient_points",
        json={"member_id": ids["v"], "items": [{"code": "SOAP", "qty": 3}]},
    )
    year.to(at(6, 16, 10))
    _refused(
        cw,
        "POST",
        f"/shops/{COMMUNITY}/redemptions",
        409,
        "shop_closed",
        json={"member_id": ids["c"], "items": [{"code": "SOAP", "qty": 1}]},
    )
    balance = {**earned, "a": earned["a"] - 5}
    assert {k: _ok(m[k], "GET", "/points/me")["balance"] for k in m} == balance  # the refusals changed nothing

    # ---- the half-yearly return: a and c come back by 30 June; b and v lapse in July, v returns in August
    year.to(at(6, 30, 10))
    for key in ("a", "c"):
        _ok(m[key], "POST", f"/members/{ids[key]}/return", json={})
    year.to(at(7, 20, 10))

    def lapsed() -> bool:
        return all(_ok(cw, "GET", f"/members/{ids[k]}")["status"] == "lapsed" for k in ("b", "v"))

    _until(lapsed, "b and v lapsed for missing the half-yearly return")
    assert _ok(cw, "GET", f"/members/{ids['a']}")["status"] == "active"
    year.to(at(8, 1, 10))
    assert _ok(m["v"], "POST", f"/members/{ids['v']}/return", json={})["status"] == "active"

    # ---- 16 November: points older than eight months and unspent expire (first in, first out)
    year.to(at(11, 16, 10))
    # March's lots: a spent them in June (5 of its 4 + 6), c's 2 and v's 4 go; May's stay
    balance = {**balance, "c": balance["c"] - 2, "v": balance["v"] - 4}

    def expired() -> dict[str, int] | None:
        now = {k: _ok(m[k], "GET", "/points/me")["balance"] for k in m}
        return now if now == balance else None

    _until(expired, f"the balances after expiry {balance}")
    year.to(at(12, 20, 10))  # a and c come back for the second half of the year; v returned in August
    for key in ("a", "c"):
        _ok(m[key], "POST", f"/members/{ids[key]}/return", json={})

    # ---- 5 January 2032: the year just ended is judged and graded
    year.to(at(1, 5, 10, year=Y + 1))

    def judged() -> bool:
        status: str = _ok(cw, "GET", f"/members/{ids['v']}")["status"]
        return status == "lapsed"  # 210 minutes: under the minimum

    _until(judged, "v lapsed for the yearly minimum")
    assert _ok(cw, "GET", f"/members/{ids['a']}")["status"] == "active"
    grades = {"a": "excellent", "b": "basic", "c": "pass", "v": "pass"}
    for key, grade in grades.items():
        _ok(
            cw, "POST", "/reviews", json={"year": Y, "subject_kind": "member", "subject_code": ids[key], "grade": grade}
        )
    _refused(
        cw,
        "POST",
        "/reviews",
        422,
        "never_reported",
        json={"year": Y, "subject_kind": "member", "subject_code": ids["n"], "grade": "pass"},
    )
    _ok(cw, "POST", "/reviews", json={"year": Y, "subject_kind": "member", "subject_code": ids["n"], "grade": "basic"})
    _ok(cw, "POST", "/reviews", json={"year": Y, "subject_kind": "unit", "subject_code": HOSP, "grade": "pass"})
    _ok(cw, "POST", "/reviews", json={"year": Y, "subject_kind": "unit", "subject_code": SCHOOL, "grade": "excellent"})
    _ok(
        hosp,
        "POST",
        "/reviews",
        json={"year": Y, "subject_kind": "community", "subject_code": COMMUNITY, "grade": "excellent"},
    )
    grades["n"] = "basic"

    # the ledger: every balance is its movements, and all of them sum to zero
    check = _ok(sup, "GET", "/points/check")
    assert check["ok"] is True and check["total"] == 0 and check["mismatched"] == []
    for key in m:
        account = _ok(cw, "GET", f"/points/accounts/member:{ids[key]}")
        assert account["balance"] == balance[key] == sum(mv["amount"] for mv in account["movements"])
    assert _ok(hosp, "GET", f"/units/{HOSP}/points")["total"] == balance["a"] + balance["b"] + balance["n"]

    # the member sheet, as CSV, equals the year as the test lived it
    sheet = cw.call(
        "cobuild", "GET", "/v1/cobuild/sheets/members", params={"year": Y, "community": COMMUNITY, "format": "csv"}
    )
    rows = {r["党员编号"]: r for r in _csv(sheet.content)}
    grade_names = {"excellent": "优秀", "pass": "合格", "basic": "基本合格", "fail": "不合格"}
    for key in m:
        row = rows[ids[key]]
        assert row["姓名"] == names[key]
        assert int(row["服务次数"]) == services[key]
        assert float(row["服务时长(小时)"]) == round(minutes[key] / 60, 1)
        assert int(row["年度获得积分"]) == earned[key]
        assert int(row["积分余额"]) == balance[key]
        assert row["从未报到"] == ("是" if key == "n" else "否")
        assert row["社区评议"] == grade_names[grades[key]]
    assert rows[ids["b"]]["不满意"] == "1"

    # the unit sheet, as XLSX read back as a person would
    book = openpyxl.load_workbook(
        io.BytesIO(
            cw.call(
                "cobuild",
                "GET",
                "/v1/cobuild/sheets/units",
                params={"year": Y, "community": COMMUNITY, "format": "xlsx"},
            ).content
        )
    )
    assert book.active is not None
    table = list(book.active.iter_rows(values_only=True))
    header = [str(h) for h in table[0]]
    units_rows = {str(r[0]): dict(zip(header, r, strict=True)) for r in table[1:]}
    assert set(units_rows) == {HOSP, SCHOOL}
    hospital = units_rows[HOSP]
    # HOSP's reported members a and b (n never reported): both served; only a met the minimum
    assert (hospital["在职党员数"], hospital["报到党员数"], hospital["参与服务人数"], hospital["达标人数"]) == (
        3,
        2,
        2,
        1,
    )
    assert float(str(hospital["参与率(%)"])) == 100.0 and float(str(hospital["服务完成率(%)"])) == 50.0
    assert float(str(hospital["服务时长(小时)"])) == round((minutes["a"] + minutes["b"]) / 60, 1)
    assert (hospital["社区评议"], hospital["单位评社区"]) == ("合格", "优秀")
    assert units_rows[SCHOOL]["社区评议"] == "优秀"

    # the community sheet: as CSV, and as a PDF rendered to an image and read
    sheet = cw.call(
        "cobuild", "GET", "/v1/cobuild/sheets/communities", params={"year": Y, "community": COMMUNITY, "format": "csv"}
    )
    row = next(r for r in _csv(sheet.content) if r["社区编码"] == COMMUNITY)
    assert (row["报到单位数"], row["报到党员数"], row["准入拒绝事项数"], row["单位评社区-优秀"]) == ("2", "4", "2", "1")
    pdf = cw.call(
        "cobuild", "GET", "/v1/cobuild/sheets/communities", params={"year": Y, "community": COMMUNITY, "format": "pdf"}
    )
    document = pypdfium2.PdfDocument(pdf.content)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    document[0].render(scale=1.5).to_pil().save(SCREENSHOTS / "year-communities-sheet.png")
    text = document[0].get_textpage().get_text_range()
    assert "江畔社区" in text and f"{sum(minutes.values()) / 60:.1f}" in text

    # a's certificate from the community: the two activities it ran, 8.75 hours
    certificate = m["a"].call(
        "cobuild",
        "GET",
        f"/v1/cobuild/members/{ids['a']}/certificate.pdf",
        params={"year": Y, "organizer": f"community:{COMMUNITY}"},
    )
    page = pypdfium2.PdfDocument(certificate.content)[0]
    page.render(scale=1.5).to_pil().save(SCREENSHOTS / "year-certificate.png")
    assert "8.75" in page.get_textpage().get_text_range()

    # supervision's indicators for the year equal the same ground truth
    def figures() -> dict[str, Any] | None:
        items = sup.ok("supervision", "GET", "/v1/supervision/volunteering/communities", params={"year": Y})["items"]
        row: dict[str, Any] | None = next((i for i in items if i["code"] == COMMUNITY), None)
        return row if row and row["minutes"] == sum(minutes.values()) else None

    community = _until(figures, "supervision's year of LJ01")
    assert (community["units_obligated"], community["units_reported"]) == (3, 2)  # the bank never reported
    assert (community["party_headcount"], community["party_members_reported"]) == (5, 3)
    assert (community["members_reported"], community["members_participating"]) == (4, 4)
    assert community["members_meeting_minimum"] == 2  # a and c
    assert (community["posts_published"], community["posts_full"]) == (2, 1)
    board = sup.ok("supervision", "GET", "/v1/supervision/volunteering/board", params={"year": Y, "min_volume": 1})
    persons = {p["member_id"]: p["points"] for p in board["persons"]}
    assert persons == {ids[k]: earned[k] for k in m if earned[k] > 0}  # the positive list only: b and n are not on it
    assert all(set(p) == {"rank", "member_id", "community_code", "points"} for p in board["persons"])  # no names
