"""What intake's routes are given, as types: the caller, the database, the directory's reference
data, and the filing limit and duplicate rule the composition root made from settings. Only this
module touches `app.state`."""

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gridloop.intake.domain import DuplicatePolicy
from gridloop.intake.limits import RateLimit
from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import ReferenceData, ServiceDatabase

__all__ = ["CurrentUser", "DuplicateRule", "ReferenceData", "ReportLimit", "ServiceDatabase", "install"]


def install(app: FastAPI, *, report_limit: RateLimit, duplicate_policy: DuplicatePolicy) -> None:
    """Called once by the composition root: one limiter per instance, so every request counts in it."""
    app.state.report_limit = report_limit
    app.state.duplicate_policy = duplicate_policy


def report_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.report_limit
    return limit


def duplicate_policy(request: Request) -> DuplicatePolicy:
    policy: DuplicatePolicy = request.app.state.duplicate_policy
    return policy


ReportLimit = Annotated[RateLimit, Depends(report_limit)]
"""How many reports one user may file in a window (GRIDLOOP_REPORT_RATE_LIMIT)."""
DuplicateRule = Annotated[DuplicatePolicy, Depends(duplicate_policy)]
"""疑似重复: how close and how recent an open ticket of the category must be (GRIDLOOP_DUPLICATE_*)."""
