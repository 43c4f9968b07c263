"""What cobuild does when events arrive: it follows tickets (for conversion both ways and for
hotspots). The routing table is at the end."""

from gridloop.cobuild.needs import consumers as needs_consumers
from gridloop.shared.messagebus import Routes
from gridloop.shared.service import Runtime


def routing(runtime: Runtime) -> Routes:
    return needs_consumers.routing(runtime)
