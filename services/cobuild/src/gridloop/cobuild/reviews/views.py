"""What is read for 评议: the figures of members, units and communities for a year (or a quarter's
feedback card), each in the reader's scope, from the collections the other areas keep.

Who reads what:
- community_worker: its community's members (with names), the units that reported to it, itself
- street_dispatcher: its street's (members by id only); supervisor: all (members by id only)
- unit_admin: its unit's reports and members (with names); no community sheet
Out of scope: 403 for a sheet that names another's community or street; 404 for a unit's card
the reader does not see."""

from collections.abc import Mapping, Sequence
from typing import Any

from gridloop.cobuild.reviews import domain
from gridloop.cobuild.reviews.domain import (
    CommunityIndicators,
    MemberIndicators,
    Minimum,
    Period,
    UnitIndicators,
)
from gridloop.shared.api.reviews import (
    CommunityFigures,
    FeedbackCard,
    Indicators,
    MemberFigures,
    Review,
    ReviewList,
    UnitFigures,
)
from gridloop.shared.events import Actor, ReviewSubject, Role
from gridloop.shared.mongo import Database, Doc
from gridloop.shared.refdata import RefData

MEMBERS, PRIVATE, POSTS, RECORDS = "members", "member_private", "posts", "records"
LEDGER, BALANCES, REPORTS, HEADCOUNTS = "ledger", "balances", "units_reported", "unit_headcounts"
NEEDS, OFFERS, PROJECTS, REVIEWS, ADMISSIONS = "needs", "offers", "projects", "reviews", "admission_requests"


class NotYours(Exception):
    """The reader may not read this (403)."""


class UnknownSubject(LookupError):
    """Nothing of that name in the reader's sight (404)."""


# ------------------------------------------------------------------ reading


async def _all(database: Database, collection: str, query: Doc, projection: Doc | None = None) -> list[Doc]:
    return [d async for d in database.db[collection].find(query, projection)]


async def community_street(refdata: RefData, community: str) -> str | None:
    record = await refdata.get("community", community)
    return str(record["street"]) if record else None


async def street_communities(refdata: RefData, street: str | None) -> list[str]:
    return sorted(str(c["code"]) for c in await refdata.all("community") if street is None or c.get("street") == street)


async def name_of(refdata: RefData, kind: str, code: str) -> str:
    record = await refdata.get(kind, code)
    return str(record.get("name", code)) if record else code


async def members_figures(
    database: Database, member_docs: Sequence[Mapping[str, Any]], *, period: Period, minimum: Minimum
) -> list[MemberIndicators]:
    ids = [str(m["_id"]) for m in member_docs]
    if not ids:
        return []
    records = await _all(database, RECORDS, {"member_id": {"$in": ids}, "status": "approved"})
    movements = await _all(
        database, LEDGER, {"member_id": {"$in": ids}, "at": {"$gte": period.start, "$lt": period.end}}
    )
    balances = {
        str(b["_id"]): int(b.get("balance", 0))
        for b in await _all(database, BALANCES, {"_id": {"$in": [f"member:{i}" for i in ids]}})
    }
    posts = await _all(database, POSTS, {"holders": {"$in": ids}}, {"holders": 1})
    return [
        domain.member_indicators(
            m,
            records=records,
            movements=movements,
            balance=balances.get(f"member:{m['_id']}", 0),
            posts=posts,
            period=period,
            minimum=minimum,
        )
        for m in member_docs
    ]


async def names(database: Database, ids: Sequence[str]) -> dict[str, str]:
    return {str(p["_id"]): str(p.get("name", "")) for p in await _all(database, PRIVATE, {"_id": {"$in": list(ids)}})}


def sees_name(reader: Actor, member: MemberIndicators) -> bool:
    """A member's name: for the community worker of the member's community and the member's unit admin."""
    return (reader.role is Role.COMMUNITY_WORKER and reader.org == member.community_code) or (
        reader.role is Role.UNIT_ADMIN and reader.org == member.unit_code
    )


def member_out(m: MemberIndicators, *, name: str | None, grade: str | None = None, remark: str = "") -> MemberFigures:
    return MemberFigures.model_validate({**m.basis(), "hours": m.hours, "name": name, "grade": grade, "remark": remark})


def unit_out(u: UnitIndicators, *, unit_name: str) -> UnitFigures:
    return UnitFigures.model_validate({**u.basis(), "hours": u.hours, "unit_name": unit_name})


def community_out(c: CommunityIndicators, *, name: str) -> CommunityFigures:
    return CommunityFigures.model_validate({**c.basis(), "hours": c.hours, "community_name": name})


# ------------------------------------------------------------------ scopes


async def _street_check(refdata: RefData, reader: Actor, community: str) -> None:
    if reader.role is Role.STREET_DISPATCHER and await community_street(refdata, community) != reader.org:
        raise NotYours(community)


