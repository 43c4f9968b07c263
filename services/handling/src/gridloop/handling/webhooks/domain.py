"""Webhook rules: which events a department's endpoint gets, how a delivery is identified and
signed (Standard Webhooks), when it is tried again, and when an endpoint that keeps failing is
switched off; who may do what to an endpoint, and where a delivery may go. Pure: no I/O, no
clock read, no name resolution (resolved addresses come in as arguments).

Standard Webhooks (standardwebhooks.com): headers `webhook-id` (stable across retries and
replays, so a receiver deduplicates by it), `webhook-timestamp` (Unix seconds of the attempt),
`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; during a secret rotation
one signature per valid secret, space-separated); the body is `{"type", "timestamp", "data"}`
with the event's envelope as data."""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from gridloop.shared.events import TICKETS_TOPIC, Envelope, TicketDispatched, TicketReported, payload_types
from gridloop.shared.webhooks import message_id, new_secret

__all__ = [
    "Destination",
    "EndpointRefused",
    "InvalidDestination",
    "NotPermitted",
    "OutboundPolicy",
    "RetryPolicy",
    "UnknownAllowList",
    "UnknownEndpoint",
    "Verdict",
    "actions_now",
    "allow_list_problem",
    "body",
    "departments_involved",
    "judge",
    "new_secret",
    "parse_allow_list",
    "parse_destination",
    "permitted",
    "signing_secrets",
    "stored_allow_list",
    "subscribable",
    "unsubscribable",
    "wants",
    "webhook_id",
    "worth_resolving",
]


class UnknownEndpoint(LookupError):
    """No such endpoint, or another department's: the same answer."""


class UnknownAllowList(LookupError):
    """Another department's allow-list, asked for by an agent: not theirs to see."""


class EndpointRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class NotPermitted(PermissionError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


BEFORE_ANY_DEPARTMENT = frozenset({TicketReported.EVENT_TYPE})
"""Events no department is involved in yet: a report concerns none until it is dispatched."""


def subscribable() -> list[str]:
    """The event types an endpoint may subscribe to, in name order: every ticket event of the event
    registry (each once, whatever its versions) once a department is involved. The one list the
    console offers (GET /v1/webhooks/event-types) and registrations are checked against."""
    tickets = {event_type for (event_type, _), payload in payload_types().items() if payload.TOPIC == TICKETS_TOPIC}
    return sorted(tickets - BEFORE_ANY_DEPARTMENT)


def unsubscribable(event_types: Iterable[str]) -> list[str]:
    """Those of `event_types` no endpoint may subscribe to, in name order."""
    return sorted(set(event_types) - set(subscribable()))


ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret still signs after a rotation, so the receiver can switch over."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: `first`, doubling, at most `longest` apart; an endpoint failing
    `disable_after` times in a row, over at least `disable_span`, is switched off."""

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(hours=1)
    disable_after: int = 30
    disable_span: timedelta = timedelta(hours=24)

    def next_attempt(self, attempts: int, now: datetime) -> datetime:
        delay: timedelta = self.first * (2 ** min(max(attempts - 1, 0), 30))
        return now + min(delay, self.longest)

    def disables(self, failures_in_row: int, failing_since: datetime | None, now: datetime) -> bool:
        return (
            failures_in_row >= self.disable_after
            and failing_since is not None
            and now - failing_since >= self.disable_span
        )


def webhook_id(endpoint_id: str, event_id: str) -> str:
    """One id per endpoint and event: the same on every retry and replay."""
    return message_id(endpoint_id, event_id)


def departments_involved(event: Envelope, order_departments: set[str]) -> set[str]:
    """Whom an event concerns: the departments a dispatch names, else those with a work order."""
    if isinstance(event.payload, TicketDispatched):
        return {event.payload.lead_department, *event.payload.assisting_departments} | order_departments
    return order_departments


def wants(endpoint: dict[str, Any], event_type: str) -> bool:
    return bool(endpoint.get("enabled")) and event_type in endpoint.get("event_types", [])


def body(event: Envelope) -> str:
    return json.dumps(
        {
            "type": event.event_type,
            "timestamp": event.occurred_at.isoformat(),
            "data": json.loads(event.to_wire()),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def signing_secrets(endpoint: dict[str, Any], now: datetime) -> list[str]:
    """The current secret, and the previous one while its overlap lasts."""
    valid = [endpoint["secret"]]
    previous = endpoint.get("previous_secret")
    if previous and endpoint.get("previous_secret_until") and now < endpoint["previous_secret_until"]:
        valid.append(previous)
    return valid


# ---- who may do what to an endpoint ----------------------------------------------------------------

DEPARTMENT_ACTIONS = frozenset({"change", "enable", "disable", "rotate_secret", "replay", "delete"})
"""An endpoint is the department's own: it chooses where its events go, which ones, and holds the secret."""
OVERSIGHT_ACTIONS = frozenset({"disable", "delete"})
"""The admin's, over any department's endpoint: stop it, never point it elsewhere or subscribe in its name."""


def permitted(*, own_department: bool) -> frozenset[str]:
    return DEPARTMENT_ACTIONS if own_department else OVERSIGHT_ACTIONS


def actions_now(*, own_department: bool, enabled: bool) -> list[str]:
    """What the caller may do to the endpoint in its present state, for pages to show as buttons."""
    moot = "enable" if enabled else "disable"
    return sorted(permitted(own_department=own_department) - {moot})


# ---- where a delivery may go -----------------------------------------------------------------------

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

LOOPBACK: tuple[IPNetwork, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))
ALWAYS_REFUSED: tuple[IPNetwork, ...] = (
    ip_network("0.0.0.0/8"),  # unspecified ("this host" on Linux)
    ip_network("169.254.0.0/16"),  # link-local, with the cloud metadata address 169.254.169.254
    ip_network("224.0.0.0/4"),  # multicast
    ip_network("240.0.0.0/4"),  # reserved, with the broadcast address
    ip_network("100.100.100.200/32"),  # Alibaba Cloud's metadata service (government clouds run on it)
    ip_network("::/128"),
    ip_network("fe80::/10"),
    ip_network("ff00::/8"),
    ip_network("fd00:ec2::254/128"),  # AWS's metadata service over IPv6
)
NAT64 = ip_network("64:ff9b::/96")
LOOPBACK_NAMES = ("localhost",)  # and every name under it (RFC 6761)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidDestination(ValueError):
    def __init__(self, text: str, message: str) -> None:
        self.text = text
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Destination:
    """One allow-list entry (or one of the stack's own services): a host name (`*.` for every
    name under it), an IP address or a CIDR network; on one port, or on any when `port` is None."""

    name: str = ""
    network: IPNetwork | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.network is not None:
            single = self.network.num_addresses == 1
            host = str(self.network.network_address) if single else str(self.network)
            bracketed = f"[{host}]" if self.network.version == 6 and self.port else host
            return f"{bracketed}:{self.port}" if self.port else host
        return f"{self.name}:{self.port}" if self.port else self.name

    def covers_name(self, host: str, port: int) -> bool:
        if not self.name or self.port not in (None, port):
            return False
        if self.name.startswith("*."):
            return host.endswith(self.name[1:])
        return host == self.name

    def covers_address(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and self.port in (None, port) and _within(address, (self.network,))


def plain(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, or the old IPv4-compatible form), so
    ::ffff:127.0.0.1 is judged as 127.0.0.1; any other address as it is."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
            return IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    candidates = {address, plain(address)}
    return any(a.version == n.version and a in n for a in candidates for n in networks)


def loopback_name(name: str) -> bool:
    return any(name == n or name.endswith(f".{n}") for n in LOOPBACK_NAMES)


def _subnet(inner: IPNetwork, outer: IPNetwork) -> bool:
    if isinstance(inner, IPv4Network) and isinstance(outer, IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, IPv6Network) and isinstance(outer, IPv6Network):
        return inner.subnet_of(outer)
    return False


def host_address(host: str) -> IPAddress | None:
    """The address a URL's host names literally, if it is one."""
    try:
        return ip_address(host.strip("[]"))
    except ValueError:
        return None


def normal_name(host: str) -> str:
    """A host name as it is compared: lower case, IDNA (xn--) form, without a trailing dot."""
    name = host.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


def _valid_name(name: str) -> bool:
    labels = name.split(".")
    numeric = re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1]) is not None  # a URL reads these as IPv4
    return len(name) <= 253 and not numeric and all(_LABEL.match(label) for label in labels)


def parse_destination(text: str) -> Destination:
    """`hooks.cg.gov.cn`, `*.cg.gov.cn`, `10.12.3.4`, `10.12.0.0/16`, `fd00:12::/32`, each with an
    optional port: `hooks.cg.gov.cn:8443`, `10.12.0.0/16:443`, `[fd00:12::7]:443`."""
    raw = text.strip()
    if not raw or "://" in raw or any(c.isspace() for c in raw):
        raise InvalidDestination(
            text, f"「{text}」不是主机名、IP 地址或网段，不含 http:// 和路径 (not a host, address or network)"
        )
    host, port_text = raw, ""
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise InvalidDestination(text, f"「{text}」格式不对 (malformed)")
        port_text = rest[1:]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    port: int | None = None
    if port_text or raw.endswith(":"):
        if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
            raise InvalidDestination(text, f"「{text}」的端口应为 1–65535 (the port must be 1-65535)")
        port = int(port_text)
    try:
        return Destination(network=ip_network(host, strict=False), port=port)
    except ValueError:
        pass
    name = normal_name(host)
    bare = name.removeprefix("*.")
    if "/" in host or "*" in bare or not _valid_name(bare):
        raise InvalidDestination(
            text, f"「{text}」不是有效的主机名、IP 地址或网段 (not a valid host, address or network)"
        )
    return Destination(name=name, port=port)


