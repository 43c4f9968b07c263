"""Errors as the API shows them: {"error": {"code", "message", "details"}} with the right status."""

from typing import Any

import structlog
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from gridloop.shared.lifecycle import TransitionNotAllowed
from gridloop.shared.mongo import ConcurrentChange, is_transient

log = structlog.get_logger()


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable reason, e.g. unknown_category, invalid_state")
    message: str = Field(description="what went wrong, in Chinese with an English gloss")
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Every route answers with these errors in the same JSON shape; documented so clients can rely on it.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("the body is not parseable JSON"),
    401: _documented("no token, or an invalid or expired one"),
    403: _documented("the caller's role may not do this"),
    404: _documented("not found, or not visible to the caller"),
    409: _documented("the ticket's state does not allow this action, or it changed meanwhile"),
    413: _documented("the request body or the upload is too large"),
    429: _documented("too many requests from this user; retry after the Retry-After seconds"),
    422: _documented("the request is malformed or names something that does not exist"),
    503: _documented("the database or the broker is briefly unavailable; retry"),
}


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        super().__init__(message)


class NotFound(ApiError):
    def __init__(self, what: str, key: str) -> None:
        super().__init__(404, "not_found", f"{what}不存在 ({what} {key} not found)", {"id": key})


def _body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return JSONResponse(
            _body(exc.code, exc.message, exc.details), status_code=exc.status, headers={**headers, **exc.headers}
        )

    @app.exception_handler(TransitionNotAllowed)
    async def conflict(_: Request, exc: TransitionNotAllowed) -> JSONResponse:
        return JSONResponse(
            _body(
                "invalid_state",
                f"工单当前状态不允许此操作 ({exc})",
                {"status": exc.current.value if exc.current else None, "action": exc.event_type},
            ),
            status_code=409,
        )

    @app.exception_handler(ConcurrentChange)
    async def changed_meanwhile(_: Request, exc: ConcurrentChange) -> JSONResponse:
        return JSONResponse(
            _body("concurrent_change", "工单已被他人修改，请刷新 (changed meanwhile; reload)"), status_code=409
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse(
            _body("validation_error", "请求内容不合法 (the request is invalid)", details), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route's methods; list every method the path supports.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return JSONResponse(
            _body(f"http_{exc.status_code}", str(exc.detail)), status_code=exc.status_code, headers=headers or None
        )

    @app.exception_handler(PyMongoError)
    @app.exception_handler(KafkaError)
    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, PyMongoError) and not is_transient(exc):
            log.error("database_error", error=repr(exc))
            return JSONResponse(_body("internal_error", "服务内部错误 (internal error)"), status_code=500)
        # The database or broker is away for a moment: nothing was changed, and a retry is safe.
        log.warning("dependency_unavailable", error=repr(exc))
        return JSONResponse(
            _body("unavailable", "服务暂时不可用，请稍后重试 (temporarily unavailable; retry)"),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error")
        return JSONResponse(_body("internal_error", "服务内部错误 (internal error)"), status_code=500)
