"""The directory topic's contract: every service reads a record against the same model the
directory checked it with, so a record of the wrong shape is refused, not half understood."""

import pytest
from pydantic import ValidationError

from gridloop.shared.directory import DirectoryRecord, HolidaySchedule, Sla

pytestmark = pytest.mark.unit


def test_a_record_reads_as_its_kinds_model() -> None:
    sla = DirectoryRecord(
        kind="sla",
        code="SJ-0101",
        revision=3,
        data={
            "code": "SJ-0101",
            "accept": {"within": 1, "unit": "working_hours"},
            "resolve": {"within": 4, "unit": "hours"},
        },
    ).checked()
    assert isinstance(sla, Sla) and sla.resolve.within == 4
    schedule = DirectoryRecord(
        kind="calendar", code="2027", revision=1, data={"code": "2027", "notice": "通知", "holidays": ["2027-01-01"]}
    ).checked()
    assert isinstance(schedule, HolidaySchedule) and schedule.workdays == []
    assert DirectoryRecord(kind="snapshot", code="directory", revision=1, data={}).checked() is None


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (
            "sla",
            {"code": "X", "accept": {"within": 1, "unit": "fortnights"}, "resolve": {"within": 1, "unit": "hours"}},
        ),
        ("calendar", {"code": "2027", "notice": "通知", "holidays": ["2027-01-01"], "workdays": ["2027-01-04"]}),
        ("rule", {"id": "R-1", "category": "SJ-0101", "lead": "CG", "assisting": ["CG"]}),
        ("grid", {"code": "G", "name": "网格", "community": "C", "street": "S", "geometry": {"type": "Point"}}),
    ],
)
def test_a_record_of_the_wrong_shape_is_refused(kind: str, data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DirectoryRecord.model_validate({"kind": kind, "code": "X", "revision": 1, "data": data}).checked()
