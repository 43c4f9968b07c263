"""The needs' watchdog against the real database, on a clock the test sets: a claim not followed by
contact expires and the need is published again, an unclaimed need goes to the street, a delivery
is confirmed by itself; each announced once, and the beneficiary in none of it."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gridloop.cobuild.needs import commands, jobs, store
from gridloop.shared.api.cobuild import DeliverRequest, NewBeneficiary, ReviewRequest, SubmitNeedRequest
from gridloop.shared.events import NEEDS_TOPIC, Actor, Envelope, NeedKind, Role
from gridloop.shared.mongo import OUTBOX, Database
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.refdata import RefData
from gridloop.shared.settings import DEV_PHOTO_KEY
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, demo_records, service_database

pytestmark = pytest.mark.integration
CST = ZoneInfo("Asia/Shanghai")
WORKER = Actor(sub="cw-lj01", name="江畔社区工作者", role=Role.COMMUNITY_WORKER, org="LJ01")
HOSPITAL = Actor(sub="ua-hosp", name="区人民医院联络员", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
SCHOOL = Actor(sub="ua-school", name="临江中学联络员", role=Role.UNIT_ADMIN, org="U-LJ-SCHOOL")
BENEFICIARY = NewBeneficiary(name="张秀英", phone="13912345678", address="江畔小区5栋302")


async def _cobuild_database(servers: Servers, clock: SetClock) -> tuple[Database, RefData]:
    """cobuild's database on the test's clock, with the demo directory (its units among it)."""
    database = await service_database(servers, producer="cobuild", clock=clock)
    refdata = RefData(database.db)
    await store.ensure_indexes(database.db)
    await refdata.ensure_indexes()
    for record in demo_records():
        await refdata.apply(record)
    return database, refdata


async def _events(database: Database, need_id: str) -> list[Envelope]:
    rows = await database.db[OUTBOX].find({"key": need_id}).sort("_id", 1).to_list(None)
    assert all(row["topic"] == NEEDS_TOPIC for row in rows)
    return [Envelope.from_wire(row["value"]) for row in rows]


async def _published(database: Database, refdata: RefData) -> str:
    calendars = refdata.calendars("china")
    need, _ = await commands.submit(
        database=database,
        refdata=refdata,
        calendars=calendars,
        actor=WORKER,
        request=SubmitNeedRequest(
            kind=NeedKind.WISH,
            category_code="NC-ELDER",
            description="张阿姨独居，腿脚不便，希望有人每周陪同去医院复查",
            grid_code="LJ01-G1",
            beneficiary=BENEFICIARY,
        ),
    )
    await commands.review(
        database=database,
        refdata=refdata,
        need_id=need.id,
        actor=WORKER,
        body=ReviewRequest(summary="独居老人希望每周有人陪同就医"),
    )
    await commands.publish(database=database, refdata=refdata, need_id=need.id, actor=WORKER)
    return need.id


async def test_a_claim_without_contact_expires_and_the_need_is_claimable_again(servers: Servers) -> None:
    clock = SetClock(datetime(2026, 12, 7, 9, tzinfo=CST))
    database, refdata = await _cobuild_database(servers, clock)
    need_id = await _published(database, refdata)
    clock.value += timedelta(days=1)
    claimed = await commands.claim(database=database, refdata=refdata, need_id=need_id, actor=HOSPITAL, group=False)
    assert claimed.contact_deadline == clock.value + timedelta(days=7)
    assert (
        claimed.beneficiary and claimed.beneficiary.model_dump() == BENEFICIARY.model_dump()
    )  # the claimant serves the household: it sees whom

    clock.value += timedelta(days=6)
    assert await jobs.watch_needs(database=database, refdata=refdata) == 0  # still within the lock
    clock.value += timedelta(days=1, minutes=1)
    assert await jobs.watch_needs(database=database, refdata=refdata) == 1
    assert await jobs.watch_needs(database=database, refdata=refdata) == 0  # once
    expired = (await _events(database, need_id))[-1]
    assert expired.event_type == "need.claim_expired" and expired.actor.role == Role.SYSTEM
    assert [c.code for c in expired.payload.claimants] == ["U-LJ-HOSP"]  # type: ignore[attr-defined]
    need: Any = await store.get(database.db, need_id)
    assert need["status"] == "published" and need["claimant_codes"] == []

    # published again: another paired unit claims it, contacts in time, delivers; confirmed by itself
    claimed = await commands.claim(database=database, refdata=refdata, need_id=need_id, actor=SCHOOL, group=False)
    assert claimed.status == "claimed"
    await commands.contact(database=database, refdata=refdata, need_id=need_id, actor=SCHOOL)
    clock.value += timedelta(days=8)  # past the first claim's contact deadline: the contact holds
    assert await jobs.watch_needs(database=database, refdata=refdata) == 0
    await commands.deliver(
        database=database,
        refdata=refdata,
        seal=PhotoSeal(DEV_PHOTO_KEY),
        need_id=need_id,
        actor=SCHOOL,
        body=DeliverRequest(note="已陪同复查四次"),
    )
    clock.value += timedelta(days=7, minutes=1)
    assert await jobs.watch_needs(database=database, refdata=refdata) == 1
    done = (await _events(database, need_id))[-1]
    assert done.event_type == "need.done" and done.payload.auto and done.payload.on_time  # type: ignore[attr-defined]

    types = [e.event_type for e in await _events(database, need_id)]
    assert types == [
        "need.submitted",
        "need.reviewed",
        "need.published",
        "need.claimed",
        "need.claim_expired",
        "need.claimed",
        "need.contacted",
        "need.delivered",
        "need.done",
    ]
    rows = await database.db[OUTBOX].find({"key": need_id}).to_list(None)
    for secret in (BENEFICIARY.name, BENEFICIARY.phone, BENEFICIARY.address, "腿脚不便"):
        assert not any(secret.encode() in row["value"] for row in rows)


async def test_an_unclaimed_need_goes_to_the_street_after_its_claim_deadline(servers: Servers) -> None:
    # published on Wednesday 30 December: its review was due on Tuesday 5 January, after 元旦
    clock = SetClock(datetime(2026, 12, 30, 10, tzinfo=CST))
    database, refdata = await _cobuild_database(servers, clock)
    need_id = await _published(database, refdata)
    [submitted, *_] = await _events(database, need_id)
    assert submitted.payload.review_deadline == datetime(2027, 1, 5, 10, tzinfo=CST)  # type: ignore[attr-defined]
    clock.value = datetime(2027, 1, 9, 10, 1, tzinfo=CST)  # ten days and a minute
    assert await jobs.watch_needs(database=database, refdata=refdata) == 1
    escalated = (await _events(database, need_id))[-1]
    assert escalated.event_type == "need.escalated" and escalated.payload.level == "street"  # type: ignore[attr-defined]
    assert await jobs.watch_needs(database=database, refdata=refdata) == 0
