"""What intake's routes are given, as types: the caller, the database, the directory's reference
data, and the filing limit and duplicate rule the composition root made from settings. Only this
module touches `app.state`."""

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gridloop.intake.domain import DuplicatePolicy
from gridloop.intake.limits import RateLimit, ReadLimits
from gridloop.shared.auth import CurrentUser
from gridloop.shared.deps import PhotoIds, ReferenceData, ServiceDatabase

__all__ = [
    "ClientLimit",
    "CurrentUser",
    "DuplicateRule",
    "Jurisdiction",
    "Open311Reads",
    "PhotoIds",
    "PhotoLimit",
    "ReferenceData",
    "ReportLimit",
    "ServiceDatabase",
    "install",
]


def install(
    app: FastAPI,
    *,
    report_limit: RateLimit,
    photo_limit: RateLimit,
    client_limit: RateLimit,
    open311_reads: ReadLimits,
    duplicate_policy: DuplicatePolicy,
    jurisdiction: str,
) -> None:
    """Called once by the composition root: one limiter per instance, so every request counts in it."""
    app.state.report_limit = report_limit
    app.state.photo_limit = photo_limit
    app.state.client_limit = client_limit
    app.state.open311_reads = open311_reads
    app.state.duplicate_policy = duplicate_policy
    app.state.jurisdiction = jurisdiction


def client_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.client_limit
    return limit


def open311_reads(request: Request) -> ReadLimits:
    limits: ReadLimits = request.app.state.open311_reads
    return limits


def jurisdiction(request: Request) -> str:
    value: str = request.app.state.jurisdiction
    return value


def report_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.report_limit
    return limit


def photo_limit(request: Request) -> RateLimit:
    limit: RateLimit = request.app.state.photo_limit
    return limit


def duplicate_policy(request: Request) -> DuplicatePolicy:
    policy: DuplicatePolicy = request.app.state.duplicate_policy
    return policy


ReportLimit = Annotated[RateLimit, Depends(report_limit)]
"""How many reports one user may file in a window (GRIDLOOP_REPORT_RATE_LIMIT)."""
PhotoLimit = Annotated[RateLimit, Depends(photo_limit)]
"""How many photos one user may upload in a window (GRIDLOOP_PHOTO_RATE_LIMIT)."""
ClientLimit = Annotated[RateLimit, Depends(client_limit)]
"""How many requests one Open311 client application may file in a window (GRIDLOOP_OPEN311_RATE_LIMIT)."""
Open311Reads = Annotated[ReadLimits, Depends(open311_reads)]
"""How many Open311 reads a client application (GRIDLOOP_OPEN311_READ_RATE_LIMIT_PER_KEY) or an
address without a key (GRIDLOOP_OPEN311_READ_RATE_LIMIT_PER_ADDRESS) may make in a window."""
Jurisdiction = Annotated[str, Depends(jurisdiction)]
"""The jurisdiction_id Open311 clients may name (GRIDLOOP_OPEN311_JURISDICTION_ID)."""
DuplicateRule = Annotated[DuplicatePolicy, Depends(duplicate_policy)]
"""疑似重复: how close and how recent an open ticket of the category must be (GRIDLOOP_DUPLICATE_*)."""
