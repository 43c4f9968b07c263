"""cobuild's periodic passes: the needs' deadlines, and hotspots turned into project ideas."""

from gridloop.cobuild.members import jobs as members_jobs
from gridloop.cobuild.needs import jobs as needs_jobs
from gridloop.cobuild.projects import jobs as projects_jobs
from gridloop.shared.service import Runtime


async def watch_needs(runtime: Runtime) -> None:
    await needs_jobs.watch(runtime)


async def watch_hotspots(runtime: Runtime) -> None:
    await projects_jobs.watch(runtime)


async def watch_members(runtime: Runtime) -> None:
    await members_jobs.watch(runtime)
