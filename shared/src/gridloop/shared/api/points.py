"""The points ledger's API (积分) as its clients see it: balances and movements, the ranking, a
unit's points, the ledger's check, and the community's shop (积分超市) with its redemptions."""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridloop.shared.clock import Instant
from gridloop.shared.events import PointsReason

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


class Entry(BaseModel):
    account: str
    amount: int


class Movement(BaseModel):
    id: str
    at: Instant
    reason: PointsReason
    reason_name: str = Field(description="原因 (in Chinese)")
    source_ref: str
    member_id: str | None
    community_code: str
    amount: int = Field(description="该账户的变动 (this account's change)")
    entries: list[Entry]
    items: list[dict[str, str | int]] = []


class Account(BaseModel):
    account: str
    balance: int
    movements: list[Movement] = Field(description="最近的变动，新的在前 (newest first, at most 100)")


class LedgerPage(BaseModel):
    member_id: str | None = Field(description="null: the caller is not registered yet (no movements)")
    items: list[Movement] = Field(description="该期间的变动，按时间先后 (oldest first, at most 1000)")


class MyPoints(Account):
    member_id: str | None = Field(description="报到登记号; null: not registered yet (no points)")
    community_code: str


class RankingLine(BaseModel):
    rank: int
    member_id: str
    name: str = Field(description="姓名（隐去名字，只显示姓）")
    points: int


class Ranking(BaseModel):
    community_code: str
    year: int
    items: list[RankingLine] = Field(description="正向榜：积分大于0的前20名；从不列出末位")


class UnitMemberPoints(BaseModel):
    member_id: str
    community_code: str
    balance: int


class UnitPoints(BaseModel):
    unit_code: str
    total: int = Field(description="单位积分 = 其党员积分之和")
    members: list[UnitMemberPoints]


class Mismatch(BaseModel):
    account: str
    balance: int
    movements_sum: int


class LedgerCheck(BaseModel):
    ok: bool
    total: int = Field(description="所有账户余额之和，应为0")
    accounts: int
    mismatched: list[Mismatch]


class ShopItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    code: Code
    name: str = Field(min_length=1, max_length=40, description="商品名称")
    price: int = Field(ge=1, le=100000, description="所需积分")


class MonthlyWindow(BaseModel):
    """每月固定兑换日 (e.g. the 15th; a day past a month's end is its last day), city time."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["monthly"]
    day: int = Field(ge=1, le=31)


class RangeWindow(BaseModel):
    """一段兑换期 (city days, both ends included)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["range"]
    start: date
    end: date


Window = Annotated[MonthlyWindow | RangeWindow, Field(discriminator="kind")]


class ShopRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[ShopItem] = Field(min_length=1, max_length=100)
    windows: list[Window] = Field(min_length=1, max_length=24)


class Shop(BaseModel):
    community_code: str
    items: list[ShopItem]
    windows: list[Window]
    open_today: bool
    next_open: date | None = Field(description="下一个兑换日 (city day)")


class RedemptionLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    qty: int = Field(ge=1, le=100)


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(min_length=1, max_length=64)
    items: list[RedemptionLine] = Field(min_length=1, max_length=20)


class Redemption(BaseModel):
    movement_id: str
    member_id: str
    spent: int
    balance: int = Field(description="兑换后的余额")
    items: list[dict[str, str | int]]
