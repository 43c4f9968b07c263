"""The OpenAPI document describes every answer, and describing them changed no answer's JSON."""

from datetime import UTC, datetime

import pytest
from fastapi.encoders import jsonable_encoder

from gridloop.feedback.handlers import notification_view, verification_view
from gridloop.shared.api.feedback import NotificationList, VerificationList

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=UTC)
TASK = {"status": "pending", "since": AT, "resolution_note": "已清运", "resolution_photos": []}
PENDING = {
    "_id": "t1",
    "ticket_number": "QH-20261122-00001",
    "status": "resolved",
    "category_name": "暴露垃圾",
    "description": "垃圾堆积",
    "department": "CG",
    "reworks": 0,
    "verification": TASK,
    "verifier": {"kind": "community", "community": "LJ01"},
    "rating": None,
}
RATED = {
    **PENDING,
    "status": "closed",
    "verifier": {"kind": "reporter", "sub": "gw-1"},
    "verification": {**TASK, "status": "passed", "verified_at": AT, "comment": "已核实"},
    "auto_closed": False,
    "rating": {"rating": "satisfied", "comment": "", "at": AT},
}
UNRECORDED = {k: v for k, v in PENDING.items() if k != "verifier"}


def test_tasks_and_notifications_read_as_they_did_before_they_had_a_model() -> None:
    # A pending task has no verdict fields; the routes leave out what the handler did not give.
    tasks = {"items": [verification_view(d) for d in (PENDING, RATED, UNRECORDED)]}
    assert VerificationList.model_validate(tasks).model_dump(mode="json", exclude_unset=True) == jsonable_encoder(tasks)
    sent = {"_id": "n1", "ticket_id": "t1", "ticket_number": "QH-1", "event_type": "ticket.closed", "text": "已结案"}
    notes = {"items": [notification_view({**sent, "at": AT, "read": False})]}
    assert NotificationList.model_validate(notes).model_dump(mode="json") == jsonable_encoder(notes)
