"""The activities' settings (env prefix GRIDLOOP_): the counting rules and the check-in code's key."""

from typing import Annotated, Self

from fastapi import Depends
from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridloop.cobuild.activities.rules import Rules
from gridloop.shared.deps import ServiceRuntime

DEV_CHECKIN_KEY = "gridloop-development-checkin-key-not-for-production"


class ActivitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDLOOP_", extra="ignore")

    # the secret the rotating check-in code is an HMAC with (GRIDLOOP_CHECKIN_KEY)
    checkin_key: str = Field(default=DEV_CHECKIN_KEY, min_length=32)
    # the check-in code changes this often (seconds); the previous window's code is still accepted
    checkin_code_seconds: int = Field(default=60, ge=15, le=3600)
    # a check-in or check-out is taken only this close to the activity's place (metres)
    checkin_radius_m: float = Field(default=300.0, gt=0, le=5000)
    # counted service time is rounded down to this many minutes
    minutes_rounding: int = Field(default=15, ge=1, le=60)
    # at most this many minutes count per city day of one activity
    max_minutes_per_day: int = Field(default=480, ge=15, le=1440)

    @model_validator(mode="after")
    def _refuse_development_checkin_key(self) -> Self:
        environment = getattr(self, "environment", "development")
        if self.checkin_key == DEV_CHECKIN_KEY and environment != "development":
            raise ValueError("set GRIDLOOP_CHECKIN_KEY to a secret of your own outside development")
        return self


class Checkin(BaseModel):
    key: str
    rules: Rules


def checkin_of(live: ServiceRuntime) -> Checkin:
    """The key and rules from the service's settings (CobuildSettings includes ActivitySettings)."""
    s = live.settings
    rules = Rules(
        rounding_minutes=int(getattr(s, "minutes_rounding", 15)),
        max_minutes_per_day=int(getattr(s, "max_minutes_per_day", 480)),
        radius_m=float(getattr(s, "checkin_radius_m", 300.0)),
        code_seconds=int(getattr(s, "checkin_code_seconds", 60)),
    )
    return Checkin(key=str(getattr(s, "checkin_key", DEV_CHECKIN_KEY)), rules=rules)


CheckinRules = Annotated[Checkin, Depends(checkin_of)]
