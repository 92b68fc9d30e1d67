"""RealtimeRuntime.cancel: a model call nobody needs any more is stopped, and a decide waiting on
it returns at once without blaming the model. Real threads; bounded waits."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from helpers import eventually
from plansentry.core.breaker import BreakerConfig, BreakerPhase
from plansentry.runtime.clock import FakeClock
from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = pytest.mark.realtime
MS = 1_000_000


@pytest.fixture
def rt(kit):
    runtime = RealtimeRuntime(kit.guard(config=kit.config(budget_ms=2_000)), workers=2)
    yield runtime
    runtime.close()


@pytest.mark.parametrize("run", ["sync", "async"])
def test_an_answer_after_the_cancel_does_not_replace_it(rt, ctx, good_bytes, run) -> None:
    """The cancel is what the ticket ends with: the call's own answer, returned when it sees its
    stop token, does not overwrite it, whenever the decide reads it. Caught before (CI, a loaded
    machine): the stopped call's empty answer replaced the cancel, and the decision judged an
    empty output and blamed the model."""
    answered = threading.Event()

    def held(_ctx, stop: StopToken) -> bytes:
        stop.wait(5)
        answered.set()
        return good_bytes

    async def held_async(_ctx, stop: StopToken) -> bytes:
        while not stop.stopped:
            await asyncio.sleep(0.001)
        answered.set()
        return good_bytes

    ticket = rt.ask(ctx, held if run == "sync" else held_async)
    rt.cancel(ticket, "the caller went away")
    assert answered.wait(2)
    eventually(lambda: ticket.future is None and not rt.pool.busy)  # the call has let go
    d = rt.decide(ticket, deadline_ns=time.monotonic_ns() + 2_000 * MS)
    assert not d.consulted and d.skipped == "cancelled: the caller went away", d
    assert rt.guard.state.breaker.phase is BreakerPhase.CLOSED


def test_cancel_wakes_a_waiting_decide_and_records_no_model_failure(rt, ctx) -> None:
    """decide() waiting on a 2 s budget returns within 0.5 s of cancel(); the model is recorded
    as not consulted (cancelled), so the breaker does not count it."""
    release = threading.Event()

    def held(_ctx, stop: StopToken) -> bytes:
        while not stop.stopped:  # checks its stop token per token, as the local model does
            time.sleep(0.005)
        release.set()
        return b""

    ticket = rt.ask(ctx, held)
    threading.Timer(0.1, rt.cancel, args=(ticket, "the caller went away")).start()
    t0 = time.monotonic()
    d = rt.decide(ticket, deadline_ns=time.monotonic_ns() + 2_000 * MS)
    assert time.monotonic() - t0 < 0.5
    assert not d.consulted and d.skipped == "cancelled: the caller went away"
    assert d.source == "stepper" and d.failure_mode is None
    assert release.wait(2)  # the stop token reached the planner
    assert rt.guard.state.breaker.consecutive == 0 and rt.guard.state.breaker.recent == ()


def test_cancel_of_an_async_call_cancels_its_task(rt, ctx) -> None:
    """An async planner's task is cancelled (which closes an HTTP call's connection)."""
    cancelled = threading.Event()

    async def slow(_ctx, _stop):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return b""

    ticket = rt.ask(ctx, slow)
    assert rt.cancel(ticket, "expired")
    assert cancelled.wait(2)


def test_cancel_after_the_answer_changes_nothing(rt, ctx, good_bytes) -> None:
    """An answer already in: cancel() returns False and the decision uses the answer."""
    ticket = rt.ask(ctx, lambda _c, _s: good_bytes)
    assert ticket.done.wait(2)
    assert rt.cancel(ticket, "too late") is False
    assert rt.decide(ticket, deadline_ns=time.monotonic_ns() + 1_000 * MS).accepted


def test_a_cancelled_sync_call_counts_as_stuck_until_it_returns(rt, ctx) -> None:
    """A synchronous call cannot be killed: it holds its worker, counted stuck, until it returns."""
    release = threading.Event()
    returned = threading.Event()

    def ignores_stop(_ctx, _stop) -> bytes:
        release.wait(5)
        returned.set()
        return b""

    ticket = rt.ask(ctx, ignores_stop)
    rt.cancel(ticket, "gone")
    rt.cancel(ticket, "gone again")  # counted once
    assert rt.stuck_workers == 1
    release.set()
    assert returned.wait(2)
    deadline = time.monotonic() + 2
    while rt.stuck_workers and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rt.stuck_workers == 0


def _half_open_runtime(kit, ctx, probes: int):
    """A runtime on a fake clock whose breaker (one failure opens it, 1 s cool-down) has just
    finished its cool-down."""
    breaker = BreakerConfig(consecutive_failures=1, cooldown_s=1.0, probes=probes)
    clock = FakeClock()
    rt = RealtimeRuntime(
        kit.guard(config=kit.config(budget_ms=2_000, breaker=breaker)), clock=clock, workers=4
    )
    assert rt.decide_now(ctx, lambda _c, _s: b"x").failure_mode is not None
    assert rt.guard.state.breaker.phase is BreakerPhase.OPEN
    clock.advance(s=1)
    return rt


def _held(_ctx, stop: StopToken) -> bytes:
    while not stop.stopped:
        time.sleep(0.002)
    return b""


def test_cancel_gives_the_probe_slot_back_even_if_the_ticket_is_never_decided(kit, ctx) -> None:
    """Regression (finding 2): a probe call takes a slot when asked; a cancelled ticket that is
    dropped undecided (the service's expired tickets) gives it back, so probing can go on."""
    rt = _half_open_runtime(kit, ctx, probes=1)
    try:
        first = rt.ask(ctx, _held)
        assert first.asked_ns is not None and rt.guard.state.breaker.probes_out == 1
        refused = rt.ask(ctx, _held)
        assert refused.asked_ns is None and refused.arrival.detail.startswith("probing")
        assert rt.cancel(first, "ticket expired")
        assert rt.guard.state.breaker.probes_out == 0
        again = rt.ask(ctx, _held)
        assert again.asked_ns is not None and rt.guard.state.breaker.probes_out == 1
        rt.cancel(again, "done")
    finally:
        rt.close()


def test_a_cancelled_ticket_decided_afterwards_gives_its_slot_back_once(kit, ctx) -> None:
    """cancel() and decide() of the same ticket give its probe slot back once, not twice."""
    rt = _half_open_runtime(kit, ctx, probes=2)
    try:
        first, second = rt.ask(ctx, _held), rt.ask(ctx, _held)
        assert rt.guard.state.breaker.probes_out == 2
        rt.cancel(first, "the caller went away")
        d = rt.decide(first, deadline_ns=rt.clock.now_ns() + 2_000 * MS)
        assert not d.consulted and rt.guard.state.breaker.probes_out == 1
        rt.cancel(second, "done")
        assert rt.guard.state.breaker.probes_out == 0
    finally:
        rt.close()
