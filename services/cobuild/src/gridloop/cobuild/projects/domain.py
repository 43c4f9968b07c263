"""Pure rules of projects (惠民项目清单): what a community may make a project of, who moves it
through its lifecycle (PROJECT_TRANSITIONS), and what each step records. No I/O; the time is
passed in."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed, Place, Unknown
from gridloop.shared.api.cobuild import GRADE_LABELS, ProjectAction, ProjectRequest
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import (
    NEED_OPEN,
    PROJECT_OPEN,
    PROJECT_TRANSITIONS,
    CobuildTransitionNotAllowed,
    NeedStatus,
    ProjectStatus,
    can_move,
    move,
)
from gridloop.shared.events import (
    Actor,
    CobuildPayload,
    HotspotSolved,
    NeedKind,
    NeedSource,
    ProjectApproved,
    ProjectCancelled,
    ProjectCompleted,
    ProjectEvaluated,
    ProjectProgressed,
    ProjectProposed,
    ProjectRated,
    ProjectResumed,
    ProjectStarted,
    ProjectSuspended,
    Rating,
    Role,
)

Doc = dict[str, Any]

PROJECT_NEED_STATES: frozenset[NeedStatus] = NEED_OPEN - {NeedStatus.DELIVERED}
"""Needs a project may take up: open and not yet delivered."""

ANNOUNCES: Mapping[ProjectAction, str] = {
    ProjectAction.APPROVE: ProjectApproved.EVENT_TYPE,
    ProjectAction.START: ProjectStarted.EVENT_TYPE,
    ProjectAction.PROGRESS: ProjectProgressed.EVENT_TYPE,
    ProjectAction.SUSPEND: ProjectSuspended.EVENT_TYPE,
    ProjectAction.RESUME: ProjectResumed.EVENT_TYPE,
    ProjectAction.COMPLETE: ProjectCompleted.EVENT_TYPE,
    ProjectAction.RATE: ProjectRated.EVENT_TYPE,
    ProjectAction.EVALUATE: ProjectEvaluated.EVENT_TYPE,
    ProjectAction.CANCEL: ProjectCancelled.EVENT_TYPE,
}


class UnknownProject(Unknown):
    """No such project, or one outside the caller's scope (404)."""


# ---- who sees a project, who acts ---------------------------------------------------------------------


def visible(project: Mapping[str, Any], reader: Actor) -> bool:
    """Its community (workers, grid workers, residents), its units, its street and district."""
    match reader.role:
        case Role.COMMUNITY_WORKER | Role.RESIDENT | Role.GRID_WORKER:
            return bool(project["community_code"] == reader.org)
        case Role.UNIT_ADMIN:
            return reader.org in project["unit_codes"]
        case Role.STREET_DISPATCHER:
            return bool(project["street_code"] == reader.org)
        case Role.SUPERVISOR:
            return reader.org in (project["street_code"], project["district_code"])
    return False


def list_filter(reader: Actor) -> Doc | None:
    """The projects a reader may list, as a filter, exactly as `visible` judges one."""
    match reader.role:
        case Role.COMMUNITY_WORKER | Role.RESIDENT | Role.GRID_WORKER:
            return {"community_code": reader.org}
        case Role.UNIT_ADMIN:
            return {"unit_codes": reader.org}
        case Role.STREET_DISPATCHER:
            return {"street_code": reader.org}
        case Role.SUPERVISOR:
            return {"$or": [{"district_code": reader.org}, {"street_code": reader.org}]}
    return None


def reads_projects(reader: Actor) -> None:
    """NotAllowed (403) for a role that sees no project at all: it is refused every project route,
    whichever project it names."""
    if list_filter(reader) is None:
        raise NotAllowed("无权查看项目清单 (your role does not read projects)")


