"""Liveness under fairness: from a world, a run of healthy answers brings the guard back to NOMINAL.

The healthy run (:func:`healthy_run`), with the real code: every request still in flight is decided
first (an asked one with a passing answer that came at once, a refused one as not asked); then one
robot decides every ``period`` (:attr:`Model.period_ns`): it asks at its decision point, the model
(if asked) passes at once, a usable fallback is there, no worker is stuck. It ends at the first
decision that leaves the guard NOMINAL.

While the model may not be asked (a cool-down, a Retry-After), a not-asked decision that leaves the
guard's state unchanged is repeated at every point until the model may be asked again; such a
decision reads no clock (``decide`` with ``not_asked``, no stuck workers), so the run counts those
points without running each (checked: the first one is run, and must change nothing).

The bound (:func:`bound`), with K requests in flight, P the period, C ``max_cooldown_s``, c
``cooldown_s``, m ``min_calls``, R ``recover_after`` and G = max(0, min(m - 2, R - 1)):

- decisions <= K + ceil(C / P) + G + ceil(c / P) + probes + R;
- time <= (ceil(C / P) + G + ceil(c / P) + probes + R - 1) x P.

Why: the K requests in flight are decided at once. A cool-down and a Retry-After both end at most C
after the run starts (the cool-down is capped at C; a Retry-After at C past the decision that set
it, which came before), so at most ceil(C / P) points pass before the model may be asked (a safe
hold is left at the first of them, with the fallback). A closed breaker may still open once on a
passing answer: the one that brings the window to ``min_calls`` calls when the failures in it reach
``failure_rate``. Before it come at most m - 2 passing answers (the window holds a failure, so at
least one call), and fewer than R of them, or NOMINAL came first: G decisions; the trip is one
more, and its base cool-down ceil(c / P) - 1 more points. It happens at most once: the window is
checked only below ``min_calls`` or on a failure or slow call, closing empties it, and healthy
answers are neither. Then ``probes`` passing probes close the breaker and R good decisions return
DEGRADED to NOMINAL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import final

from plansentry.core.breaker import BreakerPhase
from plansentry.core.fsm import State
from plansentry.testing.modelcheck_model import (
    Arrive,
    Ask,
    Decide,
    Input,
    Model,
    Tick,
    World,
    step,
)

_HEALTHY = Arrive("output", "pass", "asked")
_REFUSED = Arrive("not_asked")


@final
@dataclass(frozen=True, slots=True)
class Run:
    """A healthy run: decisions taken, time it took (from the world's ``now``), whether it reached
    NOMINAL within ``limit`` decisions, and its inputs (a jump over identical not-asked decisions is
    one :class:`~plansentry.testing.modelcheck_model.Tick`)."""

    decisions: int
    elapsed_ns: int
    nominal: bool
    inputs: tuple[Input, ...]


def bound(model: Model, in_flight: int) -> tuple[int, int]:
    """The liveness bound: (decisions, nanoseconds) from any world with ``in_flight`` requests out."""
    b = model.decider.breaker
    waits = math.ceil(model.max_cooldown_ns / model.period_ns)
    recover = model.decider.recover_after
    before_trip = max(0, min(b.min_calls - 2, recover - 1))
    trip = math.ceil(model.cooldown_ns / model.period_ns)
    after = waits + before_trip + trip + b.probes + recover
    return in_flight + after, (after - 1) * model.period_ns


def _resume_ns(world: World) -> int:
    """The first instant the model may be asked, judging by the clocks alone."""
    gs = world.gs
    t = world.now_ns
    if gs.not_before_ns is not None:
        t = max(t, gs.not_before_ns)
    if gs.breaker.phase is BreakerPhase.OPEN:
        t = max(t, gs.breaker.open_until_ns)
    return t


def healthy_run(model: Model, world: World, limit: int) -> Run:
    """Drive ``world`` with healthy answers until NOMINAL (see the module's docstring)."""
    w, start, n = world, world.now_ns, 0
    trace: list[Input] = []

    def do(inp: Input) -> None:
        nonlocal w
        trace.append(inp)
        w = step(model, w, inp).world

    while w.pending:
        do(Decide(0, _REFUSED if w.pending[0].skipped else _HEALTHY, "usable", 0))
        n += 1
    first = True
    while w.gs.state is not State.NOMINAL:
        if n >= limit:
            return Run(n, w.now_ns - start, False, tuple(trace))
        if not first:
            do(Tick(model.period_ns, "the next decision point"))
        first = False
        do(Ask())
        last = len(w.pending) - 1
        if not w.pending[last].skipped:
            do(Decide(last, _HEALTHY, "usable", 0))
            n += 1
            continue
        before = w.gs
        do(Decide(last, _REFUSED, "usable", 0))
        n += 1
        if w.gs != before:
            continue
        resume = _resume_ns(w)
        if resume <= w.now_ns:
            raise RuntimeError("the model was refused with nothing left to wait for")
        points = math.ceil((resume - w.now_ns) / model.period_ns)  # this one included
        if points > 1:
            do(Tick((points - 1) * model.period_ns, f"{points - 1} identical not-asked decisions"))
            n += points - 1
    return Run(n, w.now_ns - start, True, tuple(trace))


def run_from(model: Model, world: World) -> Run:
    """The healthy run from ``world``, stopped a little past the bound if it does not end."""
    decisions, _ = bound(model, len(world.pending))
    return healthy_run(model, replace(world), decisions + 10)
