"""The decision module: one pure function from (state, measured input) to (decision, next state).

Reading order for one decision:

1. :func:`ask`, when the runtime is about to ask, says whether the model may be asked and returns
   the next state: a call let through while the breaker is not closed takes one of its probe slots.
2. The runtime asks (or not), computes the fallbacks, waits until the cut-off, runs the gate.
3. :func:`decide` judges arrival time, picks the first usable plan (model, then each fallback, then
   the safe move), feeds the outcome to the breaker and the state machine, gives back the request's
   probe slot, and returns the record. A request given up without a decision gives its slot back
   with :func:`release`.

The cut-off is ``deadline_ns - reserve_ns``: output arriving later is a ``timeout`` even if it is
good, so the time left after the cut-off always covers the gate and the hand-over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar, final

from mypy_extensions import mypyc_attr

from plansentry.core import breaker as brk
from plansentry.core.breaker import BreakerConfig, BreakerPhase, BreakerState
from plansentry.core.decision import (
    SOURCE_LLM,
    SOURCE_REPAIRED,
    SOURCE_SAFE_MOVE,
    Arrival,
    ArrivalKind,
    Decision,
    DecisionInput,
    FallbackOutcome,
    SafeMove,
)
from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode, Violation
from plansentry.core.fsm import Event, State, Transition, next_state
from plansentry.core.gate import Verdict

PlanT = TypeVar("PlanT")


@final
@mypyc_attr(native_class=False)  # a setting: checked in Python, whatever types it is given
@dataclass(frozen=True, slots=True, kw_only=True)
class DeciderConfig:
    """Policy of the decider.

    ``recover_after``: good decisions in a row that bring DEGRADED back to NOMINAL (hysteresis).
    ``reserve_ns``: time kept back before the deadline for the gate and hand-over.
    ``max_stuck_workers``: abandoned planner calls still running that force the breaker open.
    ``safe_action``: the name of the domain's terminal safe action (the :class:`SafeMove`'s).
    """

    recover_after: int = 5
    reserve_ns: int = 5_000_000
    max_stuck_workers: int = 4
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    safe_action: str = "hold"

    def __post_init__(self) -> None:
        for name in ("recover_after", "max_stuck_workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.reserve_ns, bool) or not isinstance(self.reserve_ns, int):
            raise ConfigError(f"reserve_ns must be an integer, got {self.reserve_ns!r}")
        if self.reserve_ns < 0:
            raise ConfigError(f"reserve_ns must be >= 0, got {self.reserve_ns!r}")


@final
@dataclass(frozen=True, init=False)
class GuardState:
    """The decider's whole memory: state-machine state, breaker, the good-decision streak, and the
    instant before which the model's server asked not to be called again (``not_before_ns``)."""

    state: State
    breaker: BreakerState
    good_streak: int
    not_before_ns: int | None

    def __init__(
        self,
        state: State = State.NOMINAL,
        breaker: BreakerState | None = None,
        good_streak: int = 0,
        not_before_ns: int | None = None,
    ) -> None:
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "breaker", _CLOSED if breaker is None else breaker)
        object.__setattr__(self, "good_streak", good_streak)
        object.__setattr__(self, "not_before_ns", not_before_ns)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (GuardState, (self.state, self.breaker, self.good_streak, self.not_before_ns))


#: A new breaker: every ``GuardState()`` starts from it (frozen, so one is enough).
_CLOSED = BreakerState()


@final
@dataclass(frozen=True, init=False)
class Asked:
    """What :func:`ask` decided. ``skipped``: why the model is not asked (empty: it is asked).
    ``probe_slot``: the call holds one of the breaker's probe slots, given back by its decision
    (``DecisionInput.probe_slot``) or, if it is given up undecided, by :func:`release`."""

    skipped: str
    probe_slot: bool

    def __init__(self, skipped: str = "", probe_slot: bool = False) -> None:
        object.__setattr__(self, "skipped", skipped)
        object.__setattr__(self, "probe_slot", probe_slot)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (Asked, (self.skipped, self.probe_slot))


_ASK = Asked()


