"""The fault-injection suite. `make test` runs the short form; `make reliability` the long one
(GRIDLOOP_FAULT_FORM=long: 2,000 reports, every service killed in turn)."""

import os

import pytest

from gridloop.stack.stack import Stack
from tests.reliability import scenario

pytestmark = pytest.mark.reliability
LONG = os.environ.get("GRIDLOOP_FAULT_FORM") == "long"


def test_nothing_is_lost_or_done_twice_under_crashes_and_outages(fault_stack: Stack) -> None:
    reports = scenario.configured_reports(2000 if LONG else 100)
    outcome = scenario.run(fault_stack, reports=reports, long_form=LONG)
    print(outcome.table())
    assert outcome.acked == reports  # every report was eventually acknowledged, through the faults
    assert outcome.lost == []
    assert outcome.duplicated == []
    assert outcome.dead_letters == 0
    assert outcome.consumer_lag == {}, f"consumer groups never caught up (messages left): {outcome.consumer_lag}"
    assert outcome.stats_mismatch == {}
    # cobuild (killed with dispatch in the short form) holds every ticket once, each event applied once
    assert outcome.cobuild_mismatch == {}
    assert all(f.recovered_s is not None for f in outcome.faults)
