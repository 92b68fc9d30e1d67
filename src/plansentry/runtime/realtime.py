"""The real-time runtime: real threads, a real clock, and a decision by the deadline regardless.

Per decision point (``ask`` may come early: plan item n+1 while item n executes):

1. :meth:`RealtimeRuntime.ask` starts the model call, if the guard lets it and a worker is free.
   While the breaker is not closed the call takes one of its probe slots (:meth:`Guard.ask`),
   given back once: by the decision, or by :meth:`RealtimeRuntime.cancel`.
   A synchronous planner runs on one of at most ``workers`` daemon threads; an ``async def``
   planner runs as a task on one event-loop thread owned by the runtime.
2. :meth:`RealtimeRuntime.decide` computes the fallbacks, then waits for the answer until
   ``deadline - early_wake`` at the latest, then hands everything to the guard.

What a timeout does to the planner: its :class:`StopToken` is set and an async task is cancelled,
but a synchronous call cannot be killed. It keeps its worker until it returns on its own and counts
as *stuck* meanwhile; stuck workers open the breaker (``max_stuck_workers``) and, since the pool never
grows past ``workers``, a planner that never returns costs at most that many threads, forever. When
no worker is free the model is not called and the decision records a ``transport`` failure. An
abandoned synchronous call that does return output is a late answer: the guard's hooks are told
(:meth:`Guard.late_answer`; the audit log writes it after the decision's record), so a log knows
how long that call really took.

How early it stops waiting (:attr:`RealtimeRuntime.early_wake_ms`) is chosen from what this
runtime has measured (:class:`~plansentry.runtime.wake.WakeEstimate`): a thread waking at its wake
point must win the CPU and the GIL back from busy Python threads (up to a switch interval, 5 ms by
default, each time) and hand the decision over, and every decision that waited measures how long
that took. It wakes ``wake_margin + max(reserve, 1.25 x the longest of the last 256 hand-backs)``
early; until it has measured 16, at the fixed rule ``reserve + wake_margin + 2 x switch interval``
(the interval read when the runtime is built), which also bounds the budgets it accepts.
``switch_interval_s``, if given, is applied with ``sys.setswitchinterval`` first: a process-wide
setting, made explicitly here; a shorter interval (0.5 ms) shortens the hand-back with busy threads
beside. ``bench/deadline.py`` measures both rules and both intervals.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, final

from plansentry.core.decision import Arrival, ArrivalKind, Decision, FallbackOutcome
from plansentry.core.errors import ConfigError
from plansentry.runtime.clock import Clock, MonotonicClock
from plansentry.runtime.guard import Guard, LateAnswer
from plansentry.runtime.planner import Planner, RetryLater, StopToken
from plansentry.runtime.wake import WakeEstimate, WakePolicy

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")
log = logging.getLogger(__name__)
#: The longest ``Retry-After`` an arrival carries (the decider caps it again, at the breaker's
#: longest cool-down): an infinite one from a planner is a wait this long.
_RETRY_CAP_S = 1e9


@final
class WorkerPool:
    """At most ``size`` daemon threads; :meth:`try_submit` refuses work when none is idle."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"workers must be >= 1, got {size}")
        self.size = size
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._busy = 0
        self._names = itertools.count()

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def threads(self) -> int:
        return self._threads

    def try_submit(self, job: Callable[[], None]) -> bool:
        with self._lock:
            if self._busy >= self.size:
                return False
            self._busy += 1
            if self._threads < self._busy:
                self._threads += 1
                name = f"plansentry-planner-{next(self._names)}"
                threading.Thread(target=self._work, name=name, daemon=True).start()
        self._jobs.put(job)
        return True

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except BaseException:  # a job must not take its worker thread with it
                log.exception("planner worker job raised")
            finally:
                del job  # an idle worker must not keep its last call's ticket alive
                with self._lock:
                    self._busy -= 1


@final
class Completion(threading.Event):
    """A ticket's completion: a :class:`threading.Event` that also runs callbacks when set, so an
    event loop can await a ticket without a thread parked on it (``plansentry serve``).

    A callback runs once, on the thread that sets the event, or at once on the caller's thread if
    the event is already set; it must be quick and must not raise (``loop.call_soon_threadsafe``
    is the intended one)."""

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[], None]] = []
        self._callbacks_lock = threading.Lock()

    def set(self) -> None:
        super().set()
        with self._callbacks_lock:
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        with self._callbacks_lock:
            if not self.is_set():
                self._callbacks.append(callback)
                return
        callback()