def _acts(action: ProjectAction, project: Mapping[str, Any], reader: Actor) -> bool:
    community = reader.role is Role.COMMUNITY_WORKER and reader.org == project["community_code"]
    street = reader.role is Role.STREET_DISPATCHER and reader.org == project["street_code"]
    unit = reader.role is Role.UNIT_ADMIN and reader.org in project["unit_codes"]
    resident = reader.role is Role.RESIDENT and reader.org == project["community_code"]
    match action:
        case ProjectAction.APPROVE | ProjectAction.EVALUATE:
            return street
        case ProjectAction.RATE:
            return community or resident
        case ProjectAction.CANCEL:
            return community or street
        case _:
            return community or unit


def refusal(action: ProjectAction, project: Mapping[str, Any], reader: Actor) -> Exception | None:
    """Why `reader` may not take `action` on the project now; None when they may."""
    if not _acts(action, project, reader):
        return NotAllowed("无权对该项目执行此操作 (your role or organisation may not do this)")
    status = ProjectStatus(project["status"])
    if not can_move(PROJECT_TRANSITIONS, status, ANNOUNCES[action]):
        return CobuildTransitionNotAllowed(ANNOUNCES[action], status)
    rated = any(r.get("by") == reader.sub for r in project.get("ratings", []))
    if action is ProjectAction.RATE and reader.role is Role.RESIDENT and rated:
        return Conflict("already_rated", "您已评价过该项目 (you have rated this project)")
    return None


def _permit(action: ProjectAction, project: Mapping[str, Any], reader: Actor) -> ProjectStatus:
    reason = refusal(action, project, reader)
    if reason is not None:
        raise reason
    return move(PROJECT_TRANSITIONS, ProjectStatus(project["status"]), ANNOUNCES[action])


def allowed_actions(project: Mapping[str, Any], reader: Actor) -> list[ProjectAction]:
    return [a for a in ProjectAction if refusal(a, project, reader) is None]


# ---- making a project ---------------------------------------------------------------------------------


