"""Dispatch, as the street desk calls it: the queue, one queued ticket, assignment (吹哨),
cancellation and extension decisions."""

from gridloop.shared.api.dispatch import (
    Assigned,
    AssignRequest,
    Cancelled,
    CancelRequest,
    DecideRequest,
    ExtensionDecided,
    PendingExtensions,
    Queue,
    QueueItem,
)
from gridloop.web.clients.base import Refused, ServiceClient


class DispatchClient(ServiceClient):
    service = "dispatch"

    async def queue(self, *, reason: str | None = None, limit: int = 100, cursor: str | None = None) -> Queue:
        return await self._get(Queue, "/v1/dispatch/queue", reason=reason, limit=limit, cursor=cursor)

    async def queued(self, ticket_id: str) -> QueueItem | None:
        """The ticket as it waits in the desk's queue; None when it does not wait there (404 `not_queued`)."""
        try:
            return await self._get(QueueItem, f"/v1/dispatch/queue/{ticket_id}")
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    async def extensions(self) -> PendingExtensions:
        return await self._get(PendingExtensions, "/v1/dispatch/extensions")

    async def assign(self, ticket_id: str, body: AssignRequest) -> Assigned:
        return await self._call(Assigned, "POST", f"/v1/dispatch/tickets/{ticket_id}/assign", body)

    async def cancel(self, ticket_id: str, body: CancelRequest) -> Cancelled:
        return await self._call(Cancelled, "POST", f"/v1/dispatch/tickets/{ticket_id}/cancel", body)

    async def decide_extension(self, ticket_id: str, body: DecideRequest) -> ExtensionDecided:
        return await self._call(ExtensionDecided, "POST", f"/v1/dispatch/extensions/{ticket_id}/decide", body)
