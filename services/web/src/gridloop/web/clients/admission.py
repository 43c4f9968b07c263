"""社区事务准入, as the console calls it: a department's requests, the district's decisions, a
community's inbox and flags, and the certificates a community may issue. The answers and bodies are
cobuild's own (gridloop.shared.api.admission)."""

from gridloop.shared.api.admission import (
    AdmissionRequestBody,
    AdmissionRequestPage,
    AdmissionRequestView,
    CertificateAccepted,
    CertificateList,
    CertificateRequestBody,
    DecisionBody,
    FlagBody,
    FlagList,
    FlagView,
    Inbox,
    RevokeBody,
)
from gridloop.web.clients.base import ServiceClient

BASE = "/v1/cobuild/admission"


class AdmissionClient(ServiceClient):
    service = "cobuild"

    async def requests(
        self, *, status: str | None = None, overdue: bool = False, cursor: str | None = None, limit: int = 25
    ) -> AdmissionRequestPage:
        return await self._get(
            AdmissionRequestPage, f"{BASE}/requests", status=status, overdue=overdue or None, cursor=cursor,
            limit=limit,
        )  # fmt: skip

    async def file(self, body: AdmissionRequestBody) -> AdmissionRequestView:
        return await self._call(AdmissionRequestView, "POST", f"{BASE}/requests", body)

    async def decide(self, request_id: str, body: DecisionBody) -> AdmissionRequestView:
        return await self._call(AdmissionRequestView, "POST", f"{BASE}/requests/{request_id}/decision", body)

    async def revoke(self, request_id: str, body: RevokeBody) -> AdmissionRequestView:
        return await self._call(AdmissionRequestView, "POST", f"{BASE}/requests/{request_id}/revoke", body)

    async def inbox(self) -> Inbox:
        return await self._get(Inbox, f"{BASE}/inbox")

    async def flag(self, body: FlagBody) -> FlagView:
        return await self._call(FlagView, "POST", f"{BASE}/flags", body)

    async def flags(self) -> FlagList:
        return await self._get(FlagList, f"{BASE}/flags")

    async def certificates(self, community: str) -> CertificateList:
        return await self._get(CertificateList, f"{BASE}/certificates", community=community)

    async def ask_certificate(self, body: CertificateRequestBody) -> CertificateAccepted:
        return await self._call(CertificateAccepted, "POST", f"{BASE}/certificate-requests", body)
