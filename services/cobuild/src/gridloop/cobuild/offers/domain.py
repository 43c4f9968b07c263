"""Pure rules of resource offers (资源清单): who may offer what to which community, who answers,
and what an offer has left to give. No I/O; the time is passed in."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridloop.shared.api.cobuild import OFFER_KIND_LABELS, OfferAction, OfferRequest
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import OFFER_TRANSITIONS, CobuildTransitionNotAllowed, OfferStatus, move
from gridloop.shared.events import (
    Actor,
    OfferAccepted,
    OfferDeclined,
    OfferSubmitted,
    OfferUsed,
    OfferWithdrawn,
    Role,
)

Doc = dict[str, Any]


class Refused(Exception):
    """An action the rules refuse, with the status, code and Chinese message the caller is given."""

    status = 422
    code = "refused"

    def __init__(self, message: str, details: Any = None) -> None:
        self.message = message
        self.details = details
        super().__init__(message)


class Invalid(Refused):
    """The request names something that does not exist or does not fit (422)."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        self.code = code
        super().__init__(message, details)


class Conflict(Refused):
    """The record's state does not allow it now (409)."""

    status = 409

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        self.code = code
        super().__init__(message, details)


class NotAllowed(Refused):
    """The caller sees the record but their role or organisation may not do this (403)."""

    status = 403
    code = "forbidden"


class Unknown(LookupError):
    """A record that does not exist for the caller: none, or outside their scope (404)."""


class UnknownOffer(Unknown):
    """No such offer, or one outside the caller's scope (404)."""


@dataclass(frozen=True)
class Place:
    """Where a grid lies: its community, street and district."""

    grid_code: str
    community_code: str
    street_code: str
    district_code: str


# ---- who sees an offer -------------------------------------------------------------------------------


def visible(offer: Mapping[str, Any], reader: Actor) -> bool:
    """The unit that offers it, the communities it is offered to, the street and district it is in."""
    match reader.role:
        case Role.UNIT_ADMIN:
            return bool(offer["unit_code"] == reader.org)
        case Role.COMMUNITY_WORKER:
            return reader.org in offer["community_codes"]
        case Role.STREET_DISPATCHER:
            return bool(offer["street_code"] == reader.org)
        case Role.SUPERVISOR:
            return reader.org in (offer["street_code"], offer["district_code"])
    return False


def list_filter(reader: Actor) -> Doc | None:
    """The offers a reader may list, as a filter; None for a role that reads no offers."""
    match reader.role:
        case Role.UNIT_ADMIN:
            return {"unit_code": reader.org}
        case Role.COMMUNITY_WORKER:
            return {"community_codes": reader.org}
        case Role.STREET_DISPATCHER:
            return {"street_code": reader.org}
        case Role.SUPERVISOR:
            return {"$or": [{"district_code": reader.org}, {"street_code": reader.org}]}
    return None


def reads_offers(reader: Actor) -> None:
    """NotAllowed (403) for a role that sees no offer at all: it is refused every offer route,
    whichever offer it names."""
    if list_filter(reader) is None:
        raise NotAllowed("无权查看资源清单 (your role does not read offers)")


# ---- what an offer has left --------------------------------------------------------------------------


def remaining(offer: Mapping[str, Any]) -> int:
    return int(offer["capacity"]) - int(offer.get("used", 0))


def expired(offer: Mapping[str, Any], now: datetime) -> bool:
    return as_utc(offer["available_until"]) <= now


def available_between(offer: Mapping[str, Any], start: datetime, end: datetime) -> bool:
    """Whether the offer can be used at some moment from `start` to `end`."""
    return as_utc(offer["available_from"]) <= end and as_utc(offer["available_until"]) >= start


def decision_of(offer: Mapping[str, Any], community: str) -> str:
    answer = offer.get("decisions", {}).get(community)
    return str(answer["decision"]) if answer else "pending"


# ---- making an offer ---------------------------------------------------------------------------------


