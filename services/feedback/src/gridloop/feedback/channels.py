"""Where reporters' notifications go besides the app: a port, and the adapter a city plugs its
SMS or WeChat template-message gateway into. The gateway is the city's own HTTP service: it
receives each notification signed as a Standard Webhook and maps the recipient (a GridLoop user
id) to a phone number or an OpenID. No vendor SDK is part of GridLoop."""

import json
from datetime import UTC, datetime
from typing import Protocol

import httpx

from gridloop.shared.mongo import Doc
from gridloop.shared.webhooks import delivered, message_id, signed_headers


class ChannelUnavailable(Exception):
    """The channel did not take the notification; it is tried again later."""


class Channel(Protocol):
    name: str

    async def send(self, notification: Doc) -> None:
        """Hand one notification over; raise ChannelUnavailable if it was not taken."""


def gateway_body(notification: Doc) -> str:
    return json.dumps(
        {
            "type": "notification",
            "timestamp": notification["at"].isoformat(),
            "data": {
                "notification_id": notification["_id"],
                "recipient": notification["recipient"],
                "ticket_id": notification["ticket_id"],
                "ticket_number": notification["ticket_number"],
                "event_type": notification["event_type"],
                "text": notification["text"],
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


class WebhookGateway:
    """POSTs each notification to the city's gateway, signed with its secret."""

    name = "gateway"

    def __init__(self, *, url: str, secret: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.secret = secret
        self.client = client

    async def send(self, notification: Doc) -> None:
        body = gateway_body(notification)
        headers = signed_headers(
            message=message_id("notification", notification["_id"]),
            body=body,
            secrets_=[self.secret],
            at=datetime.now(UTC),  # the receiver checks it against its own clock
        )
        try:
            response = await self.client.post(self.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
        if not delivered(response.status_code):
            raise ChannelUnavailable(f"HTTP {response.status_code}")
