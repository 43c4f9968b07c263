"""Earning, from events (積分 is paid in the event's transaction, once per reason, source and member):
an approved record's hours and post duty, a record rated 不满意 given back (or never paid), a 微心愿
a member claimed and got done, a member's report closed as a verified ticket. The table is at the end.

Needs are claimed today by units only (`Claimant.kind == unit`); a unit's claim pays nobody, since
points are members' only. A claimant of kind `member` (its code is the member's sub) is paid."""

from typing import Any

from gridloop.cobuild.points import domain, store
from gridloop.shared.events import (
    ClaimantKind,
    Envelope,
    NeedDone,
    NeedKind,
    PointsReason,
    RecordApproved,
    RecordRated,
    TicketClosed,
)
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import UnitOfWork

NEEDS = "needs"
TICKET_FACTS = "ticket_facts"


def rates_of(settings: Any) -> domain.Rates:
    """The rates the service is set with (GRIDLOOP_POINTS_*), the defaults otherwise."""
    defaults = domain.Rates()
    return domain.Rates(
        per_hour=int(getattr(settings, "points_per_hour", defaults.per_hour)),
        post_duty=int(getattr(settings, "points_post_duty", defaults.post_duty)),
        wish=int(getattr(settings, "points_wish", defaults.wish)),
        report_verified=int(getattr(settings, "points_report_verified", defaults.report_verified)),
        valid_months=int(getattr(settings, "points_valid_months", defaults.valid_months)),
    )


async def on_record_approved(record: RecordApproved, _: Envelope, uow: UnitOfWork, *, rates: domain.Rates) -> None:
    if await store.held(uow, record.record_id):
        return  # rated 不满意 before its approval arrived: it never pays
    for movement in domain.approved(record, rates):
        await store.post(uow, movement)


async def on_record_rated(rated: RecordRated, _: Envelope, uow: UnitOfWork) -> None:
    if not domain.unsatisfied(rated.rating):
        return
    await store.hold(uow, rated.record_id, rated.member_id)
    paid = await store.paid_for_record(uow, rated.record_id, rated.member_id)
    if not paid:
        return
    movement = domain.reversal(
        record_id=rated.record_id, member_id=rated.member_id, community=paid[0]["community_code"], paid=paid
    )
    if movement is not None:
        await store.post(uow, movement)


async def on_need_done(_: NeedDone, event: Envelope, uow: UnitOfWork, *, rates: domain.Rates) -> None:
    need = await uow.db[NEEDS].find_one({"_id": event.ticket_id}, session=uow.session)
    if need is None or need.get("kind") != NeedKind.WISH:
        return
    for claimant in need.get("claimants", []):
        if claimant.get("kind") != ClaimantKind.MEMBER:
            continue  # a unit's claim: points are members' only
        member = await store.member_by_sub(uow.db, claimant["code"], session=uow.session)
        if member is None:
            continue
        movement = domain.issue(
            PointsReason.WISH_FULFILLED,
            source_ref=event.ticket_id,
            member_id=member["_id"],
            community=member["community_code"],
            amount=rates.wish,
            unit=member.get("unit_code"),
        )
        if movement is not None:
            await store.post(uow, movement)


async def on_ticket_closed(closed: TicketClosed, event: Envelope, uow: UnitOfWork, *, rates: domain.Rates) -> None:
    """A report closed as passed by its verifier (not closed by itself for want of a check)."""
    if closed.auto:
        return
    fact = await uow.db[TICKET_FACTS].find_one({"_id": event.ticket_id}, session=uow.session)
    sub = fact.get("reporter_sub") if fact else None
    if not sub:
        return
    member = await store.member_by_sub(uow.db, sub, session=uow.session)
    if member is None:
        return
    movement = domain.issue(
        PointsReason.REPORT_VERIFIED,
        source_ref=event.ticket_id,
        member_id=member["_id"],
        community=member["community_code"],
        amount=rates.report_verified,
        unit=member.get("unit_code"),
    )
    if movement is not None:
        await store.post(uow, movement)


def routing(*, rates: domain.Rates) -> Routes:
    """cobuild emits record.* and need.done itself: the app's `follows_own_topics` keeps them from
    being marked handled when emitted, or the ledger would never see them."""

    async def approved(payload: RecordApproved, event: Envelope, uow: UnitOfWork) -> None:
        await on_record_approved(payload, event, uow, rates=rates)

    async def done(payload: NeedDone, event: Envelope, uow: UnitOfWork) -> None:
        await on_need_done(payload, event, uow, rates=rates)

    async def closed(payload: TicketClosed, event: Envelope, uow: UnitOfWork) -> None:
        await on_ticket_closed(payload, event, uow, rates=rates)

    return routes(
        on(RecordApproved, approved),
        on(RecordRated, on_record_rated),
        on(NeedDone, done),
        on(TicketClosed, closed),
    )