def ask(cfg: DeciderConfig, state: GuardState, now_ns: int) -> tuple[Asked, GuardState]:
    """Whether the model may be asked now, and the state to store if it is.

    The model may be asked when :func:`skip_reason` has nothing against it and, with the breaker
    not closed (its cool-down over, or half-open), a probe slot is free: the probes passed in this
    period and the probe calls out are fewer than ``probes``. Such a call takes a slot in the
    returned state. The caller must store that state before anyone else asks or decides (the
    guard does it under its lock), or the slot is lost and more than ``probes`` calls go through.
    """
    reason = skip_reason(state, now_ns) or _probes_taken(cfg, state)
    if reason:
        return Asked(reason), state
    if state.breaker.phase is BreakerPhase.CLOSED:
        return _ASK, state
    taken = brk.take_probe(state.breaker)
    return Asked(probe_slot=True), GuardState(
        state.state, taken, state.good_streak, state.not_before_ns
    )


def release(state: GuardState) -> GuardState:
    """``state`` with one probe slot given back: a request that took one (:attr:`Asked.probe_slot`)
    was given up without a decision (the runtime cancelled it and nobody will decide it)."""
    given = brk.give_back_probe(state.breaker)
    return GuardState(state.state, given, state.good_streak, state.not_before_ns)


def consult(state: GuardState, now_ns: int, cfg: DeciderConfig | None = None) -> bool:
    """Whether the model may be asked now (a read: it takes no probe slot; :func:`ask` does)."""
    return not skip_reason(state, now_ns, cfg)


def _probes_taken(cfg: DeciderConfig, state: GuardState) -> str:
    b = state.breaker
    if b.phase is BreakerPhase.CLOSED or brk.probe_slot_free(cfg.breaker, b):
        return ""
    return (
        f"probing: {b.probes_out} probe calls out and {b.probes_ok} passed of {cfg.breaker.probes}"
    )


def skip_reason(state: GuardState, now_ns: int, cfg: DeciderConfig | None = None) -> str:
    """Why the model may not be asked now (empty if it may): what a ``not_asked`` decision records.

    A read: it takes no probe slot, so a runtime asking the model must use :func:`ask`. Without
    ``cfg`` it does not know ``probes`` and does not say when the probe slots are all taken.
    """
    if state.not_before_ns is not None and now_ns < state.not_before_ns:
        wait_s = (state.not_before_ns - now_ns) / 1e9
        return f"retry-after: the model's server asked to wait {wait_s:.3f} s more"
    phase = state.breaker.phase
    if state.state is State.SAFE_HOLD and phase is not BreakerPhase.CLOSED:
        return "safe hold with the breaker not closed"
    if phase is BreakerPhase.OPEN and not brk.cooldown_elapsed(state.breaker, now_ns):
        wait_s = (state.breaker.open_until_ns - now_ns) / 1e9
        return f"breaker open: cool-down ends in {wait_s:.3f} s"
    return "" if cfg is None else _probes_taken(cfg, state)


@final
class _Step:
    """Accumulates transitions while one decision is worked out."""

    def __init__(self, gs: GuardState, traced: bool) -> None:
        self.gs = gs
        self.traced = traced
        self.transitions: list[Transition] = []

    def go(
        self,
        event: Event,
        reason: str,
        *,
        breaker: BreakerState | None = None,
        good_streak: int | None = None,
    ) -> None:
        gs = self.gs
        target = next_state(gs.state, event)
        if self.traced or target is not gs.state:  # a decision records changes of state only
            self.transitions.append(Transition(gs.state, target, event, reason))
        self.gs = GuardState(
            target,
            gs.breaker if breaker is None else breaker,
            gs.good_streak if good_streak is None else good_streak,
            gs.not_before_ns,
        )


def _judge_model(
    seq: int, arrival: Arrival, verdict: Verdict[PlanT] | None, cutoff_ns: int
) -> tuple[FailureMode | None, tuple[Violation, ...], PlanT | None, tuple[str, ...]]:
    late = arrival.at_ns is not None and arrival.at_ns > cutoff_ns
    if arrival.kind is ArrivalKind.TIMEOUT or (arrival.kind is ArrivalKind.OUTPUT and late):
        detail = arrival.detail or "no output by the cut-off"
        return FailureMode.TIMEOUT, (Violation("cutoff", FailureMode.TIMEOUT, detail),), None, ()
    if arrival.kind is ArrivalKind.TRANSPORT:
        violation = Violation("transport", FailureMode.TRANSPORT, arrival.detail or "call failed")
        return FailureMode.TRANSPORT, (violation,), None, ()
    if verdict is None:
        raise ValueError(f"decision {seq}: output arrived in time but no gate verdict was given")
    return verdict.mode, verdict.violations, verdict.plan, verdict.repairs


