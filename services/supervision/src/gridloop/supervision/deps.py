"""What supervision's routes are given, as types: the reader, the service's database, clock and
reference data (gridloop.shared.deps), the indicator read model this instance holds in memory,
how units are scored and ranked, and the window a reader asks for. No route reads `app.state`."""

from typing import Annotated

from fastapi import Depends, Query, Request

from gridloop.shared.auth import CurrentUser, require_role
from gridloop.shared.clock import IsoDatetime
from gridloop.shared.deps import ReferenceData, ServiceClock, ServiceDatabase
from gridloop.shared.errors import ApiError
from gridloop.shared.events import Actor, Role
from gridloop.supervision import kpi
from gridloop.supervision.readmodel import ReadModel
from gridloop.supervision.volunteering import domain as volunteering

__all__ = [
    "BoardMinVolume",
    "CobuildReader",
    "CurrentUser",
    "IndicatorModel",
    "Reader",
    "ReferenceData",
    "RequestedWindow",
    "Scoring",
    "ServiceClock",
    "ServiceDatabase",
    "VolunteeringReader",
    "VolunteeringRules",
    "VolunteeringYear",
]

READERS = (Role.SUPERVISOR, Role.STREET_DISPATCHER)  # each within their district or street
COBUILD_READERS = (*READERS, Role.COMMUNITY_WORKER)  # and the 共建 figures of one's own community
VOLUNTEERING_READERS = (*COBUILD_READERS, Role.UNIT_ADMIN)  # and a unit admin its unit's row


def reader(user: CurrentUser) -> Actor:
    """Supervisors read their district or street, street dispatchers their street; nobody else."""
    require_role(user, *READERS)
    return user


def cobuild_reader(user: CurrentUser) -> Actor:
    """The 共建 figures: supervisors and street dispatchers as for tickets, and community workers
    their own community's."""
    require_role(user, *COBUILD_READERS)
    return user


def volunteering_reader(user: CurrentUser) -> Actor:
    """The 双报到 figures: as the 共建 figures, and a unit admin their own unit's."""
    require_role(user, *VOLUNTEERING_READERS)
    return user


def volunteering_rules(request: Request) -> volunteering.Rules:
    """The yearly minimum and the boards' sizes, from the service's settings."""
    rules: volunteering.Rules = request.app.state.volunteering_rules
    return rules


def requested_year(
    clock: ServiceClock,
    year: Annotated[
        int | None,
        Query(ge=kpi.EARLIEST.year, le=kpi.LATEST.year, description="the year, in city time (default: this year)"),
    ] = None,
) -> int:
    """The year asked for, by default the city's current year."""
    return year if year is not None else volunteering.city_year(clock.now())


def board_min_volume(request: Request) -> int:
    """Needs collected before a community's 共建 rates are shown, from the service's settings."""
    volume: int = request.app.state.cobuild_min_volume
    return volume


def read_model(request: Request) -> ReadModel:
    """The indicator read model of this instance, built by the composition root."""
    model: ReadModel = request.app.state.read_model
    return model


def scoring(request: Request) -> kpi.Evaluation:
    """Score weights, ranking minimum and board size, from the service's settings."""
    evaluation: kpi.Evaluation = request.app.state.evaluation
    return evaluation


WindowStart = Annotated[
    IsoDatetime | None, Query(alias="from", description="start of the window, inclusive (default: 30 days before to)")
]
WindowEnd = Annotated[IsoDatetime | None, Query(alias="to", description="end of the window, exclusive (default: now)")]


def requested_window(clock: ServiceClock, start: WindowStart = None, end: WindowEnd = None) -> kpi.Window:
    """The window [from, to) of the query string, with its defaults."""
    try:
        return kpi.window(start, end, now=clock.now())
    except kpi.WindowOutOfRange as exc:
        raise ApiError(
            422,
            "window_out_of_range",
            f"时间须在 {kpi.EARLIEST.year} 至 {kpi.LATEST.year} 年之间 (from and to must lie in those years)",
        ) from exc
    except kpi.InvalidWindow as exc:
        raise ApiError(422, "invalid_window", "开始时间须早于结束时间 (from must be before to)") from exc


Reader = Annotated[Actor, Depends(reader)]
CobuildReader = Annotated[Actor, Depends(cobuild_reader)]
BoardMinVolume = Annotated[int, Depends(board_min_volume)]
IndicatorModel = Annotated[ReadModel, Depends(read_model)]
Scoring = Annotated[kpi.Evaluation, Depends(scoring)]
RequestedWindow = Annotated[kpi.Window, Depends(requested_window)]
VolunteeringReader = Annotated[Actor, Depends(volunteering_reader)]
VolunteeringRules = Annotated[volunteering.Rules, Depends(volunteering_rules)]
VolunteeringYear = Annotated[int, Depends(requested_year)]
