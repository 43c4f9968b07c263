"""双报到 and 公益岗位 (cobuild), as the console calls them; answers and bodies are cobuild's own
(gridloop.shared.api.members)."""

from gridloop.shared.api.members import (
    EmptyRequest,
    Headcount,
    HeadcountRequest,
    Member,
    MemberList,
    PlaceRequest,
    Post,
    PostList,
    PublishPostRequest,
    RegisterRequest,
    UnitReport,
    UnitReportRequest,
    UnitReports,
)
from gridloop.web.clients.base import ServiceClient

BASE = "/v1/cobuild"


class MembersClient(ServiceClient):
    service = "cobuild"

    async def me(self) -> Member:
        return await self._get(Member, f"{BASE}/members/me")

    async def register(self, body: RegisterRequest) -> Member:
        return await self._call(Member, "POST", f"{BASE}/members", body)

    async def members(self, *, status: str | None = None, limit: int = 100) -> MemberList:
        return await self._get(MemberList, f"{BASE}/members", status=status, limit=limit)

    async def step(self, member_id: str, action: str, body: PlaceRequest | EmptyRequest | None = None) -> Member:
        """confirm, place, return: the service checks the state and the caller's part."""
        return await self._call(Member, "POST", f"{BASE}/members/{member_id}/{action}", body or EmptyRequest())

    async def unit_reports(self, unit: str) -> UnitReports:
        return await self._get(UnitReports, f"{BASE}/units/{unit}/reports")

    async def report(self, unit: str, body: UnitReportRequest) -> UnitReport:
        return await self._call(UnitReport, "POST", f"{BASE}/units/{unit}/reports", body)

    async def headcount(self, unit: str, body: HeadcountRequest) -> Headcount:
        return await self._call(Headcount, "PUT", f"{BASE}/units/{unit}/headcount", body)

    async def unit_members(self, unit: str, *, limit: int = 200) -> MemberList:
        return await self._get(MemberList, f"{BASE}/units/{unit}/members", limit=limit)

    async def posts(self, *, status: str | None = None, limit: int = 100) -> PostList:
        return await self._get(PostList, f"{BASE}/posts", status=status, limit=limit)

    async def publish_post(self, body: PublishPostRequest) -> Post:
        return await self._call(Post, "POST", f"{BASE}/posts", body)

    async def post_step(self, post_id: str, action: str) -> Post:
        """claim, release (the member), close (the community worker)."""
        return await self._call(Post, "POST", f"{BASE}/posts/{post_id}/{action}", EmptyRequest())
