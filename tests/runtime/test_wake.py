"""How early the real-time runtime stops waiting: the estimate from measured hand-backs, on a fake
clock whose waits return late by a scripted wake-up latency (no test here sleeps)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle, islice

import pytest

from plansentry.core.errors import ConfigError
from plansentry.runtime.clock import FakeClock
from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import Completion, RealtimeRuntime, Ticket
from plansentry.runtime.wake import FixedWake, WakeEstimate

MS = 1_000_000
RESERVE, MARGIN, FIXED = 3 * MS, 1 * MS, 5 * MS  # the fixed rule with a 0.5 ms switch interval


class LateWake(Completion):
    """A ticket no answer ever reaches, whose wait returns ``next(latencies)`` ns after its
    timeout, on the fake clock: what a thread preempted at its wake point sees."""

    def __init__(self, clock: FakeClock, latencies: Iterator[int]) -> None:
        super().__init__()
        self.clock, self.latencies = clock, latencies

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None and timeout > 0
        self.clock.advance(ns=round(timeout * 1e9) + next(self.latencies))
        return False


def runtime(kit, **kw) -> tuple[RealtimeRuntime, FakeClock]:
    clock = FakeClock(10**12)
    cfg = kit.config(budget_ms=150, reserve_ms=3.0, wake_margin_ms=1.0)
    return RealtimeRuntime(
        kit.guard(config=cfg), clock=clock, switch_interval_s=0.0005, **kw
    ), clock


def decide_late(rt: RealtimeRuntime, clock: FakeClock, ctx, latencies: list[int]) -> list[int]:
    """One stalled decision per latency, each waking that late: how far past its deadline each
    was handed back (negative: early)."""
    late = iter(latencies)
    over = []
    for _ in latencies:
        ticket = Ticket(ctx, "r", clock.now_ns(), "v", StopToken(), done=LateWake(clock, late))
        deadline = clock.now_ns() + 150 * MS
        d = rt.decide(ticket, deadline_ns=deadline)
        assert d.failure_mode is not None and d.failure_mode.value == "timeout"
        over.append(d.decided_ns - deadline)
        clock.advance(ms=10)
    return over


def test_the_runtime_wakes_by_the_fixed_rule_until_it_has_measured(kit, ctx) -> None:
    """The first 15 decisions stop waiting at reserve + margin + 2 switch intervals (5 ms)."""
    rt, clock = runtime(kit)
    assert rt.early_wake_ms == pytest.approx(5.0)
    decide_late(rt, clock, ctx, [2 * MS] * 15)
    assert rt.early_wake_ms == pytest.approx(5.0) and rt.wake.samples == 15
    decide_late(rt, clock, ctx, [2 * MS])
    assert rt.early_wake_ms == pytest.approx(4.0)  # margin + max(reserve, 1.25 x 2 ms)


def test_a_runtime_is_never_late_where_its_own_measurements_were_enough(kit, ctx) -> None:
    """Wake-ups of 2 ms with every fourth 4.5 ms, 400 decisions: none late. Trusting the median
    (2 ms), the mean (2.6 ms) or the reserve alone would wake 4 ms early and make every fourth
    decision 0.5 ms late; the fixed rule (5 ms) is on time but keeps more from the model."""
    rt, clock = runtime(kit)
    pattern = [2 * MS, 2 * MS, 2 * MS, 4_500_000]
    over = decide_late(rt, clock, ctx, list(islice(cycle(pattern), 400)))
    assert max(over) <= 0, f"{sum(o > 0 for o in over)} late, worst {max(over) / MS:+.2f} ms"
    assert rt.wake.largest_ns == 4_500_000
    assert rt.early_wake_ms == pytest.approx(1 + 1.25 * 4.5)


def test_one_longer_wake_up_moves_the_next_decision_at_once(kit, ctx) -> None:
    """After a 9 ms wake-up (late: nothing had shown more than 2 ms), the next 9 ms one is on
    time: the estimate follows the longest sample at once, up to its cap (twice the rule)."""
    rt, clock = runtime(kit)
    decide_late(rt, clock, ctx, [2 * MS] * 20)
    first, second = decide_late(rt, clock, ctx, [9 * MS, 9 * MS])
    assert first > 0 and second <= 0
    assert rt.early_wake_ms == pytest.approx(10.0)  # 1 + 1.25 x 9 = 12.25, capped at 2 x 5 ms


def test_a_long_wake_up_is_forgotten_once_it_leaves_the_window(kit, ctx) -> None:
    """A 6 ms wake-up keeps the early wake up for the next 255 decisions, then it falls back."""
    rt, clock = runtime(kit)
    decide_late(rt, clock, ctx, [1 * MS] * 20 + [6 * MS])
    decide_late(rt, clock, ctx, [1 * MS] * 255)
    assert rt.early_wake_ms == pytest.approx(8.5)
    decide_late(rt, clock, ctx, [1 * MS])
    assert rt.early_wake_ms == pytest.approx(4.0)  # the reserve and the margin


def test_a_cancelled_wait_measures_nothing(kit, ctx) -> None:
    """A wait ended by cancel() has no instant the runtime had to act: no sample."""
    rt, clock = runtime(kit)

    class Cancelled(Completion):
        def wait(self, timeout: float | None = None) -> bool:
            clock.advance(ms=1)
            rt.cancel(ticket, "the caller went away")
            return True

    ticket = Ticket(ctx, "r", clock.now_ns(), "v", StopToken(), done=Cancelled())
    d = rt.decide(ticket, deadline_ns=clock.now_ns() + 150 * MS)
    assert not d.consulted and rt.wake.samples == 0


def test_a_fixed_wake_measures_nothing(kit, ctx) -> None:
    """FixedWake (the virtual runtime's rule, bench/deadline.py's baseline) never moves."""
    rt, clock = runtime(kit, wake=FixedWake(5 * MS))
    decide_late(rt, clock, ctx, [9 * MS] * 20)
    assert rt.early_wake_ms == 5.0


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"fixed_ns": 3 * MS}, "reserve \\+ margin <= the fixed rule"),
        ({"cap_ns": 4 * MS}, "cap"),
        ({"min_samples": 0}, "min_samples"),
        ({"factor": 0.9}, "factor"),
        ({"factor": float("nan")}, "factor"),
    ],
)
def test_an_estimate_that_cannot_work_is_refused(kw, match: str) -> None:
    """A cap below the fixed rule, a factor below 1, no samples needed: refused at once."""
    args = {"reserve_ns": RESERVE, "margin_ns": MARGIN, "fixed_ns": FIXED, **kw}
    with pytest.raises(ConfigError, match=match):
        WakeEstimate(**args)
