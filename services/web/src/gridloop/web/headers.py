"""What every answer of the web service tells the browser about itself: a strict Content-Security-Policy
(scripts and styles from this origin only, nothing inline, no plug-ins, no framing), no MIME sniffing,
no framing for browsers that predate CSP, and only the origin in a Referer that leaves the site.

The gateway adds the part of this that holds for every answer of every service
(deploy/gateway/routes.conf); the page-specific parts (a base-map tile server, the identity provider
a sign-out redirects to) only web knows, so web sends its full policy itself."""

import re
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A city's tile server with its key bound to the site's domain (天地图, AMap) checks the Referer's
# origin; a path (a ticket's id) never needs to leave the site.
REFERRER_POLICY = "strict-origin-when-cross-origin"
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def content_security_policy(*, tile_url: str = "", sign_in_url: str = "") -> str:
    """The policy for web's pages: `tile_url` is the base map's tile address (Leaflet's
    {s}/{z}/{x}/{y} template), `sign_in_url` the identity provider's metadata address."""
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        images.append(_source(tile_url, what="GRIDLOOP_MAP_TILE_URL"))
    forms = ["'self'"]
    if sign_in_url:
        # Chromium applies form-action to the redirects after a submit: signing out posts to
        # /signout, whose redirect leads on to the provider.
        forms.append(_source(sign_in_url, what="GRIDLOOP_OIDC_METADATA_URL"))
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": forms,
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _source(url: str, *, what: str) -> str:
    """A CSP host source for a configured address: its scheme, host and port; a placeholder in the
    host's first label ({s}, Leaflet's subdomains) becomes CSP's wildcard for that label."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{what} must be an http(s) address: {url!r}")
    first, dot, rest = host.partition(".")
    if PLACEHOLDER.search(first):
        first = "*"
    if PLACEHOLDER.search(rest) or (first == "*" and not dot):
        raise ValueError(f"{what}: a placeholder may stand only in the first label of a host name: {url!r}")
    return f"{parts.scheme}://{first}{dot}{rest}"


class SecurityHeaders:
    """Adds the headers to every response, unless a route set its own (a narrower policy)."""

    def __init__(self, app: ASGIApp, *, policy: str) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": policy,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": REFERRER_POLICY,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, answer)
