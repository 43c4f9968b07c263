"""The 双报到 and volunteering indicators against the real broker and database: a year of 松林街道's
volunteering events on the volunteering topic, every figure checked against the test's own count
(with the yearly minimum set through the service's settings), the year cut at midnight city time,
each reader's scope, the boards, and a redelivery that changes nothing."""

import asyncio
import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.events import (
    DIRECTORY_TOPIC,
    VOLUNTEERING_TOPIC,
    Envelope,
    LedgerEntry,
    MemberConfirmed,
    MemberPlaced,
    MemberRegistered,
    Payload,
    PointsMoved,
    PointsReason,
    PostClaimed,
    PostPublished,
    RecordApproved,
    ReportChannel,
    Role,
    UnitHeadcountConfirmed,
    UnitReported,
)
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import connect
from gridloop.stack.servers import Servers
from gridloop.stack.testing import Bus, RunningService, demo_records, eventually, launch, make_event, ok
from gridloop.supervision.app import SupervisionSettings
from gridloop.supervision.rebuild import rebuild_volunteering

pytestmark = pytest.mark.integration
CITY = ZoneInfo("Asia/Shanghai")
YEAR = 2035  # a year of its own on the shared topic
PLACES = {
    "SL01": {"community_code": "SL01", "street_code": "SL", "district_code": "QH"},
    "SL02": {"community_code": "SL02", "street_code": "SL", "district_code": "QH"},
}
UNIT = "U-SL-CORP"  # 松林建设集团, in street SL, paired with SL01 and SL02
RUN = new_id()[-8:]


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = YEAR) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CITY)


@pytest.fixture(scope="module")
def supervision(servers: Servers, service_logs: Path) -> Iterator[RunningService]:
    env = {"GRIDLOOP_MIN_MINUTES_PER_YEAR": "240", "GRIDLOOP_VOLUNTEERING_BOARD_MIN_VOLUME": "2"}
    service = launch("supervision", servers, service_logs, env=env)
    yield service
    service.process.stop()


class Story:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def add(self, key: str, when: datetime, *payloads: Payload) -> list[Envelope]:
        added = [make_event(p, ticket_id=key, at=when) for p in payloads]
        self.events += added
        return added

    def member(self, name: str, community: str, *, party: bool = True, confirm: bool = True) -> str:
        member_id = f"M-{name}-{RUN}"
        registered = MemberRegistered(
            member_id=member_id,
            unit_code=UNIT if party else None,
            party_member=party,
            channel=ReportChannel.DESK,
            **PLACES[community],
        )
        self.add(member_id, at(2, 1), registered)
        if confirm:
            self.add(member_id, at(2, 2), MemberConfirmed(member_id=member_id, community_code=community))
        return member_id

    def record(self, member_id: str, community: str, minutes: int, day: datetime) -> list[Envelope]:
        approved = RecordApproved(
            record_id=f"R-{new_id()}",
            activity_id="A-1",
            member_id=member_id,
            unit_code=UNIT,
            grid_code=f"{community}-G1",
            service_date=day,
            minutes=minutes,
            **PLACES[community],
        )
        return self.add(member_id, day, approved)

    def points(self, member_id: str, community: str, amount: int, reason: PointsReason) -> list[Envelope]:
        moved = PointsMoved(
            movement_id=f"PM-{new_id()}",
            member_id=member_id,
            community_code=community,
            reason=reason,
            source_ref=new_id(),
            entries=[
                LedgerEntry(account=f"member:{member_id}", amount=amount),
                LedgerEntry(account=f"community_pool:{community}", amount=-amount),
            ],
        )
        return self.add(member_id, at(7, 1), moved)


def _items(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["code"]: item for item in body["items"]}


def _rebuilt(servers: Servers) -> int:
    """Replay the volunteering topic into supervision's records (the stats-rebuild's part); the events replayed."""
    settings = SupervisionSettings(kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri)

    async def go() -> int:
        client = connect(settings.mongo_uri, timeout_ms=settings.mongo_timeout_ms)
        try:
            return (await rebuild_volunteering(settings, client[settings.mongo_db])).events
        finally:
            await client.close()

    return asyncio.run(go())


def _consumed(service: RunningService, outcome: str) -> int:
    text = httpx.get(f"{service.url}/metrics", timeout=5).text
    pattern = r"^gridloop_events_consumed_total\{([^}]*)\} (\S+)$"
    wanted = ['group="supervision.volunteering"', f'outcome="{outcome}"']
    return sum(int(float(v)) for labels, v in re.findall(pattern, text, re.M) if all(w in labels for w in wanted))


