"""The needs' watchdog."""

from gridloop.shared.service import Runtime


async def watch(runtime: Runtime) -> None:
    return None
