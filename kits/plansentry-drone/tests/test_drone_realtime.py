"""The drone kit under the real-time runtime: a planner that sleeps past the deadline. Real time
and threads, bounded (well under a second), tolerant of a busy machine."""

from __future__ import annotations

import threading
import time

import pytest

from plansentry.core.failures import FailureMode
from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = pytest.mark.realtime
MS = 1_000_000
#: The promise under test: back by the deadline; this much slack for a loaded 2-core machine.
SLACK_NS = 5 * MS


def test_a_planner_sleeping_past_the_deadline_gets_the_mission_planners_plan(
    kit, ctx, good_plan
) -> None:
    """A 120 ms budget, a planner that sleeps 300 ms and ignores its stop token (a blocking
    call): the decision comes back by the deadline, a timeout, with the mission planner's plan;
    the sleeping worker is counted as stuck until it returns."""

    def sleepy(_ctx, _stop: StopToken) -> bytes:
        time.sleep(0.3)
        return b"{}"

    runtime = RealtimeRuntime(kit.guard(config=kit.config(budget_ms=120)), workers=2)
    deadline = time.monotonic_ns() + 120 * MS
    d = runtime.decide_now(ctx, sleepy, deadline_ns=deadline)
    back = time.monotonic_ns()
    assert back <= deadline + SLACK_NS, f"{(back - deadline) / MS:.1f} ms late"
    assert d.on_time and d.failure_mode is FailureMode.TIMEOUT
    assert d.source == "mission_planner" and d.plan == good_plan
    assert runtime.stuck_workers == 1


def test_a_planner_waiting_on_its_stop_token_is_told_to_stop(kit, ctx, good_bytes) -> None:
    """A planner waiting on its stop token is told to stop at the cut-off, and returns."""
    told, returned = [], threading.Event()

    def polite(_ctx, stop: StopToken) -> bytes:
        told.append(stop.wait(2.0))
        returned.set()
        return good_bytes

    runtime = RealtimeRuntime(kit.guard(config=kit.config(budget_ms=120)), workers=1)
    d = runtime.decide_now(ctx, polite)
    assert d.on_time and d.source == "mission_planner"
    assert returned.wait(1.0)  # real threads: the worker sees its token and returns
    assert told == [True]
