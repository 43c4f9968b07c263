"""The JSON supervision's routes answer with, which the command centre reads. Each model names
exactly the keys the routes have always returned; a ticket record's keys that only some records
carry (set by a later event) are optional and left out when the record lacks them."""

import math
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from gridloop.shared.events import Actor, GeoPoint


class ScoreWeights(BaseModel):
    """Weights of the composite score (综合得分); they must add up to 1."""

    response: float = Field(default=0.30, ge=0, le=1)
    resolution: float = Field(default=0.35, ge=0, le=1)
    satisfaction: float = Field(default=0.35, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> "ScoreWeights":
        if not math.isclose(self.response + self.resolution + self.satisfaction, 1.0, abs_tol=1e-9):
            raise ValueError("score weights must add up to 1")
        return self


class TicketRecord(BaseModel):
    """One ticket as supervision has projected it from every event so far."""

    ticket_id: str
    ticket_number: str
    category_code: str
    category_name: str
    street_code: str
    community_code: str
    grid_code: str
    district_code: str
    location: GeoPoint | None = Field(
        default=None, description="上报位置 (the reported point; records projected before it was kept lack it)"
    )
    priority: str
    reporter: str = Field(description="the reporter's user id")
    status: str
    lead_department: str | None
    assisting_departments: list[str]
    round: int = Field(description="dispatch round: 1, and one more after each 退单")
    reported_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    accept_deadline: datetime | None
    resolve_deadline: datetime | None
    rejections: int
    reworks: int
    rating: str | None
    last_event_at: datetime
    updated_at: datetime | None = None
    deadlines_provisional: bool = Field(
        default=False,
        description="预计: counted on a year whose holiday schedule is not published yet (once dispatched)",
    )
    dispatch_mode: Literal["auto", "manual"] | None = Field(default=None, description="by a rule or by the street desk")
    extended: bool = Field(default=False, description="an extension (延期) was granted")


class TimelineEntry(BaseModel):
    event_id: str
    event_type: str
    occurred_at: datetime
    actor: Actor
    department: str | None = Field(description="the department the event counts for")
    correlation_id: str
    payload: dict[str, Any]


class TicketTimeline(BaseModel):
    ticket: TicketRecord
    timeline: list[TimelineEntry]


class WindowEcho(BaseModel):
    start: datetime = Field(alias="from", description="inclusive")
    end: datetime = Field(alias="to", description="exclusive")
    timestamp: Literal["occurred_at"] = Field(description="the event time compared with the window")
    time_zone: str = Field(description="the city's time zone, in which months and days are cut")


class UnitIndicators(BaseModel):
    """One unit's figures in the window (docs/metrics.md): counts, rates (None without a
    denominator), working-minute percentiles, composite score, and the backlog now."""

    code: str
    name: str = Field(description="the directory's name, or the code for a unit it does not know")
    reported: int
    dispatched: int
    dispatched_auto: int
    dispatched_manual: int
    accepted: int
    responded: int
    responded_on_time: int
    rejected: int
    resolved: int
    resolved_on_time: int
    reopened: int
    closed: int
    closed_auto: int
    cancelled: int
    rated: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    overdue: int
    escalated: int
    response_rate: float | None = Field(description="响应率")
    on_time_resolution_rate: float | None = Field(description="按期处置率")
    resolution_rate: float | None = Field(description="解决率")
    satisfaction_rate: float | None = Field(description="满意率")
    rejection_rate: float | None = Field(description="退单率")
    rework_rate: float | None = Field(description="返工率")
    manual_dispatch_rate: float | None = Field(description="人工派遣率")
    accept_minutes_median: int | None
    accept_minutes_p90: int | None
    resolve_minutes_median: int | None
    resolve_minutes_p90: int | None
    score: float | None = Field(description="综合得分")
    open_now: int = Field(description="在办数, now")
    overdue_now: int = Field(description="当前超期数, now")


class RankedUnit(UnitIndicators):
    rank: int


class Stats(BaseModel):
    unit: str
    window: WindowEcho
    items: list[UnitIndicators]


class Ranking(BaseModel):
    unit: str
    window: WindowEcho
    weights: ScoreWeights
    min_volume: int = Field(description="dispatches in the window before a unit is ranked")
    ranked: list[RankedUnit]
    red_list: list[RankedUnit] = Field(description="红榜")
    black_list: list[RankedUnit] = Field(description="黑榜, worst first")
    unranked: list[str] = Field(description="codes of units below the minimum volume or without a score")


class OverdueTickets(BaseModel):
    """超期工单: a page of them, longest overdue first."""

    items: list[TicketRecord]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class GridLoad(BaseModel):
    """One grid's open tickets now."""

    grid_code: str = Field(description="网格编码 (grid code)")
    open: int = Field(description="在办数 (tickets not yet closed or cancelled)")
    overdue: int = Field(description="超期数 (of them, past the deadline of the step owed)")


class MapPoint(BaseModel):
    """An open ticket where it was reported."""

    ticket_id: str = Field(description="工单编号 (ticket id)")
    ticket_number: str = Field(description="工单号 (ticket number)")
    status: str = Field(description="工单状态 (the ticket's state)")
    overdue: bool = Field(description="是否超期 (past the deadline of the step owed)")
    category_name: str = Field(description="问题类别 (category name)")
    grid_code: str = Field(description="网格编码 (grid code)")
    lon: float = Field(description="经度 (longitude, WGS 84)")
    lat: float = Field(description="纬度 (latitude, WGS 84)")


class CommandMap(BaseModel):
    """指挥中心地图: the open tickets in the reader's scope, by grid and as points."""

    grids: list[GridLoad] = Field(description="有在办工单的网格，按编码排序 (grids with open tickets, by code)")
    points: list[MapPoint] = Field(
        description="有定位的在办工单，按应办时限排序，超期的在前 "
        "(open tickets with a location, by the deadline owed, earliest first, so the overdue first)"
    )
    truncated: bool = Field(
        description="点数超过 limit，仅返回前 limit 个 (more points than `limit`; the rest left out)"
    )


# 共建 indicators (the needs topic: needs, offers, projects, solved hotspots) ---------------------
# Definitions in docs/metrics.md, "共建 indicators". Needs, offers and projects are cohorts of the
# window (collected, accepted, approved in it) whose outcomes count as known at the window's end;
# 受益人次 and 热点难点 count what happened inside the window.


class CobuildIndicators(BaseModel):
    """One unit's 共建 figures in the window: counts, and rates (null when their base is 0)."""

    code: str
    name: str = Field(description="the directory's name, or the code for a unit it does not know")
    needs_collected: int = Field(description="收集需求数: needs submitted in the window")
    needs_offered: int = Field(description="of them, published or assigned (派单) by the window's end")
    needs_claimed: int = Field(description="of them, claimed at least once by the window's end")
    needs_converted: int = Field(description="of them, converted to a ticket (转办)")
    needs_rejected: int = Field(description="of them, rejected (不予受理)")
    needs_withdrawn: int = Field(description="of them, withdrawn by the submitter")
    needs_merged: int = Field(description="of them, merged into another need")
    needs_fulfilment_base: int = Field(
        description="兑现率的基数: collected less converted, rejected, withdrawn, merged"
    )
    needs_done: int = Field(description="兑现数: of them, done by the window's end")
    needs_done_on_time: int = Field(description="按期兑现数: of the done, delivered by the deliver deadline")
    needs_rated: int = Field(description="of them, rated (a converted need by its ticket's rating)")
    needs_satisfied: int
    needs_basically_satisfied: int
    needs_unsatisfied: int
    offers_accepted: int = Field(description="资源: offers the community accepted in the window")
    offers_used: int = Field(description="of them, used by a project at least once by the window's end")
    projects_approved: int = Field(description="项目: projects approved in the window")
    projects_completed: int = Field(description="of them, completed (or completed and evaluated) by the window's end")
    beneficiaries_from_projects: int = Field(description="受益人次 of projects completed in the window")
    beneficiaries_from_needs: int = Field(description="needs done in the window, one each")
    beneficiaries: int = Field(description="受益人次: the two above added")
    hotspots_solved: int = Field(description="热点难点解决数: hotspots declared solved in the window")
    claim_rate: float | None = Field(description="认领率 = needs_claimed / needs_offered")
    fulfilment_rate: float | None = Field(description="兑现率 = needs_done / needs_fulfilment_base")
    on_time_rate: float | None = Field(description="按期兑现率 = needs_done_on_time / needs_done")
    conversion_rate: float | None = Field(description="转办率 = needs_converted / needs_collected")
    satisfaction_rate: float | None = Field(
        description="需求满意率 = (needs_satisfied + needs_basically_satisfied) / needs_rated"
    )
    offer_use_rate: float | None = Field(description="资源使用率 = offers_used / offers_accepted")
    project_completion_rate: float | None = Field(description="项目完成率 = projects_completed / projects_approved")


class CobuildStats(BaseModel):
    unit: str
    window: WindowEcho
    items: list[CobuildIndicators] = Field(description="units with any need, offer, project or hotspot in the window")


class CobuildBoardRow(CobuildIndicators):
    insufficient: bool = Field(description="样本不足: fewer needs collected than min_volume; its rates are null")
    note: str = Field(description="样本不足, or empty")


class CobuildBoard(BaseModel):
    """共建看板: every community of a street (a community worker: their own) in the window, by code."""

    street: str
    name: str = Field(description="the street's name in the directory")
    window: WindowEcho
    min_volume: int = Field(description="needs collected in the window before a community's rates are shown")
    items: list[CobuildBoardRow]


# 双报到 and volunteering indicators (the volunteering topic) ------------------------------------
# Definitions in docs/metrics.md, "双报到 and volunteering indicators". A year is cut in city time;
# statuses are as they stood at the year's end, service records count by their service date and
# points by when they moved. Every rate comes with its numerator and denominator beside it.


class VolunteeringFigures(BaseModel):
    """One area's (or reporting unit's) 双报到 and volunteering figures of a year."""

    code: str
    name: str = Field(description="the directory's name, or the code for one it does not know")
    units_obligated: int = Field(
        description="应报到单位: the directory's units of the area (a community: its paired units; a unit: 1)"
    )
    units_reported: int = Field(
        description="已报到单位: of them, reported to a community of the area by the year's end"
    )
    unit_report_rate: float | None = Field(description="单位报到率 = units_reported / units_obligated")
    party_headcount: int = Field(description="the obligated units' confirmed Party-member headcounts (在职党员数)")
    party_members_reported: int = Field(
        description="of those units' Party members, reported (confirmed by a community), on the roll at the year's end"
    )
    party_report_rate: float | None = Field(description="党员报到率 = party_members_reported / party_headcount")
    members_reported: int = Field(
        description="报到人数: members on the roll at the year's end living in the area (a unit: naming the unit)"
    )
    members_participating: int = Field(description="of them, with at least one approved service record in the year")
    participation_rate: float | None = Field(description="参与率 = members_participating / members_reported")
    members_meeting_minimum: int = Field(
        description="of them, meeting the yearly minimum (min_services records and min_minutes approved minutes)"
    )
    completion_rate: float | None = Field(description="服务完成率 = members_meeting_minimum / members_reported")
    posts_published: int = Field(description="公益岗位 open at the year's end in the area's grids")
    posts_full: int = Field(description="of them, held by their full headcount")
    post_claim_rate: float | None = Field(description="岗位认领率 = posts_full / posts_published")
    minutes: int = Field(description="approved service minutes in the year of the members reported")
    hours: float = Field(description="服务时长 = minutes / 60")
    hours_per_member: float | None = Field(description="人均服务时长 = hours / members_reported")


class VolunteeringYear(BaseModel):
    year: int
    window: WindowEcho
    min_services: int = Field(description="the yearly minimum of approved service records")
    min_minutes: int = Field(description="the yearly minimum of approved service minutes")


class VolunteeringStats(VolunteeringYear):
    unit: str = Field(description="communities | streets | districts | units")
    items: list[VolunteeringFigures] = Field(description="every area (or unit) in the reader's scope, by code")


class VolunteeringBoardUnit(VolunteeringFigures):
    score: float | None = Field(
        description="综合: the mean of 党员报到率 (at most 1), 参与率 and 服务完成率; null when not ranked"
    )
    rank: int | None
    insufficient: bool = Field(description="样本不足: fewer members reported than min_volume, or a rate without a base")
    note: str = Field(description="样本不足, or empty")


class VolunteeringPerson(BaseModel):
    """A person on the points 红榜: an id only (names are cobuild's, never supervision's)."""

    rank: int
    member_id: str
    community_code: str = Field(description="the community the points were earned in")
    points: int = Field(description="points earned in the year (redemption and expiry do not lessen them)")


class VolunteeringBoard(VolunteeringYear):
    """双报到红黑榜: units ranked by the composite (红榜 the best, 黑榜 the worst); persons only on the
    红榜 of points."""

    min_volume: int = Field(description="members reported before a unit is ranked")
    board_size: int = Field(description="units on the 红榜 and on the 黑榜")
    ranked: list[VolunteeringBoardUnit]
    red_list: list[VolunteeringBoardUnit] = Field(description="红榜 of units, best first")
    black_list: list[VolunteeringBoardUnit] = Field(description="黑榜 of units, worst first")
    unranked: list[VolunteeringBoardUnit] = Field(description="units not ranked (样本不足), by code")
    persons: list[VolunteeringPerson] = Field(description="积分红榜: top persons by points earned, points above zero")
