"""Times a request sends are ISO 8601 with an offset: an epoch number is refused, not read as 1970."""

import pytest
from pydantic import ValidationError

from gridloop.shared.api.handling import ExtensionRequest, ReplayRequest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("sent", [0, 1_700_000_000, "1700000000", 1.5])
def test_a_replay_from_an_epoch_number_is_refused(sent: object) -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        ReplayRequest.model_validate({"since": sent})


def test_an_extension_to_an_epoch_number_is_refused() -> None:
    with pytest.raises(ValidationError, match="ISO 8601"):
        ExtensionRequest.model_validate({"requested_resolve_deadline": 1_800_000_000, "reason": "材料未到"})


def test_iso_times_with_an_offset_are_taken_and_naive_ones_refused() -> None:
    replay = ReplayRequest.model_validate({"since": "2026-12-01T08:00:00+08:00"})
    assert replay.since.utcoffset() is not None
    with pytest.raises(ValidationError):
        ReplayRequest.model_validate({"since": "2026-12-01T08:00:00"})
