"""Supervision, as the command centre calls it: indicators in a window, the 红黑榜, the map, the
overdue tickets, one ticket's timeline and the monthly evaluation sheet."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gridloop.shared.api.supervision import (
    CommandMap,
    OverdueTickets,
    Ranking,
    Stats,
    TicketTimeline,
    VolunteeringStats,
)
from gridloop.web.clients.base import Download, ServiceClient

Unit = Literal["departments", "streets", "communities", "grids", "districts"]
VolunteeringUnit = Literal["communities", "streets", "districts", "units"]


@dataclass(frozen=True)
class Window:
    """[start, end): the instants a page's figures are counted over."""

    start: datetime
    end: datetime

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


class SupervisionClient(ServiceClient):
    service = "supervision"

    async def stats(self, unit: Unit, window: Window, *, code: str | None = None) -> Stats:
        """Every unit's figures in the window, or the one unit `code` names."""
        return await self._get(Stats, f"/v1/supervision/stats/{unit}", code=code, **window.params())

    async def ranking(self, unit: Unit, window: Window) -> Ranking:
        return await self._get(Ranking, f"/v1/supervision/ranking/{unit}", **window.params())

    async def volunteering(self, unit: VolunteeringUnit, year: int) -> VolunteeringStats:
        """双报到 and volunteering figures of a year (city time) per area or reporting unit."""
        return await self._get(VolunteeringStats, f"/v1/supervision/volunteering/{unit}", year=year)

    async def map(self, *, grid: str | None = None, limit: int = 1000) -> CommandMap:
        return await self._get(CommandMap, "/v1/supervision/map", grid=grid, limit=limit)

    async def overdue(
        self, *, department: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> OverdueTickets:
        """Overdue and escalated tickets, of one lead department when named (selected by supervision)."""
        return await self._get(
            OverdueTickets, "/v1/supervision/overdue", department=department, limit=limit, cursor=cursor
        )

    async def ticket(self, ticket_id: str) -> TicketTimeline:
        return await self._get(TicketTimeline, f"/v1/supervision/tickets/{ticket_id}")

    async def evaluation_sheet(self, month: str, *, csv: bool = False) -> Download:
        """The month's evaluation sheet (考核表), as a spreadsheet (xlsx) or CSV."""
        return await self._download(f"/v1/supervision/evaluation/{month}", format="csv" if csv else "xlsx")
