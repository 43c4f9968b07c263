"""What a department does to its webhook endpoints (register, change, switch on or off, rotate the
secret, replay, delete) and the admin to any (switch off, delete) and to the allow-lists. Nothing
refused is ever stored: an address is judged as at each delivery, event types against the
registry. Each answers with what it changed, as the read side shows it."""

from datetime import datetime

from gridloop.handling.webhooks import domain, store
from gridloop.handling.webhooks.domain import EndpointRefused, NotPermitted, UnknownEndpoint
from gridloop.handling.webhooks.outbound import Outbound
from gridloop.handling.webhooks.views import allow_list_view, endpoint_view, may, owned
from gridloop.shared.api.handling import AllowListView, EndpointView, EndpointWithSecret, RotatedSecret
from gridloop.shared.events import Actor, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc


def _department_of(user: Actor, requested: str | None) -> str:
    """A department subscribes to its own events; nobody, the admin included, does so in its name."""
    if user.role != Role.DEPARTMENT_AGENT:
        raise NotPermitted(
            "department_only",
            "接收地址只能由部门自己登记，管理员不能以部门名义订阅其事件 "
            "(a department registers its own endpoints; nobody subscribes in its name)",
        )
    if requested not in (None, user.org):
        raise NotPermitted("other_department", "只能为本部门登记 (you may register endpoints for your own department)")
    return user.org


def _check_types(event_types: list[str]) -> list[str]:
    unknown = domain.unsubscribable(event_types)
    if unknown:
        raise EndpointRefused(
            "unknown_event_types", f"不能订阅的事件类型 (event types one cannot subscribe to): {unknown}"
        )
    return sorted(set(event_types))


async def _check_url(database: Database, outbound: Outbound, department: str, url: str) -> None:
    """The same judgement as at each delivery, so what is refused is never stored."""
    allow_list = domain.stored_allow_list(await store.allow_list(database.db, department))
    verdict = (await outbound.screen(url, allow_list)).verdict
    if not verdict.allowed:
        raise EndpointRefused(verdict.code, verdict.message)


async def register(
    *,
    database: Database,
    outbound: Outbound,
    user: Actor,
    department: str | None,
    url: str,
    event_types: list[str],
    description: str,
) -> EndpointWithSecret:
    owner = _department_of(user, department)
    types = _check_types(event_types)
    await _check_url(database, outbound, owner, url)
    doc: Doc = {
        "_id": new_id(),
        "department": owner,
        "url": url,
        "description": description,
        "event_types": types,
        "enabled": True,
        "secret": domain.new_secret(),
        "failures_in_row": 0,
        "failing_since": None,
        "created_at": database.clock.now(),
        "created_by": user.sub,
        "deleted_at": None,
    }
    await store.insert_endpoint(database.db, doc)
    return endpoint_view(EndpointWithSecret, doc, user, secret=doc["secret"])


async def change_endpoint(
    *,
    database: Database,
    outbound: Outbound,
    user: Actor,
    endpoint_id: str,
    enabled: bool | None,
    url: str | None,
    event_types: list[str] | None,
) -> EndpointView:
    found = await owned(database, user, endpoint_id)
    if url is not None or event_types is not None:
        may(user, found["department"], "change")
    if enabled is not None:
        may(user, found["department"], "enable" if enabled else "disable")
    changes: Doc = {}
    if event_types is not None:
        changes["event_types"] = _check_types(event_types)
    if url is not None:
        await _check_url(database, outbound, found["department"], url)
        changes["url"] = url
    if enabled is not None:
        changes["enabled"] = enabled
        if enabled:  # switched on again: its backlog goes out, the failure count starts over
            changes |= {"failures_in_row": 0, "failing_since": None, "disabled_reason": "", "disabled_at": None}
    doc = await store.update_endpoint(database.db, endpoint_id, changes) if changes else None
    return endpoint_view(EndpointView, doc or await owned(database, user, endpoint_id), user)


async def delete_endpoint(*, database: Database, user: Actor, endpoint_id: str) -> None:
    """Idempotent: deleting one's endpoint again answers as the first time did."""
    doc = await store.endpoint_even_deleted(database.db, endpoint_id)
    if doc is None or (user.role != Role.ADMIN and doc["department"] != user.org):
        raise UnknownEndpoint(endpoint_id)
    if doc.get("deleted_at") is None:
        await store.delete_endpoint(database.db, endpoint_id, database.clock.now())


async def rotate_secret(*, database: Database, user: Actor, endpoint_id: str) -> RotatedSecret:
    await owned(database, user, endpoint_id, "rotate_secret")
    current = await store.endpoint(database.db, endpoint_id, with_secrets=True)
    assert current is not None
    now = database.clock.now()
    secret = domain.new_secret()
    doc = await store.update_endpoint(
        database.db,
        endpoint_id,
        {
            "secret": secret,
            "previous_secret": current["secret"],
            "previous_secret_until": now + domain.ROTATION_OVERLAP,
        },
    )
    assert doc is not None
    return endpoint_view(
        RotatedSecret, doc, user, secret=secret, previous_secret_valid_until=now + domain.ROTATION_OVERLAP
    )


async def replay(*, database: Database, user: Actor, endpoint_id: str, since: datetime) -> int:
    """Send again everything queued for the endpoint since `since`, under the same webhook-ids."""
    await owned(database, user, endpoint_id, "replay")
    return await store.requeue_since(database.db, endpoint_id, since, database.clock.now())


async def put_allow_list(
    *, database: Database, outbound: Outbound, user: Actor, department: str, entries: list[str]
) -> AllowListView:
    """The destinations a department's endpoints may use, as a whole: what is not listed is refused
    from the next delivery on, for endpoints registered before too."""
    try:
        parsed = domain.parse_allow_list(entries)
    except domain.InvalidDestination as exc:
        raise EndpointRefused("invalid_destination", exc.message) from exc
    problem = domain.allow_list_problem(parsed, outbound.policy)
    if problem:
        raise EndpointRefused("destination_refused", problem)
    doc = await store.put_allow_list(database.db, department, [str(e) for e in parsed], database.clock.now(), user.sub)
    return allow_list_view(department, doc)
