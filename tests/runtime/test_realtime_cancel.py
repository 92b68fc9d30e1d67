"""RealtimeRuntime.cancel: a model call nobody needs any more is stopped, and a decide waiting on
it returns at once without blaming the model. Real threads; bounded waits."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from plansentry.runtime.planner import StopToken
from plansentry.runtime.realtime import RealtimeRuntime

pytestmark = pytest.mark.realtime
MS = 1_000_000


@pytest.fixture
def rt(kit):
    runtime = RealtimeRuntime(kit.guard(config=kit.config(budget_ms=2_000)), workers=2)
    yield runtime
    runtime.close()


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
