"""Webhook rules: which events a department's endpoint gets, how a delivery is identified and
signed (Standard Webhooks), when it is tried again, and when an endpoint that keeps failing is
switched off. Pure: no I/O, no clock read.

Standard Webhooks (standardwebhooks.com): headers `webhook-id` (stable across retries and
replays, so a receiver deduplicates by it), `webhook-timestamp` (Unix seconds of the attempt),
`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; during a secret rotation
one signature per valid secret, space-separated); the body is `{"type", "timestamp", "data"}`
with the event's envelope as data."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gridloop.shared.events import Envelope, TicketDispatched, payload_types
from gridloop.shared.webhooks import message_id, new_secret

__all__ = [
    "RetryPolicy",
    "body",
    "departments_involved",
    "new_secret",
    "signing_secrets",
    "subscribable",
    "wants",
    "webhook_id",
]


def subscribable() -> frozenset[str]:
    """Every ticket event once a department is involved (a report has none until it is dispatched)."""
    return frozenset(t for t, _ in payload_types() if t != "ticket.reported")


ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret still signs after a rotation, so the receiver can switch over."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `first`, doubling, at most `longest` apart; an endpoint failing
    `disable_after` times in a row, over at least `disable_span`, is switched off."""

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(hours=1)
    disable_after: int = 30
    disable_span: timedelta = timedelta(hours=24)

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        delay: timedelta = self.first * (2 ** min(max(attempts - 1, 0), 30))
        return now + min(delay, self.longest)

    def disables(self, failures_in_row: int, failing_since: datetime | None, now: datetime) -> bool:
        return (
            failures_in_row >= self.disable_after
            and failing_since is not None
            and now - failing_since >= self.disable_span
        )


def webhook_id(endpoint_id: str, event_id: str) -> str:
    """One id per endpoint and event: the same on every retry and replay."""
    return message_id(endpoint_id, event_id)


def departments_involved(event: Envelope, order_departments: set[str]) -> set[str]:
    """Whom an event concerns: the departments a dispatch names, else those with a work order."""
    if isinstance(event.payload, TicketDispatched):
        return {event.payload.lead_department, *event.payload.assisting_departments} | order_departments
    return order_departments


def wants(endpoint: dict[str, Any], event_type: str) -> bool:
    return bool(endpoint.get("enabled")) and event_type in endpoint.get("event_types", [])


def body(event: Envelope) -> str:
    return json.dumps(
        {
            "type": event.event_type,
            "timestamp": event.occurred_at.isoformat(),
            "data": json.loads(event.to_wire()),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def signing_secrets(endpoint: dict[str, Any], now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    valid = [endpoint["secret"]]
    previous = endpoint.get("previous_secret")
    if previous and endpoint.get("previous_secret_until") and now < endpoint["previous_secret_until"]:
        valid.append(previous)
    return valid
