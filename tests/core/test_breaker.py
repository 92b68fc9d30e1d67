"""The pure circuit breaker."""

from __future__ import annotations

import pytest

from plansentry.core import breaker as brk
from plansentry.core.breaker import BreakerConfig, BreakerPhase, BreakerState

S = 1_000_000_000


def run(cfg: BreakerConfig, outcomes: list[tuple[bool, bool]], now_ns: int = 0):
    state, reasons = BreakerState(), []
    for failed, slow in outcomes:
        state, reason = brk.record(cfg, state, now_ns, failed=failed, slow=slow)
        reasons.append(reason)
    return state, reasons


def test_opens_after_consecutive_failures() -> None:
    """N failures in a row open it, and the reason says so."""
    state, reasons = run(BreakerConfig(consecutive_failures=3), [(True, False)] * 3)
    assert state.phase is BreakerPhase.OPEN and reasons[-1] == "3 consecutive failures"


def test_a_success_resets_the_consecutive_count() -> None:
    """Failures separated by successes do not add up to a streak."""
    cfg = BreakerConfig(consecutive_failures=3, min_calls=10, window=10)
    state, _ = run(cfg, [(True, False), (True, False), (False, False)] * 3)
    assert state.phase is BreakerPhase.CLOSED


def test_opens_on_failure_rate_over_the_window() -> None:
    """A failure rate at the threshold over the window opens it once min_calls are seen."""
    cfg = BreakerConfig(consecutive_failures=100, window=10, min_calls=10, failure_rate=0.5)
    state, reasons = run(cfg, [(True, False), (False, False)] * 5)
    assert state.phase is BreakerPhase.OPEN and reasons[-1].startswith("failure rate 5/10")


def test_opens_on_slow_call_rate() -> None:
    """Good but slow answers open it too."""
    cfg = BreakerConfig(window=4, min_calls=4, slow_rate=0.75)
    state, reasons = run(cfg, [(False, True)] * 3 + [(False, False)])
    assert state.phase is BreakerPhase.OPEN and reasons[-1].startswith("slow-call rate 3/4")


def test_cooldown_then_probes_close_it() -> None:
    """After the cool-down, `probes` successes close the breaker."""
    cfg = BreakerConfig(consecutive_failures=1, cooldown_s=5, probes=2)
    state, _ = run(cfg, [(True, False)])
    assert not brk.cooldown_elapsed(state, 4 * S) and brk.cooldown_elapsed(state, 5 * S)
    state = brk.start_probing(state)
    state, _ = brk.record(cfg, state, 5 * S, failed=False, slow=False)
    assert state.phase is BreakerPhase.HALF_OPEN
    state, _ = brk.record(cfg, state, 5 * S, failed=False, slow=False)
    assert state == BreakerState()


def test_failed_probe_reopens_with_backoff_up_to_the_cap() -> None:
    """Each failed probe multiplies the cool-down by `backoff`, never past the maximum."""
    cfg = BreakerConfig(consecutive_failures=1, cooldown_s=5, backoff=2, max_cooldown_s=15)
    state, _ = run(cfg, [(True, False)])
    cooldowns = []
    for _ in range(3):
        state, reason = brk.record(cfg, brk.start_probing(state), 0, failed=True, slow=False)
        assert reason == "probe failed"
        cooldowns.append(state.cooldown_ns / S)
    assert cooldowns == [10, 15, 15]


def test_open_breaker_ignores_late_results() -> None:
    """A result of a call made before the trip changes nothing."""
    cfg = BreakerConfig(consecutive_failures=1)
    state, _ = run(cfg, [(True, False)])
    assert brk.record(cfg, state, 1, failed=False, slow=False) == (state, None)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"window": 0}, "breaker.window"),
        ({"failure_rate": 0}, "breaker.failure_rate"),
        ({"cooldown_s": float("nan")}, "breaker.cooldown_s"),
        ({"cooldown_s": -1}, "breaker.cooldown_s"),
        ({"backoff": 0.5}, "breaker.backoff"),
        ({"max_cooldown_s": 1, "cooldown_s": 5}, "breaker.max_cooldown_s"),
        ({"min_calls": 30, "window": 20}, "breaker.min_calls"),
    ],
)
def test_bad_config_names_the_field(kw: dict[str, float], field: str) -> None:
    """Invalid thresholds fail at construction with the field named."""
    with pytest.raises(ValueError, match=field):
        BreakerConfig(**kw)  # type: ignore[arg-type]


def test_stop_probing_reopens_with_the_cooldown_over() -> None:
    """Probing stopped without a verdict: open, its cool-down over, no probe counted."""
    cfg = BreakerConfig(consecutive_failures=1, cooldown_s=5, probes=3)
    state, _ = run(cfg, [(True, False)])
    probing, _ = brk.record(cfg, brk.start_probing(state), 5 * S, failed=False, slow=False)
    stopped = brk.stop_probing(probing)
    assert stopped.phase is BreakerPhase.OPEN and stopped.probes_ok == 0
    assert brk.cooldown_elapsed(stopped, 5 * S) and stopped.cooldown_ns == state.cooldown_ns


def test_probe_slots_are_free_while_passed_and_out_are_fewer_than_probes() -> None:
    """A slot is free while the probes passed and the probe calls out are fewer than `probes`."""
    cfg = BreakerConfig(probes=2)
    state = brk.take_probe(BreakerState(BreakerPhase.HALF_OPEN, probes_ok=1))
    assert not brk.probe_slot_free(cfg, state)
    assert brk.probe_slot_free(cfg, brk.give_back_probe(state))
    assert brk.give_back_probe(BreakerState()).probes_out == 0


def test_probe_slots_out_survive_opening_and_closing() -> None:
    """Calls out are real whatever the breaker does: opening and closing keep their slots."""
    cfg = BreakerConfig(consecutive_failures=1, probes=1)
    out = brk.take_probe(brk.take_probe(BreakerState()))
    opened, _ = brk.record(cfg, out, 0, failed=True, slow=False)
    assert opened.phase is BreakerPhase.OPEN and opened.probes_out == 2
    closed, _ = brk.record(cfg, brk.start_probing(opened), 1, failed=False, slow=False)
    assert closed == BreakerState(probes_out=2)
    assert brk.force_open(cfg, closed, 2).probes_out == 2
