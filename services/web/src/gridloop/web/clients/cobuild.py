"""共建 (cobuild), as the console calls it: needs and their actions, the wish wall, resource offers,
matching suggestions and projects. The answers and request bodies are cobuild's own
(gridloop.shared.api.cobuild), so a form that would be refused is refused here first, in the same words."""

from pydantic import BaseModel

from gridloop.shared.api.cobuild import (
    EmptyRequest,
    Matches,
    Need,
    NeedAction,
    NeedList,
    Offer,
    OfferAction,
    OfferPage,
    OfferRequest,
    Project,
    ProjectAction,
    ProjectPage,
    ProjectRequest,
    SubmitNeedRequest,
    Wall,
)
from gridloop.web.clients.base import ServiceClient

BASE = "/v1/cobuild"


class CobuildClient(ServiceClient):
    service = "cobuild"

    async def needs(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        grid: str | None = None,
        community: str | None = None,
        cursor: str | None = None,
        limit: int = 25,
    ) -> NeedList:
        return await self._get(
            NeedList, f"{BASE}/needs", status=status, kind=kind, grid=grid, community=community, cursor=cursor,
            limit=limit,
        )  # fmt: skip

    async def need(self, need_id: str) -> Need:
        return await self._get(Need, f"{BASE}/needs/{need_id}")

    async def submit_need(self, body: SubmitNeedRequest, *, key: str) -> Need:
        """Safe to send twice: the key makes the second the first one's answer."""
        return await self._call(Need, "POST", f"{BASE}/needs", body, headers={"Idempotency-Key": key})

    async def act(self, need_id: str, action: NeedAction, body: BaseModel | None = None) -> Need:
        """One of a need's actions (the service checks the state and the caller's part in it)."""
        return await self._call(Need, "POST", f"{BASE}/needs/{need_id}/{action}", body or EmptyRequest())

    async def wall(
        self,
        *,
        community: str | None = None,
        grid: str | None = None,
        kind: str | None = None,
        cursor: str | None = None,
    ) -> Wall:
        return await self._get(Wall, f"{BASE}/wall", community=community, grid=grid, kind=kind, cursor=cursor)

    async def matches(self, *, community: str | None = None) -> Matches:
        return await self._get(Matches, f"{BASE}/matches", community=community)

    async def offers(
        self, *, status: str | None = None, community: str | None = None, cursor: str | None = None
    ) -> OfferPage:
        return await self._get(OfferPage, f"{BASE}/offers", status=status, community=community, cursor=cursor)

    async def offer(self, offer_id: str) -> Offer:
        return await self._get(Offer, f"{BASE}/offers/{offer_id}")

    async def submit_offer(self, body: OfferRequest) -> Offer:
        return await self._call(Offer, "POST", f"{BASE}/offers", body)

    async def act_on_offer(self, offer_id: str, action: OfferAction, body: BaseModel | None = None) -> Offer:
        return await self._call(Offer, "POST", f"{BASE}/offers/{offer_id}/{action}", body or EmptyRequest())

    async def projects(
        self, *, status: str | None = None, community: str | None = None, cursor: str | None = None
    ) -> ProjectPage:
        return await self._get(ProjectPage, f"{BASE}/projects", status=status, community=community, cursor=cursor)

    async def project(self, project_id: str) -> Project:
        return await self._get(Project, f"{BASE}/projects/{project_id}")

    async def propose_project(self, body: ProjectRequest) -> Project:
        return await self._call(Project, "POST", f"{BASE}/projects", body)

    async def act_on_project(self, project_id: str, action: ProjectAction, body: BaseModel | None = None) -> Project:
        return await self._call(Project, "POST", f"{BASE}/projects/{project_id}/{action}", body or EmptyRequest())
