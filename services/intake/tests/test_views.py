"""The OpenAPI document describes every answer, and describing them changed no answer's JSON."""

from datetime import UTC, datetime

import pytest
from fastapi.encoders import jsonable_encoder

from gridloop.intake.handlers import report_view
from gridloop.shared.api.intake import ReportPage, ReportView
from gridloop.shared.events import Actor, Role

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=UTC)
REPORT = {
    "_id": "01JD0000000000000000000000",
    "ticket_number": "QH-20261122-00001",
    "status": "dispatched",
    "category_code": "SJ-0101",
    "category_name": "暴露垃圾",
    "description": "垃圾堆积",
    "location": {"lon": 120.105, "lat": 30.205},
    "address": "",
    "grid_code": "LJ01-G1",
    "community_code": "LJ01",
    "street_code": "LJ",
    "district_code": "QH",
    "photos": ["p1"],
    "priority": "normal",
    "reporter": {"sub": "gw-1", "name": "网格员", "role": "grid_worker", "org": "LJ01"},
    "created_at": AT,
    "updated_at": AT,
    "history": [{"event_type": "ticket.reported", "status": "reported", "at": AT}],
    "resolve_deadline": AT,
}


@pytest.mark.parametrize("doc", [REPORT, {**REPORT, "location": None, "resolve_deadline": None}])
def test_a_report_reads_as_it_did_before_it_had_a_model(doc: dict[str, object]) -> None:
    view = report_view(doc, Actor(sub="gw-1", role=Role.GRID_WORKER, org="LJ01"))
    assert ReportView.model_validate(view).model_dump(mode="json") == jsonable_encoder(view)
    page = {"items": [view], "next_cursor": None}
    assert ReportPage.model_validate(page).model_dump(mode="json") == jsonable_encoder(page)
