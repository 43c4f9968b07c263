"""Who may sign in and with what: the development desk of demo users, or the city's OpenID Connect
provider (authorization code with PKCE). The outcome is a `Session`: the bearer token the browser
sends to every API, when it expires, and whom it names. The web service keeps nothing else."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Actor, Role
from gridloop.shared.settings import ServiceSettings


class DemoUser(BaseModel):
    sub: str
    name: str
    role: Role
    org: str
    label: str = Field(description="角色与单位, as the sign-in page shows it")


# The demo data's people (directory seed: district 青禾区 QH, street 临江街道 LJ, community 江畔社区 LJ01,
# departments 区城市管理局 CG and 区水务局 SW).
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(sub="gw-lj01", name="网格员小林", role=Role.GRID_WORKER, org="LJ01", label="网格员 · 江畔社区 LJ01"),
    DemoUser(
        sub="sd-lj", name="临江街道派遣员", role=Role.STREET_DISPATCHER, org="LJ", label="街道派遣员 · 临江街道 LJ"
    ),
    DemoUser(
        sub="agent-cg", name="城管受理员", role=Role.DEPARTMENT_AGENT, org="CG", label="部门受理员 · 区城市管理局 CG"
    ),
    DemoUser(
        sub="sd-wh", name="望湖街道派遣员", role=Role.STREET_DISPATCHER, org="WH", label="街道派遣员 · 望湖街道 WH"
    ),
    DemoUser(sub="agent-sw", name="水务受理员", role=Role.DEPARTMENT_AGENT, org="SW", label="部门受理员 · 区水务局 SW"),
    DemoUser(sub="sup-qh", name="区指挥中心", role=Role.SUPERVISOR, org="QH", label="指挥中心 · 青禾区 QH"),
    DemoUser(sub="admin", name="系统管理员", role=Role.ADMIN, org="QH", label="系统管理员"),
)

DEVELOPMENT_SESSION = timedelta(hours=12)


class Session(BaseModel):
    """What the browser holds after sign-in (also offline, until `expires_at`)."""

    token: str = Field(description="bearer token for the GridLoop APIs")
    expires_at: datetime = Field(description="after this the app asks to sign in again; queued reports stay")
    user: Actor


class SignInRefused(Exception):
    """The identity provider vouched for someone GridLoop has no role for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def demo_user(sub: str) -> DemoUser | None:
    return next((user for user in DEMO_USERS if user.sub == sub), None)


def development_session(settings: ServiceSettings, user: DemoUser, now: datetime) -> Session:
    token = TokenVerifier(settings).mint(
        sub=user.sub, name=user.name, role=user.role, org=user.org, ttl=DEVELOPMENT_SESSION
    )
    return Session(
        token=token, expires_at=now + DEVELOPMENT_SESSION, user=_actor(user.sub, user.name, user.role, user.org)
    )


def provider_session(token: dict[str, Any], *, api_token: str) -> Session:
    """From the provider's token answer (its ID token already verified by the OIDC client):
    the person's GridLoop role and organisation come from the `role` and `org` claims."""
    claims: dict[str, Any] = token.get("userinfo") or {}
    role = claims.get("role")
    if role not in {r.value for r in Role if r not in (Role.SYSTEM, Role.CLIENT_APP)}:
        raise SignInRefused("您的账号尚未分配 GridLoop 角色，请联系系统管理员 (no GridLoop role for this account)")
    bearer = token.get(api_token)
    if not isinstance(bearer, str) or not bearer:
        raise SignInRefused(f"身份提供方未返回 {api_token} (the identity provider sent no {api_token})")
    expires = claims.get("exp") if api_token == "id_token" else token.get("expires_at")
    if not isinstance(expires, int | float):
        raise SignInRefused("身份提供方未给出令牌有效期 (the token has no expiry)")
    return Session(
        token=bearer,
        expires_at=datetime.fromtimestamp(expires, UTC),
        user=_actor(str(claims["sub"]), str(claims.get("name", "")), Role(role), str(claims.get("org", ""))),
    )


def _actor(sub: str, name: str, role: Role, org: str) -> Actor:
    return Actor(sub=sub, name=name, role=role, org=org)
