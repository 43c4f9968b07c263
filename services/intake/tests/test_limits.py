import asyncio

import pytest

from gridloop.intake.limits import RateLimit
from gridloop.shared.errors import ApiError

pytestmark = pytest.mark.unit


def test_each_user_gets_their_own_allowance_and_a_retry_time_when_it_is_spent() -> None:
    async def scenario() -> ApiError:
        limit = RateLimit("report", "3/minute")
        for _ in range(3):
            await limit.check("gw-1")
        await limit.check("gw-2")
        with pytest.raises(ApiError) as refused:
            await limit.check("gw-1")
        return refused.value

    refused = asyncio.run(scenario())
    assert (refused.status, refused.code) == (429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
