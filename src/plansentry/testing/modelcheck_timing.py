"""Concrete times for a trace of the search: a counterexample with real waits, replayed exactly.

The search (:mod:`plansentry.testing.modelcheck_clocks`) moves clocks between classes one at a
time. A trace of it is real if some instants realise every class it passed through: call ``E_k``
the instant after the ``k``-th wait (``E_0 = 0``); then a request asked at ``E_a`` is in age class
``i`` at ``E_k`` when ``points[i] <= E_k - E_a <= points[i + 1] - 1``; a cool-down of ``c`` opened
at ``E_o`` has 2 ns or more left when ``E_k - E_o <= c - 2``, 1 ns when ``= c - 1``, none when
``>= c``; a Retry-After is the latest of the instants ``E_s + r_s`` the decisions set, so "none
left" holds for every one of them and "some left" for one (each choice is tried). Every condition
is a difference ``E_j - E_i <= w``: Bellman-Ford finds instants or proves there are none.

:func:`concretise` returns the trace with :class:`~plansentry.testing.modelcheck_model.Tick` waits,
checked by replaying it with the real code and comparing the class of every clock at every step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from plansentry.core.breaker import BreakerPhase
from plansentry.testing.modelcheck_clocks import LEFT_LAST, advance, age_class, canonical, key
from plansentry.testing.modelcheck_model import (
    Advance,
    Ask,
    Decide,
    Input,
    Model,
    Outcome,
    Tick,
    World,
    step,
)

#: How many choices of which Retry-After is the latest are tried before giving up.
MAX_CHOICES = 256

Edge = tuple[int, int, int]  # E_j - E_i <= w, as (i, j, w)

#: Whether the exact replay shows the violation: given the world before the last input, the input,
#: and its outcome (or what it raised).
Shows = Callable[[World, Input, "Outcome | Exception"], bool]


def _solve(nodes: int, edges: list[Edge]) -> list[int] | None:
    """Instants E_0..E_{nodes-1} with E_0 = 0 meeting every edge, or None (a negative cycle)."""
    dist = [0] * nodes
    for _ in range(nodes + 1):
        changed = False
        for i, j, w in edges:
            if dist[i] + w < dist[j]:
                dist[j] = dist[i] + w
                changed = True
        if not changed:
            return [d - dist[0] for d in dist]
    return None


def _retry_offset(model: Model, out: Outcome) -> int | None:
    """For a decision that set a Retry-After, how far past the decision it ends (capped)."""
    x = out.inp
    if x is None or x.arrival.retry_after_ns is None or not out.decision:
        return None
    if not out.decision.consulted:
        return None
    until = min(x.arrival.retry_after_ns, x.decided_ns + model.max_cooldown_ns)
    return until - x.decided_ns


def _constraints(
    model: Model, trace: tuple[Input, ...]
) -> tuple[int, list[Edge], list[tuple[Edge, ...]]]:
    """Replay ``trace`` on the search's worlds; the instants it needs:
    how many, the edges every solution meets, and sets of edges of which one must hold."""
    world = canonical(model, World())
    epoch = 0
    asked_at: list[int | None] = []  # per request in flight: the epoch it was asked in
    opened: tuple[int, int] | None = None  # (epoch, cool-down) of the breaker's last opening
    settings: list[tuple[int, int]] = []  # (epoch, offset) of every Retry-After set
    fixed: list[Edge] = []
    some: list[tuple[Edge, ...]] = []
    points = model.age_points
    for inp in trace:
        if isinstance(inp, Advance):
            world = advance(model, world, inp)
            epoch += 1
            continue
        for t, at in zip(world.pending, asked_at, strict=True):
            if at is None:
                continue
            c = age_class(model, -t.asked_ns)
            fixed.append((epoch, at, -points[c]))  # E_e - E_a >= points[c]
            if c + 1 < len(points):
                fixed.append((at, epoch, points[c + 1] - 1))  # E_e - E_a <= next - 1
        b = world.gs.breaker
        if b.phase is BreakerPhase.OPEN and opened is not None:
            o, c = opened
            if b.open_until_ns == 0:
                fixed.append((epoch, o, -c))  # E_e - E_o >= c
            elif b.open_until_ns == LEFT_LAST:
                fixed += [(o, epoch, c - 1), (epoch, o, 1 - c)]  # E_e - E_o = c - 1
            else:
                fixed.append((o, epoch, c - 2))  # E_e - E_o <= c - 2
        hold = world.gs.not_before_ns
        if hold is None:
            fixed += [(epoch, s, -r) for s, r in settings]  # E_s + r <= E_e, for all
        elif hold == LEFT_LAST:
            fixed += [(epoch, s, 1 - r) for s, r in settings]  # E_s + r <= E_e + 1, for all
            some.append(tuple((s, epoch, r - 1) for s, r in settings))  # = E_e + 1, for one
        else:
            some.append(tuple((s, epoch, r - 2) for s, r in settings))  # >= E_e + 2, for one
        try:
            out = step(model, world, inp)
        except Exception:
            break  # the last input may raise: that is the violation
        if isinstance(inp, Ask):
            asked_at.append(None if out.world.pending[-1].skipped else epoch)
        elif isinstance(inp, Decide):
            del asked_at[inp.ticket]
            after = out.world.gs.breaker
            opens = b.phase is not BreakerPhase.OPEN or after.open_until_ns != b.open_until_ns
            if after.phase is BreakerPhase.OPEN and opens and after.open_until_ns > 0:
                opened = (epoch, after.cooldown_ns)
            offset = _retry_offset(model, out)
            if offset is not None and offset > 0:
                settings.append((epoch, offset))
        world = canonical(model, out.world)
    return epoch + 1, fixed, some


def concretise(model: Model, trace: tuple[Input, ...], shows: Shows) -> tuple[Input, ...] | None:
    """``trace`` with real waits, replayed exactly through the same classes, its last input showing
    the violation (``shows``); None if no instants realise it."""
    nodes, fixed, some = _constraints(model, trace)
    base = [(k + 1, k, 0) for k in range(nodes - 1)]  # instants never go back
    for n, choice in enumerate(itertools.product(*some)):
        if n >= MAX_CHOICES:
            return None
        instants = _solve(nodes, base + fixed + list(choice))
        if instants is None:
            continue
        concrete = _replayed(model, trace, instants, shows)
        if concrete is not None:
            return concrete
    return None


def _replayed(
    model: Model, trace: tuple[Input, ...], instants: list[int], shows: Shows
) -> tuple[Input, ...] | None:
    """The trace with waits between ``instants``, if its exact replay keeps every clock in the
    abstract trace's class at every real step and its last input shows the violation."""
    abstract = canonical(model, World())
    world = World()
    concrete: list[Input] = []
    epoch = 0
    for n, inp in enumerate(trace):
        if isinstance(inp, Advance):
            abstract = advance(model, abstract, inp)
            delta = instants[epoch + 1] - instants[epoch]
            epoch += 1
            if delta:
                tick = Tick(delta, "to the next threshold")
                world = step(model, world, tick).world
                concrete.append(tick)
            continue
        if key(model, world) != key(model, abstract):
            return None
        concrete.append(inp)
        if n == len(trace) - 1:
            try:
                out: Outcome | Exception = step(model, world, inp)
            except Exception as exc:
                out = exc
            return tuple(concrete) if shows(world, inp, out) else None
        world = step(model, world, inp).world
        abstract = canonical(model, step(model, abstract, inp).world)
    return tuple(concrete)
