"""What intake answers, as its OpenAPI document shows it and the console reads it: field for field
what `handlers.report_view` and `handlers.store_photo` return, so the JSON clients see is what it
was before it was described; the report the street desk files through the console (the app files
the same); and the admin's registry of Open311 client applications (the request the console sends,
and what it gets back)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gridloop.shared.clock import Instant
from gridloop.shared.events import Actor, GeoPoint, Priority
from gridloop.shared.lifecycle import TicketStatus
from gridloop.shared.limits import PHOTOS_MAX, TEXT_MIN


class ReportRequest(BaseModel):
    """What a grid worker's app sends to file a report."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    category_code: str = Field(min_length=1, max_length=32, description="Category code, e.g. SJ-0101 暴露垃圾")
    description: str = Field(min_length=TEXT_MIN, max_length=2000, description="What was found (问题描述)")
    location: GeoPoint | None = Field(default=None, description="GPS point (WGS84)")
    grid_code: str | None = Field(
        default=None, max_length=32, description="Grid, when known; else found from the point"
    )
    address: str = Field(default="", max_length=300)
    photos: list[str] = Field(
        default_factory=list, max_length=PHOTOS_MAX, description="Attachment ids from POST /v1/attachments"
    )
    priority: Priority = Priority.NORMAL
    caller: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="来电人/来访人及联系方式: who called 12345 or came in (street desk only); kept in intake alone, "
        "never in the description, an event or an Open311 answer, and shown to that street's desk only",
    )

    @model_validator(mode="after")
    def _needs_a_place(self) -> "ReportRequest":
        if self.location is None and not self.grid_code:
            raise ValueError("give a GPS location or a grid code (需要定位或网格编码)")
        return self


class HistoryEntry(BaseModel):
    event_type: str = Field(description="事件类型 the event that changed the status, e.g. ticket.dispatched")
    status: TicketStatus = Field(description="状态 the status it led to")
    at: Instant = Field(description="发生时间 when it happened")


class ReportView(BaseModel):
    """一条上报及其去向 (a report and what became of it), as its reporter follows it."""

    ticket_id: str = Field(description="工单 id")
    ticket_number: str = Field(description="工单编号, e.g. QH-20261122-00042")
    status: TicketStatus = Field(description="当前状态 (current status)")
    category_code: str = Field(description="问题类别编码 (category code)")
    category_name: str = Field(description="问题类别名称 (category name)")
    description: str = Field(description="问题描述 (what was found)")
    location: GeoPoint | None = Field(description="GPS 定位 (WGS84); null when filed by grid code")
    address: str = Field(description="地址 (address as given)")
    grid_code: str = Field(description="网格 (grid)")
    community_code: str = Field(description="社区 (community)")
    street_code: str = Field(description="街道 (street)")
    photos: list[str] = Field(description="照片 attachment ids")
    priority: Priority = Field(description="紧急程度 (priority)")
    possible_duplicates: list[str] = Field(description="疑似重复: open tickets of the same category close by")
    duplicate_of: str | None = Field(description="合并: the ticket this one was merged into")
    reporter: Actor = Field(description="上报人 (who filed it)")
    created_at: Instant = Field(description="立案时间 (filed at)")
    updated_at: Instant = Field(description="最近变更 (last status change)")
    history: list[HistoryEntry] = Field(description="状态变化 (status changes, oldest first)")
    resolve_deadline: Instant | None = Field(description="预计办结: by when the department must have it fixed")
    resolve_deadline_provisional: bool = Field(
        description="预计: that year's holiday schedule is not yet published, so the deadline may move"
    )
    caller: str | None = Field(
        default=None, description="来电人及联系方式: for the desk of the report's street only; null for everyone else"
    )
    origin_need_id: str | None = Field(
        default=None, description="转办: the resident's need (共建) it was filed from; null for a report filed directly"
    )


class ReportPage(BaseModel):
    items: list[ReportView] = Field(description="上报, newest first")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class AttachmentView(BaseModel):
    """一张已上传的照片 (an uploaded photo)."""

    attachment_id: str = Field(description="照片 id, to name in a report's or a resolution's `photos`")
    content_type: str = Field(description="the image type its bytes are, e.g. image/jpeg")
    size: int = Field(description="bytes")


class ClientRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=2, max_length=100, description="应用名称, e.g. 市民随手拍")
    contact: str = Field(default="", max_length=200, description="联系人 (who runs it)")
    area: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        min_length=1, max_length=200, description="district, street or community codes it may file in"
    )


class ClientView(BaseModel):
    client_id: str
    name: str
    contact: str
    area: list[str]
    created_at: Instant
    revoked_at: Instant | None = Field(description="停用时间; null while the key works")


class ClientCreated(ClientView):
    api_key: str = Field(description="shown this once; GridLoop keeps only its hash")


class ClientList(BaseModel):
    items: list[ClientView]
