"""Inputs and the record of one decision: what arrived, what was ready to fall back on, what was chosen.

All instants are monotonic nanoseconds (``*_ns``) read by a runtime and passed in as data; nothing in
this module reads a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar, final

from mypy_extensions import mypyc_attr

from plansentry.core.failures import FailureMode, Violation
from plansentry.core.fsm import State, Transition
from plansentry.core.gate import Verdict

PlanT = TypeVar("PlanT")

#: Sources of a plan that are not a fallback.
SOURCE_LLM = "llm"
SOURCE_REPAIRED = "repaired"
SOURCE_SAFE_MOVE = "safe_move"


@final
class ArrivalKind(enum.Enum):
    """What came back from the model for one request."""

    OUTPUT = "output"  # text arrived at ``at_ns``
    TIMEOUT = "timeout"  # nothing by the cut-off
    TRANSPORT = "transport"  # the call failed (HTTP error, reset, planner raised)
    NOT_ASKED = "not_asked"  # the guard did not consult the model (breaker open)


@final
@dataclass(frozen=True, init=False)
class Arrival:
    """The model's answer as the runtime saw it.

    ``size_bytes`` is the true size of the output; ``text`` may be shorter when the runtime stopped
    reading past the gate's byte cap. ``asked_version`` names the context the model was asked with
    (order and map version), for the freshness check. ``retry_after_ns``: for a failed call whose
    server said when to ask again (HTTP ``Retry-After``), that instant; the guard does not ask the
    model before it. For ``not_asked``, ``detail`` says why the model was not asked.
    """

    kind: ArrivalKind
    text: bytes
    size_bytes: int
    at_ns: int | None
    detail: str
    asked_version: str
    retry_after_ns: int | None

    def __init__(
        self,
        kind: ArrivalKind,
        text: bytes = b"",
        size_bytes: int = 0,
        at_ns: int | None = None,
        detail: str = "",
        asked_version: str = "",
        retry_after_ns: int | None = None,
    ) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "size_bytes", size_bytes)
        object.__setattr__(self, "at_ns", at_ns)
        object.__setattr__(self, "detail", detail)
        object.__setattr__(self, "asked_version", asked_version)
        object.__setattr__(self, "retry_after_ns", retry_after_ns)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (
            Arrival,
            (
                self.kind,
                self.text,
                self.size_bytes,
                self.at_ns,
                self.detail,
                self.asked_version,
                self.retry_after_ns,
            ),
        )

    @staticmethod
    def output(text: bytes, at_ns: int, asked_version: str, size_bytes: int = -1) -> Arrival:
        size = len(text) if size_bytes < 0 else size_bytes
        return Arrival(ArrivalKind.OUTPUT, text, size, at_ns, "", asked_version)


@final
@dataclass(frozen=True, init=False)
class SafeMove:
    """The terminal fallback: the domain's safe action (``action``: a picker stops and holds, a
    drone lands where it is). It needs no plan, so it cannot fail. ``reason`` says why every plan
    before it was unusable."""

    reason: str
    action: str

    def __init__(self, reason: str, action: str = "hold") -> None:
        object.__setattr__(self, "reason", reason)
        object.__setattr__(self, "action", action)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (SafeMove, (self.reason, self.action))


@final
@mypyc_attr(native_class=False)  # generic: see _slot_setters
@dataclass(frozen=True, slots=True, init=False)
class FallbackOutcome(Generic[PlanT]):
    """A fallback's plan and the rules it broke (a fallback plan is checked like any other).

    ``abandons_task``: the plan gives up the task for a safe state (a drone returning home with its
    deliveries undone). It is held to the safety rules only: the validity and cycle-time rules say
    what serving the task takes, which such a plan does not claim to do.
    """

    name: str
    plan: PlanT | None
    violations: tuple[Violation, ...]
    detail: str
    abandons_task: bool

    def __init__(
        self,
        name: str,
        plan: PlanT | None,
        violations: tuple[Violation, ...] = (),
        detail: str = "",
        abandons_task: bool = False,
    ) -> None:
        s = _OUTCOME_SETTERS
        s[0](self, name)
        s[1](self, plan)
        s[2](self, violations)
        s[3](self, detail)
        s[4](self, abandons_task)

    @property
    def usable(self) -> bool:
        return self.plan is not None and not self.violations


@final
@mypyc_attr(native_class=False)  # generic: see _slot_setters
@dataclass(frozen=True, slots=True, init=False)
class DecisionInput(Generic[PlanT]):
    """Everything the decider needs, measured by the runtime.

    ``verdict`` is the gate's verdict on ``arrival`` if the output arrived by the cut-off and was
    checked, else ``None``. ``fallbacks`` are in chain order; ``safe_plan`` is the terminal safe move.
    ``stuck_workers`` counts abandoned planner calls still running. ``probe_slot``: the request
    still holds the probe slot it took when it was asked (:func:`~plansentry.core.decider.ask`);
    the decision gives it back.
    """

    seq: int
    request_id: str
    asked_ns: int | None
    deadline_ns: int
    decided_ns: int
    arrival: Arrival
    verdict: Verdict[PlanT] | None
    gate_ns: int
    fallbacks: tuple[FallbackOutcome[PlanT], ...]
    stuck_workers: int
    probe_slot: bool

    def __init__(
        self,
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
    ) -> None:
        s = _INPUT_SETTERS
        s[0](self, seq)
        s[1](self, request_id)
        s[2](self, asked_ns)
        s[3](self, deadline_ns)
        s[4](self, decided_ns)
        s[5](self, arrival)
        s[6](self, verdict)
        s[7](self, gate_ns)
        s[8](self, fallbacks)
        s[9](self, stuck_workers)
        s[10](self, probe_slot)


@final
@mypyc_attr(native_class=False)  # generic: see _slot_setters
@dataclass(frozen=True, slots=True, init=False)
class Decision(Generic[PlanT]):
    """The frozen record of one decision: what was chosen, why, and when."""

    seq: int
    request_id: str
    source: str
    plan: PlanT | SafeMove
    failure_mode: FailureMode | None
    violations: tuple[Violation, ...]
    repairs: tuple[str, ...]
    asked_ns: int | None
    arrival_ns: int | None
    cutoff_ns: int
    deadline_ns: int
    decided_ns: int
    gate_ns: int
    state_before: State
    state_after: State
    transitions: tuple[Transition, ...]
    consulted: bool
    shadow: bool
    skipped: str

    # ``skipped``: why the model was not consulted (the breaker, a server's Retry-After); empty
    # when it was.

    def __init__(
        self,
        seq: int,
        request_id: str,
        source: str,
        plan: PlanT | SafeMove,
        failure_mode: FailureMode | None,
        violations: tuple[Violation, ...],
        repairs: tuple[str, ...],
        asked_ns: int | None,
        arrival_ns: int | None,
        cutoff_ns: int,
        deadline_ns: int,
        decided_ns: int,
        gate_ns: int,
        state_before: State,
        state_after: State,
        transitions: tuple[Transition, ...],
        consulted: bool,
        shadow: bool = False,
        skipped: str = "",
    ) -> None:
        s = _DECISION_SETTERS
        s[0](self, seq)
        s[1](self, request_id)
        s[2](self, source)
        s[3](self, plan)
        s[4](self, failure_mode)
        s[5](self, violations)
        s[6](self, repairs)
        s[7](self, asked_ns)
        s[8](self, arrival_ns)
        s[9](self, cutoff_ns)
        s[10](self, deadline_ns)
        s[11](self, decided_ns)
        s[12](self, gate_ns)
        s[13](self, state_before)
        s[14](self, state_after)
        s[15](self, transitions)
        s[16](self, consulted)
        s[17](self, shadow)
        s[18](self, skipped)

    @property
    def accepted(self) -> bool:
        """True if the model's own (possibly repaired) plan is the one executed.

        A ``shadow`` decision judged the model's answer (``failure_mode`` says how it fared) but did
        not use it: the breaker was open.
        """
        return self.source in (SOURCE_LLM, SOURCE_REPAIRED)

    @property
    def on_time(self) -> bool:
        return self.decided_ns <= self.deadline_ns

    @property
    def latency_ns(self) -> int | None:
        """Model latency, ask to arrival; ``None`` if the model was not asked or did not answer."""
        if self.asked_ns is None or self.arrival_ns is None:
            return None
        return self.arrival_ns - self.asked_ns


def _slot_setters(cls: type) -> tuple[Any, ...]:
    """The stores of a frozen, slotted record's fields, in order: what its constructor calls.

    The generic records are plain Python classes in the compiled build too (mypyc compiles no
    generic dataclass to a native class), so their constructors are written out against the
    slots' own descriptors: a third less time than the frozen dataclass's ``object.__setattr__``
    per field, in either build (docs/BENCHMARKS.md).
    """
    return tuple(vars(cls)[f.name].__set__ for f in fields(cls))


_OUTCOME_SETTERS = _slot_setters(FallbackOutcome)
_INPUT_SETTERS = _slot_setters(DecisionInput)
_DECISION_SETTERS = _slot_setters(Decision)
