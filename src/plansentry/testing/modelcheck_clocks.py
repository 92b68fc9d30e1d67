"""The time abstraction the search runs on: each clock is kept as its class between the thresholds
the code compares it with, and time passes one clock at a time.

The code reads time only through these comparisons (docs/VERIFICATION.md lists each):

- the cool-down: ``now >= open_until_ns`` (asking, and deciding: ``cooldown_elapsed``);
- the Retry-After: ``now < not_before_ns`` (asking);
- a request's age ``now - asked_ns`` against :attr:`Model.age_bounds` (whether it can be decided as
  a timeout or late, and whether its answer is slow).

So a clock's value matters only up to its class: for the cool-down and the Retry-After, "2 ns or
more left", "1 ns left", "over"; for an age, the interval of :attr:`Model.age_points` it is in (every
bound, and the nanosecond before it). :func:`canonical` replaces each clock by its class's
representative (and ``now`` by 0), so configurations that differ only inside classes are one.

Time passing (:class:`~plansentry.testing.modelcheck_model.Advance`) moves any one clock to its next
class while the others stay: in any order, which covers every real timing (a real wait moves every
clock at once; as a sequence of classes that is some interleaving of these) and also orders that no
timing realises. The search is therefore an over-approximation: a violation it finds is made
concrete by :mod:`plansentry.testing.modelcheck_timing` (real times solved from the class
constraints, then replayed exactly), and is reported as spurious if no timing realises it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from plansentry.core.breaker import BreakerPhase
from plansentry.core.decider import GuardState
from plansentry.testing.modelcheck_model import Advance, Model, Ticket, World

#: Class representatives of the cool-down's and the Retry-After's time left.
LEFT_MANY, LEFT_LAST = 2, 1


def age_class(model: Model, age_ns: int) -> int:
    """The index of the age class ``age_ns`` is in."""
    return bisect.bisect_right(model.age_points, age_ns) - 1


def left_class(left_ns: int) -> int:
    """0: over (or none); 1: 1 ns left; 2: 2 ns or more."""
    return 0 if left_ns <= 0 else (1 if left_ns == 1 else 2)


def canonical(model: Model, world: World) -> World:
    """``world`` with ``now`` at 0 and every clock at its class's representative: the cool-down
    left at ``cooldown_ns`` (its most) or 1 ns or over, the Retry-After at ``max_cooldown_s`` (its
    most) or 1 ns or gone, each age at the bottom of its class; the good-decision streak at most
    ``recover_after``; the probe counter at most ``probes + 1``."""
    gs, now = world.gs, world.now_ns
    b = gs.breaker
    until = 0
    if b.phase is BreakerPhase.OPEN:
        until = {0: 0, 1: LEFT_LAST, 2: max(LEFT_MANY, b.cooldown_ns)}[
            left_class(b.open_until_ns - now)
        ]
    hold: int | None = None
    if gs.not_before_ns is not None:
        cls = left_class(gs.not_before_ns - now)
        hold = {0: None, 1: LEFT_LAST, 2: max(LEFT_MANY, model.max_cooldown_ns)}[cls]
    points = model.age_points
    pending = tuple(
        Ticket(0, t.skipped)
        if t.skipped
        else Ticket(-points[age_class(model, now - t.asked_ns)], "", t.probe_slot, t.counted)
        for t in world.pending
    )
    breaker = replace(b, open_until_ns=until) if b.open_until_ns != until else b
    streak = min(gs.good_streak, model.decider.recover_after)
    state = GuardState(gs.state, breaker, streak, hold)
    probes = min(world.probe_asks, model.decider.breaker.probes + 1)
    return World(state, 0, pending, probes, 0)


def key(model: Model, world: World) -> tuple[Any, ...]:
    """What the search hashes: the key of ``canonical(model, world)``, computed without building
    it (requests in flight as a sorted tuple: robots are interchangeable)."""
    gs, now = world.gs, world.now_ns
    b = gs.breaker
    until = 0
    if b.phase is BreakerPhase.OPEN:
        left = b.open_until_ns - now
        until = 0 if left <= 0 else (LEFT_LAST if left == 1 else max(LEFT_MANY, b.cooldown_ns))
    hold: int | None = None
    if gs.not_before_ns is not None:
        left = gs.not_before_ns - now
        if left > 0:
            hold = LEFT_LAST if left == 1 else max(LEFT_MANY, model.max_cooldown_ns)
    points = model.age_points
    tickets = tuple(
        sorted(
            (True, 0, False, False)
            if t.skipped
            else (False, -points[age_class(model, now - t.asked_ns)], t.probe_slot, t.counted)
            for t in world.pending
        )
    )
    return (
        gs.state.value,
        b.phase.value,
        b.consecutive,
        b.recent,
        until,
        b.cooldown_ns,
        b.probes_ok,
        b.probes_out,
        min(gs.good_streak, model.decider.recover_after),
        hold,
        tickets,
        min(world.probe_asks, model.decider.breaker.probes + 1),
    )


def advances(model: Model, world: World) -> Iterator[Advance]:
    """Every clock of a canonical ``world`` that has a next class."""
    gs = world.gs
    if gs.breaker.phase is BreakerPhase.OPEN and gs.breaker.open_until_ns > 0:
        yield Advance("cooldown")
    if gs.not_before_ns is not None:
        yield Advance("retry_after")
    top = model.age_points[-1]
    seen: set[tuple[int, bool, bool]] = set()
    for i, t in enumerate(world.pending):
        k = (t.asked_ns, t.probe_slot, t.counted)
        if not t.skipped and -t.asked_ns < top and k not in seen:
            seen.add(k)
            yield Advance("age", i)


def advance(model: Model, world: World, a: Advance) -> World:
    """A canonical ``world`` with one clock moved to its next class's representative."""
    gs = world.gs
    if a.clock == "cooldown":
        until = LEFT_LAST if gs.breaker.open_until_ns > LEFT_LAST else 0
        return replace(world, gs=replace(gs, breaker=replace(gs.breaker, open_until_ns=until)))
    if a.clock == "retry_after":
        hold = LEFT_LAST if (gs.not_before_ns or 0) > LEFT_LAST else None
        return replace(world, gs=replace(gs, not_before_ns=hold))
    points = model.age_points
    t = world.pending[a.ticket]
    nxt = replace(t, asked_ns=-points[age_class(model, -t.asked_ns) + 1])
    pending = (*world.pending[: a.ticket], nxt, *world.pending[a.ticket + 1 :])
    return replace(world, pending=pending)
