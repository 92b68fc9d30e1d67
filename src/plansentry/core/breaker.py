"""A pure circuit breaker: it takes ``now_ns`` and an outcome and returns its next state.

It opens on any of three signals, whichever comes first:

- ``consecutive_failures`` failures in a row;
- a failure rate of at least ``failure_rate`` over the last ``window`` calls (once ``min_calls``
  have been seen);
- a slow-call rate of at least ``slow_rate`` over the same window (a call is slow when the model
  took longer than ``slow_call_ms``, whether or not its output was good).

Open, it refuses the model for ``cooldown_s``; then calls are let through again (half-open) and each
answer is a probe: ``probes`` successes close it; one failure reopens it with the cool-down
multiplied by ``backoff`` (at most ``max_cooldown_s``). A call let through while the breaker is not
closed takes a probe slot when it is made (:func:`take_probe`) and holds it until it is decided or
given up (:func:`give_back_probe`); no call is let through while the slots out and the probes
passed already make ``probes`` (:func:`probe_slot_free`), so several requests in flight at once
cannot make more than ``probes`` probe calls (docs/VERIFICATION.md, finding 2). No lock is
involved: the state is a frozen value, and whoever holds it stores the next one.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any, final

from mypy_extensions import mypyc_attr

from plansentry.core.errors import ConfigError

_NS_PER_S = 1_000_000_000


@final
class BreakerPhase(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@final
@mypyc_attr(native_class=False)  # settings: checked in Python, whatever types they are given
@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerConfig:
    """Thresholds of the breaker; units are in the names. Invalid values raise at construction."""

    consecutive_failures: int = 5
    window: int = 20
    min_calls: int = 10
    failure_rate: float = 0.5
    slow_call_ms: float = 10_000.0
    slow_rate: float = 0.8
    cooldown_s: float = 5.0
    backoff: float = 2.0
    max_cooldown_s: float = 120.0
    probes: int = 3

    def __post_init__(self) -> None:
        for name in ("consecutive_failures", "window", "min_calls", "probes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"breaker.{name} must be an integer >= 1, got {value!r}")
        for name in ("failure_rate", "slow_rate"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value <= 1):
                raise ConfigError(f"breaker.{name} must be in (0, 1], got {value!r}")
        for name in ("slow_call_ms", "cooldown_s", "max_cooldown_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError(f"breaker.{name} must be finite and > 0, got {value!r}")
        if not (math.isfinite(self.backoff) and self.backoff >= 1):
            raise ConfigError(f"breaker.backoff must be finite and >= 1, got {self.backoff!r}")
        if self.max_cooldown_s < self.cooldown_s:
            raise ConfigError(
                f"breaker.max_cooldown_s ({self.max_cooldown_s}) must be >= "
                f"breaker.cooldown_s ({self.cooldown_s})"
            )
        if self.min_calls > self.window:
            raise ConfigError(
                f"breaker.min_calls ({self.min_calls}) must be <= breaker.window ({self.window})"
            )


@final
@dataclass(frozen=True, init=False)
class BreakerState:
    """Where the breaker is. ``recent`` holds the last ``window`` calls as (failed, slow) pairs.

    ``probes_ok``: probes passed in this half-open period. ``probes_out``: calls let through while
    the breaker was not closed and not yet decided or given up (each holds a probe slot). Calls are
    real whatever the breaker does meanwhile, so ``probes_out`` survives opening and closing: a
    slot taken in one half-open period and still out counts against the next.
    """

    phase: BreakerPhase
    consecutive: int
    recent: tuple[tuple[bool, bool], ...]
    open_until_ns: int
    cooldown_ns: int
    probes_ok: int
    probes_out: int

    def __init__(
        self,
        phase: BreakerPhase = BreakerPhase.CLOSED,
        consecutive: int = 0,
        recent: tuple[tuple[bool, bool], ...] = (),
        open_until_ns: int = 0,
        cooldown_ns: int = 0,
        probes_ok: int = 0,
        probes_out: int = 0,
    ) -> None:
        object.__setattr__(self, "phase", phase)
        object.__setattr__(self, "consecutive", consecutive)
        object.__setattr__(self, "recent", recent)
        object.__setattr__(self, "open_until_ns", open_until_ns)
        object.__setattr__(self, "cooldown_ns", cooldown_ns)
        object.__setattr__(self, "probes_ok", probes_ok)
        object.__setattr__(self, "probes_out", probes_out)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (
            BreakerState,
            (
                self.phase,
                self.consecutive,
                self.recent,
                self.open_until_ns,
                self.cooldown_ns,
                self.probes_ok,
                self.probes_out,
            ),
        )


def _open(cfg: BreakerConfig, state: BreakerState, now_ns: int, backoff: bool) -> BreakerState:
    base = int(cfg.cooldown_s * _NS_PER_S)
    if backoff and state.cooldown_ns:
        cooldown = min(int(state.cooldown_ns * cfg.backoff), int(cfg.max_cooldown_s * _NS_PER_S))
    else:
        cooldown = base
    return BreakerState(BreakerPhase.OPEN, 0, (), now_ns + cooldown, cooldown, 0, state.probes_out)


def trip_reason(cfg: BreakerConfig, state: BreakerState) -> str | None:
    """Why a closed breaker in ``state`` should open now, or ``None``."""
    if state.consecutive >= cfg.consecutive_failures:
        return f"{state.consecutive} consecutive failures"
    calls = len(state.recent)
    if calls >= cfg.min_calls:
        failed = sum(1 for f, _ in state.recent if f)
        if failed / calls >= cfg.failure_rate:
            return f"failure rate {failed}/{calls} >= {cfg.failure_rate:g}"
        slow = sum(1 for _, s in state.recent if s)
        if slow / calls >= cfg.slow_rate:
            return f"slow-call rate {slow}/{calls} >= {cfg.slow_rate:g}"
    return None


def record(
    cfg: BreakerConfig, state: BreakerState, now_ns: int, *, failed: bool, slow: bool
) -> tuple[BreakerState, str | None]:
    """Account one call of the model; returns the new state and, if it just opened, why."""
    if state.phase is BreakerPhase.HALF_OPEN:
        if failed:
            return _open(cfg, state, now_ns, backoff=True), "probe failed"
        ok = state.probes_ok + 1
        if ok >= cfg.probes:
            return BreakerState(probes_out=state.probes_out), None
        s = state
        return (
            BreakerState(
                s.phase, s.consecutive, s.recent, s.open_until_ns, s.cooldown_ns, ok, s.probes_out
            ),
            None,
        )
    if state.phase is BreakerPhase.OPEN:
        return state, None  # a late answer from before the trip: the breaker already decided
    recent = (*state.recent, (failed, slow))[-cfg.window :]
    consecutive = state.consecutive + 1 if failed else 0
    nxt = BreakerState(
        state.phase,
        consecutive,
        recent,
        state.open_until_ns,
        state.cooldown_ns,
        state.probes_ok,
        state.probes_out,
    )
    if not (failed or slow) and len(state.recent) >= cfg.min_calls:
        # A good call cannot raise a rate that was below its threshold, and resets the run of
        # consecutive failures: nothing to check (the common case, kept cheap).
        return nxt, None
    reason = trip_reason(cfg, nxt)
    if reason is not None:
        return _open(cfg, nxt, now_ns, backoff=False), reason
    return nxt, None


def force_open(cfg: BreakerConfig, state: BreakerState, now_ns: int) -> BreakerState:
    """Open the breaker for a reason outside the call results (stuck workers)."""
    return _open(cfg, state, now_ns, backoff=state.phase is BreakerPhase.HALF_OPEN)


def cooldown_elapsed(state: BreakerState, now_ns: int) -> bool:
    return state.phase is BreakerPhase.OPEN and now_ns >= state.open_until_ns


def start_probing(state: BreakerState) -> BreakerState:
    s = state
    return BreakerState(
        BreakerPhase.HALF_OPEN,
        s.consecutive,
        s.recent,
        s.open_until_ns,
        s.cooldown_ns,
        0,
        s.probes_out,
    )


def stop_probing(state: BreakerState) -> BreakerState:
    """Back to open, its cool-down still over, when probing stops without a verdict: the next call
    let through starts probing again (with no probe counted)."""
    s = state
    return BreakerState(
        BreakerPhase.OPEN, s.consecutive, s.recent, s.open_until_ns, s.cooldown_ns, 0, s.probes_out
    )


def probe_slot_free(cfg: BreakerConfig, state: BreakerState) -> bool:
    """Whether one more call may be let through while the breaker is not closed: the probes passed
    in this period and the probe calls out are fewer than ``probes``."""
    return state.probes_ok + state.probes_out < cfg.probes


def take_probe(state: BreakerState) -> BreakerState:
    """A call let through while the breaker is not closed: it holds a probe slot until
    :func:`give_back_probe`."""
    return _with_probes_out(state, state.probes_out + 1)


def give_back_probe(state: BreakerState) -> BreakerState:
    """The slot of a probe call that was decided or given up (never below zero)."""
    return _with_probes_out(state, max(0, state.probes_out - 1))


def _with_probes_out(s: BreakerState, probes_out: int) -> BreakerState:
    return BreakerState(
        s.phase, s.consecutive, s.recent, s.open_until_ns, s.cooldown_ns, s.probes_ok, probes_out
    )