@final
@dataclass(eq=False)
class Ticket(Generic[CtxT]):
    """A model call in flight for one decision point."""

    ctx: CtxT
    request_id: str
    asked_ns: int | None
    version: str
    stop: StopToken
    done: Completion = field(default_factory=Completion)
    arrival: Arrival | None = None
    future: Future[Any] | None = None  # an async call's, until it ends
    on_worker: bool = False  # a synchronous call on a worker thread (one that can get stuck)
    abandoned: bool = False
    returned: bool = False  # an abandoned call came back (its late answer is ``arrival``)
    decided: bool = False  # the abandoned call's decision has been handed to the hooks
    probe_slot: bool = False  # holds a probe slot (Guard.ask), not yet given back


class RealtimeRuntime(Generic[PlanT, CtxT]):
    """Drives a guard against the real clock. One runtime may serve several robots' threads."""

    def __init__(
        self,
        guard: Guard[PlanT, CtxT],
        *,
        clock: Clock | None = None,
        workers: int = 4,
        switch_interval_s: float | None = None,
        wake: WakePolicy | None = None,
    ) -> None:
        """``wake``: how early decisions stop waiting; by default a
        :class:`~plansentry.runtime.wake.WakeEstimate` of this runtime's own (what the guard's
        configuration and the switch interval give as its reserve, margin and fixed rule)."""
        self.guard = guard
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.pool = WorkerPool(workers)
        if switch_interval_s is not None:
            if not 0 < switch_interval_s <= 0.1:
                raise ValueError(f"switch_interval_s must be in (0, 0.1], got {switch_interval_s}")
            sys.setswitchinterval(switch_interval_s)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._stuck = 0
        self._stuck_lock = threading.Lock()
        self._ids = itertools.count()
        cfg = guard.config
        self._max_text = cfg.gate.max_bytes + 1
        self.switch_interval_s = sys.getswitchinterval()
        fixed_ms = cfg.early_wake_ms(self.switch_interval_s)
        if fixed_ms + sum(cfg.fallback_wcet_ms.values()) >= cfg.budget_ms:
            raise ConfigError(
                f"budget_ms ({cfg.budget_ms:g}) leaves no time for the model: the runtime wakes "
                f"{fixed_ms:g} ms early (reserve, wake margin, two GIL switch intervals of "
                f"{self.switch_interval_s * 1000:g} ms) and the fallbacks take up to "
                f"{sum(cfg.fallback_wcet_ms.values()):g} ms"
            )
        self.wake: WakePolicy = (
            wake
            if wake is not None
            else WakeEstimate(
                reserve_ns=int(cfg.reserve_ms * 1_000_000),
                margin_ns=int(cfg.wake_margin_ms * 1_000_000),
                fixed_ns=int(fixed_ms * 1_000_000),
            )
        )

    @property
    def early_wake_ms(self) -> float:
        """How long before its deadline the next decision stops waiting (``wake``'s choice)."""
        return self.wake.early_wake_ns() / 1_000_000

    @property
    def stuck_workers(self) -> int:
        """Planner calls abandoned at their deadline and still running."""
        return self._stuck

    def ask(self, ctx: CtxT, planner: Planner[CtxT], *, request_id: str = "") -> Ticket[CtxT]:
        """Start the model call for a coming decision point (if the guard allows): plan ahead."""
        now = self.clock.now_ns()
        rid = request_id or f"rt{next(self._ids)}"
        version = self.guard.domain.version(ctx)
        stop = StopToken()
        asked = self.guard.ask(now)
        if asked.skipped:
            ticket = Ticket(ctx, rid, None, version, stop)
            ticket.arrival = Arrival(ArrivalKind.NOT_ASKED, detail=asked.skipped)
            ticket.done.set()
            return ticket
        ticket = Ticket(ctx, rid, now, version, stop, probe_slot=asked.probe_slot)
        if inspect.iscoroutinefunction(planner) or inspect.iscoroutinefunction(
            type(planner).__call__
        ):
            self._start_async(ticket, planner)
        else:
            ticket.on_worker = True  # before the worker can see the ticket
            if self.pool.try_submit(lambda: self._run_sync(ticket, planner)):
                return ticket
            ticket.on_worker = False
            ticket.arrival = Arrival(
                ArrivalKind.TRANSPORT,
                at_ns=now,
                detail=f"no free planner worker ({self.pool.busy} busy, {self._stuck} stuck)",
                asked_version=version,
            )
            ticket.done.set()
        return ticket

    def _arrive(self, ticket: Ticket[CtxT], result: Any, error: BaseException | None) -> None:
        """Record what the call gave (an output, or why there is none) and mark the ticket done,
        whatever the planner handed back: an error whose message raises, a released buffer."""
        at = self.clock.now_ns()
        try:
            arrival = self._arrival(ticket, at, result, error)
        except Exception as exc:
            what = f"raised {type(error).__name__}" if error is not None else "returned a result"
            arrival = Arrival(
                ArrivalKind.TRANSPORT,
                at_ns=at,
                detail=f"planner {what} that could not be read ({type(exc).__name__})",
                asked_version=ticket.version,
            )
        if error is not None:
            _drop_tracebacks(error)
        with self._stuck_lock:
            if ticket.done.is_set():  # cancelled first: the cancel is what the ticket ends with
                return
            ticket.arrival = arrival
            ticket.done.set()

    def _arrival(
        self, ticket: Ticket[CtxT], at: int, result: Any, error: BaseException | None
    ) -> Arrival:
        if error is not None:
            retry = error.retry_after_s if isinstance(error, RetryLater) else None
            if retry is not None and math.isnan(retry):
                retry = None
            return Arrival(
                ArrivalKind.TRANSPORT,
                at_ns=at,
                detail=f"planner raised {type(error).__name__}: {error}"[:500],
                asked_version=ticket.version,
                retry_after_ns=None
                if retry is None
                else at + int(min(max(0.0, retry), _RETRY_CAP_S) * 1e9),
            )
        if isinstance(result, (bytes, bytearray, memoryview)):
            raw = bytes(result)
            return Arrival.output(raw[: self._max_text], at, ticket.version, len(raw))
        if isinstance(result, str):
            raw = result.encode("utf-8", "surrogatepass")
            return Arrival.output(raw[: self._max_text], at, ticket.version, len(raw))
        return Arrival(
            ArrivalKind.TRANSPORT,
            at_ns=at,
            detail=f"planner returned {type(result).__name__}, not bytes or str",
            asked_version=ticket.version,
        )

    def _run_sync(self, ticket: Ticket[CtxT], planner: Planner[CtxT]) -> None:
        try:
            result = planner(ticket.ctx, ticket.stop)
        except BaseException as exc:  # whatever a planner throws is a transport failure
            self._arrive(ticket, None, exc)
        else:
            self._arrive(ticket, result, None)
        finally:
            late = False
            with self._stuck_lock:
                if ticket.abandoned:
                    self._stuck -= 1
                    ticket.returned = True
                    late = ticket.decided  # else ``decide`` reports it once its record is written
            if late:
                self._late_answer(ticket)

    def _late_answer(self, ticket: Ticket[CtxT]) -> None:
        """Tell the guard's hooks about an abandoned call's output (not about its failure)."""
        arrival = ticket.arrival
        if arrival is not None and arrival.kind is ArrivalKind.OUTPUT:
            self.guard.late_answer(LateAnswer(ticket.request_id, arrival, asked_ns=ticket.asked_ns))

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="plansentry-async-planners", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    def _start_async(self, ticket: Ticket[CtxT], planner: Planner[CtxT]) -> None:
        async def call() -> Any:
            return await planner(ticket.ctx, ticket.stop)  # type: ignore[misc]

        fut = asyncio.run_coroutine_threadsafe(call(), self._event_loop())
        ticket.future = fut

        def done(f: Future[Any]) -> None:
            try:
                if not f.cancelled():  # cancelled: abandoned at the cut-off, the decision taken
                    error = f.exception()
                    self._arrive(ticket, None if error else f.result(), error)
            finally:
                # The call is over: without this, ticket -> future -> this callback -> ticket is
                # a reference cycle, and every ticket waits for the cyclic collector
                # (_drop_tracebacks says what that cost).
                ticket.future = None

        fut.add_done_callback(done)

    def cutoff_ns(self, deadline_ns: int) -> int:
        """The instant :meth:`decide` stops waiting for the model, for a decision due at
        ``deadline_ns`` (:attr:`early_wake_ms` before it)."""
        return deadline_ns - self.wake.early_wake_ns()

    def decide(
        self,
        ticket: Ticket[CtxT],
        *,
        deadline_ns: int,
        fallbacks: tuple[FallbackOutcome[PlanT], ...] | None = None,
    ) -> Decision[PlanT]:
        """The decision for ``ticket``, returned by ``deadline_ns`` whatever the planner does.

        ``fallbacks``: the fallbacks' results for ``ticket.ctx`` if the caller computed them
        already (:meth:`Guard.run_fallbacks`, before waiting for the model as this does)."""
        guard = self.guard
        if fallbacks is None:
            fallbacks = guard.run_fallbacks(ticket.ctx)
        wake_ns = self.cutoff_ns(deadline_ns)
        remaining_s = (wake_ns - self.clock.now_ns()) / 1e9
        waited = timed_out = False
        if not ticket.done.is_set() and remaining_s > 0:
            waited = True
            timed_out = not ticket.done.wait(remaining_s)
        arrival = ticket.arrival
        if arrival is None or not ticket.done.is_set():
            ticket.stop.stop()
            future = ticket.future  # read once: the call's own callback clears it when it ends
            if future is not None:
                future.cancel()
            elif ticket.on_worker:
                with self._stuck_lock:
                    if not ticket.done.is_set() and not ticket.abandoned:  # counted once
                        ticket.abandoned = True
                        self._stuck += 1
            arrival = Arrival(
                ArrivalKind.TIMEOUT, detail="no output by the cut-off", asked_version=ticket.version
            )
        with self._stuck_lock:  # given back once: here, or by ``cancel``
            slot, ticket.probe_slot = ticket.probe_slot, False
        decision: Decision[PlanT] = guard.finish(
            ticket.ctx,
            request_id=ticket.request_id,
            asked_ns=ticket.asked_ns,
            deadline_ns=deadline_ns,
            arrival=arrival,
            fallbacks=fallbacks,
            clock_ns=self.clock.now_ns,
            stuck_workers=self._stuck,
            probe_slot=slot,
        )
        if ticket.abandoned:
            with self._stuck_lock:
                ticket.decided = True
                late = ticket.returned  # it came back while the decision was being recorded
            if late:
                self._late_answer(ticket)
        if waited:
            self._measure(ticket, wake_ns, timed_out)
        return decision

    def _measure(self, ticket: Ticket[CtxT], wake_ns: int, timed_out: bool) -> None:
        """Give ``wake`` this decision's hand-back: from the instant it had to act (its wake
        point; the answer's arrival, if that woke it earlier) to now, the decision taken. A wait
        ended by :meth:`cancel` measures nothing (no instant to act)."""
        acted = wake_ns
        if not timed_out:
            arrival = ticket.arrival
            if arrival is None or arrival.at_ns is None:  # cancelled: no instant to act
                return
            acted = min(wake_ns, arrival.at_ns)
        self.wake.record(self.clock.now_ns() - acted)

    def decide_now(
        self, ctx: CtxT, planner: Planner[CtxT], *, deadline_ns: int | None = None
    ) -> Decision[PlanT]:
        """Ask and decide in one call; the deadline defaults to now plus the budget."""
        if deadline_ns is None:
            deadline_ns = self.clock.now_ns() + self.guard.config.budget_ns
        return self.decide(self.ask(ctx, planner), deadline_ns=deadline_ns)

    def cancel(self, ticket: Ticket[CtxT], reason: str) -> bool:
        """Stop ``ticket``'s model call: nobody needs its answer any more (the caller went away,
        or gave the decision point up). Thread-safe.

        A :meth:`decide` waiting on the ticket returns at once, recording the model as not
        consulted (``cancelled: <reason>``): a caller's departure is not the model's failure, so
        the breaker does not count it. Then the stop token is set and an async call is cancelled
        (which closes its connection); a synchronous call keeps its worker until it returns,
        counted as stuck meanwhile. A synchronous planner that returns within microseconds of the
        stop (before the waiting thread has read the ticket) may still have its own answer
        recorded. Returns False if the answer had already arrived, changing nothing but the probe
        slot: a call that held one (:meth:`Guard.ask`) gives it back whatever this returns, since
        a caller that cancels may drop the ticket undecided (an answer already there is then
        still judged if the ticket is decided, as a probe that no longer holds a slot).
        """
        with self._stuck_lock:
            slot, ticket.probe_slot = ticket.probe_slot, False
        if slot:
            self.guard.release()
        with self._stuck_lock:
            if ticket.done.is_set():
                return False
            if ticket.on_worker and not ticket.abandoned:
                ticket.abandoned = True
                self._stuck += 1
            ticket.arrival = Arrival(
                ArrivalKind.NOT_ASKED, detail=f"cancelled: {reason}", asked_version=ticket.version
            )
            ticket.done.set()
        ticket.stop.stop()
        future = ticket.future
        if future is not None:
            future.cancel()
        return True

    def close(self) -> None:
        """Stop the async planners' loop. Synchronous workers are daemons and need no joining."""
        with self._loop_lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None


def _drop_tracebacks(error: BaseException) -> None:
    """Drop the frames an exception (and those it was raised from) keeps alive. A decision keeps
    the error's type and message only; its traceback's frames hold the call's objects (the
    ticket, the client's request and response) in reference cycles, which only the cyclic
    garbage collector frees, in full collections that stopped ``plansentry serve`` for 10-25 ms
    (docs/SERVE.md). Chains are walked once each, so a cyclic chain ends."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.__traceback__ = None
        stack += [exc.__cause__, exc.__context__]
        if isinstance(exc, BaseExceptionGroup):
            stack += list(exc.exceptions)
