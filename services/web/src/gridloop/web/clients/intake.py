"""Intake, as the console calls it: reports, photos and the Open311 client registry."""

from gridloop.shared.api.intake import (
    AttachmentView,
    ClientCreated,
    ClientList,
    ClientRequest,
    ClientView,
    ReportRequest,
    ReportView,
)
from gridloop.web.clients.base import Download, ServiceClient


class IntakeClient(ServiceClient):
    service = "intake"

    async def report(self, ticket_id: str) -> ReportView:
        return await self._get(ReportView, f"/v1/reports/{ticket_id}")

    async def file_report(self, body: ReportRequest, *, key: str) -> ReportView:
        """Safe to send twice: the form's key makes the second a replay of the first."""
        return await self._call(ReportView, "POST", "/v1/reports", body, headers={"Idempotency-Key": key})

    async def upload_photo(self, name: str, data: bytes, content_type: str, *, key: str) -> AttachmentView:
        return await self._call(
            AttachmentView,
            "POST",
            "/v1/attachments",
            files={"file": (name, data, content_type)},
            headers={"Idempotency-Key": key},
        )

    async def photo(self, attachment_id: str) -> Download:
        return await self._download(f"/v1/attachments/{attachment_id}")

    async def open311_clients(self) -> ClientList:
        return await self._get(ClientList, "/v1/open311-clients")

    async def register_client(self, body: ClientRequest) -> ClientCreated:
        return await self._call(ClientCreated, "POST", "/v1/open311-clients", body)

    async def revoke_client(self, client_id: str) -> ClientView:
        return await self._call(ClientView, "DELETE", f"/v1/open311-clients/{client_id}")
