"""The world the model check explores: the real decider's state, the runtime's requests in flight,
the clock, and the inputs that move them, with exact times.

A :class:`World` is one concrete configuration: the :class:`~plansentry.core.decider.GuardState`
the real :func:`~plansentry.core.decider.decide` returned, the instant ``now_ns``, the requests in
flight (each asked, or refused, once, when it was made: the runtimes' rule) and a ghost counter the
probe invariant needs. Inputs are concrete (:class:`Ask`, :class:`Decide`, :class:`Tick`), and
:func:`step` applies one with the real code, so a trace of them replays exactly (:func:`replay`).
The search itself runs on the time abstraction of :mod:`plansentry.testing.modelcheck_clocks`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, final

from plansentry.core import decider as dec
from plansentry.core.breaker import BreakerPhase, BreakerState
from plansentry.core.decider import DeciderConfig, GuardState
from plansentry.core.decision import Arrival, ArrivalKind, Decision, DecisionInput, FallbackOutcome
from plansentry.core.failures import FailureMode, Violation
from plansentry.core.fsm import Transition
from plansentry.core.gate import Verdict
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.virtual import DEFAULT_SWITCH_INTERVAL_S

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000

#: The plans the inputs carry, told apart by the invariants.
MODEL_PLAN = "model plan"
FALLBACK_PLAN = "fallback plan"
BROKEN_PLAN = "fallback plan that broke a rule"

#: Every verdict class the gate can return for output that arrived by the cut-off.
PASSING = ("pass", "repaired")
GATE_FAILURES = tuple(
    m for m in FailureMode if m not in (FailureMode.TIMEOUT, FailureMode.TRANSPORT)
)
RETRY_AFTER = ("", "zero", "cooldown", "cap", "over")
FALLBACK_CHAINS = ("usable", "unusable", "none")


def _verdict(name: str) -> Verdict[Any]:
    if name == "pass":
        return Verdict(None, (), MODEL_PLAN)
    if name == "repaired":
        return Verdict(None, (), MODEL_PLAN, ("trailing_comma",))
    mode = FailureMode(name)
    return Verdict(mode, (Violation(f"{name}_rule", mode, f"refused ({name})"),))


_VERDICTS = {n: _verdict(n) for n in (*PASSING, *(m.value for m in GATE_FAILURES))}
_RULE = Violation("fallback_rule", FailureMode.UNSAFE, "the fallback's plan broke a rule")
_CHAINS: dict[str, tuple[FallbackOutcome[Any], ...]] = {
    "usable": (
        FallbackOutcome("broken", BROKEN_PLAN, (_RULE,)),
        FallbackOutcome("classical", FALLBACK_PLAN),
    ),
    "unusable": (
        FallbackOutcome("broken", BROKEN_PLAN, (_RULE,)),
        FallbackOutcome("classical", None, (), "no route"),
    ),
    "none": (),
}


@final
@dataclass(frozen=True, slots=True)
class Model:
    """The constants of one check: the decider's policy and the runtime's timing.

    Built from a :class:`~plansentry.runtime.config.GuardConfig` by :meth:`of`: the cut-off is the
    decider's (``deadline - reserve``), and the point where a runtime stops waiting is the virtual
    and real-time runtimes' (``deadline - early_wake``, :meth:`GuardConfig.early_wake_ms`).

    ``wake_offset_ns``: from a decision point to where a runtime stops waiting (a timeout is
    decided then). ``late_offset_ns``: from a decision point to the first instant after its
    cut-off (a late answer). ``age_bounds``: ages of a request (ns since asked) at which something
    about its answer changes: it can be decided as a timeout, or as late; a timeout (judged at the
    cut-off) is slow; an answer arriving now is slow. ``age_points``: 0, every age bound and the
    nanosecond before it: the representatives of the age classes (an age is in class ``i`` when
    ``age_points[i] <= age < age_points[i + 1]``). ``period_ns``: the healthy run's time between
    decision points (liveness).
    """

    decider: DeciderConfig
    budget_ns: int
    early_wake_ns: int
    in_flight: int
    period_ns: int
    reserve_ns: int
    wake_offset_ns: int
    late_offset_ns: int
    cooldown_ns: int
    max_cooldown_ns: int
    age_bounds: tuple[int, ...]
    age_points: tuple[int, ...]

    @classmethod
    def of(
        cls,
        config: GuardConfig,
        *,
        in_flight: int = 2,
        switch_interval_s: float = DEFAULT_SWITCH_INTERVAL_S,
        decision_period_ms: float = 1000.0,
    ) -> Model:
        decider = config.decider
        breaker = decider.breaker
        budget = config.budget_ns
        early_wake = int(config.early_wake_ms(switch_interval_s) * _NS_PER_MS)
        reserve = decider.reserve_ns
        wake_offset = budget - early_wake
        late_offset = budget - reserve + 1
        first_slow = math.floor(breaker.slow_call_ms * _NS_PER_MS) + 1
        bounds = {wake_offset, late_offset, first_slow - (early_wake - reserve), first_slow}
        bounds = {b for b in bounds if b > 0}
        points = {0} | bounds | {b - 1 for b in bounds}
        return cls(
            decider=decider,
            budget_ns=budget,
            early_wake_ns=early_wake,
            in_flight=in_flight,
            period_ns=int(decision_period_ms * _NS_PER_MS),
            reserve_ns=reserve,
            wake_offset_ns=wake_offset,
            late_offset_ns=late_offset,
            cooldown_ns=int(breaker.cooldown_s * _NS_PER_S),
            max_cooldown_ns=int(breaker.max_cooldown_s * _NS_PER_S),
            age_bounds=tuple(sorted(bounds)),
            age_points=tuple(sorted(points)),
        )


@final
@dataclass(frozen=True, slots=True)
class Ticket:
    """A request in flight: made at ``asked_ns``; ``skipped`` is why the model was not asked then
    (empty: it was asked). Decided once, later; whatever happens to the guard meanwhile.
    ``probe_slot``: it holds the probe slot :func:`~plansentry.core.decider.ask` gave it.
    ``counted``: a ghost for the probe invariant, computed without the decider's slots: let through
    while the breaker was not closed, since the breaker last opened or closed."""

    asked_ns: int
    skipped: str
    probe_slot: bool = False
    counted: bool = False


@final
@dataclass(frozen=True, slots=True)
class World:
    """One concrete configuration. ``probe_asks``: a ghost counter for the probe invariant, kept
    without reading the decider's probe slots: model calls let through since the breaker last
    opened that are still out or were decided as probes (consulted, not shadow); a call given up
    without being judged (cancelled, or decided in shadow) no longer counts; 0 while closed."""

    gs: GuardState = field(default_factory=GuardState)
    now_ns: int = 0
    pending: tuple[Ticket, ...] = ()
    probe_asks: int = 0
    seq: int = 0


@final
@dataclass(frozen=True, slots=True)
class Ask:
    """A robot makes a request now: the model is asked if :func:`~plansentry.core.decider.ask`
    lets it (which also takes a probe slot while the breaker is not closed)."""

    def label(self, world: World, after: World) -> str:
        skipped = after.pending[-1].skipped
        return "ask: " + (f"not asked ({skipped})" if skipped else "the model is asked")


@final
@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes by ``delta_ns`` (a wait of a concrete trace)."""

    delta_ns: int
    why: str

    def label(self, world: World, after: World) -> str:
        return f"wait {self.delta_ns / _NS_PER_S:.9f} s ({self.why})"


