"""Webhooks into departments' own systems: endpoints a department registers inside the
allow-list the admin keeps for it, deliveries queued from the event log in the same transaction
as the event's processed mark (so each event is queued once per endpoint, and never lost), and a
sender that works the queue with retries and exponential backoff, at least once, judging each
destination again after resolving it and sending to the address it judged."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from gridloop.handling.store import WORK_ORDERS
from gridloop.handling.webhooks import domain, store
from gridloop.handling.webhooks.domain import Destination, RetryPolicy
from gridloop.handling.webhooks.outbound import Outbound, post_pinned
from gridloop.shared import leases
from gridloop.shared.events import Actor, Envelope, Payload, Role
from gridloop.shared.ids import new_id
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, Doc, UnitOfWork
from gridloop.shared.webhooks import delivered, signed_headers

log = structlog.get_logger()
LEASE = timedelta(seconds=60)  # one attempt's hold on a delivery; a sender that dies frees it then
SENDS_AT_ONCE = 8


class UnknownEndpoint(LookupError):
    """No such endpoint, or another department's: the same answer."""


class EndpointRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class NotPermitted(PermissionError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


# ---- from the event log ----------------------------------------------------------------------------


async def queue_deliveries(payload: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Queue the event for every endpoint of the departments it concerns that asked for its type."""
    # The endpoints first: few departments register one, and without one that wants this type
    # there is nothing to learn from the ticket's orders (one read per event instead of two).
    wanting = [
        e for e in await store.enabled_endpoints(uow.db, session=uow.session) if domain.wants(e, event.event_type)
    ]
    if not wanting:
        return
    orders = (
        await uow.db[WORK_ORDERS]
        .find({"ticket_id": event.ticket_id}, {"department": 1, "ticket_number": 1}, session=uow.session)
        .to_list(None)
    )
    departments = domain.departments_involved(event, {o["department"] for o in orders})
    number = next((o["ticket_number"] for o in orders if o.get("ticket_number")), "")
    for endpoint in wanting:
        if endpoint["department"] not in departments:
            continue
        await store.queue_delivery(
            uow.db,
            {
                "_id": domain.webhook_id(endpoint["_id"], event.event_id),
                "endpoint_id": endpoint["_id"],
                "department": endpoint["department"],
                "event_id": event.event_id,
                "event_type": event.event_type,
                "ticket_id": event.ticket_id,
                "ticket_number": number,
                "body": domain.body(event),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": uow.now,
                "created_at": uow.now,
            },
            uow.session,
        )


# ---- the sender --------------------------------------------------------------------------------------


async def deliver_due(
    *,
    database: Database,
    client: httpx.AsyncClient,
    outbound: Outbound,
    policy: RetryPolicy,
    metrics: Metrics | None = None,
    limit: int = 200,
) -> int:
    """One pass: try every due delivery of an enabled endpoint once; returns how many arrived."""
    now = database.clock.now()
    enabled = await store.enabled_ids(database.db)
    if not enabled:
        return 0
    claimed_at = await leases.server_now(database.db)
    due = await store.due(
        database.db,
        now=now,
        longest_pause=policy.longest,
        server_now=claimed_at,
        lease=LEASE,
        limit=limit,
        endpoint_ids=enabled,
    )
    if not due:
        return 0
    allow_lists = {d["_id"]: _entries(d) for d in await store.allow_lists(database.db)}
    gate = asyncio.Semaphore(SENDS_AT_ONCE)

    async def one(delivery: Doc) -> bool:
        async with gate:
            return await _attempt(
                database=database,
                client=client,
                outbound=outbound,
                allow_lists=allow_lists,
                policy=policy,
                delivery=delivery,
                claimed_at=claimed_at,
                metrics=metrics,
            )

    return sum(await asyncio.gather(*(one(d) for d in due)))


async def _attempt(
    *,
    database: Database,
    client: httpx.AsyncClient,
    outbound: Outbound,
    allow_lists: dict[str, list[Destination]],
    policy: RetryPolicy,
    delivery: Doc,
    claimed_at: datetime,
    metrics: Metrics | None,
) -> bool:
    endpoint = await store.endpoint(database.db, delivery["endpoint_id"], with_secrets=True)
    if endpoint is None or not endpoint.get("enabled"):
        return False  # waits: an endpoint switched off gets its backlog once it is on again
    now = database.clock.now()
    if not await store.claim(database.db, delivery, server_now=claimed_at, lease=LEASE):
        return False
    # Judged again at each attempt, after resolving: the allow-list may have shrunk, and the
    # name may now answer with another address than at registration.
    screened = await outbound.screen(endpoint["url"], allow_lists.get(endpoint["department"], []))
    headers = signed_headers(
        message=delivery["_id"],
        body=delivery["body"],
        secrets_=domain.signing_secrets(endpoint, now),
        # The signature's timestamp is the receiver's guard against replayed requests, checked
        # against its own clock: the moment of sending, not the service's business clock.
        at=datetime.now(UTC),
    )
    status_code: int | None = None
    if not screened.verdict.allowed:
        error = domain.NOT_SENT[screened.verdict.code]
        log.warning(
            "webhook_destination_refused",
            endpoint_id=endpoint["_id"],
            department=endpoint["department"],
            reason=screened.verdict.code,
        )
    else:
        try:
            response = await post_pinned(client, screened, content=delivery["body"].encode(), headers=headers)
            status_code = response.status_code
            error = "" if delivered(response.status_code) else f"HTTP {response.status_code}"
        # What went wrong, in general terms only: a receiver's error text says nothing a
        # department needs, and would tell a prober what listens where.
        except httpx.TimeoutException:
            error = domain.TIMED_OUT
        except httpx.ConnectError:
            error = domain.NO_CONNECTION
        except (httpx.HTTPError, ValueError):
            error = domain.NO_VALID_ANSWER
    done = database.clock.now()
    entry = {"at": done, "status_code": status_code, "error": error}
    if metrics:
        outcome = "refused" if not screened.verdict.allowed else "delivered" if not error else "failed"
        metrics.webhook_deliveries.labels(metrics.service, "webhook", outcome).inc()
    if not error:
        await store.record_attempt(
            database.db, delivery["_id"], {"status": "delivered", "delivered_at": done, "last_error": ""}, entry
        )
        await store.endpoint_result(
            database.db,
            endpoint["_id"],
            {"failures_in_row": 0, "failing_since": None, "last_delivered_at": done},
        )
        return True
    attempts = int(delivery.get("attempts", 0)) + 1
    await store.record_attempt(
        database.db,
        delivery["_id"],
        {"next_attempt_at": policy.next_attempt(attempts, done), "last_error": error},
        entry,
    )
    after = await store.endpoint_result(
        database.db,
        endpoint["_id"],
        {"failing_since": endpoint.get("failing_since") or done, "last_error": error},
        inc={"failures_in_row": 1},
    )
    if after and after.get("enabled") and policy.disables(after["failures_in_row"], after["failing_since"], done):
        reason = f"连续 {after['failures_in_row']} 次投递失败，已自动停用 (disabled after repeated failure: {error})"
        await store.endpoint_result(
            database.db, endpoint["_id"], {"enabled": False, "disabled_at": done, "disabled_reason": reason}
        )
        if metrics:
            metrics.webhook_endpoints_disabled.labels(metrics.service, endpoint["department"]).inc()
        log.warning(
            "webhook_endpoint_disabled", endpoint_id=endpoint["_id"], department=endpoint["department"], error=error
        )
    return False


# ---- the departments' and the admin's commands -------------------------------------------------------


def _own(user: Actor, department: str) -> bool:
    return user.role == Role.DEPARTMENT_AGENT and user.org == department


def endpoint_view(doc: Doc, user: Actor) -> dict[str, Any]:
    own = _own(user, doc["department"])
    return {
        "endpoint_id": doc["_id"],
        "department": doc["department"],
        "url": doc["url"],
        "description": doc.get("description", ""),
        "event_types": doc["event_types"],
        "enabled": doc["enabled"],
        "disabled_reason": doc.get("disabled_reason") or "",
        "failures_in_row": doc.get("failures_in_row", 0),
        "last_delivered_at": doc.get("last_delivered_at"),
        "last_error": doc.get("last_error") or "",
        "created_at": doc["created_at"],
        "actions": domain.actions_now(own_department=own, enabled=bool(doc["enabled"])),
    }


def delivery_view(doc: Doc) -> dict[str, Any]:
    return {
        "webhook_id": doc["_id"],
        "event_id": doc["event_id"],
        "event_type": doc["event_type"],
        "ticket_id": doc["ticket_id"],
        "ticket_number": doc.get("ticket_number", ""),
        "status": doc["status"],
        "attempts": doc.get("attempts", 0),
        "next_attempt_at": doc["next_attempt_at"] if doc["status"] == "pending" else None,
        "delivered_at": doc.get("delivered_at"),
        "last_error": doc.get("last_error") or "",
        "created_at": doc["created_at"],
        "log": doc.get("log", []),
    }


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
    unknown = sorted(set(event_types) - domain.subscribable())
    if unknown:
        raise EndpointRefused(
            "unknown_event_types", f"不能订阅的事件类型 (event types one cannot subscribe to): {unknown}"
        )
    return sorted(set(event_types))


def _entries(doc: Doc | None) -> list[Destination]:
    return domain.parse_allow_list(doc["entries"]) if doc else []


async def _check_url(database: Database, outbound: Outbound, department: str, url: str) -> None:
    """The same judgement as at each delivery, so what is refused is never stored."""
    allow_list = _entries(await store.allow_list(database.db, department))
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
) -> dict[str, Any]:
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
    return {**endpoint_view(doc, user), "secret": doc["secret"]}


def _scope(user: Actor) -> Doc:
    return {} if user.role == Role.ADMIN else {"department": user.org}


async def _owned(database: Database, user: Actor, endpoint_id: str, action: str | None = None) -> Doc:
    """The endpoint, if the caller may see it (else: unknown), and may take `action` on it."""
    doc = await store.endpoint(database.db, endpoint_id)
    if doc is None or (user.role != Role.ADMIN and doc["department"] != user.org):
        raise UnknownEndpoint(endpoint_id)
    _may(user, doc["department"], action)
    return doc


def _may(user: Actor, department: str, action: str | None) -> None:
    if action is not None and action not in domain.permitted(own_department=_own(user, department)):
        raise NotPermitted(
            "department_only",
            "只有该部门自己能这样做：管理员只能查看、停用或删除接收地址 "
            "(only the department itself may; the administrator may view, switch off or delete)",
        )


async def list_endpoints(*, database: Database, user: Actor) -> list[dict[str, Any]]:
    return [endpoint_view(d, user) for d in await store.endpoints(database.db, _scope(user))]


async def get_endpoint(*, database: Database, user: Actor, endpoint_id: str) -> dict[str, Any]:
    return endpoint_view(await _owned(database, user, endpoint_id), user)


async def change_endpoint(
    *,
    database: Database,
    outbound: Outbound,
    user: Actor,
    endpoint_id: str,
    enabled: bool | None,
    url: str | None,
    event_types: list[str] | None,
) -> dict[str, Any]:
    found = await _owned(database, user, endpoint_id)
    if url is not None or event_types is not None:
        _may(user, found["department"], "change")
    if enabled is not None:
        _may(user, found["department"], "enable" if enabled else "disable")
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
    return endpoint_view(doc or await _owned(database, user, endpoint_id), user)


async def delete_endpoint(*, database: Database, user: Actor, endpoint_id: str) -> None:
    """Idempotent: deleting one's endpoint again answers as the first time did."""
    doc = await store.endpoint_even_deleted(database.db, endpoint_id)
    if doc is None or (user.role != Role.ADMIN and doc["department"] != user.org):
        raise UnknownEndpoint(endpoint_id)
    if doc.get("deleted_at") is None:
        await store.delete_endpoint(database.db, endpoint_id, database.clock.now())


async def rotate_secret(*, database: Database, user: Actor, endpoint_id: str) -> dict[str, Any]:
    await _owned(database, user, endpoint_id, "rotate_secret")
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
    return {
        **endpoint_view(doc, user),
        "secret": secret,
        "previous_secret_valid_until": now + domain.ROTATION_OVERLAP,
    }


async def delivery_log(
    *, database: Database, user: Actor, endpoint_id: str, status: str | None, limit: int
) -> list[dict[str, Any]]:
    await _owned(database, user, endpoint_id)
    return [delivery_view(d) for d in await store.deliveries(database.db, endpoint_id, status, limit)]


async def replay(*, database: Database, user: Actor, endpoint_id: str, since: datetime) -> int:
    """Send again everything queued for the endpoint since `since`, under the same webhook-ids."""
    await _owned(database, user, endpoint_id, "replay")
    return await store.requeue_since(database.db, endpoint_id, since, database.clock.now())


# ---- the admin's allow-lists ---------------------------------------------------------------------------


class UnknownAllowList(LookupError):
    """Another department's allow-list, asked for by an agent: not theirs to see."""


def allow_list_view(department: str, doc: Doc | None) -> dict[str, Any]:
    return {
        "department": department,
        "entries": (doc or {}).get("entries", []),
        "updated_at": (doc or {}).get("updated_at"),
        "updated_by": (doc or {}).get("updated_by", ""),
    }


async def list_allow_lists(*, database: Database, user: Actor) -> list[dict[str, Any]]:
    """The admin: every department's; an agent: its own department's, to know what it may register."""
    if user.role == Role.ADMIN:
        return [allow_list_view(d["_id"], d) for d in await store.allow_lists(database.db)]
    return [allow_list_view(user.org, await store.allow_list(database.db, user.org))]


async def get_allow_list(*, database: Database, user: Actor, department: str) -> dict[str, Any]:
    if user.role != Role.ADMIN and user.org != department:
        raise UnknownAllowList(department)
    return allow_list_view(department, await store.allow_list(database.db, department))


async def put_allow_list(
    *, database: Database, outbound: Outbound, user: Actor, department: str, entries: list[str]
) -> dict[str, Any]:
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