async def unit_scope(refdata: RefData, reader: Actor, *, community: str | None, street: str | None) -> Doc:
    """The filter on units_reported of the unit sheet the reader asks for."""
    query: Doc = {}
    match reader.role:
        case Role.COMMUNITY_WORKER:
            if (community not in (None, reader.org)) or street is not None:
                raise NotYours(community or street)
            return {"community_code": reader.org}
        case Role.STREET_DISPATCHER:
            if street not in (None, reader.org):
                raise NotYours(street)
            query["street_code"] = reader.org
        case Role.UNIT_ADMIN:
            query["unit_code"] = reader.org
        case Role.SUPERVISOR:
            pass
        case _:
            raise NotYours(reader.role)
    if community is not None:
        await _street_check(refdata, reader, community)
        query["community_code"] = community
    if street is not None:
        query["street_code"] = street
    return query


async def member_scope(refdata: RefData, reader: Actor, *, community: str | None) -> Doc:
    query: Doc = {}
    match reader.role:
        case Role.COMMUNITY_WORKER:
            if community not in (None, reader.org):
                raise NotYours(community)
            return {"community_code": reader.org}
        case Role.STREET_DISPATCHER:
            query["street_code"] = reader.org
        case Role.UNIT_ADMIN:
            query["unit_code"] = reader.org
        case Role.SUPERVISOR:
            pass
        case _:
            raise NotYours(reader.role)
    if community is not None:
        await _street_check(refdata, reader, community)
        query["community_code"] = community
    return query


async def community_scope(refdata: RefData, reader: Actor, *, community: str | None, street: str | None) -> list[str]:
    match reader.role:
        case Role.COMMUNITY_WORKER:
            if (community not in (None, reader.org)) or street is not None:
                raise NotYours(community or street)
            return [reader.org]
        case Role.STREET_DISPATCHER:
            if street not in (None, reader.org):
                raise NotYours(street)
            street = reader.org
        case Role.SUPERVISOR:
            pass
        case _:
            raise NotYours(reader.role)
    if community is not None:
        await _street_check(refdata, reader, community)
        return [community]
    return await street_communities(refdata, street)


# ------------------------------------------------------------------ the figures


async def _grades(database: Database, year: int) -> list[Doc]:
    return await _all(database, REVIEWS, {"year": year})


async def unit_figures(
    database: Database, refdata: RefData, reports: Sequence[Mapping[str, Any]], *, period: Period, minimum: Minimum
) -> list[UnitFigures]:
    units = sorted({str(r["unit_code"]) for r in reports})
    if not units:
        return []
    headcounts = {str(h["_id"]): h for h in await _all(database, HEADCOUNTS, {"_id": {"$in": units}})}
    member_docs = await _all(database, MEMBERS, {"unit_code": {"$in": units}})
    members = await members_figures(database, member_docs, period=period, minimum=minimum)
    by_id = {str(m["_id"]): m for m in member_docs}
    offers = await _all(
        database,
        OFFERS,
        {"unit_code": {"$in": units}},
        {"unit_code": 1, "community_codes": 1, "created_at": 1, "status": 1, "uses": 1},
    )
    projects = await _all(
        database, PROJECTS, {"unit_codes": {"$in": units}}, {"unit_codes": 1, "community_code": 1, "created_at": 1}
    )
    needs = await _all(
        database,
        NEEDS,
        {"kind": "wish", "status": "done", "claimant_codes": {"$in": units}},
        {"kind": 1, "status": 1, "community_code": 1, "claimant_codes": 1, "done_at": 1},
    )
    grades = await _grades(database, period.year)
    out = []
    for report in sorted(reports, key=lambda r: (str(r["community_code"]), str(r["unit_code"]))):
        figures = domain.unit_indicators(
            report,
            headcount=headcounts.get(str(report["unit_code"])),
            members=members,
            member_docs=by_id,
            offers=offers,
            projects=projects,
            needs=needs,
            grades=grades,
            period=period,
        )
        out.append(unit_out(figures, unit_name=await name_of(refdata, "unit", figures.unit_code)))
    return out


async def member_figures(
    database: Database, reader: Actor, member_docs: Sequence[Mapping[str, Any]], *, period: Period, minimum: Minimum
) -> list[MemberFigures]:
    members = await members_figures(database, member_docs, period=period, minimum=minimum)
    shown = [m.member_id for m in members if sees_name(reader, m)]
    named = await names(database, shown) if shown else {}
    grades = await _grades(database, period.year)
    return [
        member_out(
            m,
            name=named.get(m.member_id, "") if sees_name(reader, m) else None,
            grade=domain.grade_of(
                grades, ReviewSubject.MEMBER, m.member_id, reviewer=m.community_code, year=period.year
            ),
        )
        for m in sorted(members, key=lambda m: (m.community_code, m.unit_code or "", m.member_id))
    ]


