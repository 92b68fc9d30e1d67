"""Virtual time: latency is data; the same guard decides."""

from __future__ import annotations

import pytest

from plansentry.core.decision import ArrivalKind
from plansentry.core.failures import FailureMode
from plansentry.core.fsm import State
from plansentry.runtime.clock import FakeClock
from plansentry.runtime.virtual import VirtualRuntime

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


def test_late_answer_times_out_where_the_real_runtime_stops_waiting(
    runtime, ctx, good_bytes
) -> None:
    """An answer due after the wake point: timeout, the fallback's plan, decided where the real-time
    runtime stops waiting (deadline - reserve - wake margin - 2 GIL switch intervals = 133 ms)."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=400)
    assert d.failure_mode is FailureMode.TIMEOUT and d.source == "stepper"
    assert d.decided_ns == 133 * MS and d.on_time


@pytest.mark.parametrize(("latency_ms", "accepted"), [(133, True), (134, False), (144, False)])
def test_virtual_cutoff_is_the_real_runtimes(
    runtime, ctx, good_bytes, latency_ms, accepted
) -> None:
    """Regression: the virtual runtime waited until deadline - reserve (145 ms), 12 ms longer than
    the real-time runtime can, so an answer there was used in simulation and lost on the robot."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=latency_ms)
    assert d.accepted is accepted


def test_the_consult_decision_is_taken_once_when_asking(guard, ctx, good_bytes) -> None:
    """Regression (phantom timeout): a request not asked because the breaker was open stays not
    asked even if the breaker lets the model in before its decision point, and a request asked
    stays asked even if the breaker opens meanwhile (its answer is judged, as a shadow)."""
    rt = VirtualRuntime(guard)
    for i in range(5):  # five failures open the breaker
        rt.decide(ctx, now_ns=i * MS * 1000, output=b"x", latency_ms=1)
    assert guard.state.state is State.BYPASS
    early = rt.ask(ctx, at_ns=5_000 * MS)  # breaker open (cool-down 5 s): not asked
    assert early.skipped.startswith("breaker open")
    late = rt.ask(ctx, at_ns=20_000 * MS)  # cool-down over: asked
    assert not late.skipped
    d = rt.decide_asked(early, now_ns=30_000 * MS, output=None, latency_ms=None)
    assert not d.consulted and d.failure_mode is None and d.skipped.startswith("breaker open")
    assert "never answered" not in str(d.violations)


def test_a_retry_after_keeps_the_model_unasked_until_it_expires(guard, ctx, good_bytes) -> None:
    """A 429 asking to wait 2 s: decisions within 2 s skip the model, saying why; then it is asked."""
    rt = VirtualRuntime(guard)
    d = rt.decide(
        ctx, now_ns=0, output=None, latency_ms=10, transport_error="HTTP 429", retry_after_s=2.0
    )
    assert d.failure_mode is FailureMode.TRANSPORT
    within = rt.decide(ctx, now_ns=1_500 * MS, output=good_bytes, latency_ms=10)
    assert not within.consulted and within.skipped.startswith("retry-after")
    after = rt.decide(ctx, now_ns=2_100 * MS, output=good_bytes, latency_ms=10)
    assert after.consulted and after.accepted


def test_a_retry_after_is_capped_at_the_longest_cool_down(guard, ctx, good_bytes) -> None:
    """A server asking for a day is held to the breaker's longest cool-down (120 s)."""
    rt = VirtualRuntime(guard)
    rt.decide(
        ctx, now_ns=0, output=None, latency_ms=10, transport_error="429", retry_after_s=86_400
    )
    assert not rt.decide(ctx, now_ns=119_000 * MS, output=good_bytes, latency_ms=1).consulted
    assert rt.decide(ctx, now_ns=121_000 * MS, output=good_bytes, latency_ms=1).accepted


def test_a_fallback_overrunning_the_budget_makes_the_decision_late(guard, ctx) -> None:
    """Fallbacks run from the decision point; one taking 160 ms of a 150 ms budget is late."""
    rt = VirtualRuntime(guard)
    on_time = rt.decide_asked(
        rt.ask(ctx, at_ns=0), now_ns=0, output=None, latency_ms=None, fallback_ms=20
    )
    assert on_time.on_time and on_time.decided_ns == 133 * MS
    late = rt.decide_asked(
        rt.ask(ctx, at_ns=0), now_ns=0, output=None, latency_ms=None, fallback_ms=160
    )
    assert not late.on_time and late.decided_ns == 160 * MS


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


def test_robots_asking_at_once_when_the_cooldown_ends_make_at_most_probes_calls(
    guard, ctx, good_bytes
) -> None:
    """Regression (model check, finding 2): the consult decision read the state and changed
    nothing, so every robot asking between the end of the cool-down and the probes' decisions
    called the model (4 calls with probes=3). Each call now takes a probe slot when asked."""
    rt = VirtualRuntime(guard)
    for i in range(5):  # five failures open the breaker; its 5 s cool-down ends at 9 s
        rt.decide(ctx, now_ns=i * 1000 * MS, output=b"x", latency_ms=1)
    assert guard.state.state is State.BYPASS and guard.config.decider.breaker.probes == 3
    tickets = [rt.ask(ctx, at_ns=10_000 * MS) for _ in range(4)]
    assert [t.skipped for t in tickets[:3]] == ["", "", ""]
    assert tickets[3].skipped == "probing: 3 probe calls out and 0 passed of 3"
    first = rt.decide_asked(tickets[0], now_ns=10_100 * MS, output=good_bytes, latency_ms=10)
    assert first.accepted and guard.state.state is State.PROBING
    assert rt.ask(ctx, at_ns=10_100 * MS).skipped.startswith("probing: 2 probe calls out")
    for t in tickets[1:3]:
        assert rt.decide_asked(t, now_ns=10_100 * MS, output=good_bytes, latency_ms=10).accepted
    assert guard.state.state is State.DEGRADED and guard.state.breaker.probes_out == 0
    assert not rt.ask(ctx, at_ns=10_200 * MS).skipped
