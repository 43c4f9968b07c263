"""Who may sign in and with what: the development desk of demo users, or the city's OpenID Connect
provider (authorization code with PKCE). The outcome is a `SessionRecord`, which the web service
keeps until the person signs out or it expires, and of which the browser sees a `Session`: the
bearer token it sends to every API, when that token and the session expire, and whom it names.
Pure rules: the clock is passed in."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import AwareDatetime, BaseModel, Field

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.events import Actor, Role
from gridloop.shared.ids import new_id
from gridloop.shared.revocations import SessionEnded
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
    # A second worker of the same community: one phone passes between them.
    DemoUser(sub="gw-lj01b", name="网格员小陈", role=Role.GRID_WORKER, org="LJ01", label="网格员 · 江畔社区 LJ01"),
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
    # 共建: the communities' needs desks, the units stationed in the area, and residents.
    DemoUser(
        sub="cw-lj01", name="江畔社区工作者", role=Role.COMMUNITY_WORKER, org="LJ01", label="社区工作者 · 江畔社区 LJ01"
    ),
    DemoUser(
        sub="cw-wh01", name="湖滨社区工作者", role=Role.COMMUNITY_WORKER, org="WH01", label="社区工作者 · 湖滨社区 WH01"
    ),
    DemoUser(
        sub="ua-hosp",
        name="区人民医院联络员",
        role=Role.UNIT_ADMIN,
        org="U-LJ-HOSP",
        label="驻区单位联络员 · 区人民医院 U-LJ-HOSP",
    ),
    DemoUser(
        sub="ua-school",
        name="临江中学联络员",
        role=Role.UNIT_ADMIN,
        org="U-LJ-SCHOOL",
        label="驻区单位联络员 · 临江中学 U-LJ-SCHOOL",
    ),
    DemoUser(sub="res-lj01", name="居民王阿姨", role=Role.RESIDENT, org="LJ01", label="居民 · 江畔社区 LJ01"),
    DemoUser(sub="res-lj01b", name="居民李大爷", role=Role.RESIDENT, org="LJ01", label="居民 · 江畔社区 LJ01"),
    # 双报到: in-service Party members (在职党员) and a volunteer who report to their residence community.
    DemoUser(sub="pm-lj01", name="党员张明", role=Role.MEMBER, org="LJ01", label="报到党员 · 江畔社区 LJ01"),
    DemoUser(sub="pm-lj01b", name="党员刘芳", role=Role.MEMBER, org="LJ01", label="报到党员 · 江畔社区 LJ01"),
    DemoUser(sub="vol-lj01", name="志愿者赵强", role=Role.MEMBER, org="LJ01", label="志愿者 · 江畔社区 LJ01"),
)

DEVELOPMENT_SESSION = timedelta(hours=12)


class Session(BaseModel):
    """What the browser holds after sign-in (also offline, until `expires_at`)."""

    session_id: str = Field(description="which sign-in this is: a sign-out begun offline finishes only this one")
    token: str = Field(description="bearer token for the GridLoop APIs")
    token_expires_at: datetime = Field(description="the token's own end: before it, ask /session for a fresh one")
    expires_at: datetime = Field(description="after this the app asks to sign in again; queued reports stay")
    user: Actor


class SessionRecord(BaseModel):
    """A sign-in as the web service keeps it: alive until signed out (`ended_at`) or `expires_at`."""

    sid: str
    user: Actor
    started_at: AwareDatetime
    expires_at: AwareDatetime
    token: str
    token_expires_at: AwareDatetime
    # Tokens this session handed out (`jti`): what signing out revokes, with the session's `sid`.
    # Not the provider's own session id: signing in again may reuse the provider's session.
    token_ids: list[str] = Field(default_factory=list)
    renewable: bool = Field(description="GridLoop mints its tokens (development); else the provider's token")
    ended_at: AwareDatetime | None = None

    def alive(self, now: datetime) -> bool:
        return self.ended_at is None and now < self.expires_at

    def for_browser(self) -> Session:
        return Session(
            session_id=self.sid,
            token=self.token,
            token_expires_at=self.token_expires_at,
            expires_at=self.expires_at,
            user=self.user,
        )


class SignInRefused(Exception):
    """The identity provider vouched for someone GridLoop has no role for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


DEMO_BY_SUB = {user.sub: user for user in DEMO_USERS}


def demo_user(sub: str) -> DemoUser | None:
    return DEMO_BY_SUB.get(sub)


def development_session(
    settings: ServiceSettings, user: DemoUser, now: datetime, *, sid: str, token_ttl: timedelta
) -> SessionRecord:
    actor = _actor(user.sub, user.name, user.role, user.org)
    first = SessionRecord(
        sid=sid,
        user=actor,
        started_at=now,
        expires_at=now + DEVELOPMENT_SESSION,
        token="",
        token_expires_at=now,
        renewable=True,
    )
    return renewed(settings, first, now, token_ttl=token_ttl)


def renewal_due(record: SessionRecord, now: datetime, *, token_ttl: timedelta) -> bool:
    """A token is renewed once less than a third of its life is left, so a page that asks at
    any moment gets one good for a while; never past the session's own end."""
    return record.renewable and record.alive(now) and record.token_expires_at - now < token_ttl / 3


def renewed(settings: ServiceSettings, record: SessionRecord, now: datetime, *, token_ttl: timedelta) -> SessionRecord:
    """The session with a fresh short-lived token of its own (`sid`), under a new `jti`."""
    ends = min(now + token_ttl, record.expires_at)
    jti = new_id()
    u = record.user
    token = TokenVerifier(settings).mint(
        sub=u.sub, name=u.name, role=u.role, org=u.org, ttl=ends - now, session=(record.sid, jti)
    )
    return record.model_copy(update={"token": token, "token_expires_at": ends, "token_ids": [*record.token_ids, jti]})


def ended(record: SessionRecord, now: datetime) -> SessionEnded:
    """What every service learns when the person signs out: the tokens it must refuse from now on."""
    return SessionEnded(
        sid=record.sid,
        sub=record.user.sub,
        token_ids=record.token_ids,
        ended_at=now,
        tokens_expire_by=max(record.token_expires_at, now),
    )


def provider_session(token: dict[str, Any], *, api_token: str, sid: str, now: datetime) -> SessionRecord:
    """From the provider's token answer (its ID token already verified by the OIDC client):
    the person's GridLoop role and organisation come from the `role` and `org` claims. The
    session lasts as long as the provider's token; its `jti` is noted for sign-out."""
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
    ends = datetime.fromtimestamp(expires, UTC)
    # Read only for what to revoke: the services verify the token itself on every call.
    inside = jwt.decode(bearer, options={"verify_signature": False}) if bearer.count(".") == 2 else {}
    jti = inside.get("jti")
    return SessionRecord(
        sid=sid,
        user=_actor(str(claims["sub"]), str(claims.get("name", "")), Role(role), str(claims.get("org", ""))),
        started_at=now,
        expires_at=ends,
        token=bearer,
        token_expires_at=ends,
        token_ids=[jti] if isinstance(jti, str) else [],
        renewable=False,
    )


def _actor(sub: str, name: str, role: Role, org: str) -> Actor:
    return Actor(sub=sub, name=name, role=role, org=org)
