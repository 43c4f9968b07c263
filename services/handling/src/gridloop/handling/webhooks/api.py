"""Webhook routes: a department registers its system's endpoints, inside the allow-list the
admin keeps for it, and reads their delivery log; the admin sees every department's, and may
switch one off or delete it, but never registers or points one in a department's name."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field

from gridloop.handling.deps import CurrentUser, ServiceDatabase
from gridloop.handling.webhooks import handlers
from gridloop.handling.webhooks.deps import WebhookOutbound
from gridloop.handling.webhooks.handlers import EndpointRefused, NotPermitted, UnknownAllowList, UnknownEndpoint
from gridloop.shared.auth import require_role
from gridloop.shared.clock import Instant
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)
MANAGERS = (Role.DEPARTMENT_AGENT, Role.ADMIN)
EventTypes = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=20)]


class EndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    url: AnyHttpUrl = Field(description="the department system's address that takes the POSTs")
    event_types: EventTypes = Field(description="e.g. ticket.dispatched, ticket.reopened, ticket.overdue")
    department: str | None = Field(default=None, max_length=32, description="the caller's own department, if named")
    description: str = Field(default="", max_length=200)


class EndpointChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool | None = Field(default=None, description="true: on again, and its waiting deliveries go out")
    url: AnyHttpUrl | None = None
    event_types: EventTypes | None = None


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime = Field(description="send again every delivery queued from this time on")


class EndpointView(BaseModel):
    endpoint_id: str
    department: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str = Field(description="why it was switched off, when it was")
    failures_in_row: int
    last_delivered_at: Instant | None
    last_error: str
    created_at: Instant
    actions: list[Literal["change", "enable", "disable", "rotate_secret", "replay", "delete"]] = Field(
        description="what the caller may do to it now: its department all, the admin only disable and delete"
    )


class EndpointWithSecret(EndpointView):
    secret: str = Field(description="whsec_…: verify each delivery's webhook-signature with it")


class RotatedSecret(EndpointWithSecret):
    previous_secret_valid_until: Instant = Field(description="until then deliveries carry both signatures")


class EndpointList(BaseModel):
    items: list[EndpointView]


class Attempt(BaseModel):
    at: Instant
    status_code: int | None = Field(description="the receiver's answer; null when there was none")
    error: str


class DeliveryView(BaseModel):
    webhook_id: str = Field(description="the webhook-id header: the same on every retry and replay")
    event_id: str
    event_type: str
    ticket_id: str
    ticket_number: str = Field(description="工单编号, e.g. QH-20261201-00027")
    status: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: Instant | None
    delivered_at: Instant | None
    last_error: str
    created_at: Instant
    log: list[Attempt] = Field(description="the last attempts, oldest first")


class DeliveryLog(BaseModel):
    items: list[DeliveryView]


class Replayed(BaseModel):
    queued: int = Field(description="deliveries that will be sent again")


Destinations = Annotated[list[Annotated[str, Field(min_length=1, max_length=300)]], Field(max_length=200)]


class AllowListRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: Destinations = Field(
        description="host names (*.example.gov.cn for every name under one), IP addresses or CIDR networks, "
        "each with an optional port: hooks.cg.gov.cn, 10.12.0.0/16, 10.12.3.4:8443, [fd00:12::7]:443"
    )


class AllowListView(BaseModel):
    department: str
    entries: list[str] = Field(description="where the department's endpoints may point; empty: nowhere")
    updated_at: Instant | None
    updated_by: str


class AllowLists(BaseModel):
    items: list[AllowListView]


DepartmentCode = Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


def _refused(exc: EndpointRefused | NotPermitted) -> ApiError:
    return ApiError(403 if isinstance(exc, NotPermitted) else 422, exc.code, exc.message)


@router.post(
    "/endpoints", status_code=201, summary="Register an endpoint of the caller's department (secret shown here)"
)
async def register(
    user: CurrentUser, database: ServiceDatabase, outbound: WebhookOutbound, body: EndpointRequest
) -> EndpointWithSecret:
    require_role(user, *MANAGERS)
    try:
        created = await handlers.register(
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
    return EndpointWithSecret.model_validate(created)


@router.get("/endpoints", summary="The caller's department's endpoints (the admin: all)")
async def list_endpoints(user: CurrentUser, database: ServiceDatabase) -> EndpointList:
    require_role(user, *MANAGERS)
    return EndpointList.model_validate({"items": await handlers.list_endpoints(database=database, user=user)})


@router.get("/endpoints/{endpoint_id}", summary="One endpoint")
async def get_endpoint(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> EndpointView:
    require_role(user, *MANAGERS)
    try:
        return EndpointView.model_validate(
            await handlers.get_endpoint(database=database, user=user, endpoint_id=endpoint_id)
        )
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc


@router.patch("/endpoints/{endpoint_id}", summary="Switch on or off, or change the address or the event types")
async def change_endpoint(
    user: CurrentUser, database: ServiceDatabase, outbound: WebhookOutbound, endpoint_id: str, body: EndpointChange
) -> EndpointView:
    require_role(user, *MANAGERS)
    try:
        changed = await handlers.change_endpoint(
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
    return EndpointView.model_validate(changed)


@router.delete("/endpoints/{endpoint_id}", status_code=204, summary="Delete an endpoint (again: the same answer)")
async def delete_endpoint(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> Response:
    require_role(user, *MANAGERS)
    try:
        await handlers.delete_endpoint(database=database, user=user, endpoint_id=endpoint_id)
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    return Response(status_code=204)


@router.post("/endpoints/{endpoint_id}/rotate-secret", summary="A new secret; the old one signs for 24 h more")
async def rotate_secret(user: CurrentUser, database: ServiceDatabase, endpoint_id: str) -> RotatedSecret:
    require_role(user, *MANAGERS)
    try:
        return RotatedSecret.model_validate(
            await handlers.rotate_secret(database=database, user=user, endpoint_id=endpoint_id)
        )
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
        items = await handlers.delivery_log(
            database=database, user=user, endpoint_id=endpoint_id, status=status, limit=limit
        )
    except UnknownEndpoint as exc:
        raise NotFound("webhook endpoint", endpoint_id) from exc
    return DeliveryLog.model_validate({"items": items})


@router.post("/endpoints/{endpoint_id}/replay", summary="Send again what was queued since a point in time")
async def replay(user: CurrentUser, database: ServiceDatabase, endpoint_id: str, body: ReplayRequest) -> Replayed:
    require_role(user, *MANAGERS)
    try:
        queued = await handlers.replay(database=database, user=user, endpoint_id=endpoint_id, since=body.since)
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
    return AllowLists.model_validate({"items": await handlers.list_allow_lists(database=database, user=user)})


@router.get("/allow-lists/{department}", summary="Where a department's endpoints may point")
async def get_allow_list(user: CurrentUser, database: ServiceDatabase, department: DepartmentCode) -> AllowListView:
    require_role(user, *MANAGERS)
    try:
        return AllowListView.model_validate(
            await handlers.get_allow_list(database=database, user=user, department=department)
        )
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
        saved = await handlers.put_allow_list(
            database=database, outbound=outbound, user=user, department=department, entries=body.entries
        )
    except EndpointRefused as exc:
        raise _refused(exc) from exc
    return AllowListView.model_validate(saved)
