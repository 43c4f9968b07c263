"""What cobuild's routes are given: the caller, the database, the directory's reference data, the
working calendar as the directory last announced it, and the seal photo ids are checked with."""

from typing import Annotated

from fastapi import Depends

from gridloop.cobuild.needs.reference import calendars_of
from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import PhotoIds, ReferenceData, ServiceDatabase, ServiceRuntime
from gridloop.shared.refdata import Calendars


def calendars(live: ServiceRuntime) -> Calendars:
    return calendars_of(live)


WorkingCalendar = Annotated[Calendars, Depends(calendars)]

__all__ = ["CurrentUser", "PhotoIds", "ReferenceData", "ServiceDatabase", "WorkingCalendar"]
