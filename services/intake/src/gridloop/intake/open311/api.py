"""Open311 GeoReport v2 routes under /open311/v2 (each in .json and .xml), and the admin's
registry of client applications under /v1/open311-clients. Every Open311 answer, errors
included, is in the specification's format, never GridLoop's own error JSON."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response

from gridloop.intake.deps import (
    ClientLimit,
    CurrentUser,
    DuplicateRule,
    Jurisdiction,
    Open311Reads,
    ReferenceData,
    ServiceDatabase,
)
from gridloop.intake.domain import ReportRefused
from gridloop.intake.open311 import domain, handlers, render
from gridloop.intake.open311.domain import FORMATS, Open311Error
from gridloop.shared.api.intake import ClientCreated, ClientList, ClientRequest, ClientView
from gridloop.shared.auth import require_role
from gridloop.shared.errors import ERROR_RESPONSES, ApiError, NotFound
from gridloop.shared.events import Role
from gridloop.shared.mongo import Doc

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/xml": {}}, "description": "in the format the path names"},
    400: {"description": "the specification's error list: code and description"},
    403: {"description": "invalid or revoked api_key, or a point outside the application's area"},
    404: {"description": "unknown format, service, request, token or jurisdiction"},
    429: {"description": "too many requests from this api_key (or, without one, this address); see Retry-After"},
}
POST_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["api_key", "service_code"],
                    "properties": {
                        **{
                            name: {"type": "string", "maxLength": 200}
                            for name in (
                                "api_key",
                                "jurisdiction_id",
                                "service_code",
                                "address_string",
                                "address_id",
                                "email",
                                "device_id",
                                "account_id",
                                "first_name",
                                "last_name",
                                "phone",
                            )
                        },
                        "lat": {"type": "number", "minimum": -90, "maximum": 90},
                        "long": {"type": "number", "minimum": -180, "maximum": 180},
                        "attribute[priority]": {"enum": ["normal", "urgent"]},
                        "description": {"type": "string", "maxLength": 2000},
                        "media_url": {"type": "string", "format": "uri"},
                    },
                }
            }
        },
    }
}


def _fields(data: Mapping[str, Any]) -> dict[str, str]:
    return {k: v for k, v in data.items() if isinstance(v, str)}


async def _answer(
    fmt: str, jurisdiction: str, params: Mapping[str, str], root: str, work: Callable[[], Awaitable[Any]]
) -> Response:
    try:
        if fmt not in FORMATS:
            raise Open311Error(404, f"不支持的格式 {fmt} (formats: json, xml)")
        if params.get("jurisdiction_id") not in (None, "", jurisdiction):
            raise Open311Error(404, f"jurisdiction_id 不存在 (unknown jurisdiction {params['jurisdiction_id']})")
        return render.answer(fmt, root, await work())
    except Open311Error as exc:
        return render.error(fmt, exc)


async def _reader(
    database: ServiceDatabase, reads: Open311Reads, request: Request, params: Mapping[str, str]
) -> Doc | None:
    """The client application a read is made for (None: anyone), counted against its key's
    allowance, or against its address's when it names no key."""
    client = await handlers.client_for_key(database, params.get("api_key"))
    try:
        if client is not None:
            await reads.per_key.check(client["_id"])
        else:
            await reads.per_address.check(request.client.host if request.client else "")
    except ApiError as exc:
        raise Open311Error(429, exc.message, exc.headers) from exc
    return client


@router.get("/discovery.{fmt}", summary="Where and what this endpoint is", responses=FORMAT_RESPONSES)
async def discovery(
    request: Request, fmt: str, database: ServiceDatabase, reads: Open311Reads, jurisdiction: Jurisdiction
) -> Response:
    async def work() -> dict[str, Any]:
        await _reader(database, reads, request, request.query_params)
        url = str(request.url_for("services", fmt="json")).rsplit("/services.json", 1)[0]
        return {
            "changeset": domain.CHANGESET,
            "contact": "网格闭环 GridLoop, the district command centre (指挥中心)",
            "key_service": "client applications are registered by the district's administrator",
            "endpoints": [
                {
                    "specification": domain.SPECIFICATION,
                    "url": url,
                    "changeset": domain.CHANGESET,
                    "type": "production",
                    "formats": list(FORMATS.values()),
                }
            ],
        }

    return await _answer(fmt, jurisdiction, request.query_params, "discovery", work)


@router.get("/services.{fmt}", summary="The categories one can report, as services", responses=FORMAT_RESPONSES)
async def services(
    request: Request,
    fmt: str,
    database: ServiceDatabase,
    reads: Open311Reads,
    refdata: ReferenceData,
    jurisdiction: Jurisdiction,
) -> Response:
    async def work() -> list[dict[str, Any]]:
        await _reader(database, reads, request, request.query_params)
        return await handlers.services(refdata)

    return await _answer(fmt, jurisdiction, request.query_params, "services", work)


