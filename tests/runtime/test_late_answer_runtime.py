"""Late answers: a call the guard stopped waiting for that comes back is told to the hooks that
record late answers, after its decision (on the toy domain)."""

from __future__ import annotations

import threading

import pytest

from plansentry.core.decision import Arrival, ArrivalKind
from plansentry.runtime.clock import FakeClock
from plansentry.runtime.guard import LateAnswer
from plansentry.runtime.planner import PlannerStopped, StopToken
from plansentry.runtime.realtime import RealtimeRuntime


class Recorder:
    """A hook that records, in order, what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.late = threading.Event()

    def on_decision(self, event) -> None:
        self.events.append(("decision", event.decision.request_id))

    def on_reset(self, seq: int, reason: str) -> None:
        self.events.append(("reset", reason))

    def on_late_answer(self, event: LateAnswer) -> None:
        self.events.append(("late", event))
        self.late.set()


class DecisionsOnly:
    """A hook without ``on_late_answer`` (the metrics hook is one)."""

    def __init__(self) -> None:
        self.decisions = 0

    def on_decision(self, event) -> None:
        self.decisions += 1

    def on_reset(self, seq: int, reason: str) -> None:
        pass


def _expired_runtime(kit, hooks) -> tuple[RealtimeRuntime, FakeClock]:
    """A runtime whose clock is already past any wake-up, so ``decide`` waits for nothing."""
    clock = FakeClock()
    guard = kit.guard(hooks=hooks)
    return RealtimeRuntime(guard, clock=clock, workers=2), clock


def test_guard_tells_only_hooks_that_record_late_answers(kit) -> None:
    """Guard.late_answer reaches a hook with on_late_answer and skips one without it."""
    rec, other = Recorder(), DecisionsOnly()
    guard = kit.guard(hooks=[other, rec])
    event = LateAnswer("r1", Arrival.output(b"{}", 5, "v"), asked_ns=1)
    guard.late_answer(event)
    assert rec.events == [("late", event)]
    assert guard.hook_errors == 0


@pytest.mark.realtime
def test_abandoned_call_that_returns_output_is_a_late_answer_after_its_decision(
    kit, ctx, good_bytes
) -> None:
    """A synchronous call that ignores its stop token and returns after the decision: one late
    answer, with its request id, output and ask instant, recorded after the decision's record."""
    release = threading.Event()

    def slow(_ctx, _stop: StopToken) -> bytes:
        release.wait(10)
        return good_bytes

    rec = Recorder()
    rt, clock = _expired_runtime(kit, [rec])
    ticket = rt.ask(ctx, slow, request_id="late-1")
    clock.advance(ms=1_000)
    d = rt.decide(ticket, deadline_ns=clock.now_ns())
    assert d.failure_mode is not None and d.failure_mode.value == "timeout"
    release.set()
    assert rec.late.wait(10)
    kinds = [k for k, _ in rec.events]
    assert kinds == ["decision", "late"]
    late = rec.events[1][1]
    assert isinstance(late, LateAnswer)
    assert (late.request_id, late.arrival.kind, late.arrival.text) == (
        "late-1",
        ArrivalKind.OUTPUT,
        good_bytes,
    )
    assert late.asked_ns == ticket.asked_ns and late.how == "returned"


@pytest.mark.realtime
def test_call_that_gives_up_when_stopped_is_no_late_answer(kit, ctx) -> None:
    """A call that honours its stop token (PlannerStopped) brings no answer: nothing recorded."""
    returned = threading.Event()

    def polite(_ctx, stop: StopToken) -> bytes:
        try:
            stop.wait(10)
            raise PlannerStopped("stopped")
        finally:
            returned.set()

    rec = Recorder()
    rt, clock = _expired_runtime(kit, [rec])
    ticket = rt.ask(ctx, polite)
    clock.advance(ms=1_000)
    rt.decide(ticket, deadline_ns=clock.now_ns())
    assert returned.wait(10)
    tick = threading.Event()
    for _ in range(10_000):  # the worker's bookkeeping runs right after the call returns
        if rt.stuck_workers == 0:
            break
        tick.wait(0.001)
    assert rt.stuck_workers == 0
    assert [k for k, _ in rec.events] == ["decision"]


@pytest.mark.realtime
def test_late_answer_back_while_its_decision_is_recorded_comes_after_the_decision(
    kit, ctx, good_bytes
) -> None:
    """A call that returns while the decision's hooks run is reported once, after the decision."""
    release = threading.Event()

    def slow(_ctx, _stop: StopToken) -> bytes:
        release.wait(10)
        return good_bytes

    rec = Recorder()
    holder: dict[str, object] = {}

    class ReleaseDuringRecord:
        """Lets the call return, and waits for the worker to finish it, inside on_decision."""

        def on_decision(self, event) -> None:
            release.set()
            ticket = holder["ticket"]
            tick = threading.Event()
            for _ in range(10_000):
                if ticket.returned:  # type: ignore[attr-defined]
                    break
                tick.wait(0.001)

        def on_reset(self, seq: int, reason: str) -> None:
            pass

    rt, clock = _expired_runtime(kit, [rec, ReleaseDuringRecord()])
    ticket = rt.ask(ctx, slow, request_id="race")
    holder["ticket"] = ticket
    clock.advance(ms=1_000)
    rt.decide(ticket, deadline_ns=clock.now_ns())
    assert ticket.returned
    assert [k for k, _ in rec.events] == ["decision", "late"]
