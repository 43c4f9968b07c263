"""Coordination between processes, judged by the one clock they share: the database server's.

Business time (deadlines, overdue flags, the working calendar) follows each service's clock, which
tests and operators may set. A lease, claim or lock that one process writes and another reads must
not: a process whose clock ran fast, killed while it held a lease, would hold it for as long as the
skew. So every such "until" is written and judged in the database server's time (`hello` answers
it on MongoDB and SecantusDB alike), and one that lies further ahead of the server's time than its
own length was written before that clock stepped back (a reboot, an NTP step) and counts as free."""

import time
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.shared.clock import as_utc
from gridloop.shared.mongo import Doc


async def server_now(db: AsyncDatabase[Doc]) -> datetime:
    """The database server's time, the clock every instance of every service reads alike."""
    reply = await db.command("hello")
    return as_utc(reply["localTime"])


def free(field: str, *, now: datetime, length: timedelta) -> Doc:
    """A filter: the lease in `field` may be taken at the server's `now`: none, over, or written
    under a clock that has since stepped back (further ahead than a lease ever runs)."""
    return {"$or": [{field: None}, {field: {"$lt": now}}, {field: {"$gt": now + length}}]}


def stale_schedule(field: str, *, now: datetime, longest: timedelta) -> Doc:
    """A filter: a retry time in `field` that is due, or further ahead of `now` than any pause is
    long, so set by a clock that ran fast: due now rather than after the skew."""
    return {"$or": [{field: {"$lte": now}}, {field: {"$gt": now + longest}}]}


class Lease:
    """A named lease that one instance holds at a time (the outbox relay's, one per service).

    The holder believes its own lease by its monotonic clock from the moment it asked, never by a
    wall clock, so neither a step of its clock nor the server's makes it hold one longer than
    `seconds`; renewing while more than half is left costs no write."""

    def __init__(self, db: AsyncDatabase[Doc], *, collection: str, name: str, owner: str, seconds: float) -> None:
        self.db = db
        self.collection = collection
        self.name = name
        self.owner = owner
        self.seconds = seconds
        self._believed_until: float | None = None

    async def hold(self) -> bool:
        """Take or renew the lease; False while another instance holds it."""
        asked = time.monotonic()
        if self._believed_until is not None and self._believed_until - asked > self.seconds / 2:
            return True
        self._believed_until = None
        now = await server_now(self.db)
        length = timedelta(seconds=self.seconds)
        result = await self.db[self.collection].update_one(
            {"_id": self.name, "$or": [{"owner": self.owner}, free("until", now=now, length=length)]},
            {"$set": {"owner": self.owner, "until": now + length}},
        )
        if result.matched_count == 0:
            # Nobody's lease to take over: either no lease yet (insert it) or another's, live.
            try:
                taken = await self.db[self.collection].update_one(
                    {"_id": self.name}, {"$setOnInsert": {"owner": self.owner, "until": now + length}}, upsert=True
                )
            except DuplicateKeyError:
                return False  # another instance inserted it first
            if taken.upserted_id is None:
                return False
        self._believed_until = asked + self.seconds
        return True

    async def release(self) -> None:
        """Free the lease at once (a clean stop), so the next instance need not wait for it."""
        self._believed_until = None
        await self.db[self.collection].update_one({"_id": self.name, "owner": self.owner}, {"$set": {"until": None}})
