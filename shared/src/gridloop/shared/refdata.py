"""A service's local copy of the directory's reference data, fed from the compacted directory topic.

Services never read the directory's database; they keep what they need in their own."""

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Literal

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from pymongo import ASCENDING, GEOSPHERE
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.shared.bus import Handle, PermanentFailure
from gridloop.shared.directory import DirectoryRecord
from gridloop.shared.mongo import GEO_INDEX_OPTIONS, Doc
from gridloop.shared.worktime import WorkCalendar, YearSchedule, around_the_clock, china_calendar

REF_DATA = "ref_data"
CalendarKind = Literal["china", "always_open"]
Calendars = Callable[[], Awaitable[WorkCalendar]]
"""The working calendar as the directory last announced it (it changes when a year's schedule arrives)."""


class RefData:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection = db[REF_DATA]
        self._calendar: tuple[tuple[tuple[str, int], ...], WorkCalendar] | None = None

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("kind", ASCENDING), ("code", ASCENDING)])
        await self.collection.create_index([("geometry", GEOSPHERE)], **GEO_INDEX_OPTIONS)

    async def apply(self, record: DirectoryRecord) -> None:
        """Newer revisions win; replaying the topic from the start changes nothing."""
        doc: Doc = {
            "kind": record.kind,
            "code": record.code,
            "revision": record.revision,
            "deleted": record.deleted,
            "data": record.data,
        }
        if record.kind == "grid" and isinstance(record.data.get("geometry"), dict):
            doc["geometry"] = record.data["geometry"]
        with suppress(DuplicateKeyError):  # we already hold this revision or a newer one
            await self.collection.update_one(
                {"_id": record.key, "revision": {"$lt": record.revision}}, {"$set": doc}, upsert=True
            )

    async def get(self, kind: str, code: str) -> dict[str, Any] | None:
        doc = await self.collection.find_one({"_id": f"{kind}:{code}", "deleted": False})
        return doc["data"] if doc else None

    async def all(self, kind: str) -> list[dict[str, Any]]:
        return [d["data"] async for d in self.collection.find({"kind": kind, "deleted": False}).sort("code", 1)]

    async def grid_at(self, lon: float, lat: float) -> dict[str, Any] | None:
        doc = await self.collection.find_one(
            {
                "kind": "grid",
                "deleted": False,
                "geometry": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [lon, lat]}}},
            }
        )
        return doc["data"] if doc else None

    async def working_calendar(self, kind: CalendarKind) -> WorkCalendar:
        """The city's working calendar from the holiday schedules (`calendar` records) as last
        announced; rebuilt only when a schedule's revision changed since the last call."""
        if kind == "always_open":
            return around_the_clock()
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
