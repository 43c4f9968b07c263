"""Prometheus metrics of one service, on a registry of its own (base units, low-cardinality labels)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"registry": self.registry}
        self.http_requests = Counter(
            "gridloop_http_requests_total",
            "HTTP requests by route template and status",
            ["service", "method", "route", "status"],
            **labels,
        )
        self.http_duration = Histogram(
            "gridloop_http_request_duration_seconds",
            "HTTP request duration",
            ["service", "method", "route"],
            **labels,
        )
        self.events_published = Counter(
            "gridloop_events_published_total",
            "Events the outbox relay published, by type",
            ["service", "event_type"],
            **labels,
        )
        self.events_consumed = Counter(
            "gridloop_events_consumed_total",
            "Events consumed, by type and outcome",
            ["service", "group", "event_type", "outcome"],
            **labels,
        )
        self.handler_duration = Histogram(
            "gridloop_event_handler_duration_seconds",
            "Time to handle one event, transaction included",
            ["service", "group", "event_type"],
            **labels,
        )
        self.outbox_backlog = Gauge(
            "gridloop_outbox_backlog",
            "Outbox rows not yet acknowledged by the broker",
            ["service"],
            **labels,
        )
        self.dead_letters = Counter(
            "gridloop_dead_letters_total",
            "Messages sent to a dead-letter topic",
            ["service", "group"],
            **labels,
        )
        self.commit_failures = Counter(
            "gridloop_consumer_commit_failures_total",
            "Offset commits refused by the broker",
            ["service", "group"],
            **labels,
        )
        self.service = service