def _account_model(
    cfg: DeciderConfig, step: _Step, now_ns: int, failed: bool, slow: bool, why: str
) -> None:
    gs = step.gs
    was = gs.breaker.phase
    breaker, opened = brk.record(cfg.breaker, gs.breaker, now_ns, failed=failed, slow=slow)
    streak = 0 if failed else gs.good_streak + 1
    if was is BreakerPhase.HALF_OPEN:
        if failed:
            step.go(Event.PROBE_FAILED, why, breaker=breaker, good_streak=0)
        elif breaker.phase is BreakerPhase.CLOSED:
            step.go(
                Event.PROBES_PASSED,
                f"{cfg.breaker.probes} probes passed",
                breaker=breaker,
                good_streak=0,
            )
        else:
            step.go(Event.PROBE_OK, "probe passed", breaker=breaker, good_streak=streak)
    elif opened is not None:
        step.go(Event.BREAKER_OPENED, opened, breaker=breaker, good_streak=0)
    elif failed:
        step.go(Event.MODEL_FAILED, why, breaker=breaker, good_streak=0)
    elif gs.state is State.DEGRADED and streak >= cfg.recover_after:
        step.go(
            Event.RECOVERED,
            f"{streak} good decisions in a row",
            breaker=breaker,
            good_streak=streak,
        )
    else:
        step.go(Event.MODEL_OK, "plan accepted", breaker=breaker, good_streak=streak)


def _hold_off(cfg: DeciderConfig, step: _Step, arrival: Arrival, decided_ns: int) -> None:
    """A failed call whose server said when to ask again: no model call before then (at most the
    breaker's longest cool-down away, whatever the server says)."""
    until = arrival.retry_after_ns
    if until is None or arrival.kind is not ArrivalKind.TRANSPORT:
        return
    cap = decided_ns + int(cfg.breaker.max_cooldown_s * 1_000_000_000)
    until = min(until, cap)
    gs = step.gs
    if gs.not_before_ns is None or until > gs.not_before_ns:
        step.gs = GuardState(gs.state, gs.breaker, gs.good_streak, until)


def _why(mode: FailureMode | None, violations: tuple[Violation, ...]) -> str:
    if mode is None:
        return "plan accepted"
    return f"{mode.value}: {violations[0].detail}" if violations else mode.value


def decide(
    cfg: DeciderConfig, state: GuardState, inp: DecisionInput[PlanT]
) -> tuple[Decision[PlanT], GuardState]:
    """Choose the plan for one decision point and advance the state machine.

    Never raises for any gate verdict or arrival; raises :class:`ValueError` only for an input that
    breaks the runtime's contract (an in-time output with no verdict).
    """
    decision, nxt, _ = _decide(cfg, state, *_fields(inp), False)
    return decision, nxt


def decide_traced(
    cfg: DeciderConfig, state: GuardState, inp: DecisionInput[PlanT]
) -> tuple[Decision[PlanT], GuardState, tuple[Transition, ...]]:
    """:func:`decide`, also returning every transition fired, self-loops included (the decision
    records only the changes of state): what a model check needs to say which (state, event) pairs
    of the table it reached."""
    return _decide(cfg, state, *_fields(inp), True)


def decide_with(
    cfg: DeciderConfig,
    state: GuardState,
    seq: int,
    request_id: str,
    asked_ns: int | None,
    deadline_ns: int,
    decided_ns: int,
    arrival: Arrival,
    verdict: Verdict[PlanT] | None,
    gate_ns: int,
    fallbacks: tuple[FallbackOutcome[PlanT], ...],
    stuck_workers: int = 0,
    probe_slot: bool = False,
) -> tuple[Decision[PlanT], GuardState]:
    """:func:`decide` on the fields of a :class:`DecisionInput`, in its order, without building
    one: what the guard calls for every decision."""
    decision, nxt, _ = _decide(
        cfg,
        state,
        seq,
        request_id,
        asked_ns,
        deadline_ns,
        decided_ns,
        arrival,
        verdict,
        gate_ns,
        fallbacks,
        stuck_workers,
        probe_slot,
        False,
    )
    return decision, nxt


def _fields(
    inp: DecisionInput[PlanT],
) -> tuple[
    int,
    str,
    int | None,
    int,
    int,
    Arrival,
    Verdict[PlanT] | None,
    int,
    tuple[FallbackOutcome[PlanT], ...],
    int,
    bool,
]:
    return (
        inp.seq,
        inp.request_id,
        inp.asked_ns,
        inp.deadline_ns,
        inp.decided_ns,
        inp.arrival,
        inp.verdict,
        inp.gate_ns,
        inp.fallbacks,
        inp.stuck_workers,
        inp.probe_slot,
    )


