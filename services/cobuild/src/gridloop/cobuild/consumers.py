"""What cobuild does when events arrive: it follows tickets (for conversion both ways and for
hotspots). The routing table is at the end."""

from gridloop.cobuild.needs import consumers as needs_consumers
from gridloop.cobuild.needs.reference import calendars_of
from gridloop.cobuild.points import consumers as points_consumers
from gridloop.shared.messagebus import Routes, merge_routes
from gridloop.shared.service import Runtime


def routing(runtime: Runtime) -> Routes:
    converted = getattr(runtime.settings, "converted_need_category", "NC-REPAIR")
    return merge_routes(
        needs_consumers.routing(
            database=runtime.database,
            refdata=runtime.refdata,
            calendars=calendars_of(runtime),
            converted_category=str(converted),
        ),
        points_consumers.routing(rates=points_consumers.rates_of(runtime.settings)),
    )
