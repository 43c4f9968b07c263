"""Identifiers: time-ordered event ids and ticket ids."""

import uuid6


def new_id() -> str:
    """A UUIDv7 string: unique, and sorting by it sorts by creation time."""
    return str(uuid6.uuid7())
