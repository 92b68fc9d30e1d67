"""The guard: the stateful facade over the pure core that both runtimes drive.

It owns the gate, the fallback chain, the decider's state and the hooks (audit log, metrics). A
runtime calls, per decision point:

1. :meth:`Guard.ask` when it is about to ask the model: it says whether the model may be asked and,
   while the breaker is not closed, takes one of its probe slots (:class:`Asked`), which the
   decision gives back (``finish(probe_slot=...)``), or :meth:`Guard.release` if the request is
   given up undecided;
2. :meth:`Guard.run_fallbacks` before it waits (the fallbacks are cheap and deterministic, so they are
   ready whatever the model does);
3. :meth:`Guard.finish` with what arrived: the gate runs if the output came by the cut-off, the
   decider chooses, the hooks see the record, and the decision is returned;
4. :meth:`Guard.late_answer`, if an answer comes after its decision was taken: the hooks that
   record late answers (the audit log) see it, so a log knows the latency of a call it stopped.

Thread-safety: ``ask``, ``release``, ``finish`` and ``reset`` serialise on one lock, held only for
the gate and the decider (microseconds), never across a model call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar, final

from plansentry.core.decider import (
    Asked,
    GuardState,
    ask,
    consult,
    decide_with,
    release,
    skip_reason,
)
from plansentry.core.decision import Arrival, ArrivalKind, Decision, FallbackOutcome
from plansentry.core.failures import FailureMode
from plansentry.core.gate import Domain, Gate, Verdict
from plansentry.runtime.config import GuardConfig

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")
_CtxContra = TypeVar("_CtxContra", contravariant=True)

log = logging.getLogger("plansentry.guard")


class VersionedDomain(Domain[PlanT, _CtxContra], Protocol[PlanT, _CtxContra]):
    """A domain that can also name the version of a context (what a fresh answer was asked with)."""

    def version(self, ctx: _CtxContra) -> str: ...


class Fallback(Protocol[PlanT, _CtxContra]):
    """A deterministic planner behind the model. ``plan`` must not raise (a raise is caught and
    counted as no plan) and must finish within ``wcet_ms``, its declared worst-case time, which the
    guard reserves from every budget. Its plan is checked against the domain's rules like the
    model's (only the safety rules when the outcome ``abandons_task``)."""

    @property
    def name(self) -> str: ...

    @property
    def wcet_ms(self) -> float: ...

    def plan(self, ctx: _CtxContra) -> FallbackOutcome[PlanT]: ...


@final
@dataclass(frozen=True, slots=True)
class DecisionEvent(Generic[PlanT, CtxT]):
    """What the hooks see after each decision: the record and the inputs needed to replay it."""

    decision: Decision[PlanT]
    ctx: CtxT
    arrival: Arrival
    stuck_workers: int


class DecisionHook(Protocol):
    """Subscribers to decisions (the audit log, metrics). Called under the guard's lock: be quick."""

    def on_decision(self, event: DecisionEvent[Any, Any]) -> None: ...

    def on_reset(self, seq: int, reason: str) -> None: ...


@final
@dataclass(frozen=True, slots=True)
class LateAnswer:
    """An answer that came after its decision was taken: what a log needs to know the latency of
    a call the guard stopped waiting for.

    ``how``: ``"returned"``, an abandoned call came back on its own (``arrival.at_ns`` is when);
    ``"rerun"``, the decision's prompt was run again to completion after the fact, one call at a
    time, and ``arrival.at_ns`` is an estimate: the instant the call got the model (or, if it never
    did, the instant it was stopped or would have been asked) plus ``generation_ns``, the measured
    full generation. ``asked_ns``: when the model was (or would have been) asked.
    """

    request_id: str
    arrival: Arrival
    asked_ns: int | None = None
    how: str = "returned"
    generation_ns: int | None = None


class LateAnswerHook(Protocol):
    """A hook that also records late answers (the audit log); others need not implement it."""

    def on_late_answer(self, event: LateAnswer) -> None: ...


