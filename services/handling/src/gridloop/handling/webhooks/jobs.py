"""The webhook sender, a periodic job: it works the delivery queue with retries and exponential
backoff, at least once, judging each destination again after resolving it and sending to the
address it judged; an endpoint that keeps failing is switched off."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from gridloop.handling.webhooks import domain, store
from gridloop.handling.webhooks.domain import Destination, RetryPolicy
from gridloop.handling.webhooks.outbound import Outbound, post_pinned
from gridloop.shared import leases
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.webhooks import delivered, signed_headers

log = structlog.get_logger()
LEASE = timedelta(seconds=60)  # one attempt's hold on a delivery; a sender that dies frees it then
SENDS_AT_ONCE = 8


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
    allow_lists = {d["_id"]: domain.stored_allow_list(d) for d in await store.allow_lists(database.db)}
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
