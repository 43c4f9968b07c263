"""The points ledger's rules (积分), pure: time and balances are passed in.

Double entry: every movement has at least two entries that sum to zero. A member's points are
issued by their community's pool (`community_pool:<code>`, which goes negative as it pays), spent
at the community's shop (`shop:<code>`, 积分超市) and, when older than the validity, moved to
`expired:<code>`. Points are whole numbers: approved minutes pay floor(minutes x rate / 60), so
45 minutes at 1 point an hour pay nothing and 90 minutes pay 1.
"""

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from gridloop.shared.clock import CITY_ZONE, as_utc
from gridloop.shared.events import LedgerEntry, PointsReason, Rating, RecordApproved

EARNING = frozenset(
    {
        PointsReason.SERVICE_HOURS,
        PointsReason.POST_DUTY,
        PointsReason.WISH_FULFILLED,
        PointsReason.REPORT_VERIFIED,
    }
)
RECORD_REASONS = (PointsReason.SERVICE_HOURS, PointsReason.POST_DUTY)
REASON_NAMES: dict[str, str] = {
    PointsReason.SERVICE_HOURS: "志愿服务时长",
    PointsReason.POST_DUTY: "岗位值守",
    PointsReason.WISH_FULFILLED: "认领微心愿",
    PointsReason.REPORT_VERIFIED: "上报问题核查属实",
    PointsReason.REDEEM: "积分超市兑换",
    PointsReason.EXPIRE: "积分过期",
    PointsReason.REVERSAL: "服务评价不满意，扣回积分",
}
RANKING_SIZE = 20


class PointsRefused(Exception):
    """A request the ledger does not carry out; `code` and the Chinese message go to the caller."""

    status = 409
    code = "points_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ShopClosed(PointsRefused):
    code = "shop_closed"


class InsufficientPoints(PointsRefused):
    code = "insufficient_points"


class UnknownItem(PointsRefused):
    status = 422
    code = "unknown_item"


class InvalidShop(PointsRefused):
    status = 422
    code = "invalid_shop"


class MemberRequired(PointsRefused):
    status = 422
    code = "member_required"


class UnbalancedMovement(ValueError):
    """A movement whose entries do not sum to zero, or with fewer than two: a programming error."""


def member_account(member_id: str) -> str:
    return f"member:{member_id}"


def pool_account(community: str) -> str:
    return f"community_pool:{community}"


def shop_account(community: str) -> str:
    return f"shop:{community}"


def expired_account(community: str) -> str:
    return f"expired:{community}"


ACCOUNT_KINDS = ("member", "community_pool", "shop", "expired")


def parse_account(account: str) -> tuple[str, str] | None:
    """(kind, code) of an account name, or None when it names no account."""
    kind, _, code = account.partition(":")
    if kind not in ACCOUNT_KINDS or not code or len(code) > 64:
        return None
    return kind, code


@dataclass(frozen=True)
class Movement:
    """One double-entry movement; `source_ref` is what paid it (record, need, ticket, redemption, day)."""

    reason: PointsReason
    source_ref: str
    member_id: str
    community_code: str
    entries: tuple[LedgerEntry, ...]
    unit_code: str | None = None
    items: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if len(self.entries) < 2 or sum(e.amount for e in self.entries) != 0:
            raise UnbalancedMovement(f"{self.reason} {self.source_ref}: {self.entries}")

    @property
    def member_amount(self) -> int:
        account = member_account(self.member_id)
        return sum(e.amount for e in self.entries if e.account == account)


@dataclass(frozen=True)
class Rates:
    """The settings that price earning and validity (GRIDLOOP_POINTS_*)."""

    per_hour: int = 1
    post_duty: int = 1
    wish: int = 2
    report_verified: int = 1
    valid_months: int = 24


def hours_points(minutes: int, per_hour: int) -> int:
    """Whole points for approved minutes: floor(minutes x rate / 60)."""
    return max(0, minutes) * per_hour // 60


def issue(
    reason: PointsReason, *, source_ref: str, member_id: str, community: str, amount: int, unit: str | None = None
) -> Movement | None:
    """The community's pool pays a member; nothing for nothing."""
    if amount <= 0:
        return None
    return Movement(
        reason=reason,
        source_ref=source_ref,
        member_id=member_id,
        community_code=community,
        unit_code=unit,
        entries=(
            LedgerEntry(account=member_account(member_id), amount=amount),
            LedgerEntry(account=pool_account(community), amount=-amount),
        ),
    )


