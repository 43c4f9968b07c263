"""The launcher refuses to start beside another GridLoop that still holds its ports, and says so."""

import socket
from pathlib import Path

import pytest

from gridloop.stack.stack import SERVICES, PortsInUse, Stack, StackConfig

pytestmark = pytest.mark.unit


def test_ports_held_by_an_orphaned_stack_are_named_and_nothing_is_started(tmp_path: Path) -> None:
    with socket.socket() as orphan:
        orphan.bind(("127.0.0.1", 0))
        orphan.listen()
        held = orphan.getsockname()[1]
        config = StackConfig.ephemeral(log_dir=tmp_path)
        config.ports["dispatch"] = held
        stack = Stack(config)
        with pytest.raises(PortsInUse, match=rf"dispatch {held}\b.*Another GridLoop may still be running"):
            stack.start()
        assert stack.servers is None and stack.services == {}
    assert set(config.ports) == set(SERVICES)
