"""Web's own development secret (the session cookie's) is taken in development only."""

import pytest
from pydantic import ValidationError

from gridloop.web.settings import WebSettings

pytestmark = pytest.mark.unit
TOKEN_SECRET = "a token secret of this test run"


def test_the_development_session_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="GRIDLOOP_SESSION_SECRET"):
        WebSettings(environment="test", jwt_secret=TOKEN_SECRET)
    own = WebSettings(environment="test", jwt_secret=TOKEN_SECRET, session_secret="a session secret of this run")
    assert own.environment == "test"
    assert WebSettings(environment="development").environment == "development"
