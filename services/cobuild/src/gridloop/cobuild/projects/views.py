"""Projects and matches as the API shows them."""

from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.offers import reference
from gridloop.cobuild.offers import store as offers_store
from gridloop.cobuild.offers.domain import NotAllowed
from gridloop.cobuild.projects import domain, matching, store
from gridloop.cobuild.projects.domain import UnknownProject
from gridloop.shared.api.cobuild import (
    GRADE_LABELS,
    Evaluation,
    Match,
    Matches,
    Milestone,
    OfferUse,
    Project,
    ProjectPage,
    ProjectRating,
    Unmatched,
)
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import NeedStatus, ProjectStatus
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Database
from gridloop.shared.paging import Cursor, page
from gridloop.shared.refdata import RefData

ProjectKey = tuple[Literal["projects"], str]
PROJECT_CURSOR = Cursor(TypeAdapter(ProjectKey))
MATCHABLE = [NeedStatus.REVIEWED.value, NeedStatus.PUBLISHED.value, NeedStatus.ESCALATED.value]
"""Needs matching suggests offers for: reviewed by the community and not yet taken on."""


def _maybe(value: Any) -> Any:
    return as_utc(value) if value is not None else None


def shown(project: dict[str, Any], *, reader: Actor) -> Project:
    evaluation = project.get("evaluation")
    return Project(
        id=project["_id"],
        project_number=project["project_number"],
        title=project["title"],
        summary=project["summary"],
        category_code=project["category_code"],
        ticket_category_code=project.get("ticket_category_code"),
        grid_code=project["grid_code"],
        community_code=project["community_code"],
        street_code=project["street_code"],
        district_code=project["district_code"],
        need_ids=project["need_ids"],
        offer_uses=[OfferUse.model_validate(u) for u in project.get("offer_uses", [])],
        unit_codes=project["unit_codes"],
        ticket_ids=project.get("ticket_ids", []),
        planned_end=as_utc(project["planned_end"]),
        status=project["status"],
        percent=project.get("percent", 0),
        milestones=[
            Milestone(percent=m["percent"], milestone=m["milestone"], at=as_utc(m["at"]))
            for m in project.get("milestones", [])
        ],
        approval_comment=project.get("approval_comment", ""),
        suspend_reason=project.get("suspend_reason", ""),
        cancel_reason=project.get("cancel_reason", ""),
        report=project.get("report", ""),
        beneficiaries=project.get("beneficiaries"),
        ratings=[
            ProjectRating(
                rating=r["rating"],
                comment=r["comment"],
                at=as_utc(r["at"]),
                recorded_by_community=r.get("recorded_by_community", False),
            )
            for r in project.get("ratings", [])
        ],
        evaluation=Evaluation(
            grade=evaluation["grade"],
            grade_label=GRADE_LABELS[evaluation["grade"]],
            comment=evaluation["comment"],
            at=as_utc(evaluation["at"]),
        )
        if evaluation
        else None,
        hotspot_solved_at=_maybe(project.get("hotspot_solved_at")),
        started_at=_maybe(project.get("started_at")),
        completed_at=_maybe(project.get("completed_at")),
        created_at=as_utc(project["created_at"]),
        updated_at=as_utc(project["updated_at"]),
        allowed_actions=domain.allowed_actions(project, reader),
    )


async def one(*, database: Database, reader: Actor, project_id: str) -> Project:
    domain.reads_projects(reader)
    project = await store.get(database.db, project_id)
    if project is None or not domain.visible(project, reader):
        raise UnknownProject(project_id)
    return shown(project, reader=reader)


async def listing(
    *,
    database: Database,
    reader: Actor,
    status: ProjectStatus | None,
    community: str | None,
    limit: int,
    cursor: str | None,
) -> ProjectPage:
    scope = domain.list_filter(reader)
    if scope is None:
        raise NotAllowed("无权查看项目清单 (your role does not read projects)")
    parts: list[dict[str, Any]] = [scope]
    if status is not None:
        parts.append({"status": status.value})
    if community is not None:
        parts.append({"community_code": community})
    before = PROJECT_CURSOR.decode(cursor)[1] if cursor else None
    docs, next_cursor = page(
        await store.listing(database.db, query={"$and": parts}, before=before, limit=limit + 1),
        limit=limit,
        key=lambda d: PROJECT_CURSOR.encode(("projects", d["_id"])),
    )
    return ProjectPage(items=[shown(d, reader=reader) for d in docs], next_cursor=next_cursor)


async def matches(*, database: Database, refdata: RefData, reader: Actor, community: str | None, limit: int) -> Matches:
    """Suggested pairs for the reader's community (a street desk: a community of its street, or the
    whole street), and the needs no offer serves, with the reason (matching.match). Needs a project
    already takes up are left out."""
    if reader.role is Role.COMMUNITY_WORKER:
        if community not in (None, reader.org):
            raise NotAllowed("只能查看本社区的匹配建议 (your own community only)")
        area: dict[str, Any] = {"community_code": reader.org}
    elif reader.role is Role.STREET_DISPATCHER:
        if community is not None:
            if await reference.community_street(refdata, community) != reader.org:
                raise NotAllowed("只能查看本街道社区的匹配建议 (communities of your street only)")
            area = {"community_code": community}
        else:
            area = {"street_code": reader.org}
    else:
        raise NotAllowed("无权查看匹配建议 (your role does not match needs and offers)")
    needs = await store.matchable_needs(
        database.db, area=area, statuses=MATCHABLE, limit=limit, now=database.clock.now()
    )
    taken = await store.needs_in_open_projects(database.db, [str(n["_id"]) for n in needs])
    needs = [n for n in needs if str(n["_id"]) not in taken]
    categories = sorted({str(n["category_code"]) for n in needs})
    candidates = await offers_store.accepted_of_categories(database.db, categories) if categories else []
    names = {code: str(c.get("name", code)) for code, c in (await reference.need_categories(refdata)).items()}
    centroids = await reference.grid_centroids(refdata)
    pairs, unpaired = matching.match(
        needs, candidates, now=database.clock.now(), category_names=names, centroids=centroids
    )
    by_need = {str(n["_id"]): n for n in needs}
    by_offer = {str(o["_id"]): o for o in candidates}
    return Matches(
        matches=[
            Match(
                need_id=p.need_id,
                need_number=by_need[p.need_id]["need_number"],
                category_code=by_need[p.need_id]["category_code"],
                grid_code=by_need[p.need_id]["grid_code"],
                offer_id=p.offer_id,
                offer_title=by_offer[p.offer_id]["title"],
                unit_code=by_offer[p.offer_id]["unit_code"],
                score=p.score,
                reasons=p.reasons,
            )
            for p in pairs
        ],
        unmatched=[
            Unmatched(
                need_id=u.need_id,
                need_number=by_need[u.need_id]["need_number"],
                category_code=by_need[u.need_id]["category_code"],
                grid_code=by_need[u.need_id]["grid_code"],
                reason=u.reason,
            )
            for u in unpaired
        ],
    )
