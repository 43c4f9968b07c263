"""The directory, as the console calls it: departments, categories and grids in their own shapes
(gridloop.shared.directory), units and need categories for the 共建 pages, the area tree, and
records with their revisions (the admin's pages)."""

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from gridloop.shared.api.directory import AreaTree, RecordChange, RecordHistory, RecordList, RecordView
from gridloop.shared.directory import Category, Department, Grid
from gridloop.web.clients.base import ServiceClient

R = TypeVar("R", bound=BaseModel)
BASE = "/v1/directory"


class UnitEntry(BaseModel):
    """A unit stationed in the area (驻区单位), as the 共建 pages name and choose it."""

    model_config = ConfigDict(extra="ignore")
    code: str
    name: str
    kind: str = "other"
    grid: str = ""
    street: str = ""
    liaison: str = ""
    communities: list[str] = []


class UnitRecord(BaseModel):
    """One unit's record as the directory serves it (`RecordView`), read for its data alone."""

    model_config = ConfigDict(extra="ignore")
    data: UnitEntry


class NeedCategoryEntry(BaseModel):
    """A need category (需求类别), as the 共建 pages offer it."""

    model_config = ConfigDict(extra="ignore")
    code: str
    name: str


class DirectoryClient(ServiceClient):
    service = "directory"

    async def departments(self, *, serving: str | None = None) -> list[Department]:
        """Every department, or those serving one street (the directory selects them)."""
        return await self._kind(Department, "departments", street=serving)

    async def categories(self) -> list[Category]:
        return await self._kind(Category, "categories")

    async def grids(self, *, street: str | None = None) -> list[Grid]:
        return await self._kind(Grid, "grids", street=street)

    async def units(self, *, street: str | None = None) -> list[UnitEntry]:
        """The units stationed in the area, or in one street (the directory selects them)."""
        return await self._kind(UnitEntry, "units", street=street)

    async def unit(self, code: str) -> UnitEntry:
        return (await self._get(UnitRecord, f"{BASE}/units/{code}")).data

    async def need_categories(self) -> list[NeedCategoryEntry]:
        return await self._kind(NeedCategoryEntry, "need_categories")

    async def tree(self) -> AreaTree:
        return await self._get(AreaTree, f"{BASE}/tree")

    async def records(self, collection: str, *, street: str | None = None) -> RecordList:
        return await self._get(RecordList, f"{BASE}/{collection}", street=street)

    async def record(self, collection: str, code: str) -> RecordView:
        return await self._get(RecordView, f"{BASE}/{collection}/{code}")

    async def history(self, collection: str, code: str) -> RecordHistory:
        return await self._get(RecordHistory, f"{BASE}/{collection}/{code}/history")

    async def put_record(self, collection: str, code: str, data: dict[str, Any]) -> RecordChange:
        return await self._call(RecordChange, "PUT", f"{BASE}/{collection}/{code}", document=data)

    async def _kind(self, model: type[R], collection: str, *, street: str | None = None) -> list[R]:
        listed = await self.records(collection, street=street)
        return [model.model_validate(item) for item in listed.items]
