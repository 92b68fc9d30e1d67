"""Clocks: the one place plansentry reads time. Everything else is handed instants as data.

``now_ns()`` is monotonic nanoseconds. :class:`MonotonicClock` reads the OS; :class:`FakeClock` moves
only when told (``advance``), and its ``sleep`` advances instead of waiting, so tests never sleep.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol, final


class Clock(Protocol):
    def now_ns(self) -> int: ...

    def sleep(self, seconds: float) -> None: ...


@final
class MonotonicClock:
    """``time.monotonic_ns`` and ``time.sleep``."""

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@final
class FakeClock:
    """A clock that stands still until advanced. Thread-safe."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns
        self._lock = threading.Lock()

    def now_ns(self) -> int:
        with self._lock:
            return self._now

    def advance(self, *, ns: int = 0, ms: float = 0.0, s: float = 0.0) -> int:
        step = ns + int(ms * 1_000_000) + int(s * 1_000_000_000)
        if step < 0:
            raise ValueError(f"a clock cannot go back (advance by {step} ns)")
        with self._lock:
            self._now += step
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(s=seconds)
