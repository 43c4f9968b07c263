"""Turns a Kafka record into an idempotent call of the handlers a service routes its type to."""

import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import Span, SpanKind

from gridloop.shared.bus import Handle, HandleBatch, PermanentFailure
from gridloop.shared.events import Envelope, MalformedEvent, Payload, UnknownEventType
from gridloop.shared.logging import bound
from gridloop.shared.metrics import Metrics
from gridloop.shared.mongo import PROCESSED, AlreadyProcessed, Database, UnitOfWork, processed_key
from gridloop.shared.tracing import context_from_kafka, span

log = structlog.get_logger()
P = TypeVar("P", bound=Payload)
Handler = Callable[[P, Envelope, UnitOfWork], Awaitable[None]]
"""A handler of one event type: its typed payload, the envelope's facts (ticket, time, actor), the transaction."""


@dataclass(frozen=True)
class Route:
    """The handlers of one event type, in the order they run in its transaction."""

    payload: type[Payload]
    handlers: tuple[Handler[Any], ...]


def on(payload: type[P], *handlers: Handler[P]) -> Route:
    """Route `payload`'s event type to `handlers`; mypy checks that each takes that payload."""
    return Route(payload=payload, handlers=handlers)


Routes = Mapping[str, Route]


def routes(*entries: Route) -> Routes:
    """A routing table, keyed by each payload's wire type; one entry per type."""
    table: dict[str, Route] = {}
    for entry in entries:
        if entry.payload.EVENT_TYPE in table:
            raise ValueError(f"{entry.payload.EVENT_TYPE} is routed twice")
        table[entry.payload.EVENT_TYPE] = entry
    return table


def merge_routes(*tables: Routes) -> Routes:
    """One routing table from several areas of a service: an event type routed by more than one area
    runs each area's handlers, in the order the tables are given, in the one transaction."""
    merged: dict[str, Route] = {}
    for table in tables:
        for event_type, entry in table.items():
            if event_type in merged:
                merged[event_type] = Route(entry.payload, merged[event_type].handlers + entry.handlers)
            else:
                merged[event_type] = entry
    return merged


async def handle_event(*, database: Database, routes: Routes, event: Envelope) -> bool:
    """Run the handlers `event` is routed to in one transaction with its processed mark; False if
    it was handled before (a redelivery), True otherwise (also when nothing is routed to it)."""
    route = routes.get(event.event_type)
    if route is None:
        return True
    if not isinstance(event.payload, route.payload):
        raise PermanentFailure(f"{event.event_type} v{event.version} is not a {route.payload.__name__}")
    payload = event.payload

    async def work(uow: UnitOfWork) -> None:
        await uow.mark_processed(database.producer, event.event_id)
        for handler in route.handlers:
            await handler(payload, event, uow)

    try:
        await database.transaction(work, causation=event)
    except AlreadyProcessed:
        return False
    return True


def consumed_attributes(record: ConsumerRecord[bytes, bytes], group: str, event: Envelope) -> dict[str, str | int]:
    """What a consumer span says of the record it handles (OpenTelemetry's messaging conventions)."""
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": record.topic,
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": record.offset,
        "messaging.consumer.group.name": group,
        "gridloop.event_type": event.event_type,
        "gridloop.ticket_id": event.ticket_id,
        # From the relay's publish (the record's timestamp) to now: the broker and the fetch.
        "gridloop.queued_ms": max(0, int(time.time() * 1000) - record.timestamp),
    }


@contextmanager
def consuming(record: ConsumerRecord[bytes, bytes], group: str, event: Envelope) -> Iterator[Span]:
    """The consumer span of one event, in the trace its record carries, with the event's ids
    bound to every log line inside."""
    with (
        bound(correlation_id=event.correlation_id, ticket_id=event.ticket_id, event_type=event.event_type),
        span(
            f"process {record.topic}",
            kind=SpanKind.CONSUMER,
            context=context_from_kafka(record.headers),
            attributes=consumed_attributes(record, group, event),
        ) as current,
    ):
        yield current


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
        if event.event_type not in routes:
            return
        with consuming(record, group, event) as current:
            started = time.perf_counter()
            outcome = "handled" if await handle_event(database=database, routes=routes, event=event) else "duplicate"
            current.set_attribute("gridloop.outcome", outcome)
            metrics.handler_duration.labels(metrics.service, group, event.event_type).observe(
                time.perf_counter() - started
            )
            metrics.events_consumed.labels(metrics.service, group, event.event_type, outcome).inc()
            log.debug("event_handled", outcome=outcome)

    return handle


def batch_event_handler(*, database: Database, routes: Routes, metrics: Metrics, group: str) -> HandleBatch:
    """A partition's fetched events in one transaction, each with its processed mark, in the
    partition's order: under load one commit serves many events instead of one each. Each
    event's handlers see what the earlier ones wrote (the same transaction) and emit with that
    event as their cause, inside a consumer span of its own. Anything the batch cannot take
    (a malformed event, a failing handler, a mark another instance wrote meanwhile) raises, and
    the consumer takes the same records one by one through `event_handler`."""

    async def handle(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        taken: list[tuple[ConsumerRecord[bytes, bytes], Envelope, Route]] = []
        for record in records:
            event = Envelope.from_wire(record.value or b"")  # malformed: the one-by-one path dead-letters it
            route = routes.get(event.event_type)
            if route is None:
                continue
            if not isinstance(event.payload, route.payload):
                raise PermanentFailure(f"{event.event_type} v{event.version} is not a {route.payload.__name__}")
            taken.append((record, event, route))
        if not taken:
            return
        started = time.perf_counter()

        async def work(uow: UnitOfWork) -> set[str]:
            keys = {processed_key(database.producer, e.event_id): e.event_id for _, e, _ in taken}
            marked = uow.db[PROCESSED].find({"_id": {"$in": list(keys)}}, {"_id": 1}, session=uow.session)
            seen = {keys[d["_id"]] async for d in marked}
            fresh: set[str] = set()
            for record, event, route in taken:
                if event.event_id in seen or event.event_id in fresh:
                    continue  # a redelivery: handled before
                uow.causation = event  # what this event's handlers emit is caused by it
                with consuming(record, group, event) as current:
                    current.set_attribute("gridloop.outcome", "handled")
                    for handler in route.handlers:
                        await handler(event.payload, event, uow)
                fresh.add(event.event_id)
            if fresh:
                marks = [{"_id": processed_key(database.producer, e), "at": uow.now} for e in fresh]
                await uow.db[PROCESSED].insert_many(marks, session=uow.session)
            return fresh

        fresh = await database.transaction(work, causation=taken[0][1])
        share = (time.perf_counter() - started) / len(taken)
        for _, event, _ in taken:
            outcome = "handled" if event.event_id in fresh else "duplicate"
            metrics.events_consumed.labels(metrics.service, group, event.event_type, outcome).inc()
            metrics.handler_duration.labels(metrics.service, group, event.event_type).observe(share)

    return handle
