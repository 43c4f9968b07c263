"""Supervision's consumer takes each partition's fetched events in one transaction
(handlers.project_batch) instead of one transaction per event, so the projection keeps up with
the loop's busiest minutes. Records it cannot take together go one by one through the shared
per-event path (messagebus.event_handler), which retries and dead-letters each on its own."""

import time

from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind

from gridloop.shared.bus import HandleBatch
from gridloop.shared.events import Envelope
from gridloop.shared.logging import bound
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import Database
from gridloop.shared.refdata import Calendars
from gridloop.shared.tracing import link_to, span
from gridloop.supervision import handlers


def batch_handler(*, database: Database, calendars: Calendars, metrics: Metrics, group: str) -> HandleBatch:
    """Every record of the batch durable when it returns, or none of them (it raises)."""

    async def handle(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        # A malformed or unknown event raises here, and the per-event path dead-letters it.
        events = [Envelope.from_wire(r.value or b"") for r in records]
        if any(e.event_type not in handlers.PROJECTED for e in events):
            raise ValueError("an event supervision does not project")
        calendar = await calendars()
        started = time.perf_counter()
        with (
            bound(correlation_id=events[0].correlation_id, batch=str(len(events))),
            # One span for the batch, linked to the span that published each of its events.
            span(
                f"process {records[0].topic}",
                kind=SpanKind.CONSUMER,
                links=[link_to(r.headers) for r in records],
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "process",
                    "messaging.batch.message_count": len(records),
                    "messaging.consumer.group.name": group,
                },
            ),
        ):
            # The first event stands as the cause: the transaction is a consumer's, not a request's.
            fresh = await database.transaction(
                lambda uow: handlers.project_batch(events, uow, calendar, metrics), causation=events[0]
            )
        share = (time.perf_counter() - started) / len(events)
        for event in events:
            outcome = "handled" if event.event_id in fresh else "duplicate"
            metrics.events_consumed.labels(metrics.service, group, event.event_type, outcome).inc()
            metrics.handler_duration.labels(metrics.service, group, event.event_type).observe(share)

    return handle