@final
@dataclass(frozen=True, slots=True)
class Arrive:
    """What came back for one request, as a runtime would hand it to the guard.

    ``kind``: ``output`` (judged by the gate: ``verdict``), ``late`` (output 1 ns after the
    cut-off), ``timeout`` (nothing by the point the runtime stops waiting), ``transport`` (the call
    failed; ``retry`` names its Retry-After: none, ``zero``, the breaker's ``cooldown``, exactly
    the ``cap``, 1 ns ``over`` the cap), ``cancelled`` (the real-time runtime's
    :meth:`~plansentry.runtime.realtime.RealtimeRuntime.cancel`: asked, recorded as not asked) or
    ``not_asked`` (a request the guard refused when it was made). ``at``: the answer came when the
    model was asked (``asked``) or at the decision point (``point``).
    """

    kind: str
    verdict: str = ""
    at: str = "asked"
    retry: str = ""

    def describe(self) -> str:
        if self.kind == "output":
            return f"output judged {self.verdict!r}, arrived at the {self._at()}"
        if self.kind == "transport":
            why = f", Retry-After {self.retry}" if self.retry else ""
            return f"transport failure at the {self._at()}{why}"
        return {
            "late": "output 1 ns after the cut-off",
            "timeout": "no answer by the runtime's wake-up",
            "cancelled": "cancelled by the runtime (recorded not asked)",
            "not_asked": "not asked",
        }[self.kind]

    def _at(self) -> str:
        return "instant it was asked" if self.at == "asked" else "decision point"