def stored_allow_list(doc: Mapping[str, Any] | None) -> list[Destination]:
    """A department's allow-list as stored (none stored: nowhere)."""
    return parse_allow_list(doc["entries"]) if doc else []


def parse_allow_list(texts: Iterable[str]) -> list[Destination]:
    """Every entry parsed (the first bad one raises), duplicates dropped, in the order given."""
    seen: dict[str, Destination] = {}
    for text in texts:
        entry = parse_destination(text)
        seen.setdefault(str(entry), entry)
    return list(seen.values())


@dataclass(frozen=True)
class OutboundPolicy:
    """What no delivery reaches, whatever a department's allow-list says: loopback, link-local
    (with the cloud metadata addresses), unspecified, multicast and reserved addresses, and the
    stack's own services (`own`). `allow_loopback` is for development and tests, whose receivers
    run on 127.0.0.1; the stack's own services stay refused there too."""

    own: tuple[Destination, ...] = ()
    allow_loopback: bool = False

    @property
    def refused_networks(self) -> tuple[IPNetwork, ...]:
        return ALWAYS_REFUSED if self.allow_loopback else ALWAYS_REFUSED + LOOPBACK

    def refuses_name(self, host: str, port: int) -> bool:
        return (loopback_name(host) and not self.allow_loopback) or any(d.covers_name(host, port) for d in self.own)

    def refuses_address(self, address: IPAddress, port: int) -> bool:
        return _within(address, self.refused_networks) or any(d.covers_address(address, port) for d in self.own)

    def refuses_entry(self, entry: Destination) -> bool:
        """An allow-list entry nothing could ever be delivered to."""
        own = [d for d in self.own if d.port in (None, entry.port)]
        if entry.network is not None:
            whole = [*self.refused_networks, *(d.network for d in own if d.network is not None)]
            return any(_subnet(entry.network, n) for n in whole)
        name = entry.name.removeprefix("*.")
        return (loopback_name(name) and not self.allow_loopback) or any(d.name == entry.name for d in own)


@dataclass(frozen=True)
class Verdict:
    code: str = ""
    message: str = ""

    @property
    def allowed(self) -> bool:
        return not self.code


ALLOWED = Verdict()
REFUSED = Verdict(
    "destination_refused",
    "不能推送到本机、链路本地（含云元数据）、组播等地址或本系统自身的服务 "
    "(refused: loopback, link-local and cloud metadata, multicast, or GridLoop's own services)",
)
NOT_ALLOWED = Verdict(
    "destination_not_allowed",
    "该地址不在本部门的接收地址允许范围内，请管理员先将其加入 "
    "(not in the department's allow-list; the administrator adds it first)",
)
UNRESOLVED = Verdict("destination_unresolved", "无法解析该主机名 (the host name does not resolve)")


def judge(
    *,
    host: str,
    port: int,
    addresses: Sequence[IPAddress],
    allow_list: Sequence[Destination],
    policy: OutboundPolicy,
) -> Verdict:
    """Whether a delivery may go to `host`:`port`, which resolved to `addresses` (the address
    itself when the host is one). Every address must be fit, since the connection may use any."""
    if policy.refuses_name(host, port) or any(policy.refuses_address(a, port) for a in addresses):
        return REFUSED
    if not addresses:
        return UNRESOLVED
    by_name = host_address(host) is None and any(d.covers_name(host, port) for d in allow_list)
    by_address = all(any(d.covers_address(a, port) for d in allow_list) for a in addresses)
    return ALLOWED if by_name or by_address else NOT_ALLOWED


def worth_resolving(host: str, port: int, allow_list: Sequence[Destination]) -> bool:
    """Whether any entry could admit the name: if none can, it is refused unresolved, so
    registering names is no way to learn what they resolve to."""
    return any(d.covers_name(host, port) or (d.network is not None and d.port in (None, port)) for d in allow_list)


def allow_list_problem(entries: Sequence[Destination], policy: OutboundPolicy) -> str:
    """Why an allow-list cannot be kept as given (an empty answer: it can)."""
    refused = [str(e) for e in entries if policy.refuses_entry(e)]
    if refused:
        return (
            f"这些地址始终禁止推送，不能列入：{'、'.join(refused)} "
            "(always refused: loopback, link-local, multicast or GridLoop's own services)"
        )
    return ""


NOT_SENT = {
    REFUSED.code: "目标地址不在允许范围内，未发送 (destination not allowed; not sent)",
    NOT_ALLOWED.code: "目标地址不在允许范围内，未发送 (destination not allowed; not sent)",
    UNRESOLVED.code: "主机名无法解析，未发送 (the host name did not resolve; not sent)",
}
"""A delivery the check stopped, as its log tells it: the same words for every refused address."""
TIMED_OUT = "对方未在时限内应答 (timed out)"
NO_CONNECTION = "无法连接 (could not connect)"
NO_VALID_ANSWER = "未收到有效应答 (no valid answer)"
