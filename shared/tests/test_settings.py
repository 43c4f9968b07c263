"""Which environment a service runs in decides which secrets it takes: the development secret only
where development is said, and a service whose environment is left unset runs as in production."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from gridloop.shared.clock import CITY_ZONE, step_clock
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


def test_a_stepped_clock_follows_the_instant_a_test_writes_and_runs_on_from_it(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock = ServiceSettings(service_name="intake", clock_file=path).clock()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)  # no file yet: the system clock
    step_clock(path, datetime(2031, 12, 31, 23, 59, 30, tzinfo=CITY_ZONE))
    first = clock.now()
    assert timedelta(0) <= first - datetime(2031, 12, 31, 23, 59, 30, tzinfo=CITY_ZONE) < timedelta(seconds=1)
    step_clock(path, datetime(2031, 3, 1, 9, tzinfo=CITY_ZONE))  # and back: every reader follows at once
    assert clock.now().astimezone(CITY_ZONE).date() == date(2031, 3, 1)


def test_production_refuses_a_clock_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="GRIDLOOP_CLOCK_FILE"):
        ServiceSettings(service_name="intake", environment="production", clock_file=tmp_path / "clock")