@final
@dataclass(frozen=True, slots=True)
class Decide:
    """The decision point of the request ``ticket`` (an index into ``World.pending``) is now."""

    ticket: int
    arrive: Arrive
    fallbacks: str
    stuck: int

    def label(self, world: World, after: World) -> str:
        t = world.pending[self.ticket]
        age = (world.now_ns - t.asked_ns) / _NS_PER_S
        return (
            f"decide the request made {age:.9f} s ago: {self.arrive.describe()}; "
            f"fallbacks {self.fallbacks}; stuck workers {self.stuck} "
            f"-> {after.gs.state.value}, breaker {after.gs.breaker.phase.value}"
        )


@final
@dataclass(frozen=True, slots=True)
class Advance:
    """Time passes for one clock until it reaches its next class (the search's abstract wait):
    ``clock`` is ``cooldown``, ``retry_after`` or ``age`` (of the request at ``ticket``)."""

    clock: str
    ticket: int = -1

    def label(self, world: World, after: World) -> str:
        what = {
            "cooldown": "the breaker's cool-down",
            "retry_after": "the Retry-After",
            "age": "the age of a request in flight",
        }[self.clock]
        return f"time passes: {what} reaches its next threshold"


Input = Ask | Tick | Decide | Advance


@final
@dataclass(frozen=True, slots=True)
class Outcome:
    """One step: the world after it, and for a decision its input, record and every transition
    fired (self-loops included)."""

    world: World
    inp: DecisionInput[Any] | None = None
    decision: Decision[Any] | None = None
    fired: tuple[Transition, ...] = ()


def arrivals(model: Model, world: World, t: Ticket) -> Iterator[Arrive]:
    """Every answer a runtime could hand the guard now for request ``t``. A decision is taken at
    ``now``; its decision point is ``now`` for an answer in time, ``wake_offset`` ago for a timeout
    (the runtime stopped waiting now) and ``late_offset`` ago for a late answer, so those need a
    request at least that old."""
    if t.skipped:
        yield Arrive("not_asked")
        return
    age = world.now_ns - t.asked_ns
    ats = ("asked",) if age == 0 else ("asked", "point")
    for at in ats:
        for verdict in _VERDICTS:
            yield Arrive("output", verdict, at)
    if age >= model.late_offset_ns:
        yield Arrive("late")
    if age >= model.wake_offset_ns:
        yield Arrive("timeout")
    yield Arrive("transport", at="asked")
    for retry in RETRY_AFTER:
        yield Arrive("transport", at="point", retry=retry)
    yield Arrive("cancelled")


def stuck_counts(model: Model) -> tuple[int, ...]:
    """Stuck workers: one below the threshold (the decider compares the count with it only), and
    at it."""
    top = model.decider.max_stuck_workers
    return (top - 1, top)


def decisions(model: Model, world: World) -> Iterator[Input]:
    """The alphabet at ``world`` but for time: an ask (while fewer than ``in_flight`` requests are
    out), and a decision for each request in flight with every answer, fallback chain and count of
    stuck workers (requests that cannot be told apart are decided once: robots are
    interchangeable)."""
    if len(world.pending) < model.in_flight:
        yield Ask()
    seen: set[tuple[str, int, bool, bool]] = set()
    for i, t in enumerate(world.pending):
        key = ("", 0, False, False) if t.skipped else ("asked", t.asked_ns, t.probe_slot, t.counted)
        if key in seen:
            continue
        seen.add(key)
        for arrive in arrivals(model, world, t):
            for chain in FALLBACK_CHAINS:
                for stuck in stuck_counts(model):
                    yield Decide(i, arrive, chain, stuck)


