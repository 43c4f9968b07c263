"""What every service client shares: the call (with the person's token and the page's trace), and
the one mapping of a service's answer to `Refused` (it said no: 4xx, shown beside the form) or
`ServiceError` (it failed or could not be reached, shown as the page's error)."""

from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from gridloop.shared.tracing import span, trace_headers

M = TypeVar("M", bound=BaseModel)
INVALID = "请求内容不合法 (the request is invalid)"


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

    @property
    def fields(self) -> list[str]:
        """The fields a validation error names (the last name in each error's `loc`)."""
        named: list[str] = []
        for detail in self.details if isinstance(self.details, list) else []:
            loc = detail.get("loc", []) if isinstance(detail, dict) else []
            name = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
            if name and name not in named:
                named.append(name)
        return named


class Refused(ServiceError):
    """The service said no to what the person asked (4xx): the page shows why, beside the form."""


def error_of(response: httpx.Response) -> ServiceError:
    """The one mapping of a service's error answer ({"error": {code, message, details}})."""
    try:
        body = response.json()
        error = body.get("error", {}) if isinstance(body, dict) else {}
    except ValueError:
        error = {}
    status = response.status_code
    kind = Refused if 400 <= status < 500 else ServiceError
    return kind(
        status,
        error.get("code", f"http_{status}"),
        error.get("message", "服务出错，请稍后重试"),
        error.get("details"),
    )


def body_of(model: type[M], **fields: Any) -> M:
    """A request body built from a form: refused here, in the services' own words and shape
    (`validation_error`, each error's `loc`), when the service would refuse it."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise Refused(422, "validation_error", INVALID, details) from exc


@dataclass(frozen=True)
class Download:
    """A file a service answered with (a photo, a spreadsheet), passed on as it came."""

    content: bytes
    content_type: str
    disposition: str | None


class ServiceClient:
    """One service's API, called as one person."""

    service: ClassVar[str]

    def __init__(self, base_url: str, http: httpx.AsyncClient, token: str) -> None:
        self.base_url = base_url
        self.http = http
        self.token = token

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: BaseModel | None = None,
        document: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        attributes = {"http.request.method": method, "url.full": url, "gridloop.service": self.service}
        with span(f"{method} {self.service}", kind=SpanKind.CLIENT, attributes=attributes) as current:
            # The page's trace goes on in the service it calls.
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {}), **trace_headers()}
            # A model is sent as the fields the console set; a `document` (a directory record as the
            # admin typed it) as it is.
            json = body.model_dump(mode="json", exclude_unset=True) if body is not None else document
            query = {k: v for k, v in (params or {}).items() if v is not None}
            try:
                response = await self.http.request(method, url, headers=sent, params=query, json=json, files=files)
            except httpx.HTTPError as exc:
                raise ServiceError(503, "unavailable", f"{self.service} 暂时无法访问，请稍后重试") from exc
            current.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 400:
            raise error_of(response)
        return response

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        return model.model_validate_json((await self._send("GET", path, params=params)).content)

    async def _call(self, model: type[M], method: str, path: str, body: BaseModel | None = None, **options: Any) -> M:
        return model.model_validate_json((await self._send(method, path, body=body, **options)).content)

    async def _download(self, path: str, **params: Any) -> Download:
        response = await self._send("GET", path, params=params)
        return Download(
            content=response.content,
            content_type=response.headers.get("content-type", "application/octet-stream"),
            disposition=response.headers.get("content-disposition"),
        )
