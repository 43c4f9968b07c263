"""What the webhook routes are given besides the caller and the database: the way out, with the
policy every registration and delivery is judged by (built by the composition root)."""

from typing import Annotated

from fastapi import Depends, Request

from gridloop.handling.webhooks.outbound import Outbound


def outbound(request: Request) -> Outbound:
    live: Outbound = request.app.state.webhook_outbound
    return live


WebhookOutbound = Annotated[Outbound, Depends(outbound)]
