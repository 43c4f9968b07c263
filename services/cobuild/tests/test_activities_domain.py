"""The written rules of service records: what counts (only the activity's window), how it is
rounded and capped, the rotating code, the reach of a check-in, and who decides."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2  # type: ignore[import-untyped]
import pytest

from gridloop.cobuild.activities import certificate, domain, rules
from gridloop.cobuild.activities.rules import Rules
from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed, Place
from gridloop.shared.api.activities import ActivityRequest
from gridloop.shared.events import Actor, GeoPoint, Role
from gridloop.shared.pdf import render

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "var/screenshots"
R = Rules()
START = datetime(2026, 6, 6, 1, 0, tzinfo=UTC)  # 09:00 city time
END = START + timedelta(hours=3)
PLACE = (116.4000, 39.9000)
KEY = "k" * 32
WORKER = Actor(sub="cw", role=Role.COMMUNITY_WORKER, org="LJ01")
OTHER_WORKER = Actor(sub="cw2", role=Role.COMMUNITY_WORKER, org="WH01")
HOSPITAL = Actor(sub="ua", role=Role.UNIT_ADMIN, org="U-LJ-HOSP")
GRID = Place(grid_code="LJ01-G1", community_code="LJ01", street_code="LJ", district_code="QH")


def _at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


# ---- minutes ----------------------------------------------------------------------------------------


def test_only_time_inside_the_window_counts() -> None:
    # arrived 40 minutes early, left 50 minutes late: the travel and waiting are not service
    assert rules.counted_minutes(_at(-40), _at(180 + 50), START, END, R) == 180


def test_minutes_are_rounded_down_to_a_quarter_hour() -> None:
    assert rules.counted_minutes(_at(10), _at(10 + 44), START, END, R) == 30
    assert rules.counted_minutes(_at(0), _at(14), START, END, R) == 0
    assert rules.counted_minutes(_at(0), _at(15), START, END, R) == 15


def test_rounding_is_a_setting() -> None:
    assert rules.counted_minutes(_at(0), _at(44), START, END, Rules(rounding_minutes=10)) == 40


def test_a_day_counts_at_most_eight_hours() -> None:
    start = datetime(2026, 6, 6, 0, 0, tzinfo=UTC)  # 08:00 city time
    end = start + timedelta(hours=12)  # 20:00: one city day
    assert rules.counted_minutes(start, end, start, end, R) == 480
    assert rules.counted_minutes(start, end, start, end, Rules(max_minutes_per_day=300)) == 300


def test_the_cap_is_per_city_day_of_an_activity_across_midnight() -> None:
    start = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)  # 18:00 city time
    end = start + timedelta(hours=20)  # to 14:00 the next day: 6 h + 14 h
    assert rules.counted_minutes(start, end, start, end, R) == 360 + 480


def test_nothing_counts_when_present_only_outside_the_window() -> None:
    assert rules.counted_minutes(_at(-60), _at(-5), START, END, R) == 0
    assert rules.counted_minutes(_at(200), _at(230), START, END, R) == 0


def test_a_manual_claim_is_capped_to_the_activity_window() -> None:
    assert rules.manual_limit(600, START, END, R) == 180
    assert rules.manual_limit(100, START, END, R) == 90


# ---- code and reach -------------------------------------------------------------------------------------


def test_the_code_is_six_digits_and_changes_with_the_window() -> None:
    now = datetime(2026, 6, 6, 1, 0, 5, tzinfo=UTC)
    code, expires = rules.current_code(KEY, "A1", now, R)
    assert len(code) == 6 and code.isdigit()
    assert expires == datetime(2026, 6, 6, 1, 1, 0, tzinfo=UTC)
    later, _ = rules.current_code(KEY, "A1", now + timedelta(seconds=60), R)
    assert later != code
    assert rules.current_code(KEY, "A2", now, R)[0] != code
    assert rules.current_code("x" * 32, "A1", now, R)[0] != code


def test_the_current_and_the_previous_code_are_accepted_not_older() -> None:
    now = datetime(2026, 6, 6, 1, 0, 5, tzinfo=UTC)
    code, _ = rules.current_code(KEY, "A1", now, R)
    assert rules.code_accepted(KEY, "A1", code, now, R)
    assert rules.code_accepted(KEY, "A1", code, now + timedelta(seconds=60), R)
    assert not rules.code_accepted(KEY, "A1", code, now + timedelta(seconds=120), R)
    assert not rules.code_accepted(KEY, "A2", code, now, R)


def test_distance_and_reach() -> None:
    # 0.001 degree of latitude is about 111 m
    assert 110 < rules.distance_m(116.4, 39.9, 116.4, 39.901) < 112
    assert rules.within_reach(PLACE, (116.4, 39.9025), R)  # ~278 m
    assert not rules.within_reach(PLACE, (116.4, 39.9030), R)  # ~334 m
    assert rules.within_reach(PLACE, (116.4, 39.9030), Rules(radius_m=400))


def test_check_in_opens_half_an_hour_before_and_closes_half_an_hour_after() -> None:
    assert rules.within_time(_at(-30), START, END, R)
    assert not rules.within_time(_at(-31), START, END, R)
    assert rules.within_time(_at(180 + 30), START, END, R)
    assert not rules.within_time(_at(180 + 31), START, END, R)


# ---- activities and records ------------------------------------------------------------------------------


def _request(**changes: object) -> ActivityRequest:
    body: dict[str, object] = {
        "title": "垃圾分类宣传",
        "grid_code": "LJ01-G1",
        "place": {"lon": PLACE[0], "lat": PLACE[1]},
        "starts_at": START.isoformat(),
        "ends_at": END.isoformat(),
        "capacity": 2,
        **changes,
    }
    return ActivityRequest.model_validate(body)


def _publish(actor: Actor = WORKER, **changes: object) -> dict[str, object]:
    doc, _ = domain.publish(
        activity_id="A1",
        request=_request(**changes),
        actor=actor,
        place=GRID,
        paired_communities=["LJ01", "LJ02"],
        now=START - timedelta(days=1),
        rules=R,
    )
    return doc


def test_publishing_checks_the_window_and_who() -> None:
    assert _publish()["organizer_kind"] == "community"
    assert _publish(HOSPITAL)["organizer_kind"] == "unit"
    with pytest.raises(Invalid) as bad:
        _publish(ends_at=START.isoformat())
    assert bad.value.code == "bad_window"
    with pytest.raises(Invalid):
        _publish(ends_at=(START + timedelta(hours=25)).isoformat())
    with pytest.raises(NotAllowed):
        _publish(OTHER_WORKER)
    with pytest.raises(Invalid) as unpaired:
        domain.publish(
            activity_id="A1",
            request=_request(),
            actor=HOSPITAL,
            place=GRID,
            paired_communities=["WH01"],
            now=START - timedelta(days=1),
            rules=R,
        )
    assert unpaired.value.code == "community_not_paired"


def test_an_activity_serves_only_an_open_post_of_its_community() -> None:
    """Its records earn post duty: a made-up post, another community's or a closed one is refused."""

    def publish(post: dict[str, object] | None) -> dict[str, object]:
        doc, _ = domain.publish(
            activity_id="A1",
            request=_request(post_id="P-1"),
            actor=WORKER,
            place=GRID,
            paired_communities=[],
            now=START - timedelta(days=1),
            rules=R,
            post=post,
        )
        return doc

    assert publish({"_id": "P-1", "community_code": "LJ01", "status": "open"})["post_id"] == "P-1"
    for post in (
        None,
        {"_id": "P-1", "community_code": "WH01", "status": "open"},
        {"_id": "P-1", "community_code": "LJ01", "status": "closed"},
    ):
        with pytest.raises(Invalid) as refused:
            publish(post)
        assert refused.value.code == "unknown_post"


