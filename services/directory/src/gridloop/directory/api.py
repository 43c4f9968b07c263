"""Directory routes: read the reference data; admins change it."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import ValidationError

from gridloop.directory import handlers
from gridloop.directory.deps import CurrentUser, ServiceDatabase
from gridloop.directory.domain import InvalidReference, NotByStreet
from gridloop.directory.handlers import OutsideGrids, UnknownRecord
from gridloop.shared.api.directory import AreaTree, GridView, RecordChange, RecordHistory, RecordList, RecordView
from gridloop.shared.auth import require_role
from gridloop.shared.directory import Kind
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role

router = APIRouter(prefix="/v1/directory", tags=["directory"], responses=ERROR_RESPONSES)


class Collection(StrEnum):
    DISTRICTS = "districts"
    STREETS = "streets"
    COMMUNITIES = "communities"
    GRIDS = "grids"
    DEPARTMENTS = "departments"
    CATEGORIES = "categories"
    RULES = "rules"
    SLAS = "slas"
    CALENDARS = "calendars"
    UNITS = "units"
    NEED_CATEGORIES = "need_categories"
    ADMISSION_ITEMS = "admission_items"

    @property
    def kind(self) -> Kind:
        irregular = {"communities": "community", "categories": "category", "need_categories": "need_category"}
        return Kind(irregular.get(self.value, self.value[:-1]))


def _unknown(exc: UnknownRecord) -> NotFound:
    return NotFound(exc.kind.value, exc.code)


@router.get("/tree", summary="District → street → community → grid tree")
async def tree(_: CurrentUser, database: ServiceDatabase) -> AreaTree:
    return AreaTree.model_validate(await handlers.tree(database))


@router.get("/grids/locate", summary="The grid that contains a point")
async def locate(
    _: CurrentUser,
    database: ServiceDatabase,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> GridView:
    try:
        return GridView.model_validate(await handlers.locate(database, lon=lon, lat=lat))
    except OutsideGrids as exc:
        raise ApiError(
            404, "outside_grids", "该位置不在任何网格内 (the point is outside every grid)", {"lon": lon, "lat": lat}
        ) from exc


@router.get("/{collection}", summary="All records of one kind (with `street`: what that street works with)")
async def list_records(
    _: CurrentUser,
    database: ServiceDatabase,
    collection: Collection,
    street: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=32,
            description="只列该街道的网格、社区、驻区单位，或负责该街道的部门 (only that street's grids, "
            "communities or units, or the departments serving it)",
        ),
    ] = None,
) -> RecordList:
    try:
        return RecordList.model_validate(await handlers.records(database, collection.kind, street))
    except NotByStreet as exc:
        raise ApiError(
            422, "not_by_street", f"{collection.value} 不按街道划分 (these records belong to no street)"
        ) from exc


@router.get("/{collection}/{code}", summary="One record")
async def get_record(_: CurrentUser, database: ServiceDatabase, collection: Collection, code: str) -> RecordView:
    try:
        return RecordView.model_validate(await handlers.record(database, kind=collection.kind, code=code))
    except UnknownRecord as exc:
        raise _unknown(exc) from exc


@router.get("/{collection}/{code}/history", summary="Every revision of a record: what it was, who changed it, when")
async def record_history(
    user: CurrentUser, database: ServiceDatabase, collection: Collection, code: str
) -> RecordHistory:
    require_role(user, Role.ADMIN, Role.SUPERVISOR)
    try:
        return RecordHistory.model_validate(await handlers.record_history(database, kind=collection.kind, code=code))
    except UnknownRecord as exc:
        raise _unknown(exc) from exc


@router.put("/{collection}/{code}", summary="Create or replace a record (admin); announced to every service")
async def put_record(
    user: CurrentUser,
    database: ServiceDatabase,
    collection: Collection,
    code: str,
    body: Annotated[dict[str, Any], Body()],
) -> RecordChange:
    require_role(user, Role.ADMIN)
    try:
        change = await handlers.put_record(database, kind=collection.kind, code=code, body=body, actor=user)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid_record",
            "目录数据不合法 (invalid record)",
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from exc
    except InvalidReference as exc:
        raise ApiError(422, "invalid_reference", f"引用的数据不存在 ({exc})") from exc
    return RecordChange.model_validate(change)
