"""Bearer-JWT authentication: who is calling, with the claims sub, name, role and org."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gridloop.shared.errors import ApiError
from gridloop.shared.events import Actor, Role
from gridloop.shared.revocations import Revocations
from gridloop.shared.settings import ServiceSettings

Principal = Actor


class TokenVerifier:
    """Checks signature, algorithm, issuer, audience, expiry (within the allowed skew) and the
    claims GridLoop needs. The algorithm is fixed by settings, never taken from the token, so
    `none` and algorithm-confusion tokens are refused. With `revocations`, a token of a session
    that ended (signed out) is refused too, though it has not expired."""

    def __init__(self, settings: ServiceSettings, revocations: Revocations | None = None) -> None:
        self.revocations = revocations
        self.secret = settings.jwt_secret
        self.algorithm = settings.jwt_algorithm
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.public_key = settings.jwt_public_key
        self.jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None

    def _key(self, token: str) -> Any:
        if self.algorithm == "HS256":
            return self.secret
        if self.jwks is not None:
            if "kid" in jwt.get_unverified_header(token):
                return self.jwks.get_signing_key_from_jwt(token).key
            # A provider with one signing key may leave `kid` out; with several, a token must name its key.
            keys = self.jwks.get_signing_keys()
            if len(keys) != 1:
                raise jwt.InvalidTokenError("the token names no key (kid) and the provider has several")
            return keys[0].key
        return self.public_key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["sub", "role", "exp", "iss", "aud"]},
            )
            principal = Principal(
                sub=claims["sub"], name=claims.get("name", ""), role=Role(claims["role"]), org=claims.get("org", "")
            )
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, ValueError) as exc:
            raise ApiError(401, "invalid_token", "令牌无效或已过期 (invalid or expired token)") from exc
        if self.revocations is not None and self.revocations.refuses(claims):
            raise ApiError(401, "session_ended", "您已退出登录，请重新登录 (this session has ended: sign in again)")
        return principal

    def mint(
        self,
        *,
        sub: str,
        name: str,
        role: Role,
        org: str,
        ttl: timedelta = timedelta(hours=12),
        session: tuple[str, str] | None = None,
    ) -> str:
        """Development tokens only: the CLI refuses outside development mode. A token of a
        sign-in `session` (its id, the token's id) carries `sid` and `jti`, so signing out ends it."""
        if self.algorithm != "HS256":
            raise RuntimeError("tokens are minted by the identity provider, not by GridLoop")
        now = datetime.now(UTC)
        claims = {
            "sub": sub,
            "name": name,
            "role": role.value,
            "org": org,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl,
        }
        if session is not None:
            claims["sid"], claims["jti"] = session
        return jwt.encode(claims, self.secret, algorithm=self.algorithm)


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "not_authenticated", "需要登录令牌 (a bearer token is required)")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_role(user: Principal, *roles: Role) -> None:
    if user.role not in roles:
        raise ApiError(
            403, "forbidden", "无权执行此操作 (your role may not do this)", {"required": [r.value for r in roles]}
        )
