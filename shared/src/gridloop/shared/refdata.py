"""A service's local copy of the directory's reference data, fed from the compacted directory topic.

Services never read the directory's database; they keep what they need in their own."""

import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Literal

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from shapely import STRtree
from shapely.geometry import Point, shape

from gridloop.shared.bus import Handle, PermanentFailure
from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.mongo import Doc
from gridloop.shared.worktime import WorkCalendar, YearSchedule, around_the_clock, china_calendar

REF_DATA = "ref_data"
CalendarKind = Literal["china", "always_open"]
Calendars = Callable[[], Awaitable[WorkCalendar]]
"""The working calendar as the directory last announced it (it changes when a year's schedule arrives)."""


class GridIndex:
    """Grids' polygons in an R-tree (shapely's STRtree), for the grid a point falls in."""

    def __init__(self, grids: list[dict[str, Any]]) -> None:
        placed = sorted((g for g in grids if isinstance(g.get("geometry"), dict)), key=lambda g: str(g["code"]))
        self.grids = placed
        self.tree = STRtree([shape(g["geometry"]) for g in placed])

    def at(self, lon: float, lat: float) -> dict[str, Any] | None:
        hits = self.tree.query(Point(lon, lat), predicate="intersects")
        return self.grids[int(min(hits))] if len(hits) else None


class RefData:
    """Reads of reference data (categories, streets, grids, rules, departments, time limits, the
    working calendar) are answered from memory, loaded once per `cache_seconds`: a filing or a
    dispatch then costs no database round trip for them, and finding a point's grid is a spatial
    index lookup however many grids the city has. A record this instance applies clears its copy
    at once; other instances of the service see it within `cache_seconds`. Callers do not change
    what they are given: it is the shared copy."""

    def __init__(self, db: AsyncDatabase[Doc], *, cache_seconds: float = 5.0) -> None:
        self.collection = db[REF_DATA]
        self.cache_seconds = cache_seconds
        self._calendar: tuple[tuple[tuple[str, int], ...], WorkCalendar] | None = None
        self._calendar_checked = 0.0  # when the schedules' revisions were last compared
        self._records: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        self._grids: tuple[float, GridIndex] | None = None

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("kind", ASCENDING), ("code", ASCENDING)])

    async def apply(self, record: DirectoryRecord) -> None:
        """Newer revisions win; replaying the topic from the start changes nothing."""
        doc: Doc = {
            "kind": record.kind,
            "code": record.code,
            "revision": record.revision,
            "deleted": record.deleted,
            "data": record.data,
        }
        with suppress(DuplicateKeyError):  # we already hold this revision or a newer one
            await self.collection.update_one(
                {"_id": record.key, "revision": {"$lt": record.revision}}, {"$set": doc}, upsert=True
            )
        self._records.pop(record.kind, None)
        if record.kind == "grid":
            self._grids = None
        if record.kind == "calendar":
            self._calendar_checked = 0.0

    async def get(self, kind: str, code: str) -> dict[str, Any] | None:
        return (await self._of_kind(kind)).get(code)

    async def _of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        cached = self._records.get(kind)
        if cached is not None and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        loaded_at = time.monotonic()
        found = self.collection.find({"kind": kind, "deleted": False}, {"code": 1, "data": 1})
        records = {d["code"]: d["data"] async for d in found}
        self._records[kind] = (loaded_at, records)
        return records

    async def all(self, kind: str) -> list[dict[str, Any]]:
        """Every record of `kind` by code, from the same copy as `get`."""
        records = await self._of_kind(kind)
        return [records[code] for code in sorted(records)]

    async def grid_at(self, lon: float, lat: float) -> dict[str, Any] | None:
        """The grid whose polygon holds the point (a point on a shared edge: the lower code)."""
        if self._grids is None or time.monotonic() - self._grids[0] > self.cache_seconds:
            loaded_at = time.monotonic()
            self._grids = (loaded_at, GridIndex(list((await self._of_kind("grid")).values())))
        return self._grids[1].at(lon, lat)

    async def working_calendar(self, kind: CalendarKind) -> WorkCalendar:
        """The city's working calendar from the holiday schedules (`calendar` records) as last
        announced; rebuilt only when a schedule's revision changed since the last call."""
        if kind == "always_open":
            return around_the_clock()
        if self._calendar is not None and time.monotonic() - self._calendar_checked < self.cache_seconds:
            return self._calendar[1]
        self._calendar_checked = time.monotonic()
        docs = await self.collection.find(
            {"kind": "calendar", "deleted": False}, {"code": 1, "revision": 1, "data": 1}
        ).to_list(None)
        key = tuple(sorted((d["code"], d["revision"]) for d in docs))
        if self._calendar is None or self._calendar[0] != key:
            schedules = [YearSchedule.from_record(code=d["code"], revision=d["revision"], data=d["data"]) for d in docs]
            self._calendar = (key, china_calendar(schedules))
        return self._calendar[1]

    def calendars(self, kind: CalendarKind) -> Calendars:
        return lambda: self.working_calendar(kind)

    async def loaded(self) -> bool:
        """Whether a full announcement of the directory has been read to its end."""
        return await self.collection.count_documents({"kind": "snapshot"}, limit=1) > 0

    def consumer_handle(self) -> Handle:
        async def handle(record: ConsumerRecord[bytes, bytes]) -> None:
            if record.value is None:
                raise PermanentFailure("empty directory record")
            try:
                parsed = DirectoryRecord.model_validate_json(record.value)
                parsed.checked()  # the record's data has its kind's shape, or it goes to dead letters
            except ValidationError as exc:
                raise PermanentFailure(f"invalid directory record: {exc}") from exc
            await self.apply(parsed)

        return handle
