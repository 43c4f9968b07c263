"""structlog set up once per process: JSON off a terminal, with correlation and ticket ids bound."""

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


def configure_logging(*, service: str, level: str = "INFO") -> None:
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if sys.stderr.isatty() else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def current_correlation_id() -> str:
    """The id of the request or event being handled, or a fresh one for work that starts here."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return value if isinstance(value, str) else str(uuid.uuid4())


@contextmanager
def bound(**values: str | None) -> Iterator[None]:
    with structlog.contextvars.bound_contextvars(**values):
        yield