def submit(
    *,
    offer_id: str,
    number: str,
    request: OfferRequest,
    unit: Mapping[str, Any] | None,
    unit_code: str,
    place: Place | None,
    need_categories: set[str],
    actor: Actor,
    now: datetime,
) -> tuple[Doc, OfferSubmitted]:
    """A unit offers a resource to some of its paired communities (结对社区). The unit must be in
    the directory, each community one it is paired with, each category a need category, the grid
    one of the listed communities' or the unit's own, and the offer still valid."""
    if unit is None:
        raise Invalid("unknown_unit", f"单位不在名录中，无法提交资源 (unit {unit_code} is not in the directory)")
    paired = set(unit.get("communities", []))
    strangers = sorted(set(request.community_codes) - paired)
    if strangers:
        raise Invalid(
            "community_not_paired",
            f"只能向结对社区提供资源：{'、'.join(strangers)} 不是本单位的结对社区 (not paired with the unit)",
            {"communities": strangers},
        )
    unknown = sorted(set(request.category_codes) - need_categories)
    if unknown:
        raise Invalid("unknown_category", f"需求类别不存在：{'、'.join(unknown)}", {"categories": unknown})
    if place is None:
        raise Invalid("unknown_grid", f"网格不存在 (grid {request.grid_code or unit.get('grid')} not found)")
    outside = place.community_code not in request.community_codes and place.grid_code != unit.get("grid")
    if request.grid_code is not None and outside:
        raise Invalid("grid_not_served", "资源所在网格须属于所列社区或为本单位所在网格 (grid outside the communities)")
    if as_utc(request.available_until) <= now:
        raise Invalid("offer_expired", "资源有效期已过，请修改截止时间 (available_until is already past)")
    payload = OfferSubmitted(
        offer_number=number,
        unit_code=unit_code,
        kind=request.kind,
        title=request.title,
        category_codes=request.category_codes,
        capacity=request.capacity,
        grid_code=place.grid_code,
        community_codes=request.community_codes,
        street_code=place.street_code,
        district_code=place.district_code,
        available_from=request.available_from,
        available_until=request.available_until,
    )
    doc: Doc = {
        "_id": offer_id,
        "offer_number": number,
        "unit_code": unit_code,
        "unit_name": str(unit.get("name", unit_code)),
        "kind": request.kind.value,
        "title": request.title,
        "description": request.description,
        "category_codes": request.category_codes,
        "capacity": request.capacity,
        "used": 0,
        "uses": [],
        "grid_code": place.grid_code,
        "grid_community_code": place.community_code,
        "community_codes": request.community_codes,
        "accepted_communities": [],
        "decisions": {},
        "street_code": place.street_code,
        "district_code": place.district_code,
        "available_from": as_utc(request.available_from),
        "available_until": as_utc(request.available_until),
        "status": move(OFFER_TRANSITIONS, None, OfferSubmitted.EVENT_TYPE).value,
        "withdraw_reason": "",
        "created_by": actor.sub,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    return doc, payload


# ---- answering and withdrawing -----------------------------------------------------------------------


def refusal(action: OfferAction, offer: Mapping[str, Any], reader: Actor, now: datetime) -> Refused | None:
    """Why `reader` may not take `action` on the offer now; None when they may. A listed
    community answers once; the unit withdraws its own offer while it is open."""
    status = OfferStatus(offer["status"])
    if action in (OfferAction.ACCEPT, OfferAction.DECLINE):
        if reader.role is not Role.COMMUNITY_WORKER or reader.org not in offer["community_codes"]:
            return NotAllowed("只有所列社区的社区工作者可以接收或婉拒资源 (only a listed community answers)")
        if status not in (OfferStatus.SUBMITTED, OfferStatus.ACCEPTED):
            return Conflict("transition_not_allowed", f"资源当前状态（{status.value}）不允许此操作")
        if decision_of(offer, reader.org) != "pending":
            return Conflict("already_answered", "本社区已答复过该资源 (your community has already answered)")
        if expired(offer, now):
            return Conflict("offer_expired", "资源已过有效期 (the offer is past its validity)")
        return None
    if reader.role is not Role.UNIT_ADMIN or offer["unit_code"] != reader.org:
        return NotAllowed("只有提供资源的单位可以撤回 (only the offering unit withdraws it)")
    try:
        move(OFFER_TRANSITIONS, status, OfferWithdrawn.EVENT_TYPE)
    except CobuildTransitionNotAllowed:
        return Conflict("transition_not_allowed", f"资源当前状态（{status.value}）不允许撤回")
    return None


def _permit(action: OfferAction, offer: Mapping[str, Any], reader: Actor, now: datetime) -> None:
    reason = refusal(action, offer, reader, now)
    if reason is not None:
        raise reason


def allowed_actions(offer: Mapping[str, Any], reader: Actor, now: datetime) -> list[OfferAction]:
    return [a for a in OfferAction if refusal(a, offer, reader, now) is None]


def _decided(offer: Mapping[str, Any], community: str, decision: str, reason: str, actor: Actor, now: datetime) -> Doc:
    return {
        **offer.get("decisions", {}),
        community: {"decision": decision, "reason": reason, "at": now, "by": actor.sub},
    }


def accept(offer: Mapping[str, Any], *, actor: Actor, now: datetime) -> tuple[Doc, OfferAccepted | None]:
    """A listed community takes the offer on (接收): it may then be matched to that community's
    needs. The first community's acceptance accepts the offer (offer.accepted); later ones are
    recorded on it, the offer being accepted already."""
    _permit(OfferAction.ACCEPT, offer, actor, now)
    changes: Doc = {
        "decisions": _decided(offer, actor.org, "accepted", "", actor, now),
        "accepted_communities": [*offer.get("accepted_communities", []), actor.org],
    }
    status = OfferStatus(offer["status"])
    if status is OfferStatus.ACCEPTED:
        return changes, None
    changes["status"] = move(OFFER_TRANSITIONS, status, OfferAccepted.EVENT_TYPE).value
    return changes, OfferAccepted(community_code=actor.org)


def decline(offer: Mapping[str, Any], *, actor: Actor, reason: str, now: datetime) -> tuple[Doc, OfferDeclined | None]:
    """A listed community declines the offer (婉拒) with a reason. The offer is declined
    (offer.declined) once every listed community has declined it; until then the others may
    still accept it."""
    _permit(OfferAction.DECLINE, offer, actor, now)
    decisions = _decided(offer, actor.org, "declined", reason, actor, now)
    changes: Doc = {"decisions": decisions}
    status = OfferStatus(offer["status"])
    everyone_declined = all(decisions.get(c, {}).get("decision") == "declined" for c in offer["community_codes"])
    if status is OfferStatus.SUBMITTED and everyone_declined:
        changes["status"] = move(OFFER_TRANSITIONS, status, OfferDeclined.EVENT_TYPE).value
        return changes, OfferDeclined(community_code=actor.org, reason=reason)
    return changes, None


def withdraw(offer: Mapping[str, Any], *, actor: Actor, reason: str, now: datetime) -> tuple[Doc, OfferWithdrawn]:
    """The unit takes its offer back (撤回) with a reason; projects already using it keep their share."""
    _permit(OfferAction.WITHDRAW, offer, actor, now)
    status = move(OFFER_TRANSITIONS, OfferStatus(offer["status"]), OfferWithdrawn.EVENT_TYPE)
    return {"status": status.value, "withdraw_reason": reason}, OfferWithdrawn(reason=reason)


# ---- using an offer in a project ---------------------------------------------------------------------


def use(
    offer: Mapping[str, Any], *, community: str, project_id: str, amount: int, now: datetime
) -> tuple[Doc, OfferUsed]:
    """Part of the offer's capacity goes to a project of a community that accepted it, while the
    offer is valid and has that much left."""
    number = offer["offer_number"]
    status = OfferStatus(offer["status"])
    if status is not OfferStatus.ACCEPTED or community not in offer.get("accepted_communities", []):
        raise Conflict(
            "offer_not_accepted", f"资源 {number} 尚未被本社区接收，不能用于项目", {"offer_id": offer["_id"]}
        )
    if expired(offer, now):
        raise Conflict("offer_expired", f"资源 {number} 已过有效期", {"offer_id": offer["_id"]})
    left = remaining(offer)
    if amount > left:
        raise Conflict(
            "offer_capacity_exhausted",
            f"资源 {number} 剩余容量 {left}，不足 {amount} (not enough capacity left)",
            {"offer_id": offer["_id"], "remaining": left},
        )
    move(OFFER_TRANSITIONS, status, OfferUsed.EVENT_TYPE)
    changes: Doc = {
        "used": int(offer.get("used", 0)) + amount,
        "uses": [*offer.get("uses", []), {"project_id": project_id, "amount": amount, "at": now}],
    }
    return changes, OfferUsed(project_id=project_id, amount=amount)


def kind_label(kind: str) -> str:
    return next(label for k, label in OFFER_KIND_LABELS.items() if k.value == kind)
