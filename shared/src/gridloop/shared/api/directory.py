"""What the directory answers, as its OpenAPI document shows it and the console reads it: field for
field what its handlers return, so the JSON clients see is what it was before it was described. A
record's `data` has the shape of its kind (the models of `gridloop.shared.directory`: Department,
Category, Grid, ...), so it stays an open object here."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from gridloop.shared.clock import Instant
from gridloop.shared.directory import Kind
from gridloop.shared.events import Actor


class GridLeaf(BaseModel):
    code: str = Field(description="网格编码")
    name: str = Field(description="网格名称")


class CommunityNode(BaseModel):
    code: str = Field(description="社区编码")
    name: str = Field(description="社区名称")
    street: str = Field(description="所属街道")
    grids: list[GridLeaf] = Field(description="社区的网格")


class StreetNode(BaseModel):
    code: str = Field(description="街道编码")
    name: str = Field(description="街道名称")
    district: str = Field(description="所属区")
    communities: list[CommunityNode] = Field(description="街道的社区")


class DistrictNode(BaseModel):
    code: str = Field(description="区编码")
    name: str = Field(description="区名称")
    streets: list[StreetNode] = Field(description="区的街道")


class AreaTree(BaseModel):
    """区 → 街道 → 社区 → 网格."""

    districts: list[DistrictNode]


class GridView(BaseModel):
    """一个网格 (a grid) with its polygon."""

    code: str = Field(description="网格编码")
    name: str = Field(description="网格名称")
    community: str = Field(description="所属社区")
    street: str = Field(description="所属街道")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon (WGS84)")


class RecordList(BaseModel):
    items: list[dict[str, Any]] = Field(description="every record of the kind, by code; each in its kind's shape")


class RecordView(BaseModel):
    kind: Kind = Field(description="记录类型")
    code: str = Field(description="编码 (a rule's id)")
    revision: int = Field(description="版本号, counting from 1")
    data: dict[str, Any] = Field(description="the record, in its kind's shape")


class RecordChange(RecordView):
    """What a PUT did; `unchanged` (the same data again) announces nothing and keeps the revision."""

    outcome: Literal["created", "changed", "unchanged"] = Field(description="新建 / 修改 / 未变")


class Revision(BaseModel):
    revision: int = Field(description="版本号")
    data: dict[str, Any] = Field(description="the record as it was in this revision")
    changed_by: Actor | None = Field(description="修改人; null for revisions from before it was recorded")
    changed_at: Instant | None = Field(description="修改时间; null for revisions from before it was recorded")


class RecordHistory(BaseModel):
    kind: Kind = Field(description="记录类型")
    code: str = Field(description="编码")
    revisions: list[Revision] = Field(description="oldest first")
