"""积分 (cobuild's points ledger), as the console calls it: a member's own points, the community's
shop (积分超市) with its redemptions, and the ranking. The models are cobuild's own
(gridloop.shared.api.points)."""

from gridloop.shared.api.points import MyPoints, Ranking, Redemption, RedemptionRequest, Shop, ShopRequest
from gridloop.web.clients.base import ServiceClient

BASE = "/v1/cobuild"


class PointsClient(ServiceClient):
    service = "cobuild"

    async def mine(self) -> MyPoints:
        return await self._get(MyPoints, f"{BASE}/points/me")

    async def shop(self, community: str) -> Shop:
        return await self._get(Shop, f"{BASE}/shops/{community}")

    async def set_shop(self, community: str, body: ShopRequest) -> Shop:
        return await self._call(Shop, "PUT", f"{BASE}/shops/{community}", body)

    async def redeem(self, community: str, body: RedemptionRequest) -> Redemption:
        return await self._call(Redemption, "POST", f"{BASE}/shops/{community}/redemptions", body)

    async def ranking(self, community: str, year: int | None = None) -> Ranking:
        return await self._get(Ranking, f"{BASE}/points/ranking", community=community, year=year)
