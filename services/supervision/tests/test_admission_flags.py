"""未准入事项 in the monthly evaluation sheet (街道评议部门): each task a community flagged as sent
without admission counts against its department in the month it was flagged, in city time; a
redelivered flag counts once; a department with flags but no ticket has its row too."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gridloop.shared.api.supervision import ScoreWeights
from gridloop.shared.events import Actor, AdmissionTaskType, Role, TaskFlagged
from gridloop.shared.ids import new_id
from gridloop.shared.messagebus import handle_event
from gridloop.shared.refdata import RefData
from gridloop.stack.servers import Servers
from gridloop.stack.testing import SetClock, demo_records, make_event, service_database
from gridloop.supervision import admission_flags, handlers, kpi, store
from gridloop.supervision.evaluation import SheetFormat
from gridloop.supervision.readmodel import ReadModel

pytestmark = pytest.mark.integration
CST = ZoneInfo("Asia/Shanghai")
WORKER = Actor(sub="cw-lj01", role=Role.COMMUNITY_WORKER, org="LJ01")


def _flag(department: str, *, street: str = "LJ", community: str = "LJ01") -> TaskFlagged:
    return TaskFlagged(
        flag_id=new_id(),
        community_code=community,
        street_code=street,
        department_code=department,
        district_code="QH",
        task_type=AdmissionTaskType.FORM,
    )


async def test_a_flag_counts_in_its_departments_monthly_sheet(servers: Servers) -> None:
    database = await service_database(servers, producer="supervision", clock=SetClock(datetime(2030, 8, 5, tzinfo=CST)))
    refdata = RefData(database.db)
    await store.ensure_indexes(database.db)
    await admission_flags.ensure_indexes(database.db)
    for record in demo_records():
        await refdata.apply(record)
    routes = admission_flags.flag_routes()
    late_july = datetime(2030, 7, 31, 23, 30, tzinfo=CST)
    first_of_august = datetime(2030, 8, 1, 0, 10, tzinfo=CST)  # still 31 July in UTC
    twice = make_event(p := _flag("CG"), ticket_id=p.flag_id, actor=WORKER, at=late_july)
    events = [
        twice,
        twice,  # delivered again: counted once
        make_event(p := _flag("CG"), ticket_id=p.flag_id, actor=WORKER, at=late_july),
        make_event(p := _flag("MZ", street="WH", community="WH01"), ticket_id=p.flag_id, actor=WORKER, at=late_july),
        make_event(p := _flag("CG"), ticket_id=p.flag_id, actor=WORKER, at=first_of_august),
    ]
    for event in events:
        await handle_event(database=database, routes=routes, event=event)

    async def sheet(month: str, reader: Actor) -> dict[str, dict[str, str]]:
        rendered = await handlers.evaluation_sheet(
            database=database,
            refdata=refdata,
            model=ReadModel(),
            reader=reader,
            evaluation=kpi.Evaluation(weights=ScoreWeights(), min_volume=10, board_size=3),
            month=month,
            sheet_format=SheetFormat.CSV,
        )
        rows = csv.DictReader(io.StringIO(rendered.body.decode("utf-8-sig")))
        return {r["部门编码"]: r for r in rows}

    district = Actor(sub="sup-qh", role=Role.SUPERVISOR, org="QH")
    july = await sheet("2030-07", district)
    assert july["CG"]["未准入事项"] == "2"
    assert july["MZ"]["部门名称"] == "区民政局" and july["MZ"]["未准入事项"] == "1"
    assert july["MZ"]["派遣数"] == "0"
    assert (await sheet("2030-08", district))["CG"]["未准入事项"] == "1"
    lj_desk = Actor(sub="sd-lj", role=Role.STREET_DISPATCHER, org="LJ")
    assert "MZ" not in await sheet("2030-07", lj_desk)  # 望湖's flag is outside 临江's sheet
