"""The webhooks' read side: endpoints, their delivery logs, the allow-lists and the event types
one may subscribe to, built as the API answers them (gridloop.shared.api.handling). A department
sees its own; the admin every department's. Also the one lookup the commands share: the endpoint,
if the caller may see it, and may do what they ask to it."""

from typing import Any, Literal, TypeVar

from gridloop.handling.webhooks import domain, store
from gridloop.handling.webhooks.domain import NotPermitted, UnknownAllowList, UnknownEndpoint
from gridloop.shared.api.handling import (
    AllowListView,
    Attempt,
    DeliveryView,
    EndpointView,
    WebhookEventType,
    WebhookEventTypes,
)
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Database, Doc

Shown = TypeVar("Shown", bound=EndpointView)


def own(user: Actor, department: str) -> bool:
    """The caller acts for the endpoint's department (the admin never does)."""
    return user.role == Role.DEPARTMENT_AGENT and user.org == department


def endpoint_view(model: type[Shown], doc: Doc, user: Actor, **more: Any) -> Shown:
    """The endpoint as the caller sees it, with what they may do to it now (`more`: a secret)."""
    return model(
        endpoint_id=doc["_id"],
        department=doc["department"],
        url=doc["url"],
        description=doc.get("description", ""),
        event_types=doc["event_types"],
        enabled=doc["enabled"],
        disabled_reason=doc.get("disabled_reason") or "",
        failures_in_row=doc.get("failures_in_row", 0),
        last_delivered_at=doc.get("last_delivered_at"),
        last_error=doc.get("last_error") or "",
        created_at=doc["created_at"],
        actions=domain.actions_now(own_department=own(user, doc["department"]), enabled=bool(doc["enabled"])),
        **more,
    )


def delivery_view(doc: Doc) -> DeliveryView:
    return DeliveryView(
        webhook_id=doc["_id"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        ticket_id=doc["ticket_id"],
        ticket_number=doc.get("ticket_number", ""),
        status=doc["status"],
        attempts=doc.get("attempts", 0),
        next_attempt_at=doc["next_attempt_at"] if doc["status"] == "pending" else None,
        delivered_at=doc.get("delivered_at"),
        last_error=doc.get("last_error") or "",
        created_at=doc["created_at"],
        log=[Attempt.model_validate(entry) for entry in doc.get("log", [])],
    )


def allow_list_view(department: str, doc: Doc | None) -> AllowListView:
    return AllowListView(
        department=department,
        entries=(doc or {}).get("entries", []),
        updated_at=(doc or {}).get("updated_at"),
        updated_by=(doc or {}).get("updated_by", ""),
    )


def event_types() -> WebhookEventTypes:
    """What an endpoint may subscribe to, from the event registry (domain.subscribable)."""
    return WebhookEventTypes(items=[WebhookEventType(event_type=t) for t in domain.subscribable()])


def _scope(user: Actor) -> Doc:
    return {} if user.role == Role.ADMIN else {"department": user.org}


async def owned(database: Database, user: Actor, endpoint_id: str, action: str | None = None) -> Doc:
    """The endpoint, if the caller may see it (else: unknown), and may take `action` on it."""
    doc = await store.endpoint(database.db, endpoint_id)
    if doc is None or (user.role != Role.ADMIN and doc["department"] != user.org):
        raise UnknownEndpoint(endpoint_id)
    may(user, doc["department"], action)
    return doc


def may(user: Actor, department: str, action: str | None) -> None:
    """NotPermitted unless the caller may take `action` on an endpoint of `department`."""
    if action is not None and action not in domain.permitted(own_department=own(user, department)):
        raise NotPermitted(
            "department_only",
            "只有该部门自己能这样做：管理员只能查看、停用或删除接收地址 "
            "(only the department itself may; the administrator may view, switch off or delete)",
        )


async def list_endpoints(*, database: Database, user: Actor) -> list[EndpointView]:
    return [endpoint_view(EndpointView, d, user) for d in await store.endpoints(database.db, _scope(user))]


async def get_endpoint(*, database: Database, user: Actor, endpoint_id: str) -> EndpointView:
    return endpoint_view(EndpointView, await owned(database, user, endpoint_id), user)


async def delivery_log(
    *,
    database: Database,
    user: Actor,
    endpoint_id: str,
    status: Literal["pending", "delivered"] | None,
    limit: int,
) -> list[DeliveryView]:
    await owned(database, user, endpoint_id)
    return [delivery_view(d) for d in await store.deliveries(database.db, endpoint_id, status, limit)]


async def list_allow_lists(*, database: Database, user: Actor) -> list[AllowListView]:
    """The admin: every department's; an agent: its own department's, to know what it may register."""
    if user.role == Role.ADMIN:
        return [allow_list_view(d["_id"], d) for d in await store.allow_lists(database.db)]
    return [allow_list_view(user.org, await store.allow_list(database.db, user.org))]


async def get_allow_list(*, database: Database, user: Actor, department: str) -> AllowListView:
    if user.role != Role.ADMIN and user.org != department:
        raise UnknownAllowList(department)
    return allow_list_view(department, await store.allow_list(database.db, department))
