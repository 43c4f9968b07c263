"""评议 against the real broker and database, through HTTP: members, records, points and reports
put in as the other areas keep them; a community grades its members and units and a unit grades
its community (review.graded on the volunteering topic, a snapshot of the figures kept); the
quarterly card and the yearly sheets downloaded as CSV, XLSX and PDF and read back."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pymongo
import pypdfium2
import pytest

from gridloop.shared.events import VOLUNTEERING_TOPIC, Envelope, Role
from gridloop.stack.servers import Servers
from gridloop.stack.testing import (
    Bus,
    RunningService,
    demo_records,
    eventually,
    launch,
    member_registration,
    ok,
    service_record,
)

pytestmark = pytest.mark.integration
DB = "gridloop_cobuild"
Y = 2024  # a past year: nothing other tests write today counts in it
SHOTS = Path(__file__).resolve().parents[3] / "var/screenshots"
HOSP, SCHOOL = "U-RV-HOSP", "U-RV-SCHOOL"  # this module's own units


def at(month: int, day: int = 10) -> datetime:
    return datetime(Y, month, day, 4, 0, tzinfo=UTC)


def _member(mid: str, community: str, unit: str | None, reported: datetime | None, status: str) -> dict[str, Any]:
    """Registered on 2 January, never placed; confirmed (reported) when `reported` says."""
    return member_registration(
        mid, f"sub-{mid}", status=status, unit_code=unit, community=community, grid=None, at=at(1, 2),
        reported_at=reported, placed_at=None, last_return_at=None,
    )  # fmt: skip


def _record(rid: str, mid: str, unit: str, community: str, minutes: int, day: datetime, rating: str | None) -> Any:
    return service_record(
        rid, mid, minutes=minutes, day=day, community=community, organizer=("community", community),
        unit_code=unit, rating=rating,
    )  # fmt: skip


def _seed(db: Any) -> None:
    db["units_reported"].insert_many(
        [
            {"_id": f"{HOSP}:LJ01", "unit_code": HOSP, "community_code": "LJ01", "street_code": "LJ",
             "district_code": "QH", "receipt_number": "HZ-2024-001", "reported_at": at(1, 15)},
            {"_id": f"{HOSP}:LJ02", "unit_code": HOSP, "community_code": "LJ02", "street_code": "LJ",
             "district_code": "QH", "receipt_number": "HZ-2024-002", "reported_at": at(1, 16)},
            {"_id": f"{SCHOOL}:LJ01", "unit_code": SCHOOL, "community_code": "LJ01", "street_code": "LJ",
             "district_code": "QH", "receipt_number": "HZ-2024-003", "reported_at": at(2, 1)},
        ]
    )  # fmt: skip
    db["unit_headcounts"].insert_one({"_id": HOSP, "party_members": 40, "confirmed_at": at(1, 20)})
    db["members"].insert_many(
        [
            _member("M-RV-A", "LJ01", HOSP, at(2, 1), "active"),
            _member("M-RV-B", "LJ01", HOSP, at(2, 3), "reported"),
            _member("M-RV-C", "LJ01", HOSP, None, "pending"),  # never confirmed
            _member("M-RV-D", "LJ02", HOSP, at(2, 5), "active"),
        ]
    )
    db["member_private"].insert_many(
        [
            {"_id": "M-RV-A", "name": "王建国", "phone": "13800000001"},
            {"_id": "M-RV-B", "name": "李红梅", "phone": "13800000002"},
            {"_id": "M-RV-C", "name": "陈志远", "phone": "13800000003"},
            {"_id": "M-RV-D", "name": "周晓燕", "phone": "13800000004"},
        ]
    )
    db["records"].insert_many(
        [
            _record("R-RV-1", "M-RV-A", HOSP, "LJ01", 240, at(3), "satisfied"),
            _record("R-RV-2", "M-RV-A", HOSP, "LJ01", 270, at(8), "satisfied"),
            _record("R-RV-3", "M-RV-B", HOSP, "LJ01", 90, at(8), "unsatisfied"),
            _record("R-RV-4", "M-RV-D", HOSP, "LJ02", 120, at(8), None),
        ]
    )
    db["ledger"].insert_many(
        [
            {"_id": "L-RV-1", "at": at(3), "reason": "service_hours", "source_ref": "R-RV-1", "member_id": "M-RV-A",
             "unit_code": HOSP, "community_code": "LJ01",
             "entries": [{"account": "member:M-RV-A", "amount": 4}, {"account": "community_pool:LJ01", "amount": -4}]},
            {"_id": "L-RV-2", "at": at(8), "reason": "service_hours", "source_ref": "R-RV-2", "member_id": "M-RV-A",
             "unit_code": HOSP, "community_code": "LJ01",
             "entries": [{"account": "member:M-RV-A", "amount": 5}, {"account": "community_pool:LJ01", "amount": -5}]},
        ]
    )  # fmt: skip
    db["balances"].insert_one({"_id": "member:M-RV-A", "balance": 9})
    db["posts"].insert_one({"_id": "P-RV-1", "community_code": "LJ01", "holders": ["M-RV-A"], "status": "open"})
    db["offers"].insert_one(
        {"_id": "O-RV-1", "unit_code": HOSP, "community_codes": ["LJ01"], "created_at": at(3), "status": "accepted",
         "used": 1, "uses": [{"project_id": "P-RV-1", "amount": 1, "at": at(4)}]}
    )  # fmt: skip
    db["projects"].insert_one({"_id": "P-RV-1", "unit_codes": [HOSP], "community_code": "LJ01", "created_at": at(4)})
    db["admission_requests"].insert_one(
        {"_id": "AR-RV-1", "status": "refused", "community_codes": ["LJ01", "WH01"], "decided_at": at(6)}
    )
    db["needs"].insert_one(
        {"_id": "N-RV-1", "kind": "wish", "status": "done", "community_code": "LJ01", "street_code": "LJ",
         "district_code": "QH", "claimant_codes": [HOSP], "created_at": at(4), "done_at": at(5)}
    )  # fmt: skip


@pytest.fixture(scope="module")
def cobuild(servers: Servers, bus: Bus, service_logs: Path) -> Iterator[RunningService]:
    bus.publish_records(demo_records())
    service = launch("cobuild", servers, service_logs)
    with pymongo.MongoClient(servers.mongo_uri, tz_aware=True) as client:
        eventually(lambda: client[DB]["ref_data"].count_documents({"kind": "snapshot"}), what="the directory read")
        _seed(client[DB])
    yield service
    service.process.stop()


def _users(service: RunningService) -> dict[str, Any]:
    return {
        "cw": service.user(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01"),
        "cw2": service.user(sub="cw-lj02", role=Role.COMMUNITY_WORKER, org="LJ02"),
        "cw-wh": service.user(sub="cw-wh01", role=Role.COMMUNITY_WORKER, org="WH01"),
        "hosp": service.user(sub="ua-rv-hosp", role=Role.UNIT_ADMIN, org=HOSP),
        "school": service.user(sub="ua-rv-school", role=Role.UNIT_ADMIN, org=SCHOOL),
        "sd": service.user(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ"),
        "sup": service.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH"),
        "pm": service.user(sub="pm-lj01", role=Role.MEMBER, org="LJ01"),
    }


def _grade(user: Any, kind: str, code: str, grade: str, year: int = Y) -> Any:
    body = {"year": year, "subject_kind": kind, "subject_code": code, "grade": grade}
    return user.call("cobuild", "POST", "/v1/cobuild/reviews", json=body)


def _sheet(user: Any, which: str, fmt: str, **params: Any) -> Any:
    return user.call("cobuild", "GET", f"/v1/cobuild/sheets/{which}", params={"year": Y, "format": fmt, **params})


def _csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as the monthly sheet
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_grades_snapshots_and_sheets(cobuild: RunningService, bus: Bus) -> None:
    u = _users(cobuild)
    # never confirmed by the community: basic at most
    refused = _grade(u["cw"], "member", "M-RV-C", "pass")
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "never_reported")
    assert ok(_grade(u["cw"], "member", "M-RV-C", "basic"))["grade"] == "basic"
    future = _grade(u["cw"], "member", "M-RV-A", "pass", year=datetime.now(UTC).year + 1)
    assert (future.status_code, future.json()["error"]["code"]) == (422, "future_year")
    # not theirs: another community's member, a unit grading a member, a member grading
    assert _grade(u["cw2"], "member", "M-RV-A", "pass").json()["error"]["code"] == "unknown_subject"
    assert _grade(u["hosp"], "member", "M-RV-A", "pass").status_code == 403
    assert _grade(u["pm"], "community", "LJ01", "pass").status_code == 403
    assert _grade(u["school"], "community", "LJ02", "pass").status_code == 422  # never reported to LJ02

    first = ok(_grade(u["cw"], "member", "M-RV-A", "pass"))
    assert first["basis"]["services"] == 2 and first["basis"]["minutes"] == 510 and first["basis"]["met_minimum"]
    again = ok(_grade(u["cw"], "member", "M-RV-A", "excellent"))  # replaces the grade
    assert again["id"] == first["id"] == f"{Y}:member:M-RV-A:LJ01" and again["grade"] == "excellent"
    unit = ok(_grade(u["cw"], "unit", HOSP, "excellent"))
    assert unit["basis"]["participation_rate"] == 1.0 and unit["basis"]["completion_rate"] == 0.5
    ok(_grade(u["cw"], "unit", SCHOOL, "basic"))
    community = ok(_grade(u["hosp"], "community", "LJ01", "pass"))
    assert community["basis"]["members_reported"] >= 2 and community["reviewer_kind"] == "unit"

    def graded_events() -> list[Envelope] | None:
        wire = (Envelope.from_wire(v) for _, v, _ in bus.read(VOLUNTEERING_TOPIC) if v is not None)
        found = [e for e in wire if e.event_type == "review.graded" and e.ticket_id == "M-RV-A"]
        return found if len(found) == 2 else None

    graded = eventually(graded_events, interval=0.3, what="review.graded twice (graded, then replaced)")
    assert [e.payload.model_dump()["grade"] for e in graded] == ["pass", "excellent"]
    assert "王建国" not in str([e.model_dump() for e in graded])
    listed = ok(u["cw"].call("cobuild", "GET", "/v1/cobuild/reviews", params={"year": Y}))["items"]
    assert {(r["subject_code"], r["grade"]) for r in listed} == {
        ("M-RV-C", "basic"), ("M-RV-A", "excellent"), (HOSP, "excellent"), (SCHOOL, "basic"), ("LJ01", "pass")
    }  # fmt: skip

    # the unit sheet: CSV read back
    rows = _csv(_sheet(u["cw"], "units", "csv").content)
    hosp = next(r for r in rows if r["单位编码"] == HOSP)
    assert (hosp["社区编码"], hosp["报到社区"], hosp["报到日期"]) == ("LJ01", "江畔社区", f"{Y}-01-15")
    offers = (hosp["提供资源数"], hosp["资源被使用数"], hosp["参与项目数"])
    assert (hosp["回执编号"], hosp["在职党员数"], offers) == ("HZ-2024-001", "40", ("1", "1", "1"))
    rates = (hosp["报到党员数"], hosp["参与服务人数"], hosp["参与率(%)"], hosp["达标人数"], hosp["服务完成率(%)"])
    assert rates == ("2", "2", "100.0", "1", "50.0")
    assert (hosp["服务时长(小时)"], hosp["兑现心愿数"], hosp["满意"], hosp["不满意"]) == ("10.0", "1", "2", "1")
    assert (hosp["社区评议"], hosp["单位评社区"]) == ("优秀", "合格")
    assert {r["单位编码"] for r in rows} == {HOSP, SCHOOL}  # LJ01's only: not HOSP's report to LJ02
    assert {r["单位编码"] for r in _csv(_sheet(u["hosp"], "units", "csv").content)} == {HOSP}
    assert len(_csv(_sheet(u["hosp"], "units", "csv").content)) == 2  # its reports to LJ01 and LJ02

    # the member sheet as XLSX: names for the community, ids only for the street
    book = openpyxl.load_workbook(io.BytesIO(_sheet(u["cw"], "members", "xlsx").content))
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["党员编号", "姓名", "所属单位", "报到社区", "状态", "报到日期", "从未报到"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    a, c = by_id["M-RV-A"], by_id["M-RV-C"]
    assert (a["姓名"], a["服务次数"], a["服务时长(小时)"], a["年度获得积分"], a["积分余额"]) == ("王建国", 2, 8.5, 9, 9)
    assert (a["岗位"], a["满意"], a["达到年度最低要求"], a["社区评议"], a["从未报到"]) == (
        "P-RV-1",
        2,
        "是",
        "优秀",
        "否",
    )
    assert (c["从未报到"], c["社区评议"], c["状态"]) == ("是", "基本合格", "待确认")
    assert "M-RV-D" not in by_id  # LJ02's member
    street = _csv(_sheet(u["sd"], "members", "csv", community="LJ01").content)
    assert {r["党员编号"]: r["姓名"] for r in street if r["党员编号"].startswith("M-RV")} == {
        "M-RV-A": "", "M-RV-B": "", "M-RV-C": ""
    }  # fmt: skip

    # the community sheet as PDF: looked at, and its text read back
    pdf = _sheet(u["sd"], "communities", "pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    SHOTS.mkdir(parents=True, exist_ok=True)
    document[0].render(scale=1.5).to_pil().save(SHOTS / "reviews-communities-sheet.png")
    text = document[0].get_textpage().get_text_range()
    lines = text.replace("\r", "").split("\n")
    assert lines[:2] == [f"{Y}年度 社区评议表", f"评议年度：{Y}年 范围：街道 LJ"]
    # needs collected, done, converted, projects, units and members reported, hours, refused, grades
    assert "LJ01 江畔社区 1 1 0 1 2 2 10.0 1 0 1 0 0" in lines and "LJ02 码头社区 0 0 0 0 1 1 2.0 0 0 0 0 0" in lines
    assert "WH01" not in text  # another street's
    members_pdf = pypdfium2.PdfDocument(_sheet(u["cw"], "members", "pdf").content)
    members_pdf[0].render(scale=1.5).to_pil().save(SHOTS / "reviews-members-sheet.png")
    # narrow columns wrap: a wrapped hyphen reads back as U+FFFE
    # every page: members other tests of this stack registered in LJ01 come first on the sheet
    members_text = "".join(page.get_textpage().get_text_range() for page in members_pdf).replace("\ufffe", "-")
    members_text = "".join(members_text.split())
    assert "王建国" in members_text and "M-RV-C陈志远U-RV-HOSPLJ01待确认是00.000000否基本合格" in members_text

    # who reads which sheet
    assert _sheet(u["cw"], "units", "csv", community="LJ02").status_code == 403
    assert _sheet(u["cw-wh"], "members", "csv", community="LJ01").status_code == 403
    assert _sheet(u["hosp"], "communities", "csv").status_code == 403
    assert _sheet(u["pm"], "members", "csv").status_code == 403
    assert _sheet(u["sd"], "units", "csv", street="WH").status_code == 403


def test_quarterly_feedback_card(cobuild: RunningService) -> None:
    u = _users(cobuild)
    path = f"/v1/cobuild/units/{HOSP}/feedback-cards"
    card = ok(u["hosp"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}))
    lines = {m["member_id"]: m for m in card["members"]}
    assert card["communities"] == ["LJ01", "LJ02"] and set(lines) == {"M-RV-A", "M-RV-B", "M-RV-C", "M-RV-D"}
    assert (lines["M-RV-A"]["services"], lines["M-RV-A"]["hours"], lines["M-RV-A"]["name"]) == (1, 4.5, "王建国")
    assert lines["M-RV-B"]["remark"] == "本季度服务1次，计1.5小时，1次评价为不满意"
    assert lines["M-RV-C"]["remark"] == "尚未到社区报到"
    # the community sees its own part of the card; another community none of it
    own = ok(u["cw2"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}))
    assert [m["member_id"] for m in own["members"]] == ["M-RV-D"] and own["members"][0]["name"] == "周晓燕"
    assert u["cw-wh"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}).status_code == 404
    assert u["school"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}).status_code == 404
    assert u["sd"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}).status_code == 403
    assert u["hosp"].call("cobuild", "GET", path, params={"year": Y, "quarter": 5}).status_code == 422
    sup = ok(u["sup"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3}))
    assert all(m["name"] is None for m in sup["members"])
    xlsx = u["hosp"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and [c.value for c in sheet[1]][-1] == "备注" and sheet.max_row == 5
    pdf = u["hosp"].call("cobuild", "GET", path, params={"year": Y, "quarter": 3, "format": "pdf"})
    assert "在职党员服务反馈卡" in pypdfium2.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
