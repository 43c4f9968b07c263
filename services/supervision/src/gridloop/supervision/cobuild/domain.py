"""Pure rules of the 共建 indicators: how each event of the needs topic changes supervision's
record of a need, an offer or a project (through the shared transition tables), and how the
records of a window add up to the counts and rates (docs/metrics.md, "共建 indicators").
No I/O, no clock: the window's end is an argument."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import (
    NEED_TRANSITIONS,
    OFFER_TRANSITIONS,
    PROJECT_TRANSITIONS,
    NeedStatus,
    OfferStatus,
    ProjectStatus,
    can_move,
    move,
)
from gridloop.shared.events import (
    Envelope,
    NeedAssigned,
    NeedClaimed,
    NeedConverted,
    NeedDone,
    NeedMerged,
    NeedPublished,
    NeedRated,
    NeedRejected,
    NeedReviewed,
    NeedSubmitted,
    NeedWithdrawn,
    OfferAccepted,
    OfferSubmitted,
    OfferUsed,
    ProjectApproved,
    ProjectCancelled,
    ProjectCompleted,
    ProjectEvaluated,
    ProjectProposed,
    Rating,
)

Doc = dict[str, Any]


class CobuildUnit(StrEnum):
    """The units 共建 figures are given for, named as the ticket indicators name them."""

    GRIDS = "grids"
    COMMUNITIES = "communities"
    STREETS = "streets"
    DISTRICTS = "districts"


UNIT_FIELDS = {
    CobuildUnit.GRIDS: "grid_code",
    CobuildUnit.COMMUNITIES: "community_code",
    CobuildUnit.STREETS: "street_code",
    CobuildUnit.DISTRICTS: "district_code",
}
PLACE = ("grid_code", "community_code", "street_code", "district_code")
EXITS = ("converted", "rejected", "withdrawn", "merged")
"""The side exits that take a need out of what can be fulfilled (兑现率's base)."""
INSUFFICIENT = "样本不足"


# Records -----------------------------------------------------------------------------------


def new_need(event: Envelope, p: NeedSubmitted) -> Doc:
    """The record a collected need opens."""
    return {
        "_id": event.ticket_id,
        "need_number": p.need_number,
        "kind": p.kind.value,
        "source": p.source.value,
        "category_code": p.category_code,
        **{f: getattr(p, f) for f in PLACE},
        "status": NeedStatus.SUBMITTED.value,
        "submitted_at": event.occurred_at,
        "offered_at": None,  # first published or assigned (claiming becomes possible)
        "claimed_at": None,  # first claim
        "done_at": None,
        "on_time": None,
        "exit": None,  # converted | rejected | withdrawn | merged
        "exited_at": None,
        "rating": None,
        "rated_at": None,
        "last_event_at": event.occurred_at,
        "version": 0,
    }


def need_changes(need: Mapping[str, Any], event: Envelope) -> Doc | None:
    """What `event` changes in a need's record; None when the need's state does not allow it
    (the shared table NEED_TRANSITIONS): such an event is left out of every figure."""
    current = NeedStatus(need["status"])
    if event.event_type not in NEED_TRANSITIONS or not can_move(NEED_TRANSITIONS, current, event.event_type):
        return None
    at = event.occurred_at
    changes: Doc = {"status": move(NEED_TRANSITIONS, current, event.event_type).value, "last_event_at": at}
    match event.payload:
        case NeedReviewed() as p:
            changes["category_code"] = p.category_code
        case NeedPublished() | NeedAssigned() if need.get("offered_at") is None:
            changes["offered_at"] = at
        case NeedClaimed() if need.get("claimed_at") is None:
            changes["claimed_at"] = at
        case NeedDone() as p:
            changes.update(done_at=at, on_time=p.on_time)
        case NeedRated() as p:
            changes.update(rating=p.rating.value, rated_at=at)
        case NeedConverted() | NeedRejected() | NeedWithdrawn() | NeedMerged():
            changes.update(exit=event.event_type.removeprefix("need."), exited_at=at)
        case _:
            pass
    return changes


def new_offer(event: Envelope, p: OfferSubmitted) -> Doc:
    """The record a unit's resource offer opens; its community is the one that accepts it."""
    return {
        "_id": event.ticket_id,
        "offer_number": p.offer_number,
        "unit_code": p.unit_code,
        "kind": p.kind.value,
        "grid_code": p.grid_code,
        "community_code": None,
        "community_codes": list(p.community_codes),
        "street_code": p.street_code,
        "district_code": p.district_code,
        "status": OfferStatus.SUBMITTED.value,
        "submitted_at": event.occurred_at,
        "accepted_at": None,
        "used_at": None,  # first use by a project
        "uses": 0,
        "used_amount": 0,
        "last_event_at": event.occurred_at,
        "version": 0,
    }


def offer_changes(offer: Mapping[str, Any], event: Envelope) -> Doc | None:
    """What `event` changes in an offer's record; None when OFFER_TRANSITIONS does not allow it."""
    current = OfferStatus(offer["status"])
    if event.event_type not in OFFER_TRANSITIONS or not can_move(OFFER_TRANSITIONS, current, event.event_type):
        return None
    at = event.occurred_at
    changes: Doc = {"status": move(OFFER_TRANSITIONS, current, event.event_type).value, "last_event_at": at}
    match event.payload:
        case OfferAccepted() as p:
            changes.update(accepted_at=at, community_code=p.community_code)
        case OfferUsed() as p:
            changes.update(uses=offer["uses"] + 1, used_amount=offer["used_amount"] + p.amount)
            if offer.get("used_at") is None:
                changes["used_at"] = at
        case _:
            pass
    return changes


def new_project(event: Envelope, p: ProjectProposed) -> Doc:
    """The record a proposed project (惠民项目) opens."""
    return {
        "_id": event.ticket_id,
        "project_number": p.project_number,
        "category_code": p.category_code,
        **{f: getattr(p, f) for f in PLACE},
        "status": ProjectStatus.PROPOSED.value,
        "proposed_at": event.occurred_at,
        "approved_at": None,
        "completed_at": None,
        "beneficiaries": 0,
        "evaluated_at": None,
        "grade": None,
        "cancelled_at": None,
        "last_event_at": event.occurred_at,
        "version": 0,
    }


def project_changes(project: Mapping[str, Any], event: Envelope) -> Doc | None:
    """What `event` changes in a project's record; None when PROJECT_TRANSITIONS does not allow it."""
    current = ProjectStatus(project["status"])
    if event.event_type not in PROJECT_TRANSITIONS or not can_move(PROJECT_TRANSITIONS, current, event.event_type):
        return None
    at = event.occurred_at
    changes: Doc = {"status": move(PROJECT_TRANSITIONS, current, event.event_type).value, "last_event_at": at}
    match event.payload:
        case ProjectApproved():
            changes["approved_at"] = at
        case ProjectCompleted() as p:
            changes.update(completed_at=at, beneficiaries=p.beneficiaries)
        case ProjectEvaluated() as p:
            changes.update(evaluated_at=at, grade=p.grade)
        case ProjectCancelled():
            changes["cancelled_at"] = at
        case _:
            pass
    return changes


# Indicators --------------------------------------------------------------------------------

COUNTS = (
    "needs_collected",
    "needs_offered",
    "needs_claimed",
    "needs_converted",
    "needs_rejected",
    "needs_withdrawn",
    "needs_merged",
    "needs_fulfilment_base",
    "needs_done",
    "needs_done_on_time",
    "needs_rated",
    "needs_satisfied",
    "needs_basically_satisfied",
    "needs_unsatisfied",
    "offers_accepted",
    "offers_used",
    "projects_approved",
    "projects_completed",
    "beneficiaries_from_projects",
    "beneficiaries_from_needs",
    "beneficiaries",
    "hotspots_solved",
)
RATES = (
    "claim_rate",
    "fulfilment_rate",
    "on_time_rate",
    "conversion_rate",
    "satisfaction_rate",
    "offer_use_rate",
    "project_completion_rate",
)


@dataclass(frozen=True)
class WindowRecords:
    """The records a window's figures are made of, each list already within the reader's scope."""

    needs_collected: list[Doc] = field(default_factory=list)  # submitted in the window
    needs_done: list[Doc] = field(default_factory=list)  # done in the window (受益人次)
    offers_accepted: list[Doc] = field(default_factory=list)  # accepted in the window
    projects_approved: list[Doc] = field(default_factory=list)  # approved in the window
    projects_completed: list[Doc] = field(default_factory=list)  # completed in the window (受益人次)
    hotspots_solved: list[Doc] = field(default_factory=list)  # solved in the window


def _before(value: datetime | None, end: datetime) -> bool:
    """Whether something happened, as known at the window's end."""
    return value is not None and as_utc(value) < end


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def tally(records: WindowRecords, *, end: datetime) -> dict[str, int]:
    """The counts of one unit's records in a window ending at `end`. Needs, offers and projects
    are cohorts (collected, accepted, approved in the window) whose outcomes count when they
    happened before `end`; 受益人次 and 热点难点 count what happened inside the window."""
    c = dict.fromkeys(COUNTS, 0)
    end = as_utc(end)
    for need in records.needs_collected:
        c["needs_collected"] += 1
        c["needs_offered"] += _before(need.get("offered_at"), end)
        c["needs_claimed"] += _before(need.get("claimed_at"), end)
        exited = need.get("exit") if _before(need.get("exited_at"), end) else None
        if exited in EXITS:
            c[f"needs_{exited}"] += 1
        if _before(need.get("done_at"), end):
            c["needs_done"] += 1
            c["needs_done_on_time"] += bool(need.get("on_time"))
        if need.get("rating") and _before(need.get("rated_at"), end):
            c["needs_rated"] += 1
            c[f"needs_{Rating(need['rating']).value}"] += 1
    c["needs_fulfilment_base"] = c["needs_collected"] - sum(c[f"needs_{e}"] for e in EXITS)
    for offer in records.offers_accepted:
        c["offers_accepted"] += 1
        c["offers_used"] += _before(offer.get("used_at"), end)
    for project in records.projects_approved:
        c["projects_approved"] += 1
        c["projects_completed"] += _before(project.get("completed_at"), end)
    c["beneficiaries_from_projects"] = sum(int(p.get("beneficiaries") or 0) for p in records.projects_completed)
    c["beneficiaries_from_needs"] = len(records.needs_done)
    c["beneficiaries"] = c["beneficiaries_from_projects"] + c["beneficiaries_from_needs"]
    c["hotspots_solved"] = len(records.hotspots_solved)
    return c


def rates(c: Mapping[str, int]) -> dict[str, float | None]:
    """The rates of a unit's counts, each None when its base is 0."""
    return {
        "claim_rate": _ratio(c["needs_claimed"], c["needs_offered"]),  # 认领率
        "fulfilment_rate": _ratio(c["needs_done"], c["needs_fulfilment_base"]),  # 兑现率
        "on_time_rate": _ratio(c["needs_done_on_time"], c["needs_done"]),  # 按期兑现率
        "conversion_rate": _ratio(c["needs_converted"], c["needs_collected"]),  # 转办率
        "satisfaction_rate": _ratio(c["needs_satisfied"] + c["needs_basically_satisfied"], c["needs_rated"]),
        "offer_use_rate": _ratio(c["offers_used"], c["offers_accepted"]),  # 资源使用率
        "project_completion_rate": _ratio(c["projects_completed"], c["projects_approved"]),  # 项目完成率
    }


def indicators(records: WindowRecords, *, end: datetime) -> dict[str, Any]:
    """One unit's counts and rates in a window ending at `end`."""
    c = tally(records, end=end)
    return {**c, **rates(c)}


def by_unit(records: WindowRecords, unit: CobuildUnit) -> dict[str, WindowRecords]:
    """The records split by the unit each counts for (an offer: the community that accepted it)."""
    name = UNIT_FIELDS[unit]
    split: dict[str, dict[str, list[Doc]]] = {}
    for part in WindowRecords.__dataclass_fields__:
        for doc in getattr(records, part):
            code = doc.get(name)
            if code:
                split.setdefault(code, {}).setdefault(part, []).append(doc)
    return {code: WindowRecords(**parts) for code, parts in split.items()}


def unit_indicators(records: WindowRecords, unit: CobuildUnit, *, end: datetime) -> dict[str, dict[str, Any]]:
    """{unit code: its counts and rates}, for every unit with any record in the window."""
    return {code: indicators(own, end=end) for code, own in sorted(by_unit(records, unit).items())}


def board_row(figures: Mapping[str, Any], *, min_volume: int) -> dict[str, Any]:
    """A community's row on the street's board: below `min_volume` needs collected its rates are
    not shown (样本不足), only its counts."""
    insufficient = figures["needs_collected"] < min_volume
    return {
        **figures,
        **(dict.fromkeys(RATES) if insufficient else {}),
        "insufficient": insufficient,
        "note": INSUFFICIENT if insufficient else "",
    }


def board(
    figures: Mapping[str, Mapping[str, Any]], communities: Iterable[str], *, end: datetime, min_volume: int
) -> list[dict[str, Any]]:
    """Every community of the street (those with nothing in the window too), by code."""
    empty = indicators(WindowRecords(), end=end)
    return [
        {"code": code, **board_row(figures.get(code, empty), min_volume=min_volume)}
        for code in sorted(set(communities) | set(figures))
    ]