def _member(member_id: str = "M-1", status: str = "active", community: str = "LJ01") -> dict[str, object]:
    return {"_id": member_id, "sub": member_id.lower(), "status": status, "community_code": community, "unit_code": "U"}


def test_sign_up_needs_a_registration_room_and_time() -> None:
    activity = _publish()
    with pytest.raises(Conflict) as pending:
        domain.on_roll(_member(status="pending"), activity)
    assert pending.value.code == "not_reported"
    with pytest.raises(Conflict):
        domain.on_roll(None, activity)
    with pytest.raises(Conflict):
        domain.on_roll(_member(community="WH01"), activity)
    assert domain.on_roll(_member(status="lapsed"), activity) == "M-1"
    changes, _ = domain.signup(activity, member_id="M-1", now=_at(-60))
    activity = {**activity, **changes}
    with pytest.raises(Conflict) as twice:
        domain.signup(activity, member_id="M-1", now=_at(-60))
    assert twice.value.code == "already_signed_up"
    with pytest.raises(Conflict) as late:
        domain.signup(activity, member_id="M-2", now=_at(0))
    assert late.value.code == "signup_closed"
    activity = {**activity, "signups": ["M-1", "M-2"]}
    with pytest.raises(Conflict) as full:
        domain.signup(activity, member_id="M-3", now=_at(-60))
    assert full.value.code == "full"


