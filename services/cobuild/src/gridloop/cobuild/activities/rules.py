"""The written rules of service time (服务时长) and of the rotating check-in code, as pure
functions: what counts, how it is rounded and capped, how far from the place a phone may be, and
which codes are good now. Every number is a setting; the time is passed in."""

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridloop.shared.clock import CITY_ZONE, as_utc

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Rules:
    rounding_minutes: int = 15  # counted time is rounded down to this many minutes
    max_minutes_per_day: int = 480  # at most this much counts per city day of one activity
    radius_m: float = 300.0  # a check-in or check-out this far from the place at most
    code_seconds: int = 60  # the rotating code changes this often
    margin: timedelta = timedelta(minutes=30)  # check-in opens before the start, check-out closes after the end
    max_length: timedelta = timedelta(hours=24)  # an activity lasts at most this long


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def within_reach(place: tuple[float, float], position: tuple[float, float], rules: Rules) -> bool:
    return distance_m(place[0], place[1], position[0], position[1]) <= rules.radius_m


def within_time(now: datetime, starts_at: datetime, ends_at: datetime, rules: Rules) -> bool:
    """Check-in and check-out are taken from half an hour before the start to half an hour after the end."""
    return as_utc(starts_at) - rules.margin <= as_utc(now) <= as_utc(ends_at) + rules.margin


def _city_days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at the city's midnights."""
    pieces: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        local = cursor.astimezone(CITY_ZONE)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        piece_end = min(end, midnight.astimezone(start.tzinfo))
        pieces.append((cursor, piece_end))
        cursor = piece_end
    return pieces


def counted_minutes(
    present_from: datetime, present_until: datetime, starts_at: datetime, ends_at: datetime, rules: Rules
) -> int:
    """The minutes that count: only the time inside the activity's window (travel before and after
    is not service), at most `max_minutes_per_day` for each city day, rounded down to `rounding_minutes`."""
    start = max(as_utc(present_from), as_utc(starts_at))
    end = min(as_utc(present_until), as_utc(ends_at))
    if end <= start:
        return 0
    total = sum(min(rules.max_minutes_per_day, int((b - a).total_seconds() // 60)) for a, b in _city_days(start, end))
    return total - total % rules.rounding_minutes


def manual_limit(claimed: int, starts_at: datetime, ends_at: datetime, rules: Rules) -> int:
    """A claim logged by hand counts at most what being there the whole activity would count."""
    whole = counted_minutes(starts_at, ends_at, starts_at, ends_at, rules)
    capped = min(claimed, whole)
    return capped - capped % rules.rounding_minutes


def code_window(now: datetime, rules: Rules) -> int:
    return int(as_utc(now).timestamp()) // rules.code_seconds


def code_for(key: str, activity_id: str, window: int) -> str:
    """Six digits from an HMAC of the activity and the time window (HOTP's dynamic truncation)."""
    digest = hmac.new(key.encode(), f"{activity_id}:{window}".encode(), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def current_code(key: str, activity_id: str, now: datetime, rules: Rules) -> tuple[str, datetime]:
    """The code shown now and when it is replaced."""
    window = code_window(now, rules)
    expires = datetime.fromtimestamp((window + 1) * rules.code_seconds, tz=as_utc(now).tzinfo)
    return code_for(key, activity_id, window), expires


def code_accepted(key: str, activity_id: str, code: str, now: datetime, rules: Rules) -> bool:
    """The code of the current window, or of the one before (a phone a little slow to send it)."""
    window = code_window(now, rules)
    return any(hmac.compare_digest(code_for(key, activity_id, w), code) for w in (window, window - 1))
