"""How early the real-time runtime stops waiting for the model: chosen from what it has measured.

A runtime that waits for an answer until ``deadline - early_wake`` must then win the CPU and the
GIL back and hand the decision over by the deadline. How long that takes is the machine's: a few
microseconds on an idle one, one GIL switch interval (5 ms by default) with a busy Python thread
beside it, more on a loaded box. :class:`WakeEstimate` keeps, per runtime, the last ``window``
measured *hand-backs*: for each decision that waited, the time from the instant it had to act (its
wake point, or the answer's arrival while it waited) to the decision returned. It then wakes

    ``wake_margin + max(reserve, factor x the largest hand-back of the window)``

before the deadline: never later than ``reserve + wake_margin`` (the core's cut-off is
``deadline - reserve``: an answer after it is a timeout however long the runtime waits), never
earlier than ``cap``. Until it has ``min_samples`` hand-backs it wakes at the fixed rule,
``reserve + wake_margin + 2 x the GIL switch interval`` (:meth:`GuardConfig.early_wake_ms`).

The largest of the window, not a quantile: a runtime that trusted its p99 would be late on the one
decision in a hundred that draws beyond it, which is what the contract is about. One longer
hand-back raises the estimate for the very next decision; it falls again only when that sample
has left the window (``window`` decisions later): quick to distrust, slow to trust.

:class:`FixedWake` is the fixed rule with nothing measured: the virtual-time runtime's wake point
(it cannot measure, and its figures must be reproducible from a seed) and ``bench/deadline.py``'s
baseline.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Protocol, final

from plansentry.core.errors import ConfigError


class WakePolicy(Protocol):
    """How long before a deadline a runtime stops waiting, and what it learns from each wait."""

    def early_wake_ns(self) -> int: ...

    def record(self, handback_ns: int) -> None: ...


@final
class FixedWake:
    """A fixed early wake: ``early_ns`` before every deadline, whatever is measured."""

    def __init__(self, early_ns: int) -> None:
        if early_ns < 0:
            raise ConfigError(f"early wake must be >= 0 ns, got {early_ns}")
        self._early_ns = early_ns

    def early_wake_ns(self) -> int:
        return self._early_ns

    def record(self, handback_ns: int) -> None:
        """Measures nothing."""


@final
class WakeEstimate:
    """The early wake from the hand-backs measured (module docstring). Thread-safe: several
    robots' threads record into one runtime's estimate; reading it takes no lock.

    ``reserve_ns``, ``margin_ns``: the guard's ``reserve_ms`` and ``wake_margin_ms``; ``fixed_ns``:
    the fixed rule, used until ``min_samples`` hand-backs are in; ``cap_ns``: the earliest it ever
    wakes (default: twice the fixed rule).
    """

    def __init__(
        self,
        *,
        reserve_ns: int,
        margin_ns: int,
        fixed_ns: int,
        cap_ns: int | None = None,
        window: int = 256,
        min_samples: int = 16,
        factor: float = 1.25,
    ) -> None:
        cap = 2 * fixed_ns if cap_ns is None else cap_ns
        if min(reserve_ns, margin_ns) < 0 or fixed_ns < reserve_ns + margin_ns:
            raise ConfigError(
                f"wake estimate: need 0 <= reserve ({reserve_ns} ns), 0 <= margin ({margin_ns} "
                f"ns) and reserve + margin <= the fixed rule ({fixed_ns} ns)"
            )
        if cap < fixed_ns:
            raise ConfigError(f"wake estimate: cap ({cap} ns) < the fixed rule ({fixed_ns} ns)")
        if not 1 <= min_samples <= window:
            raise ConfigError(f"wake estimate: need 1 <= min_samples ({min_samples}) <= window")
        if not (math.isfinite(factor) and factor >= 1):
            raise ConfigError(f"wake estimate: factor must be finite and >= 1, got {factor!r}")
        self.reserve_ns = reserve_ns
        self.margin_ns = margin_ns
        self.fixed_ns = fixed_ns
        self.cap_ns = cap
        self.min_samples = min_samples
        self.factor = factor
        self._window: deque[int] = deque(maxlen=window)
        self._largest = 0
        self._early_ns = fixed_ns
        self._lock = threading.Lock()

    def early_wake_ns(self) -> int:
        """How long before its deadline the next decision stops waiting."""
        return self._early_ns

    @property
    def largest_ns(self) -> int:
        """The largest hand-back in the window (0 before any)."""
        return self._largest

    @property
    def samples(self) -> int:
        return len(self._window)

    def record(self, handback_ns: int) -> None:
        """One decision's hand-back: from the instant it had to act to the decision returned."""
        sample = max(0, handback_ns)
        with self._lock:
            window = self._window
            evicted = window[0] if len(window) == window.maxlen else None
            window.append(sample)
            if sample >= self._largest:
                self._largest = sample
            elif evicted == self._largest:
                self._largest = max(window)
            if len(window) >= self.min_samples:
                self._early_ns = self.early_for(self._largest)

    def early_for(self, largest_ns: int) -> int:
        """The early wake this estimate takes when the largest hand-back seen is ``largest_ns``."""
        need = self.margin_ns + max(self.reserve_ns, math.ceil(self.factor * largest_ns))
        return min(self.cap_ns, need)
