"""Webhook routes: a department registers its system's endpoints, inside the allow-list the
admin keeps for it, and reads their delivery log; the admin sees every department's, and may
switch one off or delete it, but never registers or points one in a department's name."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from gridloop.handling.deps import CurrentUser, ServiceDatabase
from gridloop.handling.webhooks import commands, views
from gridloop.handling.webhooks.deps import WebhookOutbound
from gridloop.handling.webhooks.domain import EndpointRefused, NotPermitted, UnknownAllowList, UnknownEndpoint
from gridloop.shared.api.handling import (
    AllowListRequest,
    AllowLists,
    AllowListView,
    DeliveryLog,
    EndpointChange,
    EndpointList,
    EndpointRequest,
    EndpointView,
    EndpointWithSecret,
    Replayed,
    ReplayRequest,
    RotatedSecret,
    WebhookEventTypes,
)
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
MANAGERS = (Role.DEPARTMENT_AGENT, Role.ADMIN)


DepartmentCode = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _refused(exc: EndpointRefused | NotPermitted) -> ApiError:
    return ApiError(403 if isinstance(exc, NotPermitted) else 422, exc.code, exc.message)


@router.get("/event-types", summary="The event types an endpoint may subscribe to (from the event registry)")
async def event_types(user: CurrentUser) -> WebhookEventTypes:
    require_role(user, *MANAGERS)
    return views.event_types()


@router.post(
    "/endpoints", status_code=201, summary="Register an endpoint of the caller's department (secret shown here)"
)
async def register(
    user: CurrentUser, database: ServiceDatabase, outbound: WebhookOutbound, body: EndpointRequest
) -> EndpointWithSecret:
    require_role(user, *MANAGERS)
    try:
        created = await commands.register(
            database=database,
            outbound=outbound,
            user=user,
            department=body.department,
            url=str(body.url),
            event_types=body.event_types,
            description=body.description,
        )
    except (EndpointRefused, NotPermitted) as exc:
        raise _refused(exc) from exc
    return created


@router.get("/endpoints", summary="The caller's department's endpoints (the admin: all)")
async def list_endpoints(user: CurrentUser, database: ServiceDatabase) -> EndpointList:
    require_role(user, *MANAGERS)
    return EndpointList(items=await views.list_endpoints(database=database, user=user))


@router.get("/endpoints/{endpoint_id}", summary="One endpoint")
async def get_endpoint(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> EndpointView:
    require_role(user, *MANAGERS)
    try:
        return await views.get_endpoint(database=database, user=user, endpoint_id=endpoint_id)
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc


@router.patch("/endpoints/{endpoint_id}", summary="Switch on or off, or change the address or the event types")
async def change_endpoint(
    user: CurrentUser, database: ServiceDatabase, outbound: WebhookOutbound, endpoint_id: str, body: EndpointChange
) -> EndpointView:
    require_role(user, *MANAGERS)
    try:
        changed = await commands.change_endpoint(
            database=database,
            outbound=outbound,
            user=user,
            endpoint_id=endpoint_id,
            enabled=body.enabled,
            url=str(body.url) if body.url else None,
            event_types=body.event_types,
        )
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    except (EndpointRefused, NotPermitted) as exc:
        raise _refused(exc) from exc
    return changed


@router.delete("/endpoints/{endpoint_id}", status_code=204, summary="Delete an endpoint (again: the same answer)")
async def delete_endpoint(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> Response:
    require_role(user, *MANAGERS)
    try:
        await commands.delete_endpoint(database=database, user=user, endpoint_id=endpoint_id)
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    return Response(status_code=204)


@router.post("/endpoints/{endpoint_id}/rotate-secret", summary="A new secret; the old one signs for 24 h more")
async def rotate_secret(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> RotatedSecret:
    require_role(user, *MANAGERS)
    try:
        return await commands.rotate_secret(database=database, user=user, endpoint_id=endpoint_id)
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    except NotPermitted as exc:
        raise _refused(exc) from exc


@router.get("/endpoints/{endpoint_id}/deliveries", summary="The endpoint's delivery log, newest first")
async def deliveries(
    user: CurrentUser,
    database: ServiceDatabase,
    endpoint_id: str,
    status: Literal["pending", "delivered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryLog:
    require_role(user, *MANAGERS)
    try:
        items = await views.delivery_log(
            database=database, user=user, endpoint_id=endpoint_id, status=status, limit=limit
        )
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    return DeliveryLog(items=items)


@router.post("/endpoints/{endpoint_id}/replay", summary="Send again what was queued since a point in time")
async def replay(user: CurrentUser, database: ServiceDatabase, endpoint_id: str, body: ReplayRequest) -> Replayed:
    require_role(user, *MANAGERS)
    try:
        queued = await commands.replay(database=database, user=user, endpoint_id=endpoint_id, since=body.since)
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    except NotPermitted as exc:
        raise _refused(exc) from exc
    return Replayed(queued=queued)


@router.get(
    "/allow-lists", summary="Where departments' endpoints may point (the admin: every department; an agent: its own)"
)
async def list_allow_lists(user: CurrentUser, database: ServiceDatabase) -> AllowLists:
    require_role(user, *MANAGERS)
    return AllowLists(items=await views.list_allow_lists(database=database, user=user))


@router.get("/allow-lists/{department}", summary="Where a department's endpoints may point")
async def get_allow_list(user: CurrentUser, database: ServiceDatabase, department: DepartmentCode) -> AllowListView:
    require_role(user, *MANAGERS)
    try:
        return await views.get_allow_list(database=database, user=user, department=department)
    except UnknownAllowList as exc:
        raise NotFound("webhook allow-list", department) from exc


@router.put(
    "/allow-lists/{department}",
    summary="Set where a department's endpoints may point (the admin); loopback, link-local, multicast "
    "and GridLoop's own services stay refused whatever is listed",
)
async def put_allow_list(
    user: CurrentUser,
    database: ServiceDatabase,
    outbound: WebhookOutbound,
    department: DepartmentCode,
    body: AllowListRequest,
) -> AllowListView:
    require_role(user, Role.ADMIN)
    try:
        saved = await commands.put_allow_list(
            database=database, outbound=outbound, user=user, department=department, entries=body.entries
        )
    except EndpointRefused as exc:
        raise _refused(exc) from exc
    return saved
