"""cobuild's periodic passes: the needs' deadlines, hotspots turned into project ideas, points that
expire, and members who missed their half-yearly return or the yearly minimum."""

from gridloop.cobuild.members import jobs as members_jobs
from gridloop.cobuild.needs import jobs as needs_jobs
from gridloop.cobuild.points import jobs as points_jobs
from gridloop.cobuild.projects import jobs as projects_jobs
from gridloop.shared.service import Runtime


async def watch_needs(runtime: Runtime) -> None:
    await needs_jobs.watch(runtime)


async def watch_hotspots(runtime: Runtime) -> None:
    await projects_jobs.watch(runtime)


async def expire_points(runtime: Runtime) -> None:
    await points_jobs.watch(runtime)


async def watch_members(runtime: Runtime) -> None:
    await members_jobs.watch(runtime)
