"""A small HTTP client for the GridLoop API, speaking as one user: used by the demo and the tests."""

from typing import Any

import httpx

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Role
from gridloop.shared.settings import ServiceSettings


class ApiUser:
    def __init__(
        self,
        *,
        urls: dict[str, str],
        sub: str,
        role: Role,
        org: str,
        name: str = "",
        settings: ServiceSettings | None = None,
    ) -> None:
        token = TokenVerifier(settings or ServiceSettings()).mint(sub=sub, name=name or sub, role=role, org=org)
        self.sub = sub
        self.org = org
        self.urls = urls
        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.urls[service]}{path}", **kwargs)

    def ok(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(service, method, path, **kwargs)
        if response.status_code >= 300:
            raise AssertionError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def close(self) -> None:
        self.http.close()