def _units_in_directory(bus: Bus) -> int:
    """The units the directory holds now (the seed's six, and any another test of this stack added)."""
    newest: dict[str, DirectoryRecord] = {}
    for _, value, _ in bus.read(DIRECTORY_TOPIC):
        record = DirectoryRecord.model_validate_json(value) if value else None
        if record is not None and record.kind == "unit" and record.revision >= newest.get(record.code, record).revision:
            newest[record.code] = record
    return sum(1 for r in newest.values() if not r.deleted)


def test_a_year_of_volunteering_in_one_street_adds_up_and_a_redelivery_changes_nothing(
    supervision: RunningService, bus: Bus, servers: Servers
) -> None:
    bus.publish_records(demo_records())  # the obligated units and the places come from the directory
    s = Story()
    s.add(UNIT, at(1, 10), UnitReported(unit_code=UNIT, receipt_number=f"HZ-{RUN}", **PLACES["SL01"]))
    s.add(UNIT, at(1, 11), UnitHeadcountConfirmed(unit_code=UNIT, party_members=3))
    c1 = s.member("c1", "SL01")
    s.add(c1, at(2, 3), MemberPlaced(member_id=c1, community_code="SL01", grid_code="SL01-G1", squad="一队"))
    c2 = s.member("c2", "SL02")
    s.member("c3", "SL01", confirm=False)  # pending: not reported
    v1 = s.member("v1", "SL01", party=False)
    s.record(c1, "SL01", 120, at(5, 1))
    s.record(c1, "SL02", 120, at(6, 1))  # c1 meets the minimum: 2 services and 240 minutes (the setting)
    s.record(c2, "SL02", 60, at(6, 1))
    last_minute = s.record(c2, "SL02", 60, at(12, 31, 23, 59))  # still this year in the city
    s.record(v1, "SL01", 90, at(1, 1, 0, 0, year=YEAR + 1))  # next year's first minute
    for post_id, community, headcount, holder in (("SP1", "SL01", 1, c1), ("SP2", "SL02", 2, c2)):
        post = f"{post_id}-{RUN}"
        published = PostPublished(
            post_id=post, grid_code=f"{community}-G1", category="环境整治", headcount=headcount, **PLACES[community]
        )
        s.add(post, at(3, 1), published)
        s.add(holder, at(3, 2), PostClaimed(post_id=post, member_id=holder, community_code=community, grid_code="G"))
    earned = s.points(c1, "SL01", 10, PointsReason.SERVICE_HOURS)
    s.points(v1, "SL01", 4, PointsReason.POST_DUTY)
    s.points(c2, "SL02", -5, PointsReason.REDEEM)  # spending: c2 earned nothing, so is on no list
    bus.publish(VOLUNTEERING_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in s.events])

    chief = supervision.user(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    year = {"year": YEAR}
    expected_sl = {
        "name": "松林街道",
        "units_obligated": 1,
        "units_reported": 1,
        "unit_report_rate": 1.0,
        "party_headcount": 3,
        "party_members_reported": 2,  # c1 and c2; c3 is pending
        "party_report_rate": 0.6667,
        "members_reported": 3,  # c1, c2 and the volunteer v1
        "members_participating": 2,  # v1 served only in the next year
        "participation_rate": 0.6667,
        "members_meeting_minimum": 1,  # c2: two services but 120 minutes
        "completion_rate": 0.3333,
        "posts_published": 2,
        "posts_full": 1,
        "post_claim_rate": 0.5,
        "minutes": 360,
        "hours": 6.0,
        "hours_per_member": 2.0,
    }
    seen: dict[str, dict[str, Any]] = {}

    def streets() -> dict[str, dict[str, Any]] | None:
        seen.update(_items(ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/streets", params=year))))
        sl = seen.get("SL", {})
        return dict(seen) if {k: sl.get(k) for k in expected_sl} == expected_sl else None

    with contextlib.suppress(AssertionError):
        eventually(streets, what="the year projected", timeout=30)
    assert {k: seen["SL"][k] for k in expected_sl} == expected_sl

    body = ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/communities", params=year))
    assert (body["year"], body["min_services"], body["min_minutes"]) == (YEAR, 2, 240)
    assert body["window"]["from"].startswith(f"{YEAR - 1}-12-31T16:00")
    sl01 = _items(body)["SL01"]
    assert (sl01["name"], sl01["members_reported"], sl01["participation_rate"], sl01["hours"]) == (
        "松涛社区",
        2,
        0.5,
        4.0,
    )
    assert (sl01["posts_published"], sl01["post_claim_rate"], sl01["unit_report_rate"]) == (1, 1.0, 1.0)
    district = _items(ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/districts", params=year)))
    assert district["QH"]["units_obligated"] == _units_in_directory(bus)  # every unit of the directory's streets

    # the next year: v1 served at its first minute; the unit's report and c1's standing carry over
    following = ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/streets", params={"year": YEAR + 1}))
    nxt = _items(following)["SL"]
    assert (nxt["units_reported"], nxt["members_reported"], nxt["members_participating"], nxt["minutes"]) == (
        1,
        3,
        1,
        90,
    )

    # readers: the street desk its street, the community worker its community, the unit admin its row
    desk = supervision.user(sub="sd-sl", role=Role.STREET_DISPATCHER, org="SL")
    assert sorted(
        _items(ok(desk.call("supervision", "GET", "/v1/supervision/volunteering/communities", params=year)))
    ) == [
        "SL01",
        "SL02",
        "SL03",
    ]
    units = _items(ok(desk.call("supervision", "GET", "/v1/supervision/volunteering/units", params=year)))
    corp = units[UNIT]
    assert (list(units), corp["members_reported"], corp["completion_rate"], corp["hours"]) == ([UNIT], 2, 0.5, 6.0)
    worker = supervision.user(sub="cw-sl01", role=Role.COMMUNITY_WORKER, org="SL01")
    own = _items(ok(worker.call("supervision", "GET", "/v1/supervision/volunteering/streets", params=year)))
    assert (list(own), own["SL"]["members_reported"]) == (["SL"], 2)  # the street row: its community's part
    liaison = supervision.user(sub="ua-corp", role=Role.UNIT_ADMIN, org=UNIT)
    mine = ok(liaison.call("supervision", "GET", "/v1/supervision/volunteering/units", params=year))
    assert [(i["code"], i["party_report_rate"]) for i in mine["items"]] == [(UNIT, 0.6667)]
    assert liaison.call("supervision", "GET", "/v1/supervision/volunteering/communities").status_code == 403
    assert liaison.call("supervision", "GET", "/v1/supervision/volunteering/board").status_code == 403
    for role, org in ((Role.MEMBER, "SL01"), (Role.RESIDENT, "SL01"), (Role.GRID_WORKER, "SL01")):
        other = supervision.user(sub=f"x-{role.value}", role=role, org=org)
        assert other.call("supervision", "GET", "/v1/supervision/volunteering/units").status_code == 403
    bad_year = chief.call("supervision", "GET", "/v1/supervision/volunteering/streets", params={"year": 1999})
    assert bad_year.status_code == 422
    assert chief.call("supervision", "GET", "/v1/supervision/volunteering/grids").status_code == 422

    # the board: the unit ranked (2 members reported, the setting's minimum); persons only on the 红榜
    board = ok(desk.call("supervision", "GET", "/v1/supervision/volunteering/board", params=year))
    assert (board["min_volume"], [(r["code"], r["rank"], r["score"]) for r in board["ranked"]]) == (
        2,
        [(UNIT, 1, round((0.6667 + 1.0 + 0.5) / 3, 4))],
    )
    assert (board["red_list"], board["black_list"]) == ([], [])  # one ranked unit is on neither
    assert board["persons"] == [
        {"rank": 1, "member_id": c1, "community_code": "SL01", "points": 10},
        {"rank": 2, "member_id": v1, "community_code": "SL01", "points": 4},
    ]
    assert "name" not in board["persons"][0]
    stricter = ok(
        desk.call("supervision", "GET", "/v1/supervision/volunteering/board", params={**year, "min_volume": 3})
    )
    assert (stricter["ranked"], [(r["code"], r["note"]) for r in stricter["unranked"]]) == ([], [(UNIT, "样本不足")])

    # the broker delivers some events again: nothing changes
    before = _consumed(supervision, "duplicate")
    again = [*s.events[:4], *last_minute, *earned]
    bus.publish(VOLUNTEERING_TOPIC, [(e.ticket_id, e.to_wire(), e.headers()) for e in again])
    eventually(
        lambda: _consumed(supervision, "duplicate") >= before + len(again) or None, what="redelivery", timeout=30
    )
    after = _items(ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/streets", params=year)))
    assert after["SL"] == seen["SL"]
    assert (
        ok(desk.call("supervision", "GET", "/v1/supervision/volunteering/board", params=year))["persons"]
        == board["persons"]
    )

    # stats-rebuild replays the volunteering topic into the same figures
    assert _rebuilt(servers) >= len(s.events)
    rebuilt = _items(ok(chief.call("supervision", "GET", "/v1/supervision/volunteering/streets", params=year)))
    assert rebuilt["SL"] == seen["SL"]
