"""Which environment a service runs in decides which secrets it takes: the development secret only
where development is said, and a service whose environment is left unset runs as in production."""

import pytest
from pydantic import ValidationError

from gridloop.shared.settings import DEV_JWT_SECRET, ServiceSettings

pytestmark = pytest.mark.unit


def test_a_service_left_unset_runs_as_in_production_and_refuses_the_development_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GRIDLOOP_ENVIRONMENT", raising=False)
    assert ServiceSettings.model_fields["environment"].default == "production"
    with pytest.raises(ValidationError, match="shared-secret development tokens are refused"):
        ServiceSettings()


def test_the_development_secret_is_taken_in_development_only() -> None:
    with pytest.raises(ValidationError, match="not in test"):
        ServiceSettings(environment="test")
    with pytest.raises(ValidationError, match="development secret"):
        ServiceSettings(environment="test", jwt_secret=DEV_JWT_SECRET, jwt_issuer="https://idp")
    assert ServiceSettings(environment="test", jwt_secret="a secret of this test run").environment == "test"
    assert ServiceSettings(environment="development").jwt_secret == DEV_JWT_SECRET
