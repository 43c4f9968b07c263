"""Calls from the console to the services, as the signed-in person (their bearer token)."""

from typing import Any

import httpx
from opentelemetry.trace import SpanKind

from gridloop.shared.tracing import span, trace_headers


class ServiceError(Exception):
    """A service refused or failed: its status and its error body, to show the person."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    @property
    def chinese(self) -> str:
        """The message's Chinese part (the services write "中文 (English)")."""
        text = self.message
        return text.split(" (", 1)[0] if text.endswith(")") and " (" in text else text


class Services:
    def __init__(self, urls: dict[str, str], http: httpx.AsyncClient) -> None:
        self.urls = urls
        self.http = http

    async def raw(self, token: str, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.urls[service]}{path}"
        attributes = {"http.request.method": method, "url.full": url, "gridloop.service": service}
        with span(f"{method} {service}", kind=SpanKind.CLIENT, attributes=attributes) as current:
            # The page's trace goes on in the service it calls.
            headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {}), **trace_headers()}
            try:
                response = await self.http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise ServiceError(503, "unavailable", f"{service} 暂时无法访问，请稍后重试") from exc
            current.set_attribute("http.response.status_code", response.status_code)
            return response

    async def call(self, token: str, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.raw(token, service, method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            raise ServiceError(
                response.status_code,
                error.get("code", f"http_{response.status_code}"),
                error.get("message", "服务出错，请稍后重试"),
                error.get("details"),
            )
        return response.json() if response.content else None
