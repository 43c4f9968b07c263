"""What dispatch reads of the directory's reference data: departments, time limits and the
working calendar, as the directory last announced them."""

from typing import Any

from gridloop.shared.refdata import Calendars, RefData
from gridloop.shared.service import Runtime
from gridloop.shared.settings import CalendarSettings


def calendars_of(runtime: Runtime) -> Calendars:
    settings = runtime.settings
    return runtime.refdata.calendars(settings.work_calendar if isinstance(settings, CalendarSettings) else "china")


async def departments(refdata: RefData) -> dict[str, dict[str, Any]]:
    """Every department by its code, with the streets it serves (`serves`; empty: the whole district)."""
    return {d["code"]: d for d in await refdata.all("department")}


async def time_limits(refdata: RefData) -> dict[str, dict[str, Any]]:
    """Every category's time limits (SLA) by its code, and the directory's `default`."""
    return {s["code"]: s for s in await refdata.all("sla")}
