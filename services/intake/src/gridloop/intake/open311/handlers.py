"""Open311 commands and reads: a 311 client's request enters the same filing as the app's
(idempotent, duplicate hints, the filer's area), and the reports are read back as service
requests. The admin registers the client applications."""

from collections.abc import Mapping
from typing import Any

from gridloop.intake import handlers
from gridloop.intake.domain import Area, DuplicatePolicy, ReportRefused
from gridloop.intake.handlers import IdempotencyConflict
from gridloop.intake.open311 import domain, store
from gridloop.intake.open311.domain import Open311Error
from gridloop.shared.events import Actor, Role
from gridloop.shared.ids import new_id
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.refdata import RefData

FROM_OPEN311 = {"reporter.role": Role.CLIENT_APP.value}
"""What a caller without a key may read: the requests filed through Open311, nothing the city's
own staff filed."""


class UnknownClient(LookupError):
    pass


# ---- client applications (the admin's) ----------------------------------------------------------


def client_view(doc: Doc) -> dict[str, Any]:
    return {
        "client_id": doc["_id"],
        "name": doc["name"],
        "contact": doc.get("contact", ""),
        "area": doc["area"],
        "created_at": doc["created_at"],
        "revoked_at": doc.get("revoked_at"),
    }


async def register_client(
    *, database: Database, refdata: RefData, name: str, contact: str, area: list[str], admin: Actor
) -> dict[str, Any]:
    """A new client application with a key shown once (only its hash is stored)."""
    unknown = [code for code in area if not await _is_place(refdata, code)]
    if unknown:
        raise ReportRefused(
            "unknown_area", f"区域编码不存在 (unknown district, street or community): {unknown}", {"area": unknown}
        )
    api_key = domain.new_api_key()
    doc: Doc = {
        "_id": new_id(),
        "name": name,
        "contact": contact,
        "area": sorted(set(area)),
        "key_hash": domain.hash_key(api_key),
        "created_at": database.clock.now(),
        "created_by": admin.sub,
        "revoked_at": None,
    }
    await store.insert_client(database.db, doc)
    return {**client_view(doc), "api_key": api_key}


async def _is_place(refdata: RefData, code: str) -> bool:
    for kind in ("community", "street", "district"):
        if await refdata.get(kind, code) is not None:
            return True
    return False


async def clients(*, database: Database) -> list[dict[str, Any]]:
    return [client_view(d) for d in await store.clients(database.db)]


async def revoke_client(*, database: Database, client_id: str) -> dict[str, Any]:
    doc = await store.revoke_client(database.db, client_id, database.clock.now())
    if doc is None:
        kept = await store.client(database.db, client_id)
        if kept is None:
            raise UnknownClient(client_id)
        return client_view(kept)  # revoked before: the same answer again
    return client_view({**doc, "revoked_at": database.clock.now()})


async def client_for_key(database: Database, api_key: str | None) -> Doc | None:
    """The registered, unrevoked application holding this key; None without a key."""
    if not api_key:
        return None
    found = await store.client_by_key_hash(database.db, domain.hash_key(api_key))
    if found is None:
        raise Open311Error(403, "api_key 无效或已停用 (invalid or revoked api_key)")
    return found


def client_actor(client: Doc) -> Actor:
    return Actor(sub=f"open311:{client['_id']}", name=client["name"], role=Role.CLIENT_APP, org=client["_id"])


# ---- requests ------------------------------------------------------------------------------------

REFUSALS = {"outside_your_area": 403, "unknown_category": 404}


async def file_request(
    *,
    database: Database,
    refdata: RefData,
    client: Doc,
    form: Mapping[str, str],
    idempotency_key: str | None,
    duplicates: DuplicatePolicy,
) -> list[dict[str, Any]]:
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code 必填 (service_code is required)")
    category = await refdata.get("category", code)
    if category is None:
        raise Open311Error(404, f"service_code 不存在 (unknown service_code {code})")
    filing = domain.parse_filing(form, category=category)
    key = idempotency_key or domain.implied_idempotency_key(client["_id"], filing.fingerprint_fields)
    try:
        view, _ = await handlers.file_report(
            database=database,
            refdata=refdata,
            request=filing.report,
            reporter=client_actor(client),
            idempotency_key=key,
            duplicates=duplicates,
            area=Area(frozenset(client["area"])),
            extra={"media_url": filing.media_url, "channel": "open311"},
        )
    except ReportRefused as exc:
        if exc.code == "outside_your_area":
            raise Open311Error(
                403, "该位置不在本应用的登记范围内 (the point is outside this application's area)"
            ) from exc
        raise Open311Error(REFUSALS.get(exc.code, 400), exc.message) from exc
    except IdempotencyConflict as exc:
        raise Open311Error(
            400, "该幂等键已用于不同的请求 (Idempotency-Key already used with a different body)"
        ) from exc
    notice = (
        f"附近已有同类工单，可能重复 (possibly a duplicate of {len(view['possible_duplicates'])} open request(s))"
        if view["possible_duplicates"]
        else ""
    )
    return [
        {
            "service_request_id": view["ticket_number"],
            "token": view["ticket_id"],
            "service_notice": notice,
            "account_id": "",
        }
    ]


def read_scope(client: Doc | None) -> dict[str, Any]:
    return Area(frozenset(client["area"])).as_filter() if client else dict(FROM_OPEN311)


async def _lead_name(refdata: RefData, report: Doc) -> str:
    code = report.get("lead_department")
    if not code:
        return ""
    department = await refdata.get("department", code)
    return str(department["name"]) if department else str(code)


async def as_service_request(refdata: RefData, report: Doc) -> dict[str, Any]:
    return domain.service_request(report, lead_name=await _lead_name(refdata, report))


async def service_requests(
    *, database: Database, refdata: RefData, client: Doc | None, params: Mapping[str, str]
) -> list[dict[str, Any]]:
    query = domain.parse_query(params, now=database.clock.now())
    mongo: dict[str, Any] = read_scope(client)
    if query.numbers:
        mongo["ticket_number"] = {"$in": query.numbers}
    else:
        mongo["created_at"] = {"$gte": query.start, **({"$lte": query.end} if query.end else {})}
        if query.categories:
            mongo["category_code"] = {"$in": query.categories}
        if query.statuses:
            mongo["status"] = {"$in": query.statuses}
    found = await store.reports(database.db, mongo, domain.MAX_RESULTS)
    return [await as_service_request(refdata, r) for r in found]


async def service_request(*, database: Database, refdata: RefData, client: Doc | None, number: str) -> dict[str, Any]:
    report = await store.report_by_number(database.db, number, read_scope(client))
    if report is None:
        raise Open311Error(404, f"没有这个服务请求 (no service request {number})")
    return await as_service_request(refdata, report)


async def token(*, database: Database, client: Doc | None, token_id: str) -> dict[str, Any]:
    report = await store.report_by_id(database.db, token_id, read_scope(client))
    if report is None:
        raise Open311Error(404, f"没有这个令牌 (no request for token {token_id})")
    return {"service_request_id": report["ticket_number"], "token": token_id}


async def services(refdata: RefData) -> list[dict[str, Any]]:
    return [domain.service(c) for c in sorted(await refdata.all("category"), key=lambda c: c["code"])]


async def service_definition(refdata: RefData, code: str) -> dict[str, Any]:
    category = await refdata.get("category", code)
    if category is None:
        raise Open311Error(404, f"service_code 不存在 (unknown service_code {code})")
    return domain.service_definition(category)
