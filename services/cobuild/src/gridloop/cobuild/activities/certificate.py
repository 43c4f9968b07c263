"""志愿服务证明: "谁记录谁证明" — one organiser certifies only the approved records of the activities
it ran. The rules of who may have one and what it says are pure; `issue` reads and renders."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gridloop.cobuild.activities import domain, store
from gridloop.cobuild.activities.domain import UnknownMember
from gridloop.cobuild.offers.domain import Conflict, Invalid, NotAllowed
from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.events import Actor, Role
from gridloop.shared.mongo import Database
from gridloop.shared.pdf import PdfDocument, PdfTable, render
from gridloop.shared.refdata import RefData

Kind = Literal["community", "unit"]


@dataclass(frozen=True)
class Organiser:
    kind: Kind
    code: str


def parse_organiser(value: str | None) -> Organiser | None:
    """`community:LJ01` or `unit:U-LJ-HOSP`."""
    if not value:
        return None
    kind, _, code = value.partition(":")
    if kind not in ("community", "unit") or not code:
        raise Invalid("bad_organizer", "出具方格式应为 community:<社区编码> 或 unit:<单位编码>")
    return Organiser("community" if kind == "community" else "unit", code)


def certifier(member: Mapping[str, Any], reader: Actor, asked: Organiser | None) -> Organiser:
    """Whose certificate the reader may have: the member their own from any organiser they name; an
    organiser (community worker, unit admin) only its own."""
    if reader.role is Role.MEMBER:
        if member.get("sub") != reader.sub:
            raise UnknownMember(str(member["_id"]))
        if asked is None:
            raise Invalid("organizer_required", "请选择出具证明的组织方 (name the organiser: 谁记录谁证明)")
        return asked
    own: Organiser | None = None
    if reader.role is Role.COMMUNITY_WORKER:
        own = Organiser("community", reader.org)
    elif reader.role is Role.UNIT_ADMIN:
        own = Organiser("unit", reader.org)
    if own is None:
        raise NotAllowed("只有本人或活动组织方可以查看服务证明 (the member or the organiser)")
    if asked is not None and asked != own:
        raise NotAllowed("只能出具本组织记录的服务证明 (谁记录谁证明)")
    return own


def hours(minutes: int) -> str:
    """Minutes as hours, without trailing zeros: 210 -> 3.5."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def document(
    *,
    member_id: str,
    name: str | None,
    organiser_name: str,
    year: int,
    records: Sequence[Mapping[str, Any]],
    issued_at: datetime,
) -> PdfDocument:
    total = sum(int(r["minutes"] or 0) for r in records)
    who = f"{name}（编号 {member_id}）" if name else f"编号 {member_id}"
    rows = [
        [
            as_utc(r["service_date"]).astimezone(CITY_ZONE).strftime("%Y-%m-%d"),
            r["activity_title"],
            str(r["minutes"]),
            hours(int(r["minutes"] or 0)),
        ]
        for r in records
    ]
    return PdfDocument(
        title="志愿服务证明",
        lines=[
            f"兹证明 {who} 于 {year} 年参加由{organiser_name}组织的志愿服务活动 {len(records)} 次，"
            f"经组织方审核，累计服务时长 {hours(total)} 小时。",
        ],
        tables=[
            PdfTable(
                headers=["服务日期", "活动名称", "核定时长（分钟）", "小时"],
                rows=[*rows, ["合计", "", str(total), hours(total)]],
                caption="服务记录明细",
            )
        ],
        footer=[
            f"合计 {hours(total)} 小时",
            "本证明仅列出本组织方组织并审核通过的服务记录（谁记录谁证明）。",
            f"出具方：{organiser_name}",
            f"出具日期：{issued_at.astimezone(CITY_ZONE):%Y年%m月%d日}",
        ],
        meta={"member_id": member_id, "year": str(year)},
    )


async def issue(
    *, database: Database, refdata: RefData, reader: Actor, member_id: str, year: int | None, organizer: str | None
) -> tuple[bytes, str]:
    """The PDF and its file name."""
    now = database.clock.now()
    year = year or now.astimezone(CITY_ZONE).year
    if not 2000 <= year <= 2100:
        raise Invalid("bad_year", "年份无效 (year out of range)")
    asked = parse_organiser(organizer)
    member = await store.member(database.db, member_id)
    if member is None:
        raise UnknownMember(member_id)
    who = certifier(member, reader, asked)
    start, end = domain.year_bounds(year)
    records = await store.certificate_records(
        database.db, member_id=member_id, organizer_kind=who.kind, organizer_code=who.code, start=start, end=end
    )
    if not records:
        if reader.role is not Role.MEMBER:
            raise UnknownMember(member_id)  # not a member this organiser recorded
        raise Conflict("no_records", f"{year} 年没有该组织方审核通过的服务记录 (no approved records)")
    found = await refdata.get("community" if who.kind == "community" else "unit", who.code)
    organiser_name = str(found.get("name", who.code)) if found else who.code
    name = await store.member_name(database.db, member_id)
    pdf = render(
        document(
            member_id=member_id, name=name, organiser_name=organiser_name, year=year, records=records, issued_at=now
        )
    )
    return pdf, f"志愿服务证明-{year}-{member_id}.pdf"
