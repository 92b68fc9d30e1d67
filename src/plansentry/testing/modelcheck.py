"""An exhaustive, explicit-state check of the real decider and breaker (docs/VERIFICATION.md).

:func:`check` explores, breadth-first from a fresh guard, every configuration the real
:func:`~plansentry.core.decider.decide`, :func:`~plansentry.core.decider.ask` (with its probe
slots, and :func:`~plansentry.core.decider.release` for a cancelled request) and breaker reach
under an input alphabet that covers what a runtime can hand them (every arrival kind and verdict
class, late answers, fallbacks usable or not, stuck workers below and at the threshold,
several requests in flight, each asked or refused once when made), with time kept as the class of
every clock between the thresholds the code compares it with
(:mod:`~plansentry.testing.modelcheck_clocks`). Nothing is re-modelled: every step calls the core,
and every transition goes through the one table, :data:`~plansentry.core.fsm.TRANSITIONS`.

At every step it checks :data:`~plansentry.testing.modelcheck_invariants.INVARIANTS` and that
nothing raises; from every configuration, that a healthy run returns to NOMINAL within the bound of
:mod:`~plansentry.testing.modelcheck_liveness`. A violation comes with the shortest input sequence
from a fresh guard that shows it, with real waits (:mod:`~plansentry.testing.modelcheck_timing`),
which :func:`~plansentry.testing.modelcheck_model.replay` reproduces with the real code.

Usage::

    from plansentry.runtime.config import GuardConfig
    from plansentry.testing.modelcheck import check

    result = check(GuardConfig(recover_after=2), in_flight=2, max_depth=12)
    print(result.summary())
    for c in result.counterexamples:
        print(c.format())

Pure Python and single-threaded; the time it takes grows with the breaker's window (every window
content is a distinct configuration) and the requests in flight: keep windows small to reach
closure (``plansentry.testing.modelcheck_presets``, ``bench/modelcheck.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Final, final

from plansentry.runtime.config import GuardConfig
from plansentry.runtime.virtual import DEFAULT_SWITCH_INTERVAL_S
from plansentry.testing.modelcheck_clocks import advance, advances, canonical, key
from plansentry.testing.modelcheck_invariants import INVARIANTS, Invariant
from plansentry.testing.modelcheck_liveness import bound, run_from
from plansentry.testing.modelcheck_model import (
    Advance,
    Input,
    Model,
    Outcome,
    World,
    decisions,
    step,
)
from plansentry.testing.modelcheck_result import ALL_PAIRS, CheckResult, Counterexample
from plansentry.testing.modelcheck_timing import Shows, concretise

__all__ = ["CheckResult", "Counterexample", "check", "labels"]

#: Violations of one invariant tried for a real timing before its first is kept as spurious.
ATTEMPTS: Final = 100


def check(
    config: GuardConfig | None = None,
    *,
    in_flight: int = 2,
    max_depth: int | None = None,
    max_states: int | None = None,
    switch_interval_s: float = DEFAULT_SWITCH_INTERVAL_S,
    decision_period_ms: float = 1000.0,
    invariants: Sequence[Invariant] = INVARIANTS,
    liveness: bool = True,
    progress: Callable[[CheckResult, int], None] | None = None,
) -> CheckResult:
    """Explore every configuration reachable from a fresh guard under ``config``.

    ``in_flight``: requests out at once (robots asking ahead). ``max_depth``: stop after this many
    inputs from the start (``None``: to closure); ``max_states``: stop once this many
    configurations are known. ``switch_interval_s``: the GIL switch interval the runtime's wake-up
    accounts for. ``decision_period_ms``: the healthy run's time between decision points.
    ``progress``: called after each level with the result so far and the next level's size.
    """
    model = Model.of(
        config if config is not None else GuardConfig(),
        in_flight=in_flight,
        switch_interval_s=switch_interval_s,
        decision_period_ms=decision_period_ms,
    )
    search = _Search(model, tuple(invariants), liveness)
    return search.run(max_depth, max_states, progress)


def abstract_step(model: Model, world: World, inp: Input) -> Outcome:
    """One step of the search: a wait moves one clock to its next class; anything else runs the
    real code (:func:`~plansentry.testing.modelcheck_model.step`) on the canonical world."""
    if isinstance(inp, Advance):
        return Outcome(advance(model, world, inp))
    return step(model, world, inp)


def labels(model: Model, trace: Sequence[Input], *, concrete: bool = True) -> tuple[str, ...]:
    """Readable lines for ``trace`` from a fresh guard (``concrete``: with exact times; else a
    trace of the search, with waits as clock classes)."""
    out = []
    world = World() if concrete else canonical(model, World())
    for inp in trace:
        try:
            nxt = (step if concrete else abstract_step)(model, world, inp)
        except Exception as exc:
            out.append(f"{type(inp).__name__}: raises {type(exc).__name__}: {exc}")
            break
        when = f"t={world.now_ns / 1e9:.9f} s  " if concrete else ""
        out.append(when + inp.label(world, nxt.world))
        world = nxt.world if concrete else canonical(model, nxt.world)
    return tuple(out)


@final
class _Search:
    def __init__(self, model: Model, invariants: tuple[Invariant, ...], liveness: bool) -> None:
        self.model = model
        self.invariants = invariants
        self.liveness = liveness
        self.result = CheckResult(model, liveness_bound=bound(model, model.in_flight))
        self.parent: dict[Any, tuple[Any, Input | None]] = {}
        self.attempts: dict[str, int] = {}

    def run(
        self,
        max_depth: int | None,
        max_states: int | None,
        progress: Callable[[CheckResult, int], None] | None,
    ) -> CheckResult:
        model, result = self.model, self.result
        t0 = time.perf_counter()
        start = canonical(model, World())
        k0 = key(model, start)
        self.parent[k0] = (None, None)
        frontier = [(k0, start)]
        while frontier and (max_depth is None or result.depth < max_depth):
            if max_states is not None and len(self.parent) >= max_states:
                break
            nxt: list[tuple[Any, World]] = []
            for k, world in frontier:
                result.states += 1
                if self.liveness:
                    self._live(k, world)
                nxt += self._expand(k, world)
            frontier = nxt
            result.depth += 1
            if progress is not None:
                result.seconds = time.perf_counter() - t0
                progress(result, len(frontier))
        result.closed = not frontier
        result.seconds = time.perf_counter() - t0
        return result

    def _expand(self, k: Any, world: World) -> list[tuple[Any, World]]:
        model, result, parent = self.model, self.result, self.parent
        new = []
        for inp in (*decisions(model, world), *advances(model, world)):
            result.transitions += 1
            try:
                out = abstract_step(model, world, inp)
            except Exception as exc:
                if isinstance(exc, KeyError) and exc.args and exc.args[0] in ALL_PAIRS:
                    result.missing.add(exc.args[0])
                self._broken("no_exception", f"{type(exc).__name__}: {exc}", k, inp, _raises)
                continue
            for t in out.fired:
                result.coverage[(t.source, t.event)] += 1
            if not isinstance(inp, Advance):
                for inv in self.invariants:
                    msg = inv.check(model, world, inp, out)
                    if msg is not None:
                        self._broken(inv.name, msg, k, inp, _breaks(model, inv))
            k2 = key(model, out.world)
            if k2 not in parent:
                parent[k2] = (k, inp)
                new.append((k2, canonical(model, out.world)))
        return new

    def _path(self, k: Any) -> tuple[Input, ...]:
        out: list[Input] = []
        while True:
            prev, inp = self.parent[k]
            if inp is None:
                return tuple(reversed(out))
            out.append(inp)
            k = prev

    def _broken(
        self,
        name: str,
        message: str,
        k: Any,
        last: Input | None,
        shows: Shows,
        then: tuple[Input, ...] = (),
    ) -> None:
        """Count a violation; keep the first with a real timing (or, failing that, the first)."""
        result = self.result
        result.counts[name] += 1
        tried = self.attempts.get(name, 0)
        kept = next((c for c in result.counterexamples if c.invariant == name), None)
        if tried >= ATTEMPTS or (kept is not None and not kept.spurious):
            return
        self.attempts[name] = tried + 1
        trace = self._path(k) + ((last,) if last is not None else ())
        concrete = concretise(self.model, trace, shows)
        if concrete is not None:
            found = Counterexample(name, message, concrete, labels(self.model, concrete), then=then)
        else:
            result.spurious[name] += 1
            if kept is not None:
                return
            found = Counterexample(
                name, message, trace, labels(self.model, trace, concrete=False), True, then
            )
        if kept is not None:
            result.counterexamples.remove(kept)
        result.counterexamples.append(found)

    def _live(self, k: Any, world: World) -> None:
        model, result = self.model, self.result
        limit_d, limit_ns = bound(model, len(world.pending))
        try:
            run = run_from(model, world)
        except Exception as exc:
            why = f"the healthy run raises {type(exc).__name__}: {exc}"
            self._broken("liveness", why, k, None, _reached)
            return
        if not run.nominal or run.decisions > limit_d or run.elapsed_ns > limit_ns:
            where = "reached" if run.nominal else "not at"
            why = (
                f"{where} NOMINAL after {run.decisions} decisions, "
                f"{run.elapsed_ns / 1e9:.3f} s (bound {limit_d}, {limit_ns / 1e9:.3f} s)"
            )
            self._broken("liveness", why, k, None, _reached, run.inputs)
        result.liveness_worst = max(result.liveness_worst, (run.decisions, run.elapsed_ns))


def _raises(world: World, inp: Input, out: Outcome | Exception) -> bool:
    return isinstance(out, Exception)


def _reached(world: World, inp: Input, out: Outcome | Exception) -> bool:
    return not isinstance(out, Exception)


def _breaks(model: Model, inv: Invariant) -> Shows:
    def shows(world: World, inp: Input, out: Outcome | Exception) -> bool:
        return not isinstance(out, Exception) and inv.check(model, world, inp, out) is not None

    return shows
