"""The 共建 part of `gridloop-supervision-rebuild`: the need, offer, project and hotspot records
folded in memory from the needs topic's events, by the rules the live projection applies one
event at a time (handlers.step), then written in large batches in place of the old ones."""

from dataclasses import dataclass, field

from pymongo.asynchronous.database import AsyncDatabase

from gridloop.shared.events import Envelope, HotspotSolved
from gridloop.shared.mongo import Doc
from gridloop.supervision.cobuild import handlers, store
from gridloop.supervision.store import replace_all


@dataclass
class Replay:
    """The records folded in memory, event by event, in topic order within each record."""

    records: dict[str, dict[str, Doc]] = field(default_factory=lambda: {c: {} for c in store.COLLECTIONS})
    seen: set[str] = field(default_factory=set)
    events: int = 0
    skipped: int = 0

    def add(self, event: Envelope) -> None:
        if event.event_id in self.seen or event.event_type not in handlers.PROJECTED:
            return
        self.seen.add(event.event_id)
        self.events += 1
        if isinstance(event.payload, HotspotSolved):
            self.records[store.HOTSPOTS].setdefault(
                event.payload.project_id, handlers.solved_record(event, event.payload)
            )
            return
        held = self.records[handlers.kind_of(event).collection]
        try:
            after = handlers.step(held.get(event.ticket_id), event)
        except handlers.UnknownRecord:
            self.skipped += 1  # the live consumer sent it to its dead-letter topic
            return
        if after is not None:
            held[event.ticket_id] = after

    @property
    def count(self) -> int:
        """Needs, offers and projects replayed."""
        return sum(len(self.records[c]) for c in (store.NEEDS, store.OFFERS, store.PROJECTS))


async def write(db: AsyncDatabase[Doc], replay: Replay) -> None:
    """Replace every 共建 record with the replayed ones."""
    await replace_all(db, replay.records)
    await store.ensure_indexes(db)