@router.get(
    "/services/{service_code}.{fmt}", summary="A service's attributes (service definition)", responses=FORMAT_RESPONSES
)
async def service_definition(
    request: Request,
    service_code: str,
    fmt: str,
    database: ServiceDatabase,
    reads: Open311Reads,
    refdata: ReferenceData,
    jurisdiction: Jurisdiction,
) -> Response:
    async def work() -> dict[str, Any]:
        await _reader(database, reads, request, request.query_params)
        return await handlers.service_definition(refdata, service_code)

    return await _answer(fmt, jurisdiction, request.query_params, "service_definition", work)


@router.post(
    "/requests.{fmt}",
    summary="File a service request (form-encoded, with a registered api_key); safe to send again",
    responses=FORMAT_RESPONSES,
    openapi_extra=POST_FORM,
)
async def create_request(
    request: Request,
    fmt: str,
    database: ServiceDatabase,
    refdata: ReferenceData,
    duplicates: DuplicateRule,
    limit: ClientLimit,
    jurisdiction: Jurisdiction,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    form = _fields(await request.form())
    params = {**_fields(request.query_params), **form}

    async def work() -> list[dict[str, Any]]:
        client = await handlers.client_for_key(database, params.get("api_key"))
        if client is None:
            raise Open311Error(403, "需要 api_key (an api_key is required to file a request)")
        try:
            await limit.check(client["_id"])
        except ApiError as exc:
            raise Open311Error(429, exc.message, exc.headers) from exc
        return await handlers.file_request(
            database=database,
            refdata=refdata,
            client=client,
            form=form,
            idempotency_key=idempotency_key,
            duplicates=duplicates,
        )

    return await _answer(fmt, jurisdiction, params, "service_requests", work)


@router.get(
    "/requests.{fmt}",
    summary="Service requests, newest first (90 days by default, at most 1,000)",
    responses=FORMAT_RESPONSES,
)
async def list_requests(
    request: Request,
    fmt: str,
    database: ServiceDatabase,
    reads: Open311Reads,
    refdata: ReferenceData,
    jurisdiction: Jurisdiction,
) -> Response:
    params = _fields(request.query_params)

    async def work() -> list[dict[str, Any]]:
        client = await _reader(database, reads, request, params)
        return await handlers.service_requests(database=database, refdata=refdata, client=client, params=params)

    return await _answer(fmt, jurisdiction, params, "service_requests", work)


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request", responses=FORMAT_RESPONSES)
async def get_request(
    request: Request,
    service_request_id: str,
    fmt: str,
    database: ServiceDatabase,
    reads: Open311Reads,
    refdata: ReferenceData,
    jurisdiction: Jurisdiction,
) -> Response:
    params = _fields(request.query_params)

    async def work() -> list[dict[str, Any]]:
        client = await _reader(database, reads, request, params)
        return [
            await handlers.service_request(database=database, refdata=refdata, client=client, number=service_request_id)
        ]

    return await _answer(fmt, jurisdiction, params, "service_requests", work)


@router.get("/tokens/{token_id}.{fmt}", summary="The service request a token became", responses=FORMAT_RESPONSES)
async def get_token(
    request: Request,
    token_id: str,
    fmt: str,
    database: ServiceDatabase,
    reads: Open311Reads,
    jurisdiction: Jurisdiction,
) -> Response:
    params = _fields(request.query_params)

    async def work() -> list[dict[str, Any]]:
        client = await _reader(database, reads, request, params)
        return [await handlers.token(database=database, client=client, token_id=token_id)]

    return await _answer(fmt, jurisdiction, params, "service_requests", work)


# ---- the admin's registry of client applications --------------------------------------------------

clients_router = APIRouter(prefix="/v1/open311-clients", tags=["open311"], responses=ERROR_RESPONSES)


@clients_router.post("", status_code=201, summary="Register an Open311 client application (its key is shown once)")
async def register_client(
    user: CurrentUser, body: ClientRequest, database: ServiceDatabase, refdata: ReferenceData
) -> ClientCreated:
    require_role(user, Role.ADMIN)
    try:
        created = await handlers.register_client(
            database=database, refdata=refdata, name=body.name, contact=body.contact, area=body.area, admin=user
        )
    except ReportRefused as exc:
        raise ApiError(422, exc.code, exc.message, exc.details) from exc
    return ClientCreated.model_validate(created)


@clients_router.get("", summary="The registered client applications (never their keys)")
async def list_clients(user: CurrentUser, database: ServiceDatabase) -> ClientList:
    require_role(user, Role.ADMIN)
    return ClientList.model_validate({"items": await handlers.clients(database=database)})


@clients_router.delete("/{client_id}", summary="Revoke an application's key")
async def revoke_client(user: CurrentUser, database: ServiceDatabase, client_id: str) -> ClientView:
    require_role(user, Role.ADMIN)
    try:
        return ClientView.model_validate(await handlers.revoke_client(database=database, client_id=client_id))
    except handlers.UnknownClient as exc:
        raise NotFound("open311 client", client_id) from exc
