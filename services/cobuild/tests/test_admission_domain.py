"""社区事务准入's rules without the stack: the 30 working days ahead (across a holiday and a new
year), the 15 working days to decide, the lists deciding by themselves, the emergency bypass, the
versions of the lists and the certificate check."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridloop.cobuild.admission import domain
from gridloop.cobuild.admission.domain import Department, Refused
from gridloop.shared.api.admission import AdmissionRequestBody, DecisionBody
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.events import Actor, AdmissionDecided, AdmissionRequested, AdmissionTaskType, Role
from gridloop.shared.worktime import WorkCalendar
from gridloop.stack.testing import demo_records

CST = ZoneInfo("Asia/Shanghai")
HOLIDAYS = {date(2027, 1, 1), date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5), date(2026, 10, 6)}
CALENDAR = WorkCalendar(is_workday=lambda d: d.weekday() < 5 and d not in HOLIDAYS)
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=CST)  # a Tuesday
AGENT = Actor(sub="agent-cg", role=Role.DEPARTMENT_AGENT, org="CG")
DISTRICT = Actor(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
STREET_SUPERVISOR = Actor(sub="sup-lj", role=Role.SUPERVISOR, org="LJ")
CG = Department(code="CG", name="区城市管理局")


def _seed_items() -> list[dict[str, Any]]:
    return [dict(r.data) for r in demo_records() if r.kind == "admission_item"]


ITEMS = domain.items_in_force(_seed_items(), district="QH", on=NOW.date())


def _body(**changes: Any) -> AdmissionRequestBody:
    fields: dict[str, Any] = {
        "task_type": AdmissionTaskType.FORM,
        "title": "沿街商户门前三包责任书签订台账",
        "description": "每户签订并建台账",
        "community_codes": ["LJ01"],
        "starts_on": date(2027, 1, 20),
        "resources_provided": "工作经费每社区2000元",
    }
    return AdmissionRequestBody.model_validate({**fields, **changes})


def _file(body: AdmissionRequestBody, *, now: datetime = NOW, items: Any = ITEMS) -> tuple[dict[str, Any], list[Any]]:
    return domain.file_request(
        request_id="R1",
        number="ZR-20261208-0001",
        body=body,
        actor=AGENT,
        department=CG,
        district_code="QH",
        communities=["LJ01"],
        items=items,
        calendar=CALENDAR,
        now=now,
    )


def test_thirty_working_days_ahead_count_across_new_years_day() -> None:
    # Dec 9-31 has 17 working days; 1 January is a holiday; the 30th working day is 20 January.
    assert domain.earliest_start(NOW, CALENDAR) == date(2027, 1, 20)
    with pytest.raises(Refused) as late:
        _file(_body(starts_on=date(2027, 1, 19)))
    assert late.value.code == "too_late"
    assert late.value.details == {"earliest_start": "2027-01-20"}
    doc, _ = _file(_body(starts_on=date(2027, 1, 20)))
    assert doc["status"] == "submitted"


def test_thirty_working_days_across_the_national_day_holiday() -> None:
    filed = datetime(2026, 9, 1, 9, 0, tzinfo=CST)
    # September has 21 working days after the 1st; 1, 2, 5 and 6 October are off: the 30th is 19 October
    # (13 October without the holiday).
    assert domain.earliest_start(filed, CALENDAR) == date(2026, 10, 19)


def test_the_district_decides_within_fifteen_working_days() -> None:
    doc, _ = _file(_body())
    assert doc["decision_due"] == datetime(2026, 12, 29, 10, 0, tzinfo=CST)
    assert not domain.overdue(doc, datetime(2026, 12, 29, 9, 59, tzinfo=CST))
    assert domain.overdue(doc, datetime(2026, 12, 29, 10, 0, tzinfo=CST))
    decided = {**doc, **domain.decide(doc, body=DecisionBody(admitted=True), actor=DISTRICT, now=NOW)[0]}
    assert not domain.overdue(decided, NOW + timedelta(days=60))


def test_an_emergency_may_start_tomorrow_with_its_reason_only() -> None:
    with pytest.raises(Refused) as bare:
        _file(_body(starts_on=date(2026, 12, 9), emergency=True))
    assert bare.value.code == "emergency_reason_required"
    doc, payloads = _file(
        _body(starts_on=date(2026, 12, 9), emergency=True, emergency_reason="寒潮预警，排查独居老人取暖安全")
    )
    assert doc["emergency"] is True
    assert isinstance(payloads[0], AdmissionRequested) and payloads[0].emergency


def test_a_task_on_the_assist_list_is_admitted_by_the_list_with_its_item() -> None:
    doc, payloads = _file(_body(task_type=AdmissionTaskType.SURVEY, title="第八次人口普查入户登记"))
    assert doc["status"] == "admitted"
    assert doc["decided_by"] == "list"
    assert doc["list_item"]["code"] == "QH-2026-1-A01"
    decided = payloads[-1]
    assert isinstance(decided, AdmissionDecided)
    assert decided.admitted and decided.list_item_code == "QH-2026-1-A01"


def test_a_named_item_admits_only_the_task_it_covers_and_never_past_the_negative_list() -> None:
    doc, _ = _file(_body(task_type=AdmissionTaskType.TASK, title="社区矛盾调解", list_item_code="QH-2026-1-D02"))
    assert (doc["status"], doc["decided_by"], doc["list_item"]["code"]) == ("admitted", "list", "QH-2026-1-D02")
    # naming an item does not put an unlisted task on the list: the district decides
    doc, _ = _file(_body(task_type=AdmissionTaskType.TASK, title="矛盾纠纷排查", list_item_code="QH-2026-1-D02"))
    assert (doc["status"], doc["decided_by"]) == ("submitted", None)
    # an appraisal the negative list names stays refused, whatever duty item is named
    doc, _ = _file(
        _body(task_type=AdmissionTaskType.APPRAISAL, title="调解工作达标评比", list_item_code="QH-2026-1-D02")
    )
    assert (doc["status"], doc["decided_by"]) == ("refused", "negative_list")
    with pytest.raises(Refused) as mismatch:  # an item of another type
        _file(_body(task_type=AdmissionTaskType.FORM, title="调解台账", list_item_code="QH-2026-1-D02"))
    assert mismatch.value.code == "list_item_mismatch"
    with pytest.raises(Refused) as unknown:
        _file(_body(list_item_code="QH-2025-1-D02"))
    assert unknown.value.code == "unknown_list_item"


def test_a_task_on_the_negative_list_is_refused_with_the_standard_text() -> None:
    doc, payloads = _file(_body(task_type=AdmissionTaskType.SIGN, title="在社区挂牌“城管工作站”"))
    assert (doc["status"], doc["decided_by"]) == ("refused", "negative_list")
    assert doc["reason"].startswith("除党组织、自治组织等规定牌子外")
    assert isinstance(payloads[-1], AdmissionDecided) and not payloads[-1].admitted


def test_a_task_on_no_list_waits_for_the_district_which_decides_with_a_reason() -> None:
    doc, payloads = _file(_body())
    assert doc["status"] == "submitted" and len(payloads) == 1
    with pytest.raises(Refused):
        domain.decide(doc, body=DecisionBody(admitted=True), actor=STREET_SUPERVISOR, now=NOW)
    with pytest.raises(ValueError):
        DecisionBody(admitted=False)
    changes, event = domain.decide(
        doc, body=DecisionBody(admitted=False, reason="属于部门自身职责"), actor=DISTRICT, now=NOW
    )
    assert changes["status"] == "refused" and event.decided_by == "district"
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.decide({**doc, **changes}, body=DecisionBody(admitted=True), actor=DISTRICT, now=NOW)


def test_only_an_admitted_task_is_revoked_and_then_leaves_the_inbox() -> None:
    doc, _ = _file(_body(task_type=AdmissionTaskType.SURVEY, title="经济普查清查"))
    assert domain.in_inbox(doc, today=NOW.date())
    changes, event = domain.revoke(doc, reason="任务取消", actor=DISTRICT, now=NOW)
    assert changes["status"] == "revoked" and event.reason == "任务取消"
    assert not domain.in_inbox({**doc, **changes}, today=NOW.date())
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.revoke({**doc, **changes}, reason="再撤一次", actor=DISTRICT, now=NOW)


def test_a_new_version_supersedes_the_old_one_from_its_valid_from() -> None:
    old = _seed_items()
    new = [
        {**i, "code": i["code"].replace("2026-1", "2027-1"), "version": "2027-1", "valid_from": "2027-01-01"}
        for i in old
        if i["code"] != "QH-2026-1-A01"  # 人口普查 is taken off the assist list in 2027
    ]
    every = old + new
    assert domain.version_in_force(every, district="QH", on=date(2026, 12, 31)) == "2026-1"
    assert domain.version_in_force(every, district="QH", on=date(2027, 1, 1)) == "2027-1"
    in_2027 = domain.items_in_force(every, district="QH", on=date(2027, 1, 1))
    assert {i["version"] for i in in_2027} == {"2027-1"}
    census = _body(task_type=AdmissionTaskType.SURVEY, title="人口普查入户登记")
    assert _file(census, items=domain.items_in_force(every, district="QH", on=date(2026, 12, 8)))[0]["status"] == (
        "admitted"
    )
    assert _file(census, items=in_2027)[0]["status"] == "submitted"
    assert domain.items_in_force(every, district="XX", on=date(2027, 1, 1)) == []


def test_the_seeded_lists_have_six_certificates_and_negative_ones_name_their_issuer() -> None:
    certificates = [i for i in ITEMS if i["list"] == "certificate"]
    assert len(certificates) == 6
    negative = {i["name"]: i for i in ITEMS if i["list"] == "negative"}
    assert negative["亲属关系证明"]["department"] == "GA"
    assert negative["婚姻状况证明"]["department"] == "MZ"


def test_a_certificate_on_the_list_is_accepted_by_name_or_code() -> None:
    assert domain.check_certificate(ITEMS, "居住证明")["code"] == "QH-2026-1-C01"
    assert domain.check_certificate(ITEMS, "qh-2026-1-c03")["name"] == "志愿服务记录证明"


def test_a_certificate_on_the_negative_list_is_refused_naming_who_issues_it() -> None:
    with pytest.raises(Refused) as kin:
        domain.check_certificate(ITEMS, "亲属关系证明")
    assert kin.value.code == "certificate_not_issued_here"
    assert "户籍所在地公安派出所" in kin.value.message
    assert kin.value.details["department_code"] == "GA"
    with pytest.raises(Refused) as crime:
        domain.check_certificate(ITEMS, "无犯罪记录证明")
    assert "公安机关" in crime.value.message


def test_an_unknown_certificate_is_refused_with_the_default_text() -> None:
    with pytest.raises(Refused) as unknown:
        domain.check_certificate(ITEMS, "收入证明")
    assert unknown.value.code == "certificate_not_issued_here"
    assert "请向有关主管部门申请" in unknown.value.message


def test_only_a_department_files_and_only_a_community_worker_flags() -> None:
    with pytest.raises(Refused) as resident:
        domain.file_request(
            request_id="R2",
            number="n",
            body=_body(),
            actor=Actor(sub="r", role=Role.RESIDENT, org="LJ01"),
            department=CG,
            district_code="QH",
            communities=["LJ01"],
            items=ITEMS,
            calendar=CALENDAR,
            now=NOW,
        )
    assert resident.value.status == 403
    worker = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
    doc, event = domain.flag(
        flag_id="F1",
        actor=worker,
        department=CG,
        street_code="LJ",
        district_code="QH",
        task_type=AdmissionTaskType.FORM,
        title="临时摸排表",
        received_on=NOW.date(),
        note="微信群下发",
        now=NOW,
    )
    assert (doc["community_code"], event.department_code, event.flag_id) == ("LJ01", "CG", "F1")
    with pytest.raises(Refused) as future:
        domain.flag(
            flag_id="F2",
            actor=worker,
            department=CG,
            street_code="LJ",
            district_code="QH",
            task_type=AdmissionTaskType.FORM,
            title="临时摸排表",
            received_on=NOW.date() + timedelta(days=1),
            note="",
            now=NOW,
        )
    assert future.value.code == "received_in_the_future"
