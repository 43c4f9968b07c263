"""Prometheus metrics of one service, on a registry of its own (base units, low-cardinality labels)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "gridloop_http_requests_total",
            "HTTP requests by route template and status",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "gridloop_http_request_duration_seconds",
            "HTTP request duration",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.events_published = Counter(
            "gridloop_events_published_total",
            "Events the outbox relay published, by type",
            ["service", "event_type"],
            registry=self.registry,
        )
        self.events_consumed = Counter(
            "gridloop_events_consumed_total",
            "Events consumed, by type and outcome",
            ["service", "group", "event_type", "outcome"],
            registry=self.registry,
        )
        self.handler_duration = Histogram(
            "gridloop_event_handler_duration_seconds",
            "Time to handle one event, transaction included",
            ["service", "group", "event_type"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "gridloop_outbox_backlog",
            "Outbox rows not yet acknowledged by the broker",
            ["service"],
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "gridloop_outbox_oldest_age_seconds",
            "How long the oldest outbox row not yet acknowledged by the broker has waited, as this instance saw it",
            ["service"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "gridloop_dead_letters_total",
            "Messages sent to a dead-letter topic",
            ["service", "group"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "gridloop_webhook_deliveries_total",
            "Attempts to deliver a webhook or a notification out of GridLoop, by what became of them",
            ["service", "channel", "outcome"],
            registry=self.registry,
        )
        self.webhook_endpoints_disabled = Counter(
            "gridloop_webhook_endpoints_disabled_total",
            "Departments' webhook endpoints switched off after repeated failure",
            ["service", "department"],
            registry=self.registry,
        )
        self.commit_failures = Counter(
            "gridloop_consumer_commit_failures_total",
            "Offset commits refused by the broker",
            ["service", "group"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "gridloop_consumer_lag",
            "Messages on the broker not yet handled by this consumer group, summed over its partitions",
            ["service", "group"],
            registry=self.registry,
        )
        # The working calendar (the directory sets these): how far ahead the published holiday schedules reach.
        self.calendar_published_until = Gauge(
            "gridloop_calendar_published_until_timestamp_seconds",
            "End of the last day the published holiday schedules (节假日安排) cover, as Unix time",
            registry=self.registry,
        )
        self.calendar_published_ahead = Gauge(
            "gridloop_calendar_published_ahead_seconds",
            "Time from now to the end of the published holiday schedules (negative once past it)",
            registry=self.registry,
        )
        # Turnaround and backlog by department (supervision sets these; labels never name a ticket or a person).
        self.stage_seconds = Histogram(
            "gridloop_ticket_stage_seconds",
            "Time a ticket spent in a stage: dispatch_to_accept, dispatch_to_resolve, resolve_to_close",
            ["stage", "department"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.open_tickets = Gauge(
            "gridloop_tickets_open", "Open tickets led by the department", ["department"], registry=self.registry
        )
        self.overdue_tickets = Gauge(
            "gridloop_tickets_overdue",
            "Open tickets of the department past their accept or resolve deadline",
            ["department"],
            registry=self.registry,
        )
        self.department_indicator = Gauge(
            "gridloop_department_indicator",
            "A department's rates and composite score over the last 30 days: response_rate (响应率), "
            "resolution_rate (解决率), satisfaction_rate (满意率), on_time_resolution_rate (按期处置率), score",
            ["department", "indicator"],
            registry=self.registry,
        )
        self.service = service


MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
# From minutes to days: a street light may be fixed in an hour, a burst main in a day, a building
# dispute in weeks.
STAGE_BUCKETS = (
    MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR,
    DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
)  # fmt: skip
