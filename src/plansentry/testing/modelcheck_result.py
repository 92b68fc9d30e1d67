"""What a model check found: counts, coverage of the transition table, counterexamples."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, final

from plansentry.core.fsm import TRANSITIONS, Event, State
from plansentry.testing.modelcheck_model import Input, Model

Pair = tuple[State, Event]

#: Every (state, event) pair, in the table or not.
ALL_PAIRS = tuple((s, e) for s in State for e in Event)


@final
@dataclass(frozen=True, slots=True)
class Counterexample:
    """An invariant broken, shown by ``trace``: concrete inputs from a fresh guard (t = 0, NOMINAL,
    breaker closed), the last one breaking it, which
    :func:`~plansentry.testing.modelcheck_model.replay` reproduces with the real code; ``labels``
    reads them. ``spurious``: no real timing realises the search's trace, so ``trace`` is the
    search's own (waits as clock classes) and the violation may not be real. For liveness,
    ``then`` is the healthy run that failed, from the search's world at the end of ``trace``."""

    invariant: str
    message: str
    trace: tuple[Input, ...]
    labels: tuple[str, ...]
    spurious: bool = False
    then: tuple[Input, ...] = ()

    def format(self) -> str:
        lines = [f"invariant {self.invariant!r} broken: {self.message}"]
        if self.spurious:
            lines.append("(no real timing realises this trace: it may be spurious)")
        lines.append("inputs from a fresh guard (NOMINAL, breaker closed, t = 0):")
        lines += [f"  {i + 1:3d}. {label}" for i, label in enumerate(self.labels)]
        if self.then:
            lines.append(f"  then a healthy run of {len(self.then)} inputs (see .then)")
        return "\n".join(lines)


@final
@dataclass(slots=True)
class CheckResult:
    """What :func:`~plansentry.testing.modelcheck.check` explored and found.

    ``states`` and ``transitions``: configurations visited and inputs applied (``transitions``
    counts every input tried, including those leading to a configuration already seen);
    ``depth``: levels of the breadth-first search completed; ``closed``: nothing new was left to
    explore (closure). ``counts``: violations per invariant (``counterexamples`` holds the first
    of each); ``coverage``: how often each (state, event) pair fired, self-loops included;
    ``missing``: pairs not in the table that some input fired (each raised ``KeyError``).
    """

    model: Model
    states: int = 0
    transitions: int = 0
    depth: int = 0
    closed: bool = False
    seconds: float = 0.0
    counterexamples: list[Counterexample] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    spurious: Counter[str] = field(default_factory=Counter)
    coverage: Counter[Pair] = field(default_factory=Counter)
    missing: set[Pair] = field(default_factory=set)
    liveness_bound: tuple[int, int] = (0, 0)
    liveness_worst: tuple[int, int] = (0, 0)

    @property
    def ok(self) -> bool:
        """No invariant broken (and nothing raised)."""
        return not self.counts

    def unreached(self) -> list[Pair]:
        """Pairs of the table the search never fired."""
        return [pair for pair in TRANSITIONS if not self.coverage[pair]]

    def summary(self) -> str:
        reach = "closure" if self.closed else f"depth {self.depth}, not closed"
        worst_d, worst_ns = self.liveness_worst
        bound_d, bound_ns = self.liveness_bound
        reached = len(TRANSITIONS) - len(self.unreached())
        lines = [
            f"{self.states:,} states, {self.transitions:,} transitions ({reach}), "
            f"{self.seconds:.1f} s",
            f"transition table: {reached}/{len(TRANSITIONS)} pairs reached; "
            f"{len(self.missing)} pairs outside it fired",
            f"liveness: worst {worst_d} decisions, {worst_ns / 1e9:.3f} s "
            f"(bound {bound_d} decisions, {bound_ns / 1e9:.3f} s)",
        ]
        if self.ok:
            lines.append("every invariant holds")
        for c in self.counterexamples:
            lines.append(f"{c.invariant}: {self.counts[c.invariant]:,} violations; the first:")
            lines.append(c.format())
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        def name(p: Pair) -> str:
            return f"{p[0].value} {p[1].value}"

        return {
            "states": self.states,
            "transitions": self.transitions,
            "depth": self.depth,
            "closed": self.closed,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "violations": {
                c.invariant: {
                    "count": self.counts[c.invariant],
                    "spurious_traces": self.spurious[c.invariant],
                    "message": c.message,
                    "spurious": c.spurious,
                    "trace": list(c.labels),
                }
                for c in self.counterexamples
            },
            "coverage": {name(p): self.coverage[p] for p in TRANSITIONS},
            "missing_pairs_fired": sorted(name(p) for p in self.missing),
            "liveness": {
                "bound_decisions": self.liveness_bound[0],
                "bound_s": self.liveness_bound[1] / 1e9,
                "worst_decisions": self.liveness_worst[0],
                "worst_s": self.liveness_worst[1] / 1e9,
            },
        }
