"""What cobuild does when events arrive: it follows tickets (for conversion both ways, hotspots and
verified reports' points) and its own needs and volunteering events (the points ledger pays approved
service, post duty and fulfilled wishes). Each area's table is merged here."""

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
