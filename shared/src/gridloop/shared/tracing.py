"""Traces across HTTP, the outbox, Kafka and the consumers (OpenTelemetry), exported by OTLP.

One report makes one trace: the filing's HTTP span (FastAPI's own, which honours a caller's
`traceparent`), the outbox row it wrote (its headers keep the
trace context beside the correlation id), the relay's publish, then in each consuming service a
consumer span with its transaction inside, whose own events carry the context on to the next.

Off unless `GRIDLOOP_OTEL_ENDPOINT` names an OTLP/HTTP collector: then no provider is installed,
every span is a no-op and no header is added."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind

from gridloop.shared.settings import ServiceSettings

TRACE_HEADERS = ("traceparent", "tracestate")
"""W3C Trace Context, the headers that carry a trace from one process to the next."""
KafkaHeaders = Iterable[tuple[str, bytes]]
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes, many a minute: no trace of their own."""
UNTRACED_PREFIXES = ("/app/static/", "/app/vendor/")
"""The pages' files, the same for every request: no trace either."""


def traced(scope: Mapping[str, object]) -> bool:
    """Whether a request gets a server span (FastAPI's telemetry `exclude` is the opposite)."""
    path = str(scope.get("path", ""))
    return path not in UNTRACED_PATHS and not path.startswith(UNTRACED_PREFIXES)


TELEMETRY: TelemetryConfig = {"metrics": False, "logs": False, "exclude": lambda scope: not traced(scope)}
"""FastAPI's native OpenTelemetry for every app: server and operation spans while a provider is
set (configure_tracing); metrics stay Prometheus's and logs structlog's."""


class Tracing:
    """The process's tracer provider while tracing is on; `shutdown` sends what is still queued."""

    def __init__(self, provider: object | None) -> None:
        self._provider = provider

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    def shutdown(self) -> None:
        if self._provider is not None:
            self._provider.shutdown()  # type: ignore[attr-defined]


def configure_tracing(settings: ServiceSettings) -> Tracing:
    """Install an OTLP exporter for this service when the settings name a collector."""
    if not settings.otel_endpoint:
        return Tracing(None)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": settings.service_name,
                "service.namespace": "gridloop",
                "deployment.environment.name": settings.environment,
            }
        ),
        # A trace begun upstream is kept or dropped as a whole: only its first service samples.
        sampler=ParentBased(TraceIdRatioBased(settings.otel_sample_ratio)),
    )
    exporter = OTLPSpanExporter(endpoint=f"{settings.otel_endpoint.rstrip('/')}/v1/traces", timeout=5)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=settings.otel_export_delay_ms))
    trace.set_tracer_provider(provider)
    return Tracing(provider)


def tracer() -> trace.Tracer:
    return trace.get_tracer("gridloop")


def context_from_kafka(headers: KafkaHeaders | None) -> Context:
    """The trace a Kafka record (or an outbox row's headers) belongs to."""
    carrier = {k: v.decode("latin-1") for k, v in headers or () if k in TRACE_HEADERS}
    return propagate.extract(carrier)


def trace_headers() -> dict[str, str]:
    """The current span's context as HTTP headers, for a call to another service; empty while
    tracing is off."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def kafka_trace_headers() -> list[tuple[str, bytes]]:
    """The current span's context as Kafka headers; empty while tracing is off."""
    return [(k, v.encode("latin-1")) for k, v in trace_headers().items()]


def with_trace(headers: KafkaHeaders) -> list[tuple[str, bytes]]:
    """`headers` with the trace context replaced by the current span's."""
    return [*((k, v) for k, v in headers if k not in TRACE_HEADERS), *kafka_trace_headers()]


def link_to(headers: KafkaHeaders | None) -> Link | None:
    """A link to the span that produced a record, for work that handles many records at once."""
    span_context = trace.get_current_span(context_from_kafka(headers)).get_span_context()
    return Link(span_context) if span_context.is_valid else None


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    context: Context | None = None,
    attributes: Mapping[str, str | int | float | bool] | None = None,
    links: Iterable[Link | None] = (),
) -> Iterator[Span]:
    """A span around a block: an exception marks it failed and is recorded on it."""
    with tracer().start_as_current_span(
        name,
        context=context,
        kind=kind,
        attributes=dict(attributes or {}),
        links=[link for link in links if link is not None],
        record_exception=True,
        set_status_on_exception=True,
    ) as current:
        yield current
