"""Handling, as the console calls it: the department's work orders and their actions, and the
webhooks of a department's own system (with the admin's allow-lists)."""

from gridloop.shared.api.handling import (
    AllowListRequest,
    AllowLists,
    AllowListView,
    DeliveryLog,
    EndpointChange,
    EndpointList,
    EndpointRequest,
    EndpointView,
    EndpointWithSecret,
    ExtensionRequest,
    Inbox,
    InboxItem,
    NoteRequest,
    RejectRequest,
    Replayed,
    ReplayRequest,
    ResolveRequest,
    RotatedSecret,
    WebhookEventTypes,
    WorkOrder,
)
from gridloop.web.clients.base import ServiceClient

ORDERS = "/v1/work-orders"
HOOKS = "/v1/webhooks/endpoints"
ALLOW_LISTS = "/v1/webhooks/allow-lists"


class HandlingClient(ServiceClient):
    service = "handling"

    async def inbox(
        self, *, status: str | None = None, overdue: bool | None = None, limit: int = 25, cursor: str | None = None
    ) -> Inbox:
        flag = None if overdue is None else str(overdue).lower()
        return await self._get(Inbox, ORDERS, status=status, overdue=flag, limit=limit, cursor=cursor)

    async def work_order(self, ticket_id: str) -> InboxItem:
        return await self._get(InboxItem, f"{ORDERS}/{ticket_id}")

    async def accept(self, ticket_id: str) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/accept")

    async def reject(self, ticket_id: str, body: RejectRequest) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/reject", body)

    async def progress(self, ticket_id: str, body: NoteRequest) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/progress", body)

    async def part(self, ticket_id: str, body: NoteRequest) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/part", body)

    async def extension(self, ticket_id: str, body: ExtensionRequest) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/extension", body)

    async def resolve(self, ticket_id: str, body: ResolveRequest) -> WorkOrder:
        return await self._call(WorkOrder, "POST", f"{ORDERS}/{ticket_id}/resolve", body)

    async def event_types(self) -> WebhookEventTypes:
        """The events a webhook may subscribe to (the event registry's, as handling checks them)."""
        return await self._get(WebhookEventTypes, "/v1/webhooks/event-types")

    async def endpoints(self) -> EndpointList:
        return await self._get(EndpointList, HOOKS)

    async def register_endpoint(self, body: EndpointRequest) -> EndpointWithSecret:
        return await self._call(EndpointWithSecret, "POST", HOOKS, body)

    async def endpoint(self, endpoint_id: str) -> EndpointView:
        return await self._get(EndpointView, f"{HOOKS}/{endpoint_id}")

    async def deliveries(self, endpoint_id: str, *, limit: int = 100) -> DeliveryLog:
        return await self._get(DeliveryLog, f"{HOOKS}/{endpoint_id}/deliveries", limit=limit)

    async def change_endpoint(self, endpoint_id: str, body: EndpointChange) -> EndpointView:
        return await self._call(EndpointView, "PATCH", f"{HOOKS}/{endpoint_id}", body)

    async def rotate_secret(self, endpoint_id: str) -> RotatedSecret:
        return await self._call(RotatedSecret, "POST", f"{HOOKS}/{endpoint_id}/rotate-secret")

    async def replay(self, endpoint_id: str, body: ReplayRequest) -> Replayed:
        return await self._call(Replayed, "POST", f"{HOOKS}/{endpoint_id}/replay", body)

    async def delete_endpoint(self, endpoint_id: str) -> None:
        await self._send("DELETE", f"{HOOKS}/{endpoint_id}")

    async def allow_lists(self) -> AllowLists:
        return await self._get(AllowLists, ALLOW_LISTS)

    async def keep_allow_list(self, department: str, body: AllowListRequest) -> AllowListView:
        return await self._call(AllowListView, "PUT", f"{ALLOW_LISTS}/{department}", body)
