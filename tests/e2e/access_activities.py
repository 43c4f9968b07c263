"""Access cases of the activities routes (服务活动, 过程纪实, 志愿服务证明) for the access matrix.

Each case has the fields of test_access_matrix.Route (kept as dicts, so this module does not import
the matrix that imports it): `MATRIX += [Route(**case) for case in CASES]`. The prepared records
(`prepare`) are: ACT, an activity 区人民医院 (U-LJ-HOSP) publishes in LJ01 for a day thirty days
on; REC, a manual record of the inside member waiting for the hospital's decision on an activity
that ended; MEM, the inside member's registration, with an approved record from the hospital and
one from LJ01 (so either organiser has a certificate to give). The path keys activity_id, record_id
and member_id are filled from the case's `ticket`. Members: INSIDE ("pm-lj01-m", "LJ01"), OUTSIDE
("pm-wh01-m", "WH01"), both registered in `members` by `prepare`."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo

from gridloop.shared.events import Role
from gridloop.shared.ids import new_id
from gridloop.stack.client import ApiUser
from gridloop.stack.testing import register_member

GW, SD, AG, SUP, ADM = Role.GRID_WORKER, Role.STREET_DISPATCHER, Role.DEPARTMENT_AGENT, Role.SUPERVISOR, Role.ADMIN
CW, UA, RES, MEM = Role.COMMUNITY_WORKER, Role.UNIT_ADMIN, Role.RESIDENT, Role.MEMBER
ANY, SCOPED, HIDDEN, DENY = "any", "scoped", "hidden", "deny"
NOBODY = dict.fromkeys((GW, SD, AG, SUP, ADM, CW, UA, RES, MEM), DENY)
MEMBER_INSIDE = ("pm-lj01-m", "LJ01")
MEMBER_OUTSIDE = ("pm-wh01-m", "WH01")
PATH_KEYS = {"activity_id": "ACT", "record_id": "REC", "member_id": "MEM"}

ACTIVITY_READERS = {**NOBODY, SD: SCOPED, SUP: SCOPED, CW: SCOPED, UA: SCOPED, MEM: SCOPED}
ORGANISER = {**NOBODY, UA: SCOPED}  # ACT and REC are the hospital's
MEMBER_ONLY = {**NOBODY, MEM: SCOPED}
PRESENCE = {"code": "000000", "location": {"lon": 120.105, "lat": 30.205}}

CASES: list[dict[str, Any]] = [
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities",
        "kinds": {**NOBODY, CW: ANY, UA: ANY},
        "body": {
            "title": "权限矩阵活动",
            "grid_code": "LJ01-G1",
            "place": {"lon": 120.105, "lat": 30.205},
            "starts_at": "in thirty days",  # LATER: both ends the same instant, refused 422 (still allowed)
            "ends_at": "in thirty days",
            "capacity": 5,
        },
    },
    {
        "service": "cobuild",
        "method": "GET",
        "path": "/v1/cobuild/activities",
        "kinds": ACTIVITY_READERS,
        "ticket": "ACT",
        "list_key": "id",
    },
    {
        "service": "cobuild",
        "method": "GET",
        "path": "/v1/cobuild/activities/{activity_id}",
        "kinds": ACTIVITY_READERS,
        "ticket": "ACT",
    },
    {
        "service": "cobuild",
        "method": "GET",
        "path": "/v1/cobuild/activities/{activity_id}/code",
        "kinds": ORGANISER,
        "ticket": "ACT",
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/signup",
        "kinds": MEMBER_ONLY,
        "ticket": "ACT",
        "body": {},
    },
    # not yet time (422 outside_time) for the member inside; the code is checked after the time
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/checkin",
        "kinds": MEMBER_ONLY,
        "ticket": "ACT",
        "body": PRESENCE,
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/checkout",
        "kinds": MEMBER_ONLY,
        "ticket": "ACT",
        "body": PRESENCE,
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/records",
        "kinds": MEMBER_ONLY,
        "ticket": "ACT",
        "body": {"minutes_claimed": 60, "note": "权限矩阵"},
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/close",
        "kinds": ORGANISER,
        "ticket": "ACT",
        "body": {},
    },  # 409 not_ended for the hospital
    {
        "service": "cobuild",
        "method": "GET",
        "path": "/v1/cobuild/records",
        "kinds": {**NOBODY, CW: SCOPED, UA: SCOPED, MEM: SCOPED},
        "ticket": "REC",
        "list_key": "id",
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/records/{record_id}/approve",
        "kinds": ORGANISER,
        "ticket": "REC",
        "body": {},
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/records/{record_id}/return",
        "kinds": ORGANISER,
        "ticket": "REC",
        "body": {"reason": "权限矩阵"},
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/records/{record_id}/reject",
        "kinds": ORGANISER,
        "ticket": "REC",
        "body": {"reason": "权限矩阵"},
    },
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/records/{record_id}/rate",
        "kinds": {**NOBODY, CW: SCOPED},
        "ticket": "REC",
        "body": {"rating": "satisfied"},
    },
    # the member without ?organizer= is told to name one (422); an organiser gets its own (200)
    {
        "service": "cobuild",
        "method": "GET",
        "path": "/v1/cobuild/members/{member_id}/certificate.pdf",
        "kinds": {**NOBODY, CW: SCOPED, UA: SCOPED, MEM: SCOPED},
        "ticket": "MEM",
    },
    # last: it ends ACT
    {
        "service": "cobuild",
        "method": "POST",
        "path": "/v1/cobuild/activities/{activity_id}/cancel",
        "kinds": ORGANISER,
        "ticket": "ACT",
        "body": {"reason": "权限矩阵"},
    },
]


def _client(uri: str) -> "pymongo.MongoClient[dict[str, Any]]":
    return pymongo.MongoClient(uri, tz_aware=True)


def _ended(db: Any, *, kind: str, code: str, member_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    doc = {
        "_id": f"ACT-M-{new_id()}",
        "title": "权限矩阵已结束活动",
        "organizer_kind": kind,
        "organizer_code": code,
        "community_code": "LJ01",
        "grid_code": "LJ01-G1",
        "street_code": "LJ",
        "district_code": "QH",
        "place": {"lon": 120.105, "lat": 30.205},
        "starts_at": now - timedelta(hours=5),
        "ends_at": now - timedelta(hours=3),
        "capacity": 5,
        "signups": [member_id],
        "post_id": None,
        "need_id": None,
        "project_id": None,
        "status": "published",
        "cancel_reason": "",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    db["activities"].insert_one(doc)
    return doc


def _record(db: Any, activity: dict[str, Any], member_id: str, status: str) -> str:
    now = datetime.now(UTC)
    record_id = f"REC-M-{activity['_id']}-{status}"
    db["records"].insert_one(
        {
            "_id": record_id,
            "activity_id": activity["_id"],
            "activity_title": activity["title"],
            "member_id": member_id,
            "unit_code": None,
            "community_code": "LJ01",
            "grid_code": "LJ01-G1",
            "street_code": "LJ",
            "district_code": "QH",
            "starts_at": activity["starts_at"],
            "ends_at": activity["ends_at"],
            "method": "manual",
            "checkin_at": None,
            "checkout_at": None,
            "minutes_claimed": 60,
            "minutes": 60 if status == "approved" else None,
            "note": "权限矩阵",
            "reason": "",
            "status": status,
            "rating": None,
            "service_date": activity["starts_at"],
            "organizer_kind": activity["organizer_kind"],
            "organizer_code": activity["organizer_code"],
            "approved_by": None,
            "approved_at": now if status == "approved" else None,
            "post_id": None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    return record_id


def prepare(mongo_uri: str, hospital: ApiUser) -> dict[str, str]:
    """ACT, REC and MEM (see the module's doc); `hospital` is the inside UNIT_ADMIN (U-LJ-HOSP)."""
    with _client(mongo_uri) as client:
        db = client["gridloop_cobuild"]
        member_id = register_member(db, MEMBER_INSIDE[0], grid=None)
        register_member(db, MEMBER_OUTSIDE[0], community="WH01", street="WH", grid=None)
        by_hospital = _ended(db, kind="unit", code="U-LJ-HOSP", member_id=member_id)
        by_community = _ended(db, kind="community", code="LJ01", member_id=member_id)
        _record(db, by_hospital, member_id, "approved")
        _record(db, by_community, member_id, "approved")
        waiting = _ended(db, kind="unit", code="U-LJ-HOSP", member_id=member_id)
        record_id = _record(db, waiting, member_id, "submitted")
    starts = datetime.now(UTC) + timedelta(days=30)
    activity = hospital.ok(
        "cobuild",
        "POST",
        "/v1/cobuild/activities",
        json={
            "title": "权限矩阵义诊",
            "grid_code": "LJ01-G1",
            "place": {"lon": 120.105, "lat": 30.205},
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=3)).isoformat(),
            "capacity": 50,
        },
    )
    return {"ACT": str(activity["id"]), "REC": record_id, "MEM": member_id}