async def community_figures(
    database: Database, refdata: RefData, communities: Sequence[str], *, period: Period
) -> list[CommunityFigures]:
    if not communities:
        return []
    among = {"$in": list(communities)}
    needs = await _all(
        database,
        NEEDS,
        {"community_code": among},
        {"community_code": 1, "status": 1, "created_at": 1, "done_at": 1, "ticket_id": 1},
    )
    projects = await _all(database, PROJECTS, {"community_code": among}, {"community_code": 1, "created_at": 1})
    reports = await _all(database, REPORTS, {"community_code": among})
    member_docs = await _all(
        database, MEMBERS, {"community_code": among}, {"community_code": 1, "status": 1, "reported_at": 1}
    )
    records = await _all(database, RECORDS, {"community_code": among, "status": "approved"})
    admissions = await _all(database, ADMISSIONS, {"status": "refused", "community_codes": among})
    grades = await _grades(database, period.year)
    out = []
    for code in communities:
        figures = domain.community_indicators(
            code,
            needs=needs,
            projects=projects,
            reports=reports,
            member_docs=member_docs,
            records=records,
            admissions=admissions,
            grades=grades,
            period=period,
        )
        out.append(community_out(figures, name=await name_of(refdata, "community", code)))
    return out


# ------------------------------------------------------------------ what routes read


async def units(
    database: Database,
    refdata: RefData,
    reader: Actor,
    *,
    year: int,
    community: str | None,
    street: str | None,
    minimum: Minimum,
) -> list[UnitFigures]:
    query = await unit_scope(refdata, reader, community=community, street=street)
    reports = await _all(database, REPORTS, query)
    return await unit_figures(database, refdata, reports, period=Period(year), minimum=minimum)


async def members(
    database: Database, refdata: RefData, reader: Actor, *, year: int, community: str | None, minimum: Minimum
) -> list[MemberFigures]:
    query = await member_scope(refdata, reader, community=community)
    docs = await _all(database, MEMBERS, query)
    return await member_figures(database, reader, docs, period=Period(year), minimum=minimum)


async def communities(
    database: Database, refdata: RefData, reader: Actor, *, year: int, community: str | None, street: str | None
) -> list[CommunityFigures]:
    codes = await community_scope(refdata, reader, community=community, street=street)
    return await community_figures(database, refdata, codes, period=Period(year))


async def indicators(database: Database, refdata: RefData, reader: Actor, *, year: int, minimum: Minimum) -> Indicators:
    """What a grader grades on: a community worker's members, units and community; a unit admin's
    reports (and the communities they went to)."""
    if reader.role is Role.COMMUNITY_WORKER:
        return Indicators(
            year=year,
            members=await members(database, refdata, reader, year=year, community=None, minimum=minimum),
            units=await units(database, refdata, reader, year=year, community=None, street=None, minimum=minimum),
            communities=await community_figures(database, refdata, [reader.org], period=Period(year)),
        )
    if reader.role is Role.UNIT_ADMIN:
        unit_rows = await units(database, refdata, reader, year=year, community=None, street=None, minimum=minimum)
        return Indicators(year=year, members=[], units=unit_rows, communities=[])
    raise NotYours(reader.role)


async def feedback_card(
    database: Database, refdata: RefData, reader: Actor, *, unit: str, year: int, quarter: int, minimum: Minimum
) -> FeedbackCard:
    """双向反馈卡: the unit's members' quarter, per community the unit reported to."""
    reported = sorted({str(r["community_code"]) for r in await _all(database, REPORTS, {"unit_code": unit})})
    match reader.role:
        case Role.UNIT_ADMIN if reader.org == unit:
            shown = reported
        case Role.COMMUNITY_WORKER if reader.org in reported:
            shown = [reader.org]
        case Role.SUPERVISOR:
            shown = reported
        case Role.UNIT_ADMIN | Role.COMMUNITY_WORKER:
            raise UnknownSubject(unit)
        case _:
            raise NotYours(reader.role)
    docs = await _all(database, MEMBERS, {"unit_code": unit, "community_code": {"$in": shown}})
    period = Period(year, quarter)
    figures = await members_figures(database, docs, period=period, minimum=minimum)
    named = await names(database, [m.member_id for m in figures if sees_name(reader, m)])
    return FeedbackCard(
        unit_code=unit,
        unit_name=await name_of(refdata, "unit", unit),
        year=year,
        quarter=quarter,
        communities=shown,
        members=[
            member_out(m, name=named.get(m.member_id, "") if sees_name(reader, m) else None, remark=domain.remark(m))
            for m in sorted(figures, key=lambda m: (m.community_code, m.member_id))
        ],
    )


async def reviews(database: Database, reader: Actor, *, year: int, community: str | None) -> ReviewList:
    """The year's grades: a community's or a unit's (given by it or to it); all for a supervisor."""
    match reader.role:
        case Role.COMMUNITY_WORKER:
            if community not in (None, reader.org):
                raise NotYours(community)
            query: Doc = {"year": year, "community_code": reader.org}
        case Role.UNIT_ADMIN:
            query = {"year": year, "$or": [{"subject_code": reader.org}, {"reviewer_code": reader.org}]}
        case Role.SUPERVISOR:
            query = {"year": year}
        case _:
            raise NotYours(reader.role)
    if community is not None:
        query["community_code"] = community
    docs = await _all(database, REVIEWS, query)
    return ReviewList(
        items=[Review.model_validate({**d, "id": d["_id"]}) for d in sorted(docs, key=lambda d: str(d["_id"]))]
    )
