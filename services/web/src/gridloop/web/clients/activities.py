"""服务活动 and 过程纪实 (cobuild's activities), as the console calls them. The answers and request
bodies are cobuild's own (gridloop.shared.api.activities)."""

from pydantic import BaseModel

from gridloop.shared.api.activities import (
    Activity,
    ActivityPage,
    ActivityRequest,
    CheckedIn,
    CheckinCode,
    EmptyBody,
    ManualLogRequest,
    PresenceRequest,
    ReasonBody,
    Record,
    RecordAction,
    RecordPage,
)
from gridloop.web.clients.base import Download, ServiceClient

BASE = "/v1/cobuild"


class ActivitiesClient(ServiceClient):
    service = "cobuild"

    async def activities(
        self, *, community: str | None = None, cursor: str | None = None, limit: int = 30
    ) -> ActivityPage:
        return await self._get(ActivityPage, f"{BASE}/activities", community=community, cursor=cursor, limit=limit)

    async def activity(self, activity_id: str) -> Activity:
        return await self._get(Activity, f"{BASE}/activities/{activity_id}")

    async def publish(self, body: ActivityRequest) -> Activity:
        return await self._call(Activity, "POST", f"{BASE}/activities", body)

    async def signup(self, activity_id: str) -> Activity:
        return await self._call(Activity, "POST", f"{BASE}/activities/{activity_id}/signup", EmptyBody())

    async def code(self, activity_id: str) -> CheckinCode:
        return await self._get(CheckinCode, f"{BASE}/activities/{activity_id}/code")

    async def checkin(self, activity_id: str, body: PresenceRequest) -> CheckedIn:
        return await self._call(CheckedIn, "POST", f"{BASE}/activities/{activity_id}/checkin", body)

    async def checkout(self, activity_id: str, body: PresenceRequest) -> Record:
        return await self._call(Record, "POST", f"{BASE}/activities/{activity_id}/checkout", body)

    async def log(self, activity_id: str, body: ManualLogRequest) -> Record:
        return await self._call(Record, "POST", f"{BASE}/activities/{activity_id}/records", body)

    async def cancel(self, activity_id: str, body: ReasonBody) -> Activity:
        return await self._call(Activity, "POST", f"{BASE}/activities/{activity_id}/cancel", body)

    async def close(self, activity_id: str) -> Activity:
        return await self._call(Activity, "POST", f"{BASE}/activities/{activity_id}/close", EmptyBody())

    async def records(
        self,
        *,
        member: str | None = None,
        activity: str | None = None,
        year: int | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> RecordPage:
        return await self._get(
            RecordPage, f"{BASE}/records", member=member, activity=activity, year=year, cursor=cursor, limit=limit
        )

    async def act_on_record(self, record_id: str, action: RecordAction, body: BaseModel) -> Record:
        return await self._call(Record, "POST", f"{BASE}/records/{record_id}/{action}", body)

    async def certificate(self, member_id: str, *, organizer: str | None, year: int | None) -> Download:
        return await self._download(f"{BASE}/members/{member_id}/certificate.pdf", organizer=organizer, year=year)