class Guard(Generic[PlanT, CtxT]):
    """Decides, for each decision point, which checked plan the robot executes."""

    def __init__(
        self,
        domain: VersionedDomain[PlanT, CtxT],
        fallbacks: Sequence[Fallback[PlanT, CtxT]],
        *,
        config: GuardConfig | None = None,
        hooks: Sequence[DecisionHook] = (),
        safe_action: str = "hold",
    ) -> None:
        self.config = config if config is not None else GuardConfig()
        self.domain = domain
        self.gate: Gate[PlanT, CtxT] = Gate(domain, self.config.gate)
        self.fallbacks = tuple(fallbacks)
        self.hooks = list(hooks)
        self.safe_action = safe_action
        self._decider = replace(self.config.decider, safe_action=safe_action)
        self._state = GuardState()
        self._seq = 0
        self._lock = threading.Lock()
        self.hook_errors = 0

    @property
    def state(self) -> GuardState:
        return self._state

    @property
    def seq(self) -> int:
        """Number of decisions taken so far (the next decision's sequence number)."""
        return self._seq

    def may_consult(self, now_ns: int) -> bool:
        """Whether the model may be asked now: a read, which takes no probe slot (:meth:`ask`)."""
        return consult(self._state, now_ns, self._decider)

    def skip_reason(self, now_ns: int) -> str:
        """Why the model may not be asked now (empty if it may): a read, for status reports. A
        runtime about to ask uses :meth:`ask`, which also takes the probe slot."""
        return skip_reason(self._state, now_ns, self._decider)

    def ask(self, now_ns: int) -> Asked:
        """The model is about to be asked at ``now_ns``: may it be? (``skipped`` empty: yes.)

        While the breaker is not closed the call takes one of its probe slots, stored here under
        the lock, so requests made at once never let more than ``probes`` calls through. The
        slot is given back by the request's decision (pass ``probe_slot`` to :meth:`finish`) or,
        for a request given up undecided, by :meth:`release`: exactly once, or the slot is lost
        (too few probes) or freed twice (too many).
        """
        with self._lock:
            asked, self._state = ask(self._decider, self._state, now_ns)
            return asked

    def release(self) -> None:
        """Give back the probe slot of a request given up without a decision (:meth:`ask`)."""
        with self._lock:
            self._state = release(self._state)

    def run_fallbacks(self, ctx: CtxT) -> tuple[FallbackOutcome[PlanT], ...]:
        """Every fallback's plan for ``ctx``, each checked against the domain rules."""
        out = []
        for fb in self.fallbacks:
            try:
                outcome = fb.plan(ctx)
            except Exception as exc:  # a broken fallback must not break the decision
                log.exception("fallback %s raised", fb.name)
                outcome = FallbackOutcome(fb.name, None, (), f"raised {type(exc).__name__}: {exc}")
            if outcome.plan is not None:
                violations = tuple(self.domain.check_rules(outcome.plan, ctx))
                if outcome.abandons_task:  # held to the safety rules only
                    violations = tuple(v for v in violations if v.mode is FailureMode.UNSAFE)
                if violations:
                    outcome = replace(
                        outcome, violations=violations, detail=f"plan broke {violations[0].rule}"
                    )
            out.append(outcome)
        return tuple(out)

    def finish(
        self,
        ctx: CtxT,
        *,
        request_id: str,
        asked_ns: int | None,
        deadline_ns: int,
        arrival: Arrival,
        fallbacks: tuple[FallbackOutcome[PlanT], ...]
        | Callable[[], tuple[FallbackOutcome[PlanT], ...]],
        clock_ns: Callable[[], int],
        stuck_workers: int = 0,
        probe_slot: bool = False,
    ) -> Decision[PlanT]:
        """Gate what arrived (if it came by the cut-off), decide, notify the hooks, return.

        ``probe_slot``: the request still holds the probe slot :meth:`ask` gave it; the decision
        gives it back.

        ``fallbacks`` may be a callable: then they are computed only if the model's plan is not
        used (the virtual-time runtime's choice; a real-time runtime computes them before it waits).
        The decision is the same either way, because the decider reads the fallbacks only then.
        """
        cfg = self._decider
        with self._lock:
            cutoff_ns = deadline_ns - cfg.reserve_ns
            verdict: Verdict[PlanT] | None = None
            gate_ns = 0
            at_ns = arrival.at_ns
            if arrival.kind is ArrivalKind.OUTPUT and at_ns is not None and at_ns <= cutoff_ns:
                t0 = time.perf_counter_ns()
                verdict = self.gate.check(
                    arrival.text, arrival.size_bytes, ctx, arrival.asked_version
                )
                gate_ns = time.perf_counter_ns() - t0
            seq, state, decided_ns = self._seq, self._state, clock_ns()
            later = fallbacks if callable(fallbacks) else None
            ready: tuple[FallbackOutcome[PlanT], ...] = () if callable(fallbacks) else fallbacks
            decision, nxt = decide_with(
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
                ready,
                stuck_workers,
                probe_slot,
            )
            if later is not None and not decision.accepted:
                decision, nxt = decide_with(
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
                    later(),
                    stuck_workers,
                    probe_slot,
                )
            self._state = nxt
            self._seq = seq + 1
            if self.hooks:
                event = DecisionEvent(decision, ctx, arrival, stuck_workers)
                for hook in self.hooks:
                    try:
                        hook.on_decision(event)
                    except Exception:
                        self.hook_errors += 1
                        log.exception("decision hook %r failed on decision %d", hook, decision.seq)
            return decision

    def late_answer(self, event: LateAnswer) -> None:
        """Tell the hooks that have ``on_late_answer`` about an answer that came after its decision
        (:class:`LateAnswer`). It changes nothing in the guard: the decision was taken."""
        with self._lock:
            for hook in self.hooks:
                record = getattr(hook, "on_late_answer", None)
                if record is None:
                    continue
                try:
                    record(event)
                except Exception:
                    self.hook_errors += 1
                    log.exception("hook %r failed on a late answer", hook)

    def reset(self, reason: str) -> None:
        """Forget the model's history (state NOMINAL, breaker closed); recorded in the hooks. The
        probe slots of calls still out are kept: their decisions will give them back."""
        with self._lock:
            out = self._state.breaker.probes_out
            self._state = GuardState()
            if out:
                self._state = replace(
                    self._state, breaker=replace(self._state.breaker, probes_out=out)
                )
            for hook in self.hooks:
                try:
                    hook.on_reset(self._seq, reason)
                except Exception:
                    self.hook_errors += 1
                    log.exception("hook %r failed on reset", hook)