def test_check_in_and_out_make_a_record_of_the_counted_minutes() -> None:
    activity = {**_publish(), "signups": ["M-1"]}
    at = _at(-10)
    code, _ = rules.current_code(KEY, "A1", at, R)
    near = GeoPoint(lon=PLACE[0], lat=PLACE[1] + 0.001)
    far = GeoPoint(lon=PLACE[0], lat=PLACE[1] + 0.01)
    with pytest.raises(Invalid) as too_far:
        domain.checkin(
            activity, member_id="M-1", code=code, location=far, key=KEY, now=at, rules=R, checked_in=None, record=None
        )
    assert too_far.value.code == "too_far"
    with pytest.raises(Invalid) as wrong:
        domain.checkin(
            activity,
            member_id="M-1",
            code="000000" if code != "000000" else "111111",
            location=near,
            key=KEY,
            now=at,
            rules=R,
            checked_in=None,
            record=None,
        )
    assert wrong.value.code == "bad_code"
    checked, _ = domain.checkin(
        activity, member_id="M-1", code=code, location=near, key=KEY, now=at, rules=R, checked_in=None, record=None
    )
    out_at = _at(100)
    out_code, _ = rules.current_code(KEY, "A1", out_at, R)
    record, event = domain.checkout(
        activity,
        record_id="R1",
        member=_member(),
        code=out_code,
        location=near,
        key=KEY,
        now=out_at,
        rules=R,
        checked_in=checked,
        record=None,
    )
    assert (record["minutes_claimed"], event.minutes_claimed, record["status"]) == (90, 90, "submitted")


def test_only_the_organiser_decides_and_never_above_the_rule() -> None:
    activity = {**_publish(), "signups": ["M-1"]}
    record, _, _ = domain.log(
        activity, record_id="R1", member=_member(), minutes_claimed=600, note="手机没电", now=_at(200), record=None
    )
    assert domain.rule_minutes(record, R) == 180
    with pytest.raises(NotAllowed):
        domain.approve(record, actor=OTHER_WORKER, minutes=None, member=_member(), now=_at(300), rules=R)
    with pytest.raises(NotAllowed):
        domain.approve(record, actor=HOSPITAL, minutes=None, member=_member(), now=_at(300), rules=R)
    with pytest.raises(Invalid) as over:
        domain.approve(record, actor=WORKER, minutes=200, member=_member(), now=_at(300), rules=R)
    assert over.value.code == "over_rule"
    changes, event = domain.approve(record, actor=WORKER, minutes=None, member=_member(), now=_at(300), rules=R)
    assert (changes["minutes"], event.minutes, event.unit_code, event.grid_code) == (180, 180, "U", "LJ01-G1")
    lowered, _ = domain.approve(record, actor=WORKER, minutes=120, member=_member(), now=_at(300), rules=R)
    assert lowered["minutes"] == 120


def test_a_returned_record_is_corrected_and_submitted_again() -> None:
    activity = {**_publish(), "signups": ["M-1"]}
    record, _, _ = domain.log(
        activity, record_id="R1", member=_member(), minutes_claimed=60, note="补录", now=_at(200), record=None
    )
    changes, _ = domain.send_back(record, actor=WORKER, reason="请写明服务内容")
    returned = {**record, **changes}
    fix, new, event = domain.log(
        activity, record_id="R2", member=_member(), minutes_claimed=45, note="分发宣传册", now=_at(300), record=returned
    )
    assert (new, fix["status"], event.record_id, event.minutes_claimed) == (False, "submitted", "R1", 45)
    with pytest.raises(Conflict):
        domain.log(
            {**activity, "ends_at": _at(400)},
            record_id="R3",
            member=_member(),
            minutes_claimed=45,
            note="太早",
            now=_at(300),
            record=None,
        )


def test_closing_waits_for_every_record() -> None:
    activity = _publish()
    with pytest.raises(Conflict) as pending:
        domain.close(activity, actor=WORKER, open_records=1, now=_at(300))
    assert pending.value.code == "records_pending"
    changes, _ = domain.close(activity, actor=WORKER, open_records=0, now=_at(300))
    assert changes["status"] == "closed"


def test_the_certificate_is_the_organisers_own_and_totals_in_hours() -> None:
    member = _member()
    mine = Actor(sub="m-1", role=Role.MEMBER, org="LJ01")
    assert certificate.certifier(member, mine, certificate.Organiser("unit", "U-LJ-HOSP")).code == "U-LJ-HOSP"
    with pytest.raises(Invalid):
        certificate.certifier(member, mine, None)
    with pytest.raises(NotAllowed):
        certificate.certifier(member, WORKER, certificate.Organiser("unit", "U-LJ-HOSP"))
    assert certificate.hours(210) == "3.5" and certificate.hours(480) == "8" and certificate.hours(195) == "3.25"
    records = [
        {"service_date": START, "activity_title": "垃圾分类宣传", "minutes": 180},
        {"service_date": START + timedelta(days=3), "activity_title": "敬老院探访", "minutes": 30},
    ]
    doc = certificate.document(
        member_id="M-1", name="张明", organiser_name="柳荫社区", year=2026, records=records, issued_at=END
    )
    pdf = pypdfium2.PdfDocument(render(doc))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(SCREENSHOTS / "certificate.png")
    text = pdf[0].get_textpage().get_text_range()
    assert "合计 3.5 小时" in text and "张明" in text and "敬老院探访" in text
