"""The launcher refuses to start beside another GridLoop that still holds its ports, and says so."""

import os
import socket
import subprocess
import sys
import time
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


LAUNCHER = """
import sys, time
from pathlib import Path
from gridloop.stack import servers
servers.tie_children_to_launcher()
child = servers._spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], 0, Path(sys.argv[1]))
print(child.proc.pid, flush=True)
time.sleep(120)
"""


def test_a_killed_launcher_takes_its_children_with_it(tmp_path: Path) -> None:
    """SIGKILL of `make run`'s launcher leaves no orphan to hold the ports."""
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert launcher.stdout is not None
    child = int(launcher.stdout.readline())
    assert _alive(child)
    launcher.kill()
    launcher.wait(10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the launcher's child outlived it"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A dead child not yet reaped by anyone shows as a zombie: gone for our purpose.
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
