"""The whole guard with the drone kit in virtual time: accepted, fallen back, returned home,
landed; the breaker opening on FakeClock time; Prometheus counting the decisions."""

from __future__ import annotations

import msgspec
import pytest
from plansentry_drone import NO_FLY_ZONE

from plansentry.core.breaker import BreakerPhase
from plansentry.core.decision import SafeMove
from plansentry.core.failures import FailureMode
from plansentry.core.fsm import State
from plansentry.runtime.clock import FakeClock
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.metrics import GuardMetrics

MS = 1_000_000


@pytest.fixture
def runtime(kit) -> VirtualRuntime:
    return VirtualRuntime(kit.guard())


def unsafe_bytes(good_plan) -> bytes:
    """The good plan without its detour: the leg from home to P1 crosses the hospital's zone."""
    waypoints = (good_plan.waypoints[0], *good_plan.waypoints[2:])
    return msgspec.json.encode(msgspec.structs.replace(good_plan, waypoints=waypoints))


def test_a_good_model_plan_is_accepted(runtime, ctx, good_bytes, good_plan) -> None:
    """A clean plan arriving in 40 ms: the model's plan is flown."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=40)
    assert d.accepted and d.source == "llm" and d.plan == good_plan


def test_an_unsafe_model_plan_falls_back_to_the_mission_planner(runtime, ctx, good_plan) -> None:
    """A leg through a no-fly zone: refused as unsafe, the mission planner's plan is flown."""
    d = runtime.decide(ctx, now_ns=0, output=unsafe_bytes(good_plan), latency_ms=40)
    assert d.failure_mode is FailureMode.UNSAFE and d.violations[0].rule == NO_FLY_ZONE
    assert d.source == "mission_planner" and d.plan == good_plan


def test_a_malformed_output_falls_back_to_the_mission_planner(runtime, ctx) -> None:
    """Not JSON: malformed, the mission planner's plan."""
    d = runtime.decide(ctx, now_ns=0, output=b'{"waypoints": [[0, 0, 60],', latency_ms=40)
    assert d.failure_mode is FailureMode.MALFORMED and d.source == "mission_planner"


def test_a_late_answer_falls_back_to_the_mission_planner(runtime, ctx, good_bytes) -> None:
    """A good plan after the cut-off is a timeout; the mission planner flies."""
    d = runtime.decide(ctx, now_ns=0, output=good_bytes, latency_ms=400)
    assert d.failure_mode is FailureMode.TIMEOUT and d.source == "mission_planner" and d.on_time


def test_a_battery_starved_drone_returns_home(runtime, starved_ctx) -> None:
    """The mission is out of the battery's reach, the model's answer malformed: home."""
    d = runtime.decide(starved_ctx, now_ns=0, output=b"{", latency_ms=40)
    assert d.source == "return_to_home" and d.plan.end == "home"


def test_a_stranded_drone_lands_where_it_is(runtime, stranded_ctx) -> None:
    """No plan passes, not even home: the safe move, whose action is land; SAFE_HOLD."""
    d = runtime.decide(stranded_ctx, now_ns=0, output=b"{", latency_ms=40)
    assert isinstance(d.plan, SafeMove) and d.plan.action == "land"
    assert "return_to_home: battery too low to get home" in d.plan.reason
    assert d.source == "safe_move" and d.state_after is State.SAFE_HOLD


def test_the_breaker_opens_after_repeated_failures_and_probes_after_its_cooldown(
    kit, ctx, good_bytes
) -> None:
    """Five malformed answers in a row open the breaker (BYPASS): the model is not asked and
    the mission planner flies; after the 5 s cool-down on the fake clock, it is probed again."""
    clock = FakeClock()
    runtime = VirtualRuntime(kit.guard())
    for _ in range(5):
        d = runtime.decide(ctx, now_ns=clock.now_ns(), output=b"{", latency_ms=30)
        clock.advance(ms=500)
    assert d.state_after is State.BYPASS
    assert runtime.guard.state.breaker.phase is BreakerPhase.OPEN
    skipped = runtime.decide(ctx, now_ns=clock.now_ns(), output=good_bytes, latency_ms=30)
    assert not skipped.consulted and skipped.source == "mission_planner"
    clock.advance(s=5)
    probe = runtime.decide(ctx, now_ns=clock.now_ns(), output=good_bytes, latency_ms=30)
    assert probe.consulted and probe.accepted and probe.state_after is State.PROBING


def test_prometheus_metrics_count_the_decisions(kit, ctx, starved_ctx, good_bytes) -> None:
    """Two accepted, one malformed (mission planner), one return home, in the decisions counter."""
    metrics = GuardMetrics()
    runtime = VirtualRuntime(kit.guard(hooks=[metrics]))
    for i, (c, out) in enumerate(
        [(ctx, good_bytes), (ctx, good_bytes), (ctx, b"{"), (starved_ctx, b"")]
    ):
        runtime.decide(c, now_ns=i * 1000 * MS, output=out, latency_ms=20)

    def count(source: str, mode: str) -> float | None:
        return metrics.registry.get_sample_value(
            "plansentry_decisions_total", {"source": source, "failure_mode": mode}
        )

    assert count("llm", "none") == 2
    assert count("mission_planner", "malformed") == 1
    assert count("return_to_home", "empty") == 1
    assert metrics.registry.get_sample_value("plansentry_late_decisions_total") == 0
