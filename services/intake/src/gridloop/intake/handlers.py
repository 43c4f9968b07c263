"""Intake commands (file a report, store a photo) and the events it follows for reporters."""

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from gridloop.intake import domain, metadata, store
from gridloop.intake.domain import ReportRefused
from gridloop.shared.access import files_in, in_scope, scope_filter
from gridloop.shared.api.intake import ReportRequest
from gridloop.shared.bus import PermanentFailure
from gridloop.shared.events import (
    Actor,
    Envelope,
    NeedConverted,
    Payload,
    TicketAccepted,
    TicketCancelled,
    TicketClosed,
    TicketDeadlinesRevised,
    TicketDispatched,
    TicketExtensionDecided,
    TicketProgressed,
    TicketRated,
    TicketRejected,
    TicketReopened,
    TicketReported,
    TicketResolved,
)
from gridloop.shared.ids import new_id
from gridloop.shared.lifecycle import TicketStatus, can_apply, next_status
from gridloop.shared.messagebus import Routes, on, routes
from gridloop.shared.mongo import Database, Doc, UnitOfWork
from gridloop.shared.photos import PhotoSeal
from gridloop.shared.refdata import RefData


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different body."""


class ConversionRefused(Exception):
    """A converted need intake cannot file (yet): its code and message, for the dead letter's reader."""


class UnknownReport(LookupError):
    """No such report, or none the reader's scope holds: the same answer, so ids reveal nothing."""


class UnknownAttachment(LookupError):
    """No such photo, or none the reader may see: the same answer, so ids reveal nothing."""


