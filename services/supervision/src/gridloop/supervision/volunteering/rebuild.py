"""The 双报到 part of `gridloop-supervision-rebuild`: the volunteering records folded in memory
from the volunteering topic's events, by the rules the live projection applies one event at a time
(handlers.apply), then written in large batches in place of the old ones."""

from dataclasses import dataclass, field

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.events import Envelope
from gridloop.shared.mongo import Doc
from gridloop.supervision.store import replace_all
from gridloop.supervision.volunteering import handlers, store


@dataclass
class Replay:
    """The records folded in memory, event by event, in topic order within each key."""

    records: dict[str, dict[str, Doc]] = field(default_factory=lambda: {c: {} for c in store.COLLECTIONS})
    seen: set[str] = field(default_factory=set)
    events: int = 0
    skipped: int = 0

    def add(self, event: Envelope) -> None:
        if event.event_id in self.seen or event.event_type not in handlers.PROJECTED:
            return
        self.seen.add(event.event_id)
        self.events += 1
        collection, record_id = handlers.target(event)
        held = self.records[collection]
        after = handlers.apply(held.get(record_id), event)
        if after is None:
            self.skipped += 1  # not allowed by the record's state: the live projection leaves it out too
        else:
            held[record_id] = after

    @property
    def count(self) -> int:
        """Members, posts and service records replayed."""
        return sum(len(self.records[c]) for c in (store.MEMBERS, store.POSTS, store.RECORDS))


async def write(db: AsyncDatabase[Doc], replay: Replay) -> None:
    """Replace every volunteering record with the replayed ones."""
    await replace_all(db, replay.records)
    await store.ensure_indexes(db)
