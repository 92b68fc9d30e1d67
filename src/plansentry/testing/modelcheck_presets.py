"""Configurations the model check runs on (``bench/modelcheck.py``, the tests, docs/VERIFICATION.md).

Small breakers reach closure: the state space grows with every window content the breaker can
hold (up to 4 ** ``window``) and with the requests in flight. The default configuration (a window
of 20 calls) does not close, so it runs to a stated depth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from plansentry.core.breaker import BreakerConfig
from plansentry.runtime.config import GuardConfig


@final
@dataclass(frozen=True, slots=True)
class Preset:
    """A configuration, the requests in flight, and a depth (``None``: to closure)."""

    name: str
    summary: str
    config: GuardConfig
    in_flight: int
    max_depth: int | None = None


def _breaker(**kw: float) -> BreakerConfig:
    base: dict[str, float] = {"slow_call_ms": 1000, "cooldown_s": 1, "backoff": 2}
    return BreakerConfig(**(base | kw))  # type: ignore[arg-type]


_CI = GuardConfig(
    recover_after=2,
    max_stuck_workers=1,
    breaker=_breaker(
        consecutive_failures=2,
        window=2,
        min_calls=2,
        failure_rate=1.0,
        slow_rate=1.0,
        max_cooldown_s=2,
        probes=2,
    ),
)

_SMALL = GuardConfig(
    recover_after=2,
    max_stuck_workers=2,
    breaker=_breaker(
        consecutive_failures=2,
        window=2,
        min_calls=2,
        failure_rate=0.5,
        slow_rate=0.5,
        max_cooldown_s=3,
        probes=2,
    ),
)

_WINDOW = GuardConfig(
    recover_after=3,
    max_stuck_workers=3,
    breaker=_breaker(
        consecutive_failures=3,
        window=4,
        min_calls=3,
        failure_rate=0.5,
        slow_rate=0.75,
        cooldown_s=2,
        backoff=3,
        max_cooldown_s=5,
        probes=3,
    ),
)

PRESETS: Final = {
    p.name: p
    for p in (
        Preset(
            "ci",
            "every pair of the table; one request in flight (the test suite runs it)",
            _CI,
            1,
        ),
        Preset("ci-two", "the ci breaker with two requests in flight", _CI, 2),
        Preset(
            "small",
            "rates that trip on two calls, back-off capped, two requests in flight",
            _SMALL,
            2,
        ),
        Preset("three", "the ci breaker with three requests in flight", _CI, 3),
        Preset(
            "window",
            "a window of 4 calls (min_calls 3), 3 probes, back-off x3 capped, one in flight",
            _WINDOW,
            1,
        ),
        Preset(
            "default",
            "GuardConfig() (window 20, min_calls 10, 5 failures, 3 probes, 5 s to 120 s), two "
            "requests in flight, to a stated depth",
            GuardConfig(),
            2,
            20,
        ),
    )
}
