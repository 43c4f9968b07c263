"""The way out to departments' systems: names resolved, every address judged by the domain's
rules, and the POST sent to the very address that was judged (pinned), with the original Host
header and TLS server name, so a name that changes its answer between the check and the connect
(DNS rebinding) cannot lead a delivery elsewhere."""

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from urllib.parse import unquote, urlsplit

import httpx

from gridloop.handling.webhooks import domain
from gridloop.handling.webhooks.domain import Destination, IPAddress, OutboundPolicy, Verdict

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""A host name and port to the addresses a connection may use; none when the name does not resolve."""


def system_resolver(*, fixed: Mapping[str, Sequence[str]], timeout: float) -> Resolver:
    """The operating system's resolver, after `fixed` answers for some names (as /etc/hosts)."""
    pinned = {domain.normal_name(name): [ip_address(a) for a in addresses] for name, addresses in fixed.items()}

    async def resolve(host: str, port: int) -> list[IPAddress]:
        if host in pinned:
            return list(pinned[host])
        try:
            async with asyncio.timeout(timeout):
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError, UnicodeError):
            return []
        return list(dict.fromkeys(ip_address(info[4][0]) for info in infos))

    return resolve


@dataclass(frozen=True)
class Target:
    url: httpx.URL
    host: str
    port: int


def target(url: str) -> Target | None:
    """Where a URL leads, read by the client that will send to it; None if it cannot send there."""
    try:
        parsed = httpx.URL(url)
        raw_host = unquote(parsed.raw_host.decode("ascii"))  # the A-label (xn--) form; a zone's % decoded
    except (httpx.InvalidURL, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not raw_host:
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    literal = domain.host_address(raw_host)
    return Target(url=parsed, host=str(literal) if literal else domain.normal_name(raw_host), port=port)


@dataclass(frozen=True)
class Screened:
    verdict: Verdict
    target: Target | None = None
    address: IPAddress | None = None


@dataclass(frozen=True)
class Outbound:
    """The policy every delivery obeys and the resolver that finds its addresses; one per service."""

    policy: OutboundPolicy
    resolve: Resolver

    async def screen(self, url: str, allow_list: Sequence[Destination]) -> Screened:
        """The verdict on a URL for a department, with the address to connect to when allowed."""
        found = target(url)
        if found is None:
            return Screened(domain.REFUSED)
        literal = domain.host_address(found.host)
        if literal is not None:
            addresses = [literal]
        elif self.policy.refuses_name(found.host, found.port):
            addresses = []
        elif not domain.worth_resolving(found.host, found.port, allow_list):
            return Screened(domain.NOT_ALLOWED, found)
        else:
            addresses = await self.resolve(found.host, found.port)
        verdict = domain.judge(
            host=found.host, port=found.port, addresses=addresses, allow_list=allow_list, policy=self.policy
        )
        return Screened(verdict, found, addresses[0] if verdict.allowed else None)


async def post_pinned(
    client: httpx.AsyncClient, screened: Screened, *, content: bytes, headers: Mapping[str, str]
) -> httpx.Response:
    """POST to the screened address, as if to the URL's host: its Host header, and for HTTPS its
    name in SNI and in the certificate check (httpcore's `sni_hostname` request extension)."""
    assert screened.verdict.allowed and screened.target is not None and screened.address is not None
    url = screened.target.url
    extensions = {"sni_hostname": screened.target.host} if url.scheme == "https" else {}
    return await client.post(
        url.copy_with(host=str(screened.address)),
        content=content,
        headers={**headers, "host": url.netloc.decode("ascii")},
        extensions=extensions,
    )


def sender_client(timeout: float) -> httpx.AsyncClient:
    """No redirects (a 3xx is a failed delivery, its Location unchecked), and no proxy from the
    environment (a proxy would connect for us, to an address nobody judged): with a transport of
    its own the client takes none, while TLS settings (SSL_CERT_FILE) still come from the environment."""
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=sender_transport())


def sender_transport(verify: ssl.SSLContext | bool = True) -> httpx.AsyncHTTPTransport:
    """No connection is kept for the next delivery: connections are pooled by address, so one
    kept would carry a delivery for another name on that address over TLS checked for the first."""
    return httpx.AsyncHTTPTransport(verify=verify, limits=httpx.Limits(max_keepalive_connections=0))


def own_services(
    *,
    service_urls: Iterable[str],
    kafka_bootstrap: str,
    mongo_uri: str,
    otel_endpoint: str,
    listening: tuple[str, int],
    refused: Iterable[str],
) -> tuple[Destination, ...]:
    """The stack's own services as refused destinations: the services it knows by URL, the broker,
    the database, the trace collector, this service's own port, and what the operator lists
    (`refused`, in the allow-list's syntax). One on loopback stands for every loopback address,
    and one listening on all interfaces (0.0.0.0) for its port on loopback."""
    hosts: list[tuple[str, int | None]] = []
    for url in [*service_urls, otel_endpoint]:
        if url:
            split = urlsplit(url)
            hosts.append((split.hostname or "", split.port or (443 if split.scheme == "https" else 80)))
    hosts += [_host_port(h, 9092) for h in kafka_bootstrap.split(",") if h.strip()]
    netloc = mongo_uri.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    srv = mongo_uri.startswith("mongodb+srv://")
    hosts += [(h.strip(), None) if srv else _host_port(h, 27017) for h in netloc.split(",") if h.strip()]
    hosts.append(listening)
    own = [_destination(host, port) for host, port in hosts if host] + domain.parse_allow_list(refused)
    on_loopback = [d for d in own if _local(d)]
    own += [Destination(network=n, port=d.port) for d in on_loopback for n in domain.LOOPBACK]
    return tuple(dict.fromkeys(own))


def _destination(host: str, port: int | None) -> Destination:
    literal = domain.host_address(host)
    if literal is not None:
        return Destination(network=ip_network(literal), port=port)
    return Destination(name=domain.normal_name(host), port=port)


def _local(destination: Destination) -> bool:
    """A service on loopback, or on every interface (0.0.0.0, ::), answers on every loopback address."""
    network = destination.network
    if network is None:
        return domain.loopback_name(destination.name)
    return network.num_addresses == 1 and (
        network.network_address.is_loopback or network.network_address.is_unspecified
    )


def _host_port(text: str, default: int) -> tuple[str, int]:
    split = urlsplit(f"//{text.strip()}")
    return split.hostname or "", split.port or default