def report_view(doc: Doc, reader: Actor) -> dict[str, Any]:
    """A report as `reader` reads it: the caller's contact only for the desk of its street."""
    return {
        "ticket_id": doc["_id"],
        "ticket_number": doc["ticket_number"],
        "status": doc["status"],
        "category_code": doc["category_code"],
        "category_name": doc["category_name"],
        "description": doc["description"],
        "location": doc["location"],
        "address": doc["address"],
        "grid_code": doc["grid_code"],
        "community_code": doc["community_code"],
        "street_code": doc["street_code"],
        "photos": doc["photos"],
        "priority": doc["priority"],
        "possible_duplicates": doc.get("possible_duplicates", []),
        "duplicate_of": doc.get("duplicate_of"),
        "reporter": doc["reporter"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
        "history": doc.get("history", []),
        # 预计办结: when the department must have it fixed; provisional while that year's holidays are not published
        "resolve_deadline": doc.get("resolve_deadline"),
        "resolve_deadline_provisional": doc.get("resolve_deadline_provisional", False),
        "caller": doc.get("caller") if domain.sees_caller(reader, doc) else None,
        "origin_need_id": doc.get("origin_need_id"),
    }


async def _place(refdata: RefData, request: ReportRequest) -> dict[str, Any]:
    if request.grid_code:
        grid = await refdata.get("grid", request.grid_code)
        if grid is None:
            raise ReportRefused(
                "unknown_grid", f"网格不存在 (unknown grid {request.grid_code})", {"grid_code": request.grid_code}
            )
        domain.check_point_in_grid(grid, request.location)
        return grid
    assert request.location is not None
    grid = await refdata.grid_at(request.location.lon, request.location.lat)
    if grid is None:
        raise ReportRefused(
            "outside_grids", "定位不在任何网格内 (the point is outside every grid)", request.location.model_dump()
        )
    return grid


async def _nothing() -> list[Doc]:
    return []


@dataclass(frozen=True)
class _Checked:
    """A report found fileable, with what its filing needs: its category, grid, district, number
    and the open tickets close by."""

    category: Doc
    grid: Doc
    district: str
    number: str
    candidates: list[str]


async def _check(
    *,
    db: AsyncDatabase[Doc],
    refdata: RefData,
    request: ReportRequest,
    reporter: Actor,
    now: datetime,
    duplicates: domain.DuplicatePolicy | None,
    area: domain.Area | None,
) -> _Checked:
    """What makes a report fileable by `reporter`, checked before its transaction, and its number."""
    domain.check_caller(request, reporter)
    category = await refdata.get("category", request.category_code)
    if category is None:
        raise ReportRefused(
            "unknown_category",
            f"问题类别不存在 (unknown category {request.category_code})",
            {"category_code": request.category_code},
        )
    grid = await _place(refdata, request)
    district = domain.district_of(grid, await refdata.get("street", grid["street"]))
    if not (
        area.covers(grid, district)
        if area is not None
        else files_in(reporter, community=grid["community"], street=grid["street"])
    ):
        raise ReportRefused(
            "outside_your_area",
            f"只能在本人负责的范围内上报 (grid {grid['code']} is outside your community or street)",
            {"grid_code": grid["code"]},
        )
    if request.photos:
        missing = set(request.photos) - await store.photos_owned_by(db, request.photos, reporter.sub)
        if missing:
            raise ReportRefused("unknown_photos", "照片不存在或不属于你 (unknown photos)", {"photos": sorted(missing)})

    policy = duplicates or domain.DuplicatePolicy()
    query = domain.duplicate_filter(category_code=category["code"], location=request.location, now=now, policy=policy)
    # The number comes first, in a step of its own: a filing that then fails leaves a gap in the
    # day's numbers, and concurrent filings never collide on the counter (docs/decisions.md). It
    # and the duplicate hint's read go to the database side by side: one round trip of waiting.
    day = domain.ticket_day(now)
    seq, nearby = await asyncio.gather(
        store.next_seq(db, f"ticket:{district}:{day}"),
        store.possible_duplicates(db, query) if query and request.location else _nothing(),
    )
    candidates = (
        domain.duplicates_within(request.location, nearby, now=now, policy=policy)
        if nearby and request.location
        else []
    )
    return _Checked(
        category=category,
        grid=grid,
        district=district,
        number=domain.ticket_number(district=district, day=day, seq=seq),
        candidates=candidates,
    )


def _ticket(
    checked: _Checked,
    *,
    request: ReportRequest,
    reporter: Actor,
    now: datetime,
    extra: Doc | None = None,
    origin_need_id: str | None = None,
) -> tuple[Doc, TicketReported]:
    """立案: the checked report as the ticket intake keeps, and the event that announces it."""
    reported = domain.build_report(
        request,
        number=checked.number,
        category=checked.category,
        grid=checked.grid,
        district=checked.district,
        possible_duplicates=checked.candidates,
        origin_need_id=origin_need_id,
    )
    doc: Doc = {
        "_id": new_id(),
        **reported.model_dump(mode="json"),
        **domain.indexed_place(checked.category["code"], request.location, now),
        "status": TicketStatus.REPORTED.value,
        "reporter": reporter.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
        "history": [{"event_type": reported.EVENT_TYPE, "status": "reported", "at": now}],
        **({"caller": request.caller} if request.caller else {}),
        **(extra or {}),
    }
    return doc, reported


async def _register(uow: UnitOfWork, doc: Doc, reported: TicketReported, reporter: Actor) -> None:
    await store.insert_report(uow.db, doc, uow.session)
    await uow.emit(reported, ticket_id=doc["_id"], actor=reporter)


async def file_report(
    *,
    database: Database,
    refdata: RefData,
    request: ReportRequest,
    reporter: Actor,
    idempotency_key: str | None,
    duplicates: domain.DuplicatePolicy | None = None,
    area: domain.Area | None = None,
    extra: Doc | None = None,
) -> tuple[dict[str, Any], bool]:
    """Register a report as a ticket and announce it; a retried request gets the first answer back.

    `area`: where a client application may file (people: `files_in`); `extra`: fields the report
    keeps beside the event's (an Open311 request's media_url and channel).
    Returns the report view and whether it is a replay."""
    # A retry is recognised by its key's record, written first in the filing's transaction: the
    # retry's own transaction then fails at once on the unique key and answers as the first did.
    # (A round trip less per filing than looking the key up first; a retry costs a ticket number.)
    key = f"{reporter.sub}:{idempotency_key}" if idempotency_key else None
    fingerprint = domain.fingerprint(request)
    checked = await _check(
        db=database.db,
        refdata=refdata,
        request=request,
        reporter=reporter,
        now=database.clock.now(),
        duplicates=duplicates,
        area=area,
    )

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        doc, reported = _ticket(checked, request=request, reporter=reporter, now=uow.now, extra=extra)
        view = report_view(doc, reporter)
        if key:
            await store.save_idempotent(
                uow.db, key=key, fingerprint=fingerprint, response=view, at=uow.now, session=uow.session
            )
        await _register(uow, doc, reported, reporter)
        return view

    try:
        return await database.transaction(work), False
    except DuplicateKeyError:
        # This key filed before (or a twin sent at the same moment won): answer as it did.
        if key and (replay := await _replay(database.db, key, fingerprint)) is not None:
            return replay, True
        raise


async def _replay(db: AsyncDatabase[Doc], key: str, fingerprint: str) -> dict[str, Any] | None:
    previous = await store.find_idempotent(db, key)
    if previous is None:
        return None
    if previous["fingerprint"] != fingerprint:
        raise IdempotencyConflict(key)
    response: dict[str, Any] = previous["response"]
    return response


async def report_for(*, database: Database, reader: Actor, ticket_id: str) -> dict[str, Any]:
    """One report, for those whose scope holds it: its reporter, its community, street and district."""
    doc = await store.get_report(database.db, ticket_id)
    if doc is None or not in_scope(reader, doc, store.REPORT_SCOPE):
        raise UnknownReport(ticket_id)
    return report_view(doc, reader)


async def reports_for(
    *, database: Database, reader: Actor, mine: bool, status: TicketStatus | None, before: str | None, limit: int
) -> dict[str, Any]:
    """A page of the reports the reader's scope holds, newest first; `mine`: only those they filed."""
    docs = await store.list_reports(
        database.db,
        scope=scope_filter(reader, store.REPORT_SCOPE),
        reporter=reader.sub if mine else None,
        status=status.value if status else None,
        before=before,
        limit=limit,
    )
    items = [report_view(d, reader) for d in docs]
    return {"items": items, "next_cursor": items[-1]["ticket_id"] if len(items) == limit else None}


async def follow_status(payload: Payload, event: Envelope, uow: UnitOfWork) -> None:
    """Reporters see what became of their reports (the status shown in their app)."""
    report = await store.get_report(uow.db, event.ticket_id, session=uow.session)
    if report is None:
        return
    current = TicketStatus(report["status"])
    if not can_apply(current, event.event_type):
        return
    status = next_status(current, event.event_type)
    await store.set_status(
        uow.db,
        event.ticket_id,
        status=status.value,
        at=event.occurred_at,
        event_type=event.event_type,
        session=uow.session,
        extra=_kept_from(payload),
    )


def _kept_from(payload: Payload) -> Doc | None:
    """What a status change leaves on the report beside its status: whom it went to (Open311's
    agency_responsible), why it was cancelled and into which ticket it was merged."""
    match payload:
        case TicketDispatched(lead_department=lead):
            return {"lead_department": lead}
        case TicketCancelled(reason=reason, duplicate_of=merged):
            return {"cancel_reason": reason.value, "duplicate_of": merged}
    return None


async def store_photo(
    *,
    database: Database,
    seal: PhotoSeal,
    data: bytes,
    filename: str,
    owner: Actor,
    max_bytes: int,
    client_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Keep a photo in GridFS, after checking by its bytes that it is an image of a size we take,
    without the metadata that says where and with what it was taken; its id carries the uploader's
    seal, so handling and feedback can tell whose upload it is (gridloop.shared.photos).

    With the app's own id for the photo (`client_id`, sent as Idempotency-Key), an upload sent
    again after a lost answer stores nothing new and answers with the first upload. Returns the
    attachment and whether it was such a replay."""
    content_type = domain.check_photo(data, max_bytes=max_bytes)
    data = metadata.strip_metadata(data, content_type)
    attachment_id = seal.seal(domain.photo_id(owner.sub, client_id) if client_id else new_id(), owner.sub)
    if client_id and (kept := await store.photo_info(database.db, attachment_id)) is not None:
        return _attachment(attachment_id, kept), True
    try:
        await store.save_photo(
            database.db,
            photo_id=attachment_id,
            filename=filename[:200] or "photo",
            data=data,
            owner=owner.sub,
            content_type=content_type,
        )
    except DuplicateKeyError:  # the same upload, sent twice at once: the other one stored it
        kept = await store.photo_info(database.db, attachment_id)
        if kept is None:
            raise
        return _attachment(attachment_id, kept), True
    return {"attachment_id": attachment_id, "content_type": content_type, "size": len(data)}, False


def _attachment(attachment_id: str, metadata: Doc) -> dict[str, Any]:
    return {"attachment_id": attachment_id, "content_type": metadata["content_type"], "size": metadata["size"]}


async def photo(*, database: Database, reader: Actor, attachment_id: str) -> tuple[bytes, str]:
    """A stored photo's bytes and the content type its bytes were found to be, for its uploader and
    for whoever may read a ticket that names it (and the departments it was dispatched to)."""
    kept = await store.photo_info(database.db, attachment_id)
    if kept is None or (
        kept.get("owner") != reader.sub
        and not await store.names_photo(database.db, attachment_id, scope_filter(reader, store.PHOTO_SCOPE))
    ):
        raise UnknownAttachment(attachment_id)
    found = await store.load_photo(database.db, attachment_id)
    if found is None:
        raise UnknownAttachment(attachment_id)
    return found


async def follow_departments(payload: TicketDispatched, event: Envelope, uow: UnitOfWork) -> None:
    """The departments a ticket was dispatched to, in any round, may read the photos it names."""
    departments = [payload.lead_department, *payload.assisting_departments]
    await store.add_to_report(uow.db, event.ticket_id, field="departments", values=departments, session=uow.session)


async def follow_evidence(
    payload: TicketProgressed | TicketResolved | TicketReopened, event: Envelope, uow: UnitOfWork
) -> None:
    """Photos of a ticket's handling and verification are read by those who may read the ticket."""
    if payload.photos:
        await store.add_to_report(
            uow.db, event.ticket_id, field="evidence_photos", values=payload.photos, session=uow.session
        )


async def follow_deadline(
    payload: TicketDispatched | TicketDeadlinesRevised | TicketExtensionDecided, event: Envelope, uow: UnitOfWork
) -> None:
    """Reporters see by when the department must have it fixed, and whether that date is provisional."""
    match payload:
        case (
            TicketDispatched(resolve_deadline=by, provisional=provisional)
            | TicketDeadlinesRevised(resolve_deadline=by, provisional=provisional)
        ):
            pass
        case TicketExtensionDecided(approved=True, resolve_deadline=by):
            provisional = False
        case _:
            return
    await store.set_deadline(uow.db, event.ticket_id, by=by, provisional=provisional, session=uow.session)


async def file_converted_need(
    payload: NeedConverted,
    event: Envelope,
    uow: UnitOfWork,
    *,
    refdata: RefData,
    duplicates: domain.DuplicatePolicy,
) -> None:
    """转办: a resident's need that is a department's job is filed as the street desk files a
    hotline report, by whoever converted it, with the need as its origin: the ticket's rating
    becomes the need's. A need announced again files nothing more."""
    key = domain.conversion_key(event.ticket_id)
    if await store.find_idempotent(uow.db, key, session=uow.session) is not None:
        return
    try:
        request = domain.converted_report(payload)
    except ValidationError as exc:  # no retry makes this a report: straight to dead letters
        raise PermanentFailure(f"need {event.ticket_id} cannot be filed as a report: {exc}") from exc
    reporter = event.actor
    try:
        checked = await _check(
            db=uow.db,
            refdata=refdata,
            request=request,
            reporter=reporter,
            now=uow.now,
            duplicates=duplicates,
            area=domain.conversion_area(reporter),
        )
    except ReportRefused as exc:  # retried (the directory may not have announced it yet), then dead-lettered
        raise ConversionRefused(f"need {event.ticket_id} refused as a report: {exc.code}: {exc.message}") from exc
    doc, reported = _ticket(checked, request=request, reporter=reporter, now=uow.now, origin_need_id=event.ticket_id)
    view = report_view(doc, reporter)
    await store.save_idempotent(
        uow.db, key=key, fingerprint=domain.fingerprint(request), response=view, at=uow.now, session=uow.session
    )
    await _register(uow, doc, reported, reporter)


def routing(refdata: RefData, duplicates: domain.DuplicatePolicy) -> Routes:
    """What intake does with the events it reads: reporters follow their tickets (tickets topic);
    needs converted to tickets are filed (the 共建 loop's needs topic)."""

    async def converted(payload: NeedConverted, event: Envelope, uow: UnitOfWork) -> None:
        await file_converted_need(payload, event, uow, refdata=refdata, duplicates=duplicates)

    return routes(*ROUTES.values(), on(NeedConverted, converted))


ROUTES: Routes = routes(
    on(TicketDispatched, follow_status, follow_deadline, follow_departments),
    on(TicketRejected, follow_status),
    on(TicketAccepted, follow_status),
    on(TicketProgressed, follow_status, follow_evidence),
    on(TicketResolved, follow_status, follow_evidence),
    on(TicketClosed, follow_status),
    on(TicketReopened, follow_status, follow_evidence),
    on(TicketCancelled, follow_status),
    on(TicketRated, follow_status),
    on(TicketDeadlinesRevised, follow_deadline),
    on(TicketExtensionDecided, follow_deadline),
)
