"""Standard Webhooks (standardwebhooks.com), as GridLoop sends them: departments' endpoints
(handling) and a city's notification gateway (feedback) get the same headers and signatures,
made by the `standardwebhooks` package their receivers verify with."""

import base64
import hashlib
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def message_id(*parts: str) -> str:
    """A webhook-id from what identifies the message: the same on every retry."""
    return "msg_" + hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]


def signed_headers(*, message: str, body: str, secrets_: list[str], at: datetime) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` (Unix seconds of `at`, UTC) and `webhook-signature`
    (`v1,<base64 HMAC-SHA256>`, one per secret, space-separated, during a rotation)."""
    signatures = " ".join(Webhook(s).sign(message, at, body) for s in secrets_)
    return {
        "webhook-id": message,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "GridLoop-Webhooks/1",
    }


def delivered(status_code: int) -> bool:
    """Any 2xx is a delivery; everything else (and no answer) is tried again."""
    return 200 <= status_code < 300