def _decide(
    cfg: DeciderConfig,
    state: GuardState,
    seq: int,
    request_id: str,
    asked_ns: int | None,
    deadline_ns: int,
    decided_ns: int,
    arrival: Arrival,
    verdict: Verdict[PlanT] | None,
    gate_ns: int,
    fallbacks: tuple[FallbackOutcome[PlanT], ...],
    stuck_workers: int,
    probe_slot: bool,
    traced: bool,
) -> tuple[Decision[PlanT], GuardState, tuple[Transition, ...]]:
    step = _Step(release(state) if probe_slot else state, traced)
    now = decided_ns
    cutoff_ns = deadline_ns - cfg.reserve_ns
    consulted = arrival.kind is not ArrivalKind.NOT_ASKED
    mode: FailureMode | None = None
    violations: tuple[Violation, ...] = ()
    repairs: tuple[str, ...] = ()
    plan: PlanT | None = None
    source = SOURCE_SAFE_MOVE

    shadow = False
    if consulted:
        _hold_off(cfg, step, arrival, decided_ns)
        judged = _judge_model(seq, arrival, verdict, cutoff_ns)
        mode, violations, plan, repairs = judged
        gs = step.gs
        if gs.state is State.BYPASS and brk.cooldown_elapsed(gs.breaker, now):
            step.go(
                Event.COOLDOWN_ELAPSED,
                "cool-down over: probing the model",
                breaker=brk.start_probing(gs.breaker),
            )
        elif gs.breaker.phase is BreakerPhase.OPEN:
            # Asked before the breaker opened: judged for the record, never used (shadow).
            shadow = True
        if shadow:
            plan = None
        else:
            if plan is not None:
                source = SOURCE_REPAIRED if repairs else SOURCE_LLM
            arrived = arrival.at_ns if arrival.at_ns is not None else cutoff_ns
            asked = asked_ns if asked_ns is not None else arrived
            slow = (arrived - asked) > cfg.breaker.slow_call_ms * 1e6
            _account_model(cfg, step, now, mode is not None, slow, _why(mode, violations))

    if stuck_workers >= cfg.max_stuck_workers and step.gs.breaker.phase is not BreakerPhase.OPEN:
        opened = brk.force_open(cfg.breaker, step.gs.breaker, now)
        reason = f"{stuck_workers} stuck planner workers"
        if step.gs.state in (State.NOMINAL, State.DEGRADED, State.PROBING, State.SAFE_HOLD):
            step.go(Event.BREAKER_OPENED, reason, breaker=opened, good_streak=0)

    if plan is None:
        for fallback in fallbacks:
            if fallback.usable:
                plan, source = fallback.plan, fallback.name
                break

    chosen: PlanT | SafeMove
    if plan is None:
        chain = "; ".join(f"{f.name}: {f.detail or 'no plan'}" for f in fallbacks)
        chosen = SafeMove(chain or "no fallbacks", cfg.safe_action)
        breaker = step.gs.breaker
        if breaker.phase is BreakerPhase.HALF_OPEN:
            # Probing (the model not consulted this time) and no plan: SAFE_HOLD holds a closed or
            # an open breaker, never a half-open one, which no event of the table could leave.
            breaker = brk.stop_probing(breaker)
        step.go(Event.NO_VALID_PLAN, f"safe move ({chosen.reason})", breaker=breaker)
    else:
        chosen = plan
        if step.gs.state is State.SAFE_HOLD:
            trusted = step.gs.breaker.phase is BreakerPhase.CLOSED
            event = Event.RESTORED_TRUSTED if trusted else Event.RESTORED_UNTRUSTED
            step.go(event, f"valid plan from {source}")

    fired = tuple(step.transitions)
    decision = Decision(
        seq,
        request_id,
        source,
        chosen,
        mode,
        violations,
        repairs,
        asked_ns,
        arrival.at_ns,
        cutoff_ns,
        deadline_ns,
        decided_ns,
        gate_ns,
        state.state,
        step.gs.state,
        tuple(t for t in fired if t.source is not t.target) if traced else fired,
        consulted,
        shadow,
        "" if consulted else (arrival.detail or "not asked"),
    )
    return decision, step.gs, fired
