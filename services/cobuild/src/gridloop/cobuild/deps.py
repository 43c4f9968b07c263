"""What cobuild's routes are given: the caller, the database, the directory's reference data and
the working calendar as the directory last announced it."""

from typing import Annotated

from fastapi import Depends

from gridloop.cobuild.needs.reference import calendars_of
from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import ReferenceData, ServiceDatabase, ServiceRuntime
from gridloop.shared.refdata import Calendars


def calendars(live: ServiceRuntime) -> Calendars:
    return calendars_of(live)


WorkingCalendar = Annotated[Calendars, Depends(calendars)]

__all__ = ["CurrentUser", "ReferenceData", "ServiceDatabase", "WorkingCalendar"]