def propose(
    *,
    project_id: str,
    number: str,
    request: ProjectRequest,
    actor: Actor,
    place: Place | None,
    need_categories: set[str],
    needs: Sequence[Mapping[str, Any]],
    needs_in_open_projects: set[str],
    offers: Sequence[Mapping[str, Any]],
    units: Mapping[str, Mapping[str, Any]],
    now: datetime,
) -> tuple[Doc, ProjectProposed]:
    """A community makes a project (立项) in one of its grids from its own open needs and the
    offers it accepted, with units paired with it. The offers' units take part; a project from a
    hotspot idea keeps the tickets and their category, for the no-recurrence count."""
    community = actor.org
    if place is None or place.community_code != community:
        raise Invalid("unknown_grid", f"网格 {request.grid_code} 不属于本社区 (not a grid of your community)")
    if request.category_code not in need_categories:
        raise Invalid("unknown_category", f"需求类别不存在：{request.category_code}")
    if as_utc(request.planned_end) <= now:
        raise Invalid("planned_end_past", "计划完成时间须晚于现在 (planned_end must be in the future)")
    found = {str(n["_id"]): n for n in needs}
    missing = [i for i in request.need_ids if i not in found or found[i]["community_code"] != community]
    if missing:
        raise Invalid("unknown_need", f"需求不存在或不属于本社区：{'、'.join(missing)}", {"need_ids": missing})
    closed = [found[i]["need_number"] for i in request.need_ids if found[i]["status"] not in PROJECT_NEED_STATES]
    if closed:
        raise Conflict("need_not_open", f"需求已办结或已关闭，不能纳入项目：{'、'.join(closed)}")
    taken = [found[i]["need_number"] for i in request.need_ids if i in needs_in_open_projects]
    if taken:
        raise Conflict("need_in_project", f"需求已纳入其他项目：{'、'.join(taken)}")
    known_offers = {str(o["_id"]) for o in offers}
    absent = [i for i in request.offer_ids if i not in known_offers]
    if absent:
        raise Invalid("unknown_offer", f"资源不存在：{'、'.join(absent)}", {"offer_ids": absent})
    unit_codes = list(dict.fromkeys([*request.unit_codes, *(str(o["unit_code"]) for o in offers)]))
    strangers = [u for u in unit_codes if u not in units or community not in units[u].get("communities", [])]
    if strangers:
        raise Invalid(
            "unit_not_paired", f"单位不在名录中或未与本社区结对：{'、'.join(strangers)}", {"unit_codes": strangers}
        )
    hotspot_ideas = [
        found[i]
        for i in request.need_ids
        if found[i]["kind"] == NeedKind.PROJECT_IDEA and found[i].get("source") == NeedSource.HOTSPOT
    ]
    ticket_ids = list(dict.fromkeys(t for n in hotspot_ideas for t in n.get("ticket_ids", [])))
    ticket_category = next((n.get("ticket_category_code") for n in hotspot_ideas), None)
    idea_grid = next((str(n["grid_code"]) for n in hotspot_ideas), None)
    uses = [{"offer_id": i, "amount": request.offer_amounts.get(i, 1)} for i in request.offer_ids]
    payload = ProjectProposed(
        project_number=number,
        title=request.title,
        summary=request.summary,
        category_code=request.category_code,
        grid_code=place.grid_code,
        community_code=place.community_code,
        street_code=place.street_code,
        district_code=place.district_code,
        need_ids=request.need_ids,
        offer_ids=request.offer_ids,
        unit_codes=unit_codes,
        ticket_ids=ticket_ids,
        planned_end=request.planned_end,
    )
    doc: Doc = {
        "_id": project_id,
        "project_number": number,
        "title": request.title,
        "summary": request.summary,
        "category_code": request.category_code,
        "ticket_category_code": ticket_category,
        "hotspot_grid_code": idea_grid,
        "grid_code": place.grid_code,
        "community_code": place.community_code,
        "street_code": place.street_code,
        "district_code": place.district_code,
        "need_ids": request.need_ids,
        "offer_ids": request.offer_ids,
        "offer_uses": uses,
        "unit_codes": unit_codes,
        "ticket_ids": ticket_ids,
        "planned_end": as_utc(request.planned_end),
        "status": move(PROJECT_TRANSITIONS, None, ProjectProposed.EVENT_TYPE).value,
        "percent": 0,
        "milestones": [],
        "ratings": [],
        "evaluation": None,
        "approval_comment": "",
        "suspend_reason": "",
        "cancel_reason": "",
        "report": "",
        "beneficiaries": None,
        "started_at": None,
        "completed_at": None,
        "hotspot_solved_at": None,
        "recurred_at": None,
        "created_by": actor.sub,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    return doc, payload


# ---- the lifecycle ------------------------------------------------------------------------------------

Step = tuple[Doc, CobuildPayload]


def approve(project: Mapping[str, Any], *, actor: Actor, comment: str, now: datetime) -> Step:
    """审核: the street approves the community's project."""
    status = _permit(ProjectAction.APPROVE, project, actor)
    return {"status": status.value, "approval_comment": comment, "approved_at": now}, ProjectApproved(comment=comment)


def start(project: Mapping[str, Any], *, actor: Actor, now: datetime) -> Step:
    status = _permit(ProjectAction.START, project, actor)
    return {"status": status.value, "started_at": now}, ProjectStarted()


def progress(project: Mapping[str, Any], *, actor: Actor, percent: int, milestone: str, now: datetime) -> Step:
    """A milestone reached, and the progress in per cent, which never goes back; 100% is the
    closing report's (complete)."""
    status = _permit(ProjectAction.PROGRESS, project, actor)
    if percent < int(project.get("percent", 0)):
        raise Invalid("progress_backwards", f"进度不能回退（当前 {project.get('percent', 0)}%）")
    if percent >= 100:
        raise Invalid("progress_complete", "进度达到100%请提交结项报告 (use complete with the closing report)")
    changes: Doc = {
        "status": status.value,
        "percent": percent,
        "milestones": [*project.get("milestones", []), {"percent": percent, "milestone": milestone, "at": now}],
    }
    return changes, ProjectProgressed(percent=percent, milestone=milestone)


def suspend(project: Mapping[str, Any], *, actor: Actor, reason: str, now: datetime) -> Step:
    status = _permit(ProjectAction.SUSPEND, project, actor)
    return {"status": status.value, "suspend_reason": reason, "suspended_at": now}, ProjectSuspended(reason=reason)


def resume(project: Mapping[str, Any], *, actor: Actor, now: datetime) -> Step:
    status = _permit(ProjectAction.RESUME, project, actor)
    changes: Doc = {"status": status.value, "suspend_reason": ""}
    if project.get("started_at") is None:
        changes["started_at"] = now
    return changes, ProjectResumed()


def complete(project: Mapping[str, Any], *, actor: Actor, report: str, beneficiaries: int, now: datetime) -> Step:
    """结项: the closing report and the people served (受益人次)."""
    status = _permit(ProjectAction.COMPLETE, project, actor)
    changes: Doc = {
        "status": status.value,
        "percent": 100,
        "report": report,
        "beneficiaries": beneficiaries,
        "completed_at": now,
    }
    return changes, ProjectCompleted(report=report, beneficiaries=beneficiaries)


def rate(project: Mapping[str, Any], *, actor: Actor, rating: Rating, comment: str, now: datetime) -> Step:
    """评单: a resident of the community rates the finished project once; the community worker
    records residents' ratings (collected on paper or at a meeting), one each time."""
    status = _permit(ProjectAction.RATE, project, actor)
    entry = {
        "rating": rating.value,
        "comment": comment,
        "at": now,
        "by": actor.sub,
        "recorded_by_community": actor.role is Role.COMMUNITY_WORKER,
    }
    return {"status": status.value, "ratings": [*project.get("ratings", []), entry]}, ProjectRated(
        rating=rating, comment=comment
    )


def evaluate(project: Mapping[str, Any], *, actor: Actor, grade: str, comment: str, now: datetime) -> Step:
    """评估: the street grades the completed project."""
    if grade not in GRADE_LABELS:
        raise Invalid("unknown_grade", f"评估等级无效：{grade}")
    status = _permit(ProjectAction.EVALUATE, project, actor)
    evaluation = {"grade": grade, "comment": comment, "at": now, "by": actor.sub}
    return {"status": status.value, "evaluation": evaluation}, ProjectEvaluated(
        grade=grade,
        comment=comment,
    )


def cancel(project: Mapping[str, Any], *, actor: Actor, reason: str, now: datetime) -> Step:
    status = _permit(ProjectAction.CANCEL, project, actor)
    return {"status": status.value, "cancel_reason": reason, "cancelled_at": now}, ProjectCancelled(reason=reason)


def is_open(project: Mapping[str, Any]) -> bool:
    return ProjectStatus(project["status"]) in PROJECT_OPEN


# ---- 热点难点 solved ----------------------------------------------------------------------------------


def hotspot_grid(project: Mapping[str, Any]) -> str:
    """The grid of the hotspot a project answers: its idea's (the project may be run elsewhere)."""
    return str(project.get("hotspot_grid_code") or project["grid_code"])


def hotspot_outcome(
    project: Mapping[str, Any], *, tickets_since_completion: int, quiet_days: int, now: datetime
) -> tuple[Doc, HotspotSolved | None] | None:
    """For a completed project made from a hotspot: once `quiet_days` have passed since it was
    completed, solved (hotspot.solved, once) when no ticket of the hotspot's category came from the
    hotspot's grid meanwhile, else recorded as recurred (never solved). None while the quiet period runs, or
    for a project that is not a hotspot's or was already judged."""
    category = project.get("ticket_category_code")
    completed_at = project.get("completed_at")
    if not category or completed_at is None or project.get("hotspot_solved_at") or project.get("recurred_at"):
        return None
    if not can_move(PROJECT_TRANSITIONS, ProjectStatus(project["status"]), HotspotSolved.EVENT_TYPE):
        return None
    if tickets_since_completion > 0:
        return {"recurred_at": now}, None
    if now < as_utc(completed_at) + timedelta(days=quiet_days):
        return None
    return {"hotspot_solved_at": now}, HotspotSolved(
        project_id=str(project["_id"]),
        category_code=str(category),
        grid_code=hotspot_grid(project),
        community_code=str(project["community_code"]),
        street_code=str(project["street_code"]),
        district_code=str(project["district_code"]),
    )
