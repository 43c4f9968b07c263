"""Stacks stopped in the background: their services drain (a few seconds each stop) while the next
tests run, and the session waits for every stop before it ends (tests/conftest.py)."""

import threading
from collections.abc import Callable

import pytest


class Stopping:
    """The stops begun in the background, and what to wait for at the end of the session."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []

    def stop(self, *stops: Callable[[], None]) -> None:
        """Run `stops` in order, in a thread of their own, and return at once."""

        def run() -> None:
            for stop in stops:
                stop()

        thread = threading.Thread(target=run, name="stopping", daemon=False)
        thread.start()
        self._threads.append(thread)

    def wait(self) -> None:
        while self._threads:
            self._threads.pop().join()


_KEY = pytest.StashKey[Stopping]()


def stopping(config: pytest.Config) -> Stopping:
    return config.stash.setdefault(_KEY, Stopping())
