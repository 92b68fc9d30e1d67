"""The invariants the model check holds the real decider and breaker to, at every step it explores.

Each is a function of one step (the world before, the input, the outcome) that returns ``None`` or
what went wrong; the search prints the input sequence that led there. "No reachable input raises"
is the search's own (any exception a step raises), and liveness is
:mod:`plansentry.testing.modelcheck_liveness`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, final

from plansentry.core.breaker import BreakerPhase
from plansentry.core.decision import SOURCE_LLM, SOURCE_REPAIRED, SOURCE_SAFE_MOVE, ArrivalKind
from plansentry.core.decision import SafeMove as _SafeMove
from plansentry.core.fsm import TRANSITIONS, State
from plansentry.testing.modelcheck_model import (
    MODEL_PLAN,
    Ask,
    Decide,
    Input,
    Model,
    Outcome,
    World,
)

#: The breaker phases each state promises (docs/ARCHITECTURE.md, "State machine").
PHASES: Final = {
    State.NOMINAL: frozenset({BreakerPhase.CLOSED}),
    State.DEGRADED: frozenset({BreakerPhase.CLOSED}),
    State.BYPASS: frozenset({BreakerPhase.OPEN}),
    State.PROBING: frozenset({BreakerPhase.HALF_OPEN}),
    State.SAFE_HOLD: frozenset({BreakerPhase.CLOSED, BreakerPhase.OPEN}),
}

Check = Callable[[Model, World, Input, Outcome], "str | None"]


@final
@dataclass(frozen=True, slots=True)
class Invariant:
    name: str
    summary: str
    check: Check


def _one_plan(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    d, x = out.decision, out.inp
    if d is None or x is None:
        return None
    usable = next((f for f in x.fallbacks if f.usable), None)
    if d.source in (SOURCE_LLM, SOURCE_REPAIRED):
        ok = d.plan == MODEL_PLAN
    elif d.source == SOURCE_SAFE_MOVE:
        ok = isinstance(d.plan, _SafeMove)
    else:
        ok = usable is not None and d.source == usable.name and d.plan == usable.plan
    if not ok:
        return f"source {d.source!r} with plan {d.plan!r}"
    return None


def _model_plan_earned(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    d, x = out.decision, out.inp
    if d is None or x is None or not d.accepted:
        return None
    a = x.arrival
    cutoff = x.deadline_ns - model.reserve_ns
    if not d.consulted or d.shadow:
        return f"model plan used with consulted={d.consulted}, shadow={d.shadow}"
    if a.kind is not ArrivalKind.OUTPUT or a.at_ns is None or a.at_ns > cutoff:
        return f"model plan used for a {a.kind.value} arriving at {a.at_ns} (cut-off {cutoff})"
    if x.verdict is None or not x.verdict.ok:
        return "model plan used without a passing verdict"
    return None


def _passing_plan_used(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    d, x = out.decision, out.inp
    if d is None or x is None or x.verdict is None or not x.verdict.ok:
        return None
    if d.consulted and not d.shadow and not d.accepted:
        return f"a passing, in-time answer outside shadow was not used (source {d.source!r})"
    return None


def _safe_hold(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    d, x = out.decision, out.inp
    if d is None or x is None:
        return None
    holds = isinstance(d.plan, _SafeMove)
    if (out.world.gs.state is State.SAFE_HOLD) != holds:
        return f"state {out.world.gs.state.value} with plan {d.plan!r}"
    if holds and any(f.usable for f in x.fallbacks):
        return "safe move chosen with a usable fallback"
    return None


def _record(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    d = out.decision
    if d is None:
        return None
    for t in out.fired:
        if TRANSITIONS.get((t.source, t.event)) is not t.target:
            return f"transition {t.source.value} --{t.event.value}--> {t.target.value} not in table"
    if d.state_before is not before.gs.state or d.state_after is not out.world.gs.state:
        return f"record says {d.state_before.value} -> {d.state_after.value}"
    changes = tuple(t for t in out.fired if t.source is not t.target)
    if d.transitions != changes:
        return "the record's transitions are not the changes of state fired"
    return None


def _phase(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    gs = out.world.gs
    if gs.breaker.phase not in PHASES[gs.state]:
        return f"state {gs.state.value} with the breaker {gs.breaker.phase.value}"
    return None


def _cooldown_cap(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    b, now = out.world.gs.breaker, out.world.now_ns
    cap = model.max_cooldown_ns
    if b.cooldown_ns > cap:
        return f"cool-down {b.cooldown_ns} ns > cap {cap} ns"
    if b.phase is BreakerPhase.OPEN and b.open_until_ns - now > cap:
        return f"open for {b.open_until_ns - now} ns more > cap {cap} ns"
    return None


def _probe_decisions(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    b = out.world.gs.breaker
    if b.phase is BreakerPhase.HALF_OPEN and b.probes_ok >= model.decider.breaker.probes:
        return (
            f"{b.probes_ok} probes passed, still half-open (probes={model.decider.breaker.probes})"
        )
    return None


def _probe_asks(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    bound = model.decider.breaker.probes
    if isinstance(inp, Ask) and out.world.probe_asks > bound:
        return (
            f"{out.world.probe_asks} model calls out or judged as probes since the breaker "
            f"opened (probes={bound})"
        )
    return None


def _probe_slots(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    held = sum(1 for t in out.world.pending if t.probe_slot)
    if out.world.gs.breaker.probes_out != held:
        return f"the breaker counts {out.world.gs.breaker.probes_out} probe slots out, {held} held"
    return None


def _cooldown(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    if not isinstance(inp, Ask) or out.world.pending[-1].skipped:
        return None
    b, now = before.gs.breaker, before.now_ns
    if b.phase is BreakerPhase.OPEN and now < b.open_until_ns:
        return f"model asked {b.open_until_ns - now} ns before the cool-down ends"
    if before.gs.state is State.SAFE_HOLD and b.phase is not BreakerPhase.CLOSED:
        return "model asked in SAFE_HOLD with the breaker not closed"
    return None


def _retry_after(model: Model, before: World, inp: Input, out: Outcome) -> str | None:
    nb, now = before.gs.not_before_ns, before.now_ns
    if isinstance(inp, Ask) and not out.world.pending[-1].skipped and nb is not None and now < nb:
        return f"model asked {nb - now} ns before its server's Retry-After"
    after = out.world.gs.not_before_ns
    if not isinstance(inp, Decide) or out.inp is None or after is None or after == nb:
        return None
    late = after - out.inp.decided_ns
    if late > model.max_cooldown_ns:
        return f"Retry-After set {late} ns past the decision (cap {model.max_cooldown_ns} ns)"
    return None


INVARIANTS: Final = (
    Invariant(
        "one_plan",
        "a decision carries exactly one plan: the model's, the first usable "
        "fallback's, or the safe move",
        _one_plan,
    ),
    Invariant(
        "model_plan_earned",
        "the model's plan only when consulted, outside shadow, with a "
        "passing verdict on output that arrived by the cut-off",
        _model_plan_earned,
    ),
    Invariant(
        "passing_plan_used",
        "a consulted, non-shadow, in-time passing answer is used",
        _passing_plan_used,
    ),
    Invariant(
        "safe_hold",
        "SAFE_HOLD exactly when the safe move is chosen, and only when no "
        "fallback had a usable plan",
        _safe_hold,
    ),
    Invariant(
        "record",
        "every transition fired is in the table; the record's states and "
        "transitions are the ones taken",
        _record,
    ),
    Invariant(
        "state_matches_breaker",
        "NOMINAL and DEGRADED with the breaker closed, BYPASS open, "
        "PROBING half-open, SAFE_HOLD closed or open",
        _phase,
    ),
    Invariant(
        "cooldown_cap",
        "the cool-down, and the time left open, never exceed max_cooldown_s",
        _cooldown_cap,
    ),
    Invariant(
        "probe_decisions", "at most `probes` probe decisions per half-open period", _probe_decisions
    ),
    Invariant(
        "probe_asks",
        "at most `probes` model calls out or judged as probes between the breaker "
        "opening and closing or reopening (a call given up unjudged gives its slot back)",
        _probe_asks,
    ),
    Invariant(
        "probe_slots",
        "the probe slots the breaker counts out are the requests in flight that hold one",
        _probe_slots,
    ),
    Invariant(
        "cooldown",
        "the model is never asked while the breaker is open before its "
        "cool-down ends (nor in SAFE_HOLD with the breaker not closed)",
        _cooldown,
    ),
    Invariant(
        "retry_after",
        "the model is never asked before not_before_ns; not_before_ns is "
        "never set further than max_cooldown_s past the decision that sets it",
        _retry_after,
    ),
)
