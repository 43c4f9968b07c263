"""Turns a Kafka record into an idempotent call of the handlers a service routes its type to."""

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog
from aiokafka.structs import ConsumerRecord

from gridloop.shared.bus import Handle, PermanentFailure
from gridloop.shared.events import Envelope, MalformedEvent, UnknownEventType
from gridloop.shared.logging import bound
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import AlreadyProcessed, Database, UnitOfWork

log = structlog.get_logger()
EventHandler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
Routes = Mapping[str, Sequence[EventHandler]]


def event_handler(*, database: Database, routes: Routes, metrics: Metrics, group: str) -> Handle:
    """Each event is handled once per service: the processed mark and the handlers' writes
    commit together, so a redelivered event finds its mark and changes nothing."""

    async def handle(record: ConsumerRecord[bytes, bytes]) -> None:
        if record.value is None:
            raise PermanentFailure("empty message")
        try:
            event = Envelope.from_wire(record.value)
        except (MalformedEvent, UnknownEventType) as exc:
            metrics.events_consumed.labels(metrics.service, group, "unknown", "dead_letter").inc()
            raise PermanentFailure(str(exc)) from exc
        handlers = routes.get(event.event_type, ())
        if not handlers:
            return
        with bound(correlation_id=event.correlation_id, ticket_id=event.ticket_id, event_type=event.event_type):
            started = time.perf_counter()

            async def work(uow: UnitOfWork) -> None:
                await uow.mark_processed(database.producer, event.event_id)
                for handler in handlers:
                    await handler(event, uow)

            try:
                await database.transaction(work, causation=event)
                outcome = "handled"
            except AlreadyProcessed:
                outcome = "duplicate"
            metrics.handler_duration.labels(metrics.service, group, event.event_type).observe(
                time.perf_counter() - started
            )
            metrics.events_consumed.labels(metrics.service, group, event.event_type, outcome).inc()
            log.debug("event_handled", outcome=outcome)

    return handle