def approved(record: RecordApproved, rates: Rates) -> list[Movement]:
    """An approved record pays its hours, and a post's duty when it serves a post (岗位)."""
    common: dict[str, Any] = {
        "source_ref": record.record_id,
        "member_id": record.member_id,
        "community": record.community_code,
        "unit": record.unit_code,
    }
    paid = [issue(PointsReason.SERVICE_HOURS, amount=hours_points(record.minutes, rates.per_hour), **common)]
    if record.post_id:
        paid.append(issue(PointsReason.POST_DUTY, amount=rates.post_duty, **common))
    return [m for m in paid if m is not None]


def unsatisfied(rating: Rating) -> bool:
    return rating == Rating.UNSATISFIED


def reversal(*, record_id: str, member_id: str, community: str, paid: Sequence[Mapping[str, Any]]) -> Movement | None:
    """A record rated 不满意 gives back what it paid: every entry of its movements, negated.

    The member's balance may go below zero when the points were spent meanwhile: they are owed."""
    net: dict[str, int] = {}
    unit: str | None = None
    for movement in paid:
        unit = unit or movement.get("unit_code")
        for entry in movement["entries"]:
            net[entry["account"]] = net.get(entry["account"], 0) - int(entry["amount"])
    entries = tuple(LedgerEntry(account=a, amount=v) for a, v in net.items() if v != 0)
    if len(entries) < 2:
        return None
    return Movement(
        reason=PointsReason.REVERSAL,
        source_ref=record_id,
        member_id=member_id,
        community_code=community,
        unit_code=unit,
        entries=entries,
    )


# --------------------------------------------------------------------------------------------
# The shop (积分超市): items priced in points, open on its windows (city days).


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    price: int


@dataclass(frozen=True)
class Window:
    """A monthly day (the 15th of each month; a day past a month's end is its last day) or a range of
    city days, both ends included."""

    kind: Literal["monthly", "range"]
    day: int | None = None
    start: date | None = None
    end: date | None = None

    def opens_on(self, today: date) -> bool:
        if self.kind == "monthly":
            assert self.day is not None
            return today.day == min(self.day, calendar.monthrange(today.year, today.month)[1])
        assert self.start is not None and self.end is not None
        return self.start <= today <= self.end

    def next_from(self, today: date) -> date | None:
        """The first open day on or after `today`, or None when it never opens again."""
        if self.kind == "range":
            assert self.start is not None and self.end is not None
            if today > self.end:
                return None
            return max(today, self.start)
        for step in range(13):
            year, month = today.year + (today.month - 1 + step) // 12, (today.month - 1 + step) % 12 + 1
            assert self.day is not None
            candidate = date(year, month, min(self.day, calendar.monthrange(year, month)[1]))
            if candidate >= today:
                return candidate
        return None


@dataclass(frozen=True)
class Shop:
    community: str
    items: tuple[Item, ...]
    windows: tuple[Window, ...]

    def price_of(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)


def shop(community: str, *, items: Iterable[Mapping[str, Any]], windows: Iterable[Mapping[str, Any]]) -> Shop:
    """A shop as a worker sets it: unique item codes, positive prices, windows that make sense."""
    parsed_items = tuple(Item(code=i["code"], name=i["name"], price=int(i["price"])) for i in items)
    codes = [i.code for i in parsed_items]
    if len(set(codes)) != len(codes):
        raise InvalidShop("商品编码重复 (an item code appears twice)")
    if any(i.price <= 0 for i in parsed_items):
        raise InvalidShop("商品积分价格须大于0 (a price must be above zero)")
    parsed_windows: list[Window] = []
    for w in windows:
        if w["kind"] == "monthly":
            if not 1 <= int(w["day"]) <= 31:
                raise InvalidShop("每月兑换日须在1至31之间 (the monthly day is 1 to 31)")
            parsed_windows.append(Window(kind="monthly", day=int(w["day"])))
        else:
            start, end = _as_date(w["start"]), _as_date(w["end"])
            if end < start:
                raise InvalidShop("兑换时段的结束日期早于开始日期 (a window ends before it starts)")
            parsed_windows.append(Window(kind="range", start=start, end=end))
    return Shop(community=community, items=parsed_items, windows=tuple(parsed_windows))


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def city_day(now: datetime) -> date:
    return as_utc(now).astimezone(CITY_ZONE).date()


def is_open(shop: Shop, now: datetime) -> bool:
    today = city_day(now)
    return any(w.opens_on(today) for w in shop.windows)


def next_open(shop: Shop, now: datetime) -> date | None:
    today = city_day(now)
    found = [d for w in shop.windows if (d := w.next_from(today)) is not None]
    return min(found) if found else None


@dataclass(frozen=True)
class Line:
    code: str
    qty: int


