"""Projects' rules on a set clock: what a community makes a project of, who moves it through
its lifecycle, and when a hotspot's project counts as solved."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed, Place
from gridloop.cobuild.projects import domain
from gridloop.shared.api.cobuild import ProjectAction, ProjectRequest
from gridloop.shared.cobuild_lifecycle import CobuildTransitionNotAllowed
from gridloop.shared.events import Actor, Rating, Role

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WORKER = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")
DESK = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
OTHER_DESK = Actor(sub="sd-wh", role=Role.STREET_DISPATCHER, org="WH")
HOSPITAL = Actor(sub="ua-hosp", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
SCHOOL = Actor(sub="ua-school", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
RESIDENT = Actor(sub="res-lj01", role=Role.RESIDENT, org="LJ01")
GRID = Place(grid_code="LJ01-G1", community_code="LJ01", street_code="LJ", district_code="QH")
UNITS = {
    "U-LJ-HOSP": {"code": "U-LJ-HOSP", "communities": ["LJ01", "LJ02"]},
    "U-WH-TAX": {"code": "U-WH-TAX", "communities": ["WH01"]},
}


def _need(need_id: str, **more: Any) -> dict[str, Any]:
    return {
        "_id": need_id,
        "need_number": f"XQ-{need_id}",
        "kind": "service",
        "source": "app",
        "status": "published",
        "community_code": "LJ01",
        **more,
    }


OFFER = {"_id": "o1", "unit_code": "U-LJ-HOSP"}


def _propose(**changes: Any) -> tuple[dict[str, Any], Any]:
    request: dict[str, Any] = {
        "title": "老年人健康关爱行动",
        "summary": "为独居老人每月上门体检",
        "category_code": "NC-ELDER",
        "grid_code": "LJ01-G1",
        "need_ids": ["n1"],
        "offer_ids": ["o1"],
        "planned_end": (NOW + timedelta(days=60)).isoformat(),
    }
    needs = changes.pop("needs", [_need("n1")])
    taken = changes.pop("taken", set())
    return domain.propose(
        project_id="p1",
        number="XM-20261207-0001",
        request=ProjectRequest.model_validate({**request, **changes}),
        actor=WORKER,
        place=GRID,
        need_categories={"NC-ELDER"},
        needs=needs,
        needs_in_open_projects=taken,
        offers=[OFFER],
        units=UNITS,
        now=NOW,
    )


def test_a_project_takes_its_offers_units_and_a_hotspot_ideas_tickets_and_category() -> None:
    idea = _need(
        "n2",
        grid_code="LJ01-G2",
        kind="project_idea",
        source="hotspot",
        status="reviewed",
        ticket_ids=["t1", "t2"],
        ticket_category_code="SJ-0101",
    )
    doc, event = _propose(need_ids=["n1", "n2"], needs=[_need("n1"), idea])
    assert doc["unit_codes"] == ["U-LJ-HOSP"] and doc["offer_uses"] == [{"offer_id": "o1", "amount": 1}]
    assert (doc["ticket_ids"], doc["ticket_category_code"]) == (["t1", "t2"], "SJ-0101")
    assert doc["hotspot_grid_code"] == "LJ01-G2"
    assert (event.project_number, event.street_code, event.ticket_ids) == ("XM-20261207-0001", "LJ", ["t1", "t2"])
    assert doc["status"] == "proposed"


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"needs": [_need("n1", community_code="LJ02")]}, Invalid, "unknown_need"),
        ({"needs": [_need("n1", status="done")]}, Conflict, "need_not_open"),
        ({"taken": {"n1"}}, Conflict, "need_in_project"),
        ({"unit_codes": ["U-WH-TAX"]}, Invalid, "unit_not_paired"),
        ({"category_code": "NC-NOPE"}, Invalid, "unknown_category"),
        ({"planned_end": (NOW - timedelta(days=1)).isoformat()}, Invalid, "planned_end_past"),
        ({"offer_ids": ["o9"]}, Invalid, "unknown_offer"),
    ],
)
def test_a_project_of_what_the_community_may_not_use_is_refused(
    changes: dict[str, Any], error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as refused:
        _propose(**changes)
    assert getattr(refused.value, "code", None) == code


def _step(project: dict[str, Any], step: tuple[dict[str, Any], Any]) -> dict[str, Any]:
    return {**project, **step[0]}


def test_the_lifecycle_from_proposal_to_evaluation_by_the_right_hands() -> None:
    project, _ = _propose()
    assert domain.allowed_actions(project, WORKER) == [ProjectAction.CANCEL]
    assert domain.allowed_actions(project, DESK) == [ProjectAction.APPROVE, ProjectAction.CANCEL]
    with pytest.raises(NotAllowed):
        domain.approve(project, actor=WORKER, comment="", now=NOW)
    project = _step(project, domain.approve(project, actor=DESK, comment="同意", now=NOW))
    project = _step(project, domain.start(project, actor=HOSPITAL, now=NOW))
    with pytest.raises(NotAllowed):
        domain.start(project, actor=SCHOOL, now=NOW)
    project = _step(project, domain.progress(project, actor=HOSPITAL, percent=40, milestone="完成首轮体检", now=NOW))
    with pytest.raises(Invalid, match="回退"):
        domain.progress(project, actor=WORKER, percent=20, milestone="倒退", now=NOW)
    project = _step(project, domain.suspend(project, actor=WORKER, reason="疫情防控暂停", now=NOW))
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.progress(project, actor=WORKER, percent=50, milestone="暂停中", now=NOW)
    project = _step(project, domain.resume(project, actor=WORKER, now=NOW))
    assert project["status"] == "in_progress" and project["suspend_reason"] == ""
    later = NOW + timedelta(days=30)
    project = _step(
        project, domain.complete(project, actor=WORKER, report="服务老人120人次", beneficiaries=120, now=later)
    )
    assert (project["status"], project["percent"], project["beneficiaries"]) == ("completed", 100, 120)
    project = _step(project, domain.rate(project, actor=RESIDENT, rating=Rating.SATISFIED, comment="很好", now=later))
    with pytest.raises(Conflict, match="已评价"):
        domain.rate(project, actor=RESIDENT, rating=Rating.SATISFIED, comment="", now=later)
    project = _step(
        project, domain.rate(project, actor=WORKER, rating=Rating.BASICALLY_SATISFIED, comment="", now=later)
    )
    project = _step(project, domain.evaluate(project, actor=DESK, grade="excellent", comment="", now=later))
    assert project["status"] == "evaluated" and len(project["ratings"]) == 2
    with pytest.raises(NotAllowed):
        domain.evaluate(project, actor=OTHER_DESK, grade="good", comment="", now=later)
    with pytest.raises(CobuildTransitionNotAllowed):
        domain.cancel(project, actor=WORKER, reason="晚了", now=later)


def test_who_sees_a_project() -> None:
    project, _ = _propose()
    assert all(domain.visible(project, a) for a in (WORKER, DESK, HOSPITAL, RESIDENT))
    assert not any(domain.visible(project, a) for a in (SCHOOL, OTHER_DESK))


def test_a_hotspots_project_is_solved_once_after_a_quiet_period_and_never_after_the_problem_returns() -> None:
    project, _ = _propose()
    project.update(status="completed", completed_at=NOW, ticket_category_code="SJ-0101")
    waiting = domain.hotspot_outcome(project, tickets_since_completion=0, quiet_days=90, now=NOW + timedelta(days=89))
    assert waiting is None
    changes, solved = domain.hotspot_outcome(  # type: ignore[misc]
        project, tickets_since_completion=0, quiet_days=90, now=NOW + timedelta(days=90)
    )
    assert solved is not None and (solved.grid_code, solved.category_code) == ("LJ01-G1", "SJ-0101")
    assert domain.hotspot_outcome({**project, **changes}, tickets_since_completion=0, quiet_days=90, now=NOW) is None
    recurred = domain.hotspot_outcome(project, tickets_since_completion=1, quiet_days=90, now=NOW + timedelta(days=20))
    assert recurred is not None and recurred[1] is None and "recurred_at" in recurred[0]
    plain = {**project, "ticket_category_code": None}
    assert (
        domain.hotspot_outcome(plain, tickets_since_completion=0, quiet_days=90, now=NOW + timedelta(days=99)) is None
    )
