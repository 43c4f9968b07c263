"""Directory routes: read the reference data; admins change it."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import ValidationError

from gridloop.directory import handlers, store
from gridloop.directory.domain import InvalidReference, Kind
from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.service import Runtime

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

    @property
    def kind(self) -> Kind:
        return Kind({"communities": "community", "categories": "category"}.get(self.value, self.value[:-1]))


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/tree", summary="District → street → community → grid tree")
async def tree(request: Request, _: CurrentUser) -> dict[str, Any]:
    db = _runtime(request).database.db
    districts = await store.list_kind(db, Kind.DISTRICT)
    streets = await store.list_kind(db, Kind.STREET)
    communities = await store.list_kind(db, Kind.COMMUNITY)
    grids = await store.list_kind(db, Kind.GRID)
    return {
        "districts": [
            {
                **d,
                "streets": [
                    {
                        **s,
                        "communities": [
                            {
                                **c,
                                "grids": [
                                    {"code": g["code"], "name": g["name"]} for g in grids if g["community"] == c["code"]
                                ],
                            }
                            for c in communities
                            if c["street"] == s["code"]
                        ],
                    }
                    for s in streets
                    if s["district"] == d["code"]
                ],
            }
            for d in districts
        ]
    }


@router.get("/grids/locate", summary="The grid that contains a point")
async def locate(
    request: Request,
    _: CurrentUser,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> dict[str, Any]:
    grid = await store.grid_at(_runtime(request).database.db, lon, lat)
    if grid is None:
        raise ApiError(
            404, "outside_grids", "该位置不在任何网格内 (the point is outside every grid)", {"lon": lon, "lat": lat}
        )
    return grid


@router.get("/{collection}", summary="All records of one kind")
async def list_records(request: Request, _: CurrentUser, collection: Collection) -> dict[str, Any]:
    return {"items": await store.list_kind(_runtime(request).database.db, collection.kind)}


@router.get("/{collection}/{code}", summary="One record")
async def get_record(request: Request, _: CurrentUser, collection: Collection, code: str) -> dict[str, Any]:
    kind = collection.kind
    doc = await store.get(_runtime(request).database.db, kind, code)
    if doc is None:
        raise NotFound(kind.value, code)
    return {"kind": kind.value, "code": code, "revision": doc["revision"], "data": doc["data"]}


@router.get("/{collection}/{code}/history", summary="Every revision of a record: what it was, who changed it, when")
async def record_history(request: Request, user: CurrentUser, collection: Collection, code: str) -> dict[str, Any]:
    require_role(user, Role.ADMIN, Role.SUPERVISOR)
    revisions = await store.history(_runtime(request).database.db, collection.kind, code)
    if not revisions:
        raise NotFound(collection.kind.value, code)
    return {
        "kind": collection.kind.value,
        "code": code,
        "revisions": [{k: r.get(k) for k in ("revision", "data", "changed_by", "changed_at")} for r in revisions],
    }


@router.put("/{collection}/{code}", summary="Create or replace a record (admin); announced to every service")
async def put_record(
    request: Request,
    user: CurrentUser,
    collection: Collection,
    code: str,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    require_role(user, Role.ADMIN)
    kind = collection.kind
    try:
        return await handlers.put_record(_runtime(request).database, kind=kind, code=code, body=body, actor=user)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid_record",
            "目录数据不合法 (invalid record)",
            [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from exc
    except InvalidReference as exc:
        raise ApiError(422, "invalid_reference", f"引用的数据不存在 ({exc})") from exc
