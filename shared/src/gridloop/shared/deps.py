"""What routes are given, as types: the live parts of the service instance that serves them.
Each service's `deps.py` builds its own aliases on these; no route reads `app.state`."""

from typing import Annotated

from fastapi import Depends, Request

from gridloop.shared.clock import Clock
from gridloop.shared.mongo import Database
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.refdata import RefData
from gridloop.shared.service import Runtime
from gridloop.shared.settings import PhotoSettings


def runtime(request: Request) -> Runtime:
    """The instance's runtime, built by the lifespan before the first request."""
    live: Runtime = request.app.state.runtime
    return live


ServiceRuntime = Annotated[Runtime, Depends(runtime)]


def database(live: ServiceRuntime) -> Database:
    return live.database


def refdata(live: ServiceRuntime) -> RefData:
    return live.refdata


def clock(live: ServiceRuntime) -> Clock:
    return live.clock


def photo_seal(request: Request) -> PhotoSeal:
    settings: PhotoSettings = request.app.state.settings
    return PhotoSeal(settings.photo_key)


ServiceDatabase = Annotated[Database, Depends(database)]
ReferenceData = Annotated[RefData, Depends(refdata)]
ServiceClock = Annotated[Clock, Depends(clock)]
PhotoIds = Annotated[PhotoSeal, Depends(photo_seal)]
"""Seals and checks photo ids with the instance's GRIDLOOP_PHOTO_KEY."""
