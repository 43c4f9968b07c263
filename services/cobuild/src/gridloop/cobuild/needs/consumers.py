"""Ticket events cobuild follows."""

from gridloop.shared.messagebus import Routes, routes
from gridloop.shared.service import Runtime


def routing(runtime: Runtime) -> Routes:
    return routes()
