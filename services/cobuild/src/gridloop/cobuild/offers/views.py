"""Offers as the API shows them: one offer, and a page of the offers a reader may see."""

from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter

from gridloop.cobuild.offers import domain, store
from gridloop.cobuild.offers.domain import UnknownOffer
from gridloop.shared.api.cobuild import Offer, OfferDecision, OfferPage
from gridloop.shared.clock import as_utc
from gridloop.shared.cobuild_lifecycle import OfferStatus
from gridloop.shared.events import Actor
from gridloop.shared.mongo import Database
from gridloop.shared.paging import Cursor, page

OfferKey = tuple[Literal["offers"], str]
OFFER_CURSOR = Cursor(TypeAdapter(OfferKey))


def shown(offer: dict[str, Any], *, reader: Actor, now: datetime) -> Offer:
    decisions = offer.get("decisions", {})
    return Offer(
        id=offer["_id"],
        offer_number=offer["offer_number"],
        unit_code=offer["unit_code"],
        unit_name=offer["unit_name"],
        kind=offer["kind"],
        kind_label=domain.kind_label(offer["kind"]),
        title=offer["title"],
        description=offer["description"],
        category_codes=offer["category_codes"],
        capacity=offer["capacity"],
        used=offer.get("used", 0),
        remaining=domain.remaining(offer),
        grid_code=offer["grid_code"],
        community_codes=offer["community_codes"],
        street_code=offer["street_code"],
        district_code=offer["district_code"],
        available_from=as_utc(offer["available_from"]),
        available_until=as_utc(offer["available_until"]),
        expired=domain.expired(offer, now),
        status=offer["status"],
        decisions=[
            OfferDecision(
                community_code=c,
                decision=decisions.get(c, {}).get("decision", "pending"),
                reason=decisions.get(c, {}).get("reason", ""),
                at=decisions.get(c, {}).get("at"),
            )
            for c in offer["community_codes"]
        ],
        withdraw_reason=offer.get("withdraw_reason", ""),
        created_at=as_utc(offer["created_at"]),
        updated_at=as_utc(offer["updated_at"]),
        allowed_actions=domain.allowed_actions(offer, reader, now),
    )


async def one(*, database: Database, reader: Actor, offer_id: str) -> Offer:
    domain.reads_offers(reader)
    offer = await store.get(database.db, offer_id)
    if offer is None or not domain.visible(offer, reader):
        raise UnknownOffer(offer_id)
    return shown(offer, reader=reader, now=database.clock.now())


async def listing(
    *,
    database: Database,
    reader: Actor,
    status: OfferStatus | None,
    community: str | None,
    limit: int,
    cursor: str | None,
) -> OfferPage:
    """The offers in the reader's scope, newest first; InvalidCursor for a cursor not handed out here."""
    scope = domain.list_filter(reader)
    if scope is None:
        raise domain.NotAllowed("无权查看资源清单 (your role does not read offers)")
    parts: list[dict[str, Any]] = [scope]
    if status is not None:
        parts.append({"status": status.value})
    if community is not None:
        parts.append({"community_codes": community})
    before = OFFER_CURSOR.decode(cursor)[1] if cursor else None
    docs, next_cursor = page(
        await store.listing(database.db, query={"$and": parts}, before=before, limit=limit + 1),
        limit=limit,
        key=lambda d: OFFER_CURSOR.encode(("offers", d["_id"])),
    )
    now = database.clock.now()
    return OfferPage(items=[shown(d, reader=reader, now=now) for d in docs], next_cursor=next_cursor)
