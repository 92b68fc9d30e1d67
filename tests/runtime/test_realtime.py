"""The real-time runtime against the real clock. Few tests, bounded, tolerant of a noisy machine:
each checks a hard promise (on time, bounded threads), not a typical figure. On the toy domain."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import weakref

import pytest

from helpers import eventually
from plansentry.core.breaker import BreakerConfig
from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.runtime.planner import RetryLater, StopToken
from plansentry.runtime.realtime import Completion, RealtimeRuntime
from plansentry.testing.toy import ToyContext

pytestmark = pytest.mark.realtime
MS = 1_000_000
SLACK_NS = 2 * MS  # the promise: back by the deadline plus 2 ms
NO_BREAKER = BreakerConfig(consecutive_failures=10**6, window=10**6, min_calls=10**6)


def make(kit, *, budget_ms: float, breaker: BreakerConfig | None = None, workers: int = 4):
    cfg = kit.config(
        budget_ms=budget_ms,
        reserve_ms=3.0,
        wake_margin_ms=1.0,
        **({"breaker": breaker} if breaker else {}),
    )
    return RealtimeRuntime(kit.guard(config=cfg), workers=workers, switch_interval_s=0.0005)


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_planner_that_blocks_forever(kit, ctx) -> None:
    """10,000 decisions against a planner that never returns (like native code that ignores its
    stop token): each back by deadline + 2 ms, threads bounded by the pool, memory flat, the
    breaker held open by the stuck workers."""
    forever = threading.Event()

    def blocked(_ctx, _stop: StopToken) -> bytes:
        forever.wait()  # ignores the stop token, like native code that cannot be interrupted
        return b""

    rt = make(kit, budget_ms=40, workers=4)
    threads_before = threading.active_count()
    worst_ns = -(10**12)
    rss_at_1000 = 0
    try:
        for i in range(10_000):
            deadline = time.monotonic_ns() + rt.guard.config.budget_ns
            d = rt.decide_now(ctx, blocked, deadline_ns=deadline)
            worst_ns = max(worst_ns, time.monotonic_ns() - deadline)
            assert d.plan is not None
            if i == 999:
                rss_at_1000 = _rss_kib()
                threads_at_1000 = threading.active_count()
        grown_kib = _rss_kib() - rss_at_1000
        print(  # the figures docs/RELIABILITY.md quotes (pytest -s shows them)
            f"10,000 stuck decisions: worst overrun {worst_ns / MS:+.2f} ms, RSS growth after the "
            f"first 1,000: {grown_kib} KiB, threads {threading.active_count() - threads_before}"
        )
        assert worst_ns <= SLACK_NS, f"worst overrun {worst_ns / MS:.2f} ms"
        assert grown_kib < 8 * 1024, "memory grew over 9,000 decisions"
        assert threading.active_count() == threads_at_1000
        assert threading.active_count() - threads_before <= 4
        assert rt.stuck_workers == 4
        assert rt.guard.state.breaker.phase.value != "closed"
    finally:
        forever.set()


def test_stalling_planner_is_told_to_stop_and_every_decision_waits_to_the_cutoff(kit, ctx) -> None:
    """With the breaker disabled every decision waits out a stall, to its cut-off and no longer:
    back no earlier than the instant the runtime chose to stop waiting, mostly well before the
    deadline, the planner told to stop, the worker freed."""
    stopped = []

    def stall(_ctx, stop: StopToken) -> bytes:
        stopped.append(stop.wait(5.0))
        return b"too late"

    rt = make(kit, budget_ms=35, breaker=NO_BREAKER, workers=2)
    overruns, early = [], []
    for _ in range(150):
        deadline = time.monotonic_ns() + rt.guard.config.budget_ns
        cutoff = rt.cutoff_ns(deadline)  # what this decision stops waiting at (read once, as it is)
        d = rt.decide_now(ctx, stall, deadline_ns=deadline)
        back = time.monotonic_ns()
        overruns.append(back - deadline)
        assert d.failure_mode in (FailureMode.TIMEOUT, FailureMode.TRANSPORT)
        assert d.source == "stepper"
        if d.failure_mode is FailureMode.TIMEOUT:
            # A wait never ends before its timeout (a loaded machine only makes it end later):
            # a runtime that stops waiting early, or not at all, is caught on every decision.
            early.append((cutoff - back) / MS)
    assert max(early, default=0.0) <= 0.1, f"back {max(early):.2f} ms before its cut-off"
    assert len(early) >= 100, f"only {len(early)} of 150 stalled decisions waited"
    # The lateness side: each decision is exposed to the OS's wake-up latency at its cut-off,
    # and on a loaded CI box a few in 150 are preempted for 6 to 10 ms (CI saw 2.0 and 5.0 ms
    # past the deadline in one run), so a single draw says little. The runtime's own bugs move
    # the whole distribution: waiting to the deadline instead of the cut-off puts the median past
    # it, waiting out the stall puts every decision a budget late. The runtime wakes at least the
    # wake margin (1 ms here) before the deadline, and more than the hand-backs it measured.
    overruns.sort()
    median, p90 = overruns[len(overruns) // 2], overruns[len(overruns) * 9 // 10]
    shown = f"median {median / MS:+.2f} ms, p90 {p90 / MS:+.2f} ms, max {overruns[-1] / MS:+.2f} ms"
    assert median <= -rt.guard.config.wake_margin_ms * MS / 2, shown
    assert p90 <= SLACK_NS, shown
    assert overruns[-1] < rt.guard.config.budget_ns, shown
    time.sleep(0.05)  # let the last worker see its stop token (not a unit-test wait: real threads)
    assert all(stopped) and rt.stuck_workers == 0


def test_fast_good_answer_is_used_without_waiting(kit, ctx, good_bytes) -> None:
    """A planner answering at once is decided at once, long before the deadline."""
    rt = make(kit, budget_ms=150)
    d = rt.decide_now(ctx, lambda _c, _s: good_bytes)
    assert d.accepted and d.deadline_ns - d.decided_ns > 100 * MS


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise ValueError("no message")


def _raise(error: BaseException):
    def planner(_ctx, _stop):
        raise error

    return planner


def _released(_ctx, _stop) -> memoryview:
    view = memoryview(b"{}")
    view.release()
    return view


def _as_async(planner):
    async def call(ctx, stop):
        return planner(ctx, stop)

    return call


MISBEHAVING = [
    (lambda _c, _s: 1 / 0, "ZeroDivisionError"),
    (lambda _c, _s: {"plan": 1}, "returned dict"),
    (_raise(_Unprintable()), "raised _Unprintable that could not be read (ValueError)"),
    (_raise(RetryLater("busy", retry_after_s=float("inf"))), "RetryLater: busy"),
    (_raise(RetryLater("busy", retry_after_s=float("nan"))), "RetryLater: busy"),
    (_released, "returned a result that could not be read"),
]


@pytest.mark.parametrize("run", ["sync", "async"])
@pytest.mark.parametrize(("planner", "detail"), MISBEHAVING)
def test_misbehaving_planner_is_a_transport_failure(
    kit, ctx, good_bytes, planner, detail: str, run: str
) -> None:
    """A planner that raises (even an error whose message raises, or a Retry-After of infinity)
    or returns what cannot be read: transport, with what happened, at once; the worker lives on
    and no worker is counted stuck. Caught before: such a planner killed its worker thread, and
    the decision waited to the cut-off and counted a stuck worker nothing would give back."""
    rt = make(kit, budget_ms=150, workers=1)
    try:
        d = rt.decide_now(ctx, planner if run == "sync" else _as_async(planner))
        assert d.failure_mode is FailureMode.TRANSPORT and detail in d.violations[0].detail
        assert d.deadline_ns - d.decided_ns > 100 * MS  # not a timeout in disguise
        rt.guard.reset("the next call must reach the model")  # a Retry-After is honoured
        assert rt.decide_now(ctx, lambda _c, _s: good_bytes).accepted  # the one worker lives
        assert rt.stuck_workers == 0
    finally:
        rt.close()


def test_deciding_a_timed_out_call_twice_counts_its_worker_stuck_once(kit, ctx) -> None:
    """A caller that decides the same ticket twice (a misuse) does not count its worker twice."""
    release = threading.Event()

    def blocked(_ctx, _stop) -> bytes:
        release.wait(5)
        return b""

    rt = make(kit, budget_ms=40, breaker=NO_BREAKER)
    ticket = rt.ask(ctx, blocked)
    for _ in range(2):
        rt.decide(ticket, deadline_ns=rt.clock.now_ns() + 40 * MS)
    assert rt.stuck_workers == 1
    release.set()
    eventually(lambda: not rt.stuck_workers)  # the worker's own thread gives it back
    assert rt.stuck_workers == 0


def test_async_planner_is_cancelled_at_the_cutoff(kit, ctx) -> None:
    """An async planner past its cut-off is cancelled; the decision is on time."""
    cancelled = threading.Event()

    async def slow(_ctx, _stop):
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return b""

    rt = make(kit, budget_ms=40)
    try:
        d = rt.decide_now(ctx, slow)
        assert d.failure_mode is FailureMode.TIMEOUT and d.on_time
        assert cancelled.wait(1.0)
    finally:
        rt.close()


def test_cancelling_an_async_call_after_its_timeout_holds_no_worker(kit, ctx) -> None:
    """An async call cancelled at its cut-off holds no worker thread: a later cancel of the same
    ticket (a caller dropping what it already decided) must not count a stuck worker, which would
    hold the breaker open for good."""

    async def slow(_ctx, _stop):
        await asyncio.sleep(10)

    rt = make(kit, budget_ms=40)
    try:
        ticket = rt.ask(ctx, slow)
        d = rt.decide(ticket, deadline_ns=rt.clock.now_ns() + 40 * MS)
        assert d.failure_mode is FailureMode.TIMEOUT
        eventually(lambda: ticket.future is None)  # the cancelled call's callback, on its loop
        rt.cancel(ticket, "dropped")
        assert rt.stuck_workers == 0
    finally:
        rt.close()


class _Refused(Exception):
    pass


async def _async_good(ctx, _stop):
    return ctx.good


async def _async_raises(_ctx, _stop):
    try:
        raise KeyError("upstream")
    except KeyError as exc:  # wrapped as HTTP clients do: a local holds the error it raises, so
        error = _Refused("the upstream said no")  # the error's traceback holds this frame, whose
        raise error from exc  # locals hold the error: a cycle, unless the traceback is dropped


@pytest.mark.parametrize("planner", [_async_good, _async_raises, lambda ctx, _s: ctx.good])
def test_a_decided_ticket_is_freed_without_the_cyclic_collector(kit, ctx, good_bytes, planner):
    """A ticket, its context and its call's objects go when the caller drops them, by reference
    counting: none left in a cycle for the collector, whose full collections (walking every
    request's leftovers) stopped `plansentry serve` for up to 25 ms (docs/SERVE.md). Caught
    without the fix: the async call's future kept a cycle through the ticket, and a raised error's
    traceback held the call's frames."""

    class Held(ToyContext):  # a context that can be watched going away
        __slots__ = ("__weakref__", "good")

    rt = make(kit, budget_ms=150)
    held = Held(task_id=ctx.task_id, target=ctx.target, max_step=ctx.max_step, blocked=ctx.blocked)
    object.__setattr__(held, "good", good_bytes)
    gc.collect()
    gc.disable()
    try:
        ticket = rt.ask(held, planner)
        rt.decide(ticket, deadline_ns=rt.clock.now_ns() + 150 * MS)
        # the call's own thread lets go of it just after the decision
        eventually(lambda t=ticket: t.future is None and not rt.pool.busy)
        gone = weakref.ref(held)
        del ticket, held
        assert gone() is None, [type(r).__name__ for r in gc.get_referrers(gone())]
    finally:
        gc.enable()
        rt.close()


def test_concurrent_callers_each_get_their_own_decision(kit, ctx, good_bytes) -> None:
    """Eight threads deciding at once: eight decisions, distinct sequence numbers, all on time."""
    rt = make(kit, budget_ms=150, workers=8)
    results = []

    def robot() -> None:
        results.append(rt.decide_now(ctx, lambda _c, _s: good_bytes))

    threads = [threading.Thread(target=robot) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(d.seq for d in results) == list(range(8))
    assert all(d.on_time and d.accepted for d in results)


def test_budget_the_runtime_cannot_keep_is_refused(kit) -> None:
    """Under a 5 ms GIL switch interval an 18 ms budget cannot hold the wake-up margins (17 ms)
    and the fallback's 1 ms."""
    before = sys.getswitchinterval()
    try:
        with pytest.raises(ConfigError, match=r"budget_ms \(18\) leaves no time"):
            RealtimeRuntime(kit.guard(config=kit.config(budget_ms=18)), switch_interval_s=0.005)
    finally:
        sys.setswitchinterval(before)


def test_a_late_answer_is_never_used_for_a_later_decision(kit, ctx, good_bytes) -> None:
    """An answer that comes after its decision's deadline is dropped: the next decision, for
    another task, gets its own answer or a fallback, never the late one."""
    release, answering = threading.Event(), threading.Event()

    def late(_ctx, _stop: StopToken) -> bytes:
        release.wait(5)
        answering.set()
        return good_bytes  # a good plan, but for the first decision and too late

    rt = make(kit, budget_ms=40, breaker=NO_BREAKER)
    try:
        first = rt.decide_now(ctx, late)
        assert first.failure_mode is FailureMode.TIMEOUT and first.on_time
        release.set()
        assert answering.wait(5)  # the late answer is on its way back
        other = ToyContext("T-2", target=ctx.target, max_step=ctx.max_step, blocked=ctx.blocked)
        second = rt.decide_now(other, lambda _c, _s: b"")
        assert second.failure_mode is FailureMode.EMPTY  # its own (empty) answer, judged alone
        assert second.source == "stepper"
        assert second.plan.task_id == "T-2"
    finally:
        release.set()
        rt.close()


def test_a_flood_of_output_is_refused_on_time(kit, ctx) -> None:
    """A planner that returns 64 MiB: oversize, a fallback, on time."""
    flood = b"[" * (64 * 2**20)  # made before: making it is not the planner's time under test
    rt = make(kit, budget_ms=150, breaker=NO_BREAKER)
    try:
        d = rt.decide_now(ctx, lambda _c, _s: flood)
        assert d.failure_mode is FailureMode.OVERSIZE and d.on_time and d.source == "stepper"
    finally:
        rt.close()


def test_a_planner_asking_to_retry_later_is_not_asked_again_before(kit, ctx) -> None:
    """A planner raising RetryLater (a 429 with Retry-After: 1.5 s): the decision is a transport
    failure; the next asks within 1.5 s do not call the planner, and say why."""
    calls = []

    def busy(_ctx, _stop: StopToken) -> bytes:
        calls.append(time.monotonic())
        raise RetryLater("HTTP 429: slow down", retry_after_s=1.5)

    rt = make(kit, budget_ms=60)
    try:
        first = rt.decide_now(ctx, busy)
        assert first.failure_mode is FailureMode.TRANSPORT and "429" in first.violations[0].detail
        second = rt.decide_now(ctx, busy)
        assert not second.consulted and second.skipped.startswith("retry-after")
        assert len(calls) == 1
    finally:
        rt.close()


def test_a_completion_calls_back_once_when_set_or_at_once_if_already_set() -> None:
    """The service awaits tickets through these callbacks: one lost is a decision that waits to
    its cut-off with the answer in hand; one run twice is harmless but wrong."""
    done, calls = Completion(), []
    done.add_done_callback(lambda: calls.append("early"))
    assert calls == []
    done.set()
    done.set()
    assert calls == ["early"]
    done.add_done_callback(lambda: calls.append("late"))
    assert calls == ["early", "late"] and done.is_set()


def test_a_completion_set_while_callbacks_are_added_from_another_thread_loses_none() -> None:
    """Set on one thread while another adds callbacks: every callback runs exactly once."""

    def add_all(done: Completion, calls: list[int]) -> None:
        for i in range(50):
            done.add_done_callback(lambda i=i: calls.append(i))

    for _ in range(200):
        done, calls = Completion(), []
        adder = threading.Thread(target=add_all, args=(done, calls))
        adder.start()
        done.set()
        adder.join()
        assert sorted(calls) == list(range(50))
