"""Ended sessions: their tokens are refused by sid or jti until they expire; other tokens, and
those minted without a session (`make token`), pass."""

from datetime import UTC, datetime, timedelta

import pytest

from gridloop.shared.auth import TokenVerifier
from gridloop.shared.errors import ApiError
from gridloop.shared.events import Role
from gridloop.shared.revocations import Revocations, SessionEnded
from gridloop.shared.settings import ServiceSettings

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def ended(sid: str, *jtis: str, until: datetime = NOW + timedelta(minutes=15)) -> SessionEnded:
    return SessionEnded(sid=sid, sub="gw-lj01", token_ids=list(jtis), ended_at=NOW, tokens_expire_by=until)


def test_a_signed_out_sessions_tokens_are_refused_and_others_pass() -> None:
    revoked = Revocations()
    verifier = TokenVerifier(ServiceSettings(environment="development"), revoked)
    mint = verifier.mint
    session_token = mint(sub="gw-lj01", name="", role=Role.GRID_WORKER, org="LJ01", session=("s-1", "t-1"))
    other_session = mint(sub="gw-lj01", name="", role=Role.GRID_WORKER, org="LJ01", session=("s-2", "t-2"))
    developer = mint(sub="gw-lj01", name="", role=Role.GRID_WORKER, org="LJ01")
    assert verifier.verify(session_token).sub == "gw-lj01"

    revoked.apply(ended("s-1", "t-1"))
    with pytest.raises(ApiError) as refused:
        verifier.verify(session_token)
    assert (refused.value.status, refused.value.code) == (401, "session_ended")
    assert verifier.verify(other_session).sub == verifier.verify(developer).sub == "gw-lj01"


def test_a_token_id_alone_is_refused_and_expired_revocations_are_forgotten() -> None:
    revoked = Revocations()
    revoked.apply(ended("s-3", "provider-jti", until=NOW + timedelta(minutes=5)))
    assert revoked.refuses({"jti": "provider-jti"}) and revoked.refuses({"sid": "s-3"})
    assert not revoked.refuses({"jti": "another"}) and not revoked.refuses({})
    revoked.forget_expired(NOW + timedelta(minutes=4))
    assert len(revoked) == 2
    revoked.forget_expired(NOW + timedelta(minutes=6))
    assert len(revoked) == 0 and not revoked.refuses({"jti": "provider-jti"})
