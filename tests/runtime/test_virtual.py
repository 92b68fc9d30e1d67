"""Virtual time: latency is data; the same guard decides."""

from __future__ import annotations

import pytest

from plansentry.core.decision import ArrivalKind
from plansentry.core.failures import FailureMode
from plansentry.core.fsm import State
from plansentry.runtime.clock import FakeClock

MS = 1_000_000


def test_decision_is_taken_when_the_answer_arrives(runtime, ctx, good_bytes) -> None:
    """An answer 40 ms in is decided at 40 ms, inside the deadline."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=40)
    assert d.accepted and d.decided_ns == 40 * MS and d.deadline_ns == 150 * MS


def test_answer_ready_before_the_decision_point_is_used_at_once(runtime, ctx, good_bytes) -> None:
    """Plan-ahead: asked 2 s early with 1.5 s latency, decided at the decision point itself."""
    d = runtime.decide(
        ctx, now_ns=10_000 * MS, output=good_bytes, latency_ms=1500, ask_ahead_ms=2000
    )
    assert d.accepted and d.decided_ns == 10_000 * MS and d.latency_ns == 1500 * MS


def test_late_answer_times_out_at_the_cutoff(runtime, ctx, good_bytes) -> None:
    """An answer due after the cut-off: timeout, the fallback's plan, decided at deadline - reserve."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=400)
    assert d.failure_mode is FailureMode.TIMEOUT and d.source == "stepper"
    assert d.decided_ns == 145 * MS and d.on_time


def test_never_answering_model_times_out(runtime, ctx) -> None:
    """latency None: the model never answers."""
    d = runtime.decide(ctx, now_ns=0, output=None, latency_ms=None)
    assert d.failure_mode is FailureMode.TIMEOUT and "never answered" in d.violations[0].detail


def test_transport_error(runtime, ctx) -> None:
    """A failed call is a transport failure with its detail."""
    d = runtime.decide(ctx, now_ns=0, output=None, latency_ms=3, transport_error="HTTP 503")
    assert d.failure_mode is FailureMode.TRANSPORT and d.violations[0].detail == "HTTP 503"


def test_open_breaker_skips_the_model(runtime, ctx) -> None:
    """After five failures the breaker is open; the next decision does not consult the model."""
    for i in range(5):
        runtime.decide(ctx, now_ns=i * 1000 * MS, output=b"garbage", latency_ms=1)
    assert runtime.guard.state.state is State.BYPASS
    d = runtime.decide(ctx, now_ns=6000 * MS, output=b"garbage", latency_ms=1)
    assert not d.consulted and d.source == "stepper" and d.decided_ns == 6000 * MS


def test_fake_clock_moves_only_when_told() -> None:
    """FakeClock: sleep advances time instead of waiting; it never goes back."""
    clock = FakeClock(5)
    clock.sleep(0.5)
    assert clock.now_ns() == 5 + 500 * MS
    assert clock.advance(ms=1) == 5 + 501 * MS
    with pytest.raises(ValueError):
        clock.advance(ns=-1)


def test_arrival_kinds_cover_what_a_runtime_can_see() -> None:
    """Output, timeout, transport, not asked."""
    assert {k.value for k in ArrivalKind} == {"output", "timeout", "transport", "not_asked"}