def redeem(
    shop: Shop,
    *,
    lines: Sequence[Line],
    balance: int,
    member_id: str,
    redemption_id: str,
    now: datetime,
    unit: str | None = None,
) -> Movement:
    """兑换: inside a window, known items, up to the member's balance; the member pays the shop."""
    if not is_open(shop, now):
        upcoming = next_open(shop, now)
        when = f"下次兑换日：{upcoming.isoformat()}" if upcoming else "暂无安排兑换日"
        raise ShopClosed(f"积分超市今日不开放兑换（{when}）")
    chosen: list[Mapping[str, Any]] = []
    total = 0
    for line in lines:
        item = shop.price_of(line.code)
        if item is None:
            raise UnknownItem(f"积分超市没有此商品：{line.code}")
        total += item.price * line.qty
        chosen.append({"code": item.code, "name": item.name, "price": item.price, "qty": line.qty})
    if total <= 0:
        raise UnknownItem("请选择要兑换的商品 (choose what to redeem)")
    if total > balance:
        raise InsufficientPoints(f"积分不足：需要 {total} 分，当前余额 {balance} 分")
    return Movement(
        reason=PointsReason.REDEEM,
        source_ref=redemption_id,
        member_id=member_id,
        community_code=shop.community,
        unit_code=unit,
        entries=(
            LedgerEntry(account=member_account(member_id), amount=-total),
            LedgerEntry(account=shop_account(shop.community), amount=total),
        ),
        items=tuple(chosen),
    )


# --------------------------------------------------------------------------------------------
# Expiry: points earned before the cutoff and not spent (first in, first out) move to expired.


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def expiry_cutoff(now: datetime, months: int) -> datetime:
    """The start (city time) of the day `months` before today: points earned before it expire."""
    day = months_before(city_day(now), months)
    return datetime.combine(day, time(0), CITY_ZONE)


@dataclass
class _Lot:
    at: datetime
    amount: int = 0
    earned: bool = field(default=False)


def expiring(movements: Iterable[Mapping[str, Any]], *, member_id: str, cutoff: datetime) -> int:
    """How many of a member's points are now due to expire (FIFO).

    Each earning is a lot (a record's hours and duty, net of its reversal, are one lot); spending and
    earlier expiries use the oldest lots first, so what is due is the points earned before the
    cutoff minus everything spent or expired so far, never below zero."""
    account = member_account(member_id)
    lots: dict[str, _Lot] = {}
    debits = 0
    for movement in movements:
        amount = sum(int(e["amount"]) for e in movement["entries"] if e["account"] == account)
        reason = movement["reason"]
        if reason in EARNING or reason == PointsReason.REVERSAL:
            lot = lots.setdefault(f"{movement['source_ref']}", _Lot(at=as_utc(movement["at"])))
            lot.amount += amount
            if reason in EARNING:
                lot.earned = True
                lot.at = min(lot.at, as_utc(movement["at"]))
        else:
            debits -= amount
    earned_before = sum(max(0, lot.amount) for lot in lots.values() if lot.earned and lot.at < cutoff)
    return max(0, earned_before - debits)


def expire(*, member_id: str, community: str, amount: int, cutoff: datetime) -> Movement | None:
    if amount <= 0:
        return None
    return Movement(
        reason=PointsReason.EXPIRE,
        source_ref=f"before:{cutoff.date().isoformat()}",
        member_id=member_id,
        community_code=community,
        entries=(
            LedgerEntry(account=member_account(member_id), amount=-amount),
            LedgerEntry(account=expired_account(community), amount=amount),
        ),
    )


# --------------------------------------------------------------------------------------------
# Reads


def city_year(year: int) -> tuple[datetime, datetime]:
    return (
        datetime.combine(date(year, 1, 1), time(0), CITY_ZONE),
        datetime.combine(date(year + 1, 1, 1), time(0), CITY_ZONE),
    )


def ranking(earned: Mapping[str, int], size: int = RANKING_SIZE) -> list[tuple[str, int]]:
    """A positive list only: the members with points above zero, most first; never a bottom list."""
    ranked = sorted(((m, p) for m, p in earned.items() if p > 0), key=lambda mp: (-mp[1], mp[0]))
    return ranked[:size]


def mask_name(name: str) -> str:
    """张明 -> 张*; 欧阳明华 -> 欧***: a ranking names no one in full."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


@dataclass(frozen=True)
class CheckResult:
    total: int
    accounts: int
    mismatched: list[tuple[str, int, int]]

    @property
    def ok(self) -> bool:
        return self.total == 0 and not self.mismatched


def check(balances: Mapping[str, int], movement_sums: Mapping[str, int]) -> CheckResult:
    """The ledger holds when all balances sum to zero and each balance is the sum of its entries."""
    accounts = set(balances) | set(movement_sums)
    mismatched = sorted(
        (a, balances.get(a, 0), movement_sums.get(a, 0))
        for a in accounts
        if balances.get(a, 0) != movement_sums.get(a, 0)
    )
    return CheckResult(total=sum(balances.values()), accounts=len(accounts), mismatched=mismatched)
