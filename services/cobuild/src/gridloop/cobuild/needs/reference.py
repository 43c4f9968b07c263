"""What needs read of the directory's reference data: need categories and their time limits,
units (驻区单位) and the communities they are paired with, grids, and the working calendar."""

from typing import Any

from gridloop.cobuild.needs.domain import Limits, Place
from gridloop.shared.events import Actor, Role
from gridloop.shared.refdata import Calendars, RefData
from gridloop.shared.service import Runtime
from gridloop.shared.settings import CalendarSettings

NEED_CATEGORY = "need_category"
UNIT = "unit"


def calendars_of(runtime: Runtime) -> Calendars:
    settings = runtime.settings
    return runtime.refdata.calendars(settings.work_calendar if isinstance(settings, CalendarSettings) else "china")


async def limits(refdata: RefData, category_code: str) -> Limits:
    """The need category's time limits; the defaults where the directory names none."""
    return Limits.of(await refdata.get(NEED_CATEGORY, category_code))


async def known_category(refdata: RefData, category_code: str) -> bool:
    """A category the directory holds; any code while the directory holds no need categories yet."""
    categories = await refdata.all(NEED_CATEGORY)
    return not categories or await refdata.get(NEED_CATEGORY, category_code) is not None


async def category_names(refdata: RefData) -> dict[str, str]:
    return {c["code"]: str(c.get("name", c["code"])) for c in await refdata.all(NEED_CATEGORY)}


async def unit(refdata: RefData, code: str) -> dict[str, Any] | None:
    return await refdata.get(UNIT, code)


async def unit_communities(refdata: RefData, actor: Actor) -> frozenset[str]:
    """The communities a unit admin's unit is paired with (none for anyone else)."""
    if actor.role != Role.UNIT_ADMIN:
        return frozenset()
    record = await refdata.get(UNIT, actor.org)
    return frozenset(record.get("communities", [])) if record else frozenset()


async def place(refdata: RefData, grid_code: str) -> Place | None:
    """The grid's community, street and district; None for a grid the directory does not hold."""
    grid = await refdata.get("grid", grid_code)
    if grid is None:
        return None
    street = await refdata.get("street", grid["street"]) or {}
    return Place(
        grid_code=grid_code,
        community_code=grid["community"],
        street_code=grid["street"],
        district_code=str(street.get("district", "")),
    )
