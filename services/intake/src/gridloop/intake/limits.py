"""Per-user rate limits where a route invites flooding (filing reports, uploading photos). Counted
in the service instance's memory: with N instances behind a gateway a user gets at most N times the
limit, which is what the gateway's own limit is for. (Request bodies are capped for every route by
FastAPI's `max_body_size`, set from `GRIDLOOP_MAX_BODY_BYTES`.)"""

import math
import time
from dataclasses import dataclass

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gridloop.shared.errors import ApiError


class RateLimit:
    """e.g. RateLimit("report", "30/minute"): at most 30 calls per user in any 60 seconds."""

    def __init__(self, name: str, spec: str) -> None:
        self.name = name
        self.item = parse(spec)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, user: str) -> None:
        if await self.limiter.hit(self.item, self.name, user):
            return
        stats = await self.limiter.get_window_stats(self.item, self.name, user)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            429,
            "rate_limited",
            f"操作过于频繁，请 {retry_after} 秒后再试 (too many requests; retry in {retry_after} s)",
            {"limit": str(self.item)},
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class ReadLimits:
    """Open311 reads, which need no sign-in: a client application's by its key, anyone else's by
    the address they call from (the gateway passes it on)."""

    per_key: RateLimit
    per_address: RateLimit
