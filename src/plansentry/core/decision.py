"""Inputs and the record of one decision: what arrived, what was ready to fall back on, what was chosen.

All instants are monotonic nanoseconds (``*_ns``) read by a runtime and passed in as data; nothing in
this module reads a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar, final

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
@dataclass(frozen=True, slots=True)
class Arrival:
    """The model's answer as the runtime saw it.

    ``size_bytes`` is the true size of the output; ``text`` may be shorter when the runtime stopped
    reading past the gate's byte cap. ``asked_version`` names the context the model was asked with
    (order and map version), for the freshness check. ``retry_after_ns``: for a failed call whose
    server said when to ask again (HTTP ``Retry-After``), that instant; the guard does not ask the
    model before it. For ``not_asked``, ``detail`` says why the model was not asked.
    """

    kind: ArrivalKind
    text: bytes = b""
    size_bytes: int = 0
    at_ns: int | None = None
    detail: str = ""
    asked_version: str = ""
    retry_after_ns: int | None = None

    @classmethod
    def output(cls, text: bytes, at_ns: int, asked_version: str, size_bytes: int = -1) -> Arrival:
        size = len(text) if size_bytes < 0 else size_bytes
        return cls(ArrivalKind.OUTPUT, text, size, at_ns, "", asked_version)


@final
@dataclass(frozen=True, slots=True)
class SafeMove:
    """The terminal fallback: the domain's safe action (``action``: a picker stops and holds, a
    drone lands where it is). It needs no plan, so it cannot fail. ``reason`` says why every plan
    before it was unusable."""

    reason: str
    action: str = "hold"


@final
@dataclass(frozen=True, slots=True)
class FallbackOutcome(Generic[PlanT]):
    """A fallback's plan and the rules it broke (a fallback plan is checked like any other).

    ``abandons_task``: the plan gives up the task for a safe state (a drone returning home with its
    deliveries undone). It is held to the safety rules only: the validity and cycle-time rules say
    what serving the task takes, which such a plan does not claim to do.
    """

    name: str
    plan: PlanT | None
    violations: tuple[Violation, ...] = ()
    detail: str = ""
    abandons_task: bool = False

    @property
    def usable(self) -> bool:
        return self.plan is not None and not self.violations


@final
@dataclass(frozen=True, slots=True)
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
    stuck_workers: int = 0
    probe_slot: bool = False


@final
@dataclass(frozen=True, slots=True)
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
    shadow: bool = False
    skipped: str = ""

    # ``skipped``: why the model was not consulted (the breaker, a server's Retry-After); empty
    # when it was.

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