def decision_input(model: Model, world: World, d: Decide) -> DecisionInput[Any]:
    """The :class:`DecisionInput` a runtime builds for ``d``, decided now (the virtual runtime's
    arithmetic, with the decision point moved back by the time the runtime waited)."""
    t = world.pending[d.ticket]
    now = world.now_ns
    a = d.arrive
    point = now
    if a.kind == "timeout":
        point = now - model.wake_offset_ns
    elif a.kind == "late":
        point = now - model.late_offset_ns
    deadline = point + model.budget_ns
    asked: int | None = t.asked_ns
    verdict: Verdict[Any] | None = None
    if a.kind in ("not_asked", "cancelled"):
        detail = t.skipped if a.kind == "not_asked" else "cancelled: the caller went away"
        arrival = Arrival(ArrivalKind.NOT_ASKED, detail=detail)
        asked = None if a.kind == "not_asked" else asked
    elif a.kind == "output":
        at = t.asked_ns if a.at == "asked" else now
        arrival = Arrival.output(b"{}", at, "v")
        verdict = _VERDICTS[a.verdict]
    elif a.kind == "late":
        arrival = Arrival.output(b"{}", now, "v")  # the cut-off was 1 ns ago
    elif a.kind == "timeout":
        arrival = Arrival(ArrivalKind.TIMEOUT, detail="never answered", asked_version="v")
    else:
        at = t.asked_ns if a.at == "asked" else now
        cap = now + model.max_cooldown_ns
        retry = {
            "": None,
            "zero": at,
            "cooldown": at + model.cooldown_ns,
            "cap": cap,
            "over": cap + 1,
        }[a.retry]
        arrival = Arrival(
            ArrivalKind.TRANSPORT,
            at_ns=at,
            detail="HTTP 503",
            asked_version="v",
            retry_after_ns=retry,
        )
    return DecisionInput(
        seq=world.seq,
        request_id=f"r{world.seq}",
        asked_ns=asked,
        deadline_ns=deadline,
        decided_ns=now,
        arrival=arrival,
        verdict=verdict,
        gate_ns=0,
        fallbacks=_CHAINS[d.fallbacks],
        stuck_workers=d.stuck,
        probe_slot=t.probe_slot and a.kind != "cancelled",
    )


def _period_ends(before: BreakerState, after: BreakerState) -> bool:
    """Whether a decision ended the half-open period the ghost counts in: the breaker closed or
    (re)opened."""
    if after.phase is BreakerPhase.CLOSED:
        return True
    return after.phase is BreakerPhase.OPEN and (
        before.phase is not BreakerPhase.OPEN or before.open_until_ns != after.open_until_ns
    )


def step(model: Model, world: World, inp: Input) -> Outcome:
    """Apply one input with the real code (``decider.ask`` for an ask, ``decide_traced`` for a
    decision, ``decider.release`` first for a cancelled request, as the real-time runtime's
    ``cancel`` does; a :class:`Tick` only moves ``now``). Raises whatever the real code raises.
    """
    if isinstance(inp, Tick):
        return Outcome(replace(world, now_ns=world.now_ns + inp.delta_ns))
    if isinstance(inp, Ask):
        asked, gs = dec.ask(model.decider, world.gs, world.now_ns)
        counted = not asked.skipped and world.gs.breaker.phase is not BreakerPhase.CLOSED
        ticket = Ticket(world.now_ns, asked.skipped, asked.probe_slot, counted)
        return Outcome(
            replace(
                world,
                gs=gs,
                pending=(*world.pending, ticket),
                probe_asks=world.probe_asks + counted,
            )
        )
    if isinstance(inp, Advance):
        raise TypeError("Advance is the search's abstract wait (modelcheck.abstract_step)")
    t = world.pending[inp.ticket]
    x = decision_input(model, world, inp)
    before = world.gs
    if t.probe_slot and inp.arrive.kind == "cancelled":
        before = dec.release(before)  # RealtimeRuntime.cancel gives the slot back at once
    decision, gs, fired = dec.decide_traced(model.decider, before, x)
    pending = world.pending[: inp.ticket] + world.pending[inp.ticket + 1 :]
    probes = world.probe_asks
    if t.counted and not (decision.consulted and not decision.shadow):
        probes -= 1  # given up without being judged as a probe: no longer counts
    if _period_ends(world.gs.breaker, gs.breaker):
        probes = 0
        pending = tuple(replace(p, counted=False) if p.counted else p for p in pending)
    after = World(gs, world.now_ns, pending, probes, world.seq + 1)
    return Outcome(after, x, decision, fired)


def replay(model: Model, trace: tuple[Input, ...], start: World | None = None) -> list[Outcome]:
    """Run ``trace`` from ``start`` (the initial world) with the real code; every step's outcome."""
    world = start if start is not None else World()
    out = []
    for inp in trace:
        o = step(model, world, inp)
        out.append(o)
        world = o.world
    return out
