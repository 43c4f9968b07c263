"""Page cursors: opaque to callers, they carry the sort key of a page's last item, so the next page
starts right after it (keyset paging). An item that arrives or leaves meanwhile neither shifts the
rest nor makes one appear twice, as an offset would."""

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import TypeAdapter

K = TypeVar("K", bound=tuple[object, ...])
T = TypeVar("T")
MAX_CURSOR_LENGTH = 200


class InvalidCursor(ValueError):
    """A cursor no listing of this service handed out (mistyped, cut short, or another list's)."""


class Cursor(Generic[K]):
    """The cursors of one listing: its sort key as a tuple, whose first element names the listing,
    written as base64url JSON without padding."""

    def __init__(self, adapter: TypeAdapter[K]) -> None:
        self.adapter = adapter

    def encode(self, key: K) -> str:
        return base64.urlsafe_b64encode(self.adapter.dump_json(key)).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str) -> K:
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
            key = self.adapter.validate_json(raw)
            for value in key:
                if isinstance(value, datetime):
                    value.astimezone(UTC)  # a time the database cannot hold (past year 9999 in UTC)
        except (binascii.Error, ValueError, OverflowError) as exc:
            raise InvalidCursor(cursor) from exc
        return key


def page(items: Sequence[T], *, limit: int, key: Callable[[T], str]) -> tuple[list[T], str | None]:
    """A page of at most `limit` items from `limit + 1` read, and the cursor after its last item
    (None when nothing follows)."""
    shown = list(items[:limit])
    return shown, key(shown[-1]) if len(items) > limit else None
