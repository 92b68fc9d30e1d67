"""The guard's states and its one transition table.

::

    NOMINAL    the model is consulted; its checked plans are used
    DEGRADED   recent failures; still consulted, failures fall back; K good decisions -> NOMINAL
    BYPASS     breaker open: the model is not consulted; the classical planner drives
    PROBING    after the cool-down, decisions try the model again (half-open breaker)
    SAFE_HOLD  no plan passed, not even the classical planner's: the safe move holds

Whatever the breaker or the decider concludes is expressed as an :class:`Event`; the next state is
always ``TRANSITIONS[(state, event)]``. A pair missing from the table is a bug and raises ``KeyError``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, final


@final
class State(enum.Enum):
    NOMINAL = "NOMINAL"
    DEGRADED = "DEGRADED"
    BYPASS = "BYPASS"
    PROBING = "PROBING"
    SAFE_HOLD = "SAFE_HOLD"


@final
class Event(enum.Enum):
    MODEL_OK = "model_ok"
    MODEL_FAILED = "model_failed"
    RECOVERED = "recovered"
    BREAKER_OPENED = "breaker_opened"
    COOLDOWN_ELAPSED = "cooldown_elapsed"
    PROBE_OK = "probe_ok"
    PROBES_PASSED = "probes_passed"
    PROBE_FAILED = "probe_failed"
    NO_VALID_PLAN = "no_valid_plan"
    RESTORED_TRUSTED = "restored_trusted"
    RESTORED_UNTRUSTED = "restored_untrusted"


_S, _E = State, Event

TRANSITIONS: Mapping[tuple[State, Event], State] = MappingProxyType(
    {
        (_S.NOMINAL, _E.MODEL_OK): _S.NOMINAL,
        (_S.NOMINAL, _E.MODEL_FAILED): _S.DEGRADED,
        (_S.NOMINAL, _E.BREAKER_OPENED): _S.BYPASS,
        (_S.DEGRADED, _E.MODEL_OK): _S.DEGRADED,
        (_S.DEGRADED, _E.MODEL_FAILED): _S.DEGRADED,
        (_S.DEGRADED, _E.RECOVERED): _S.NOMINAL,
        (_S.DEGRADED, _E.BREAKER_OPENED): _S.BYPASS,
        (_S.BYPASS, _E.COOLDOWN_ELAPSED): _S.PROBING,
        (_S.PROBING, _E.PROBE_OK): _S.PROBING,
        (_S.PROBING, _E.PROBES_PASSED): _S.DEGRADED,
        (_S.PROBING, _E.PROBE_FAILED): _S.BYPASS,
        (_S.PROBING, _E.BREAKER_OPENED): _S.BYPASS,
        (_S.NOMINAL, _E.NO_VALID_PLAN): _S.SAFE_HOLD,
        (_S.DEGRADED, _E.NO_VALID_PLAN): _S.SAFE_HOLD,
        (_S.BYPASS, _E.NO_VALID_PLAN): _S.SAFE_HOLD,
        (_S.PROBING, _E.NO_VALID_PLAN): _S.SAFE_HOLD,
        (_S.SAFE_HOLD, _E.NO_VALID_PLAN): _S.SAFE_HOLD,
        (_S.SAFE_HOLD, _E.MODEL_OK): _S.SAFE_HOLD,
        (_S.SAFE_HOLD, _E.MODEL_FAILED): _S.SAFE_HOLD,
        (_S.SAFE_HOLD, _E.BREAKER_OPENED): _S.SAFE_HOLD,
        (_S.SAFE_HOLD, _E.RESTORED_TRUSTED): _S.DEGRADED,
        (_S.SAFE_HOLD, _E.RESTORED_UNTRUSTED): _S.BYPASS,
    }
)


@final
@dataclass(frozen=True, init=False)
class Transition:
    """One change of state (or a recorded self-loop that carries a reason), with why it happened."""

    source: State
    target: State
    event: Event
    reason: str

    def __init__(self, source: State, target: State, event: Event, reason: str) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "event", event)
        object.__setattr__(self, "reason", reason)

    def __reduce__(self) -> tuple[Any, ...]:
        # What pickle and copy rebuild it from: a compiled record has no __dict__ to restore.
        return (Transition, (self.source, self.target, self.event, self.reason))

    def to_json(self) -> dict[str, str]:
        return {
            "from": self.source.value,
            "to": self.target.value,
            "event": self.event.value,
            "reason": self.reason,
        }


def fire(state: State, event: Event, reason: str) -> Transition:
    """The transition ``event`` causes in ``state``; ``KeyError`` if the table has none."""
    return Transition(state, TRANSITIONS[(state, event)], event, reason)


def next_state(state: State, event: Event) -> State:
    """The state ``event`` leads to from ``state`` (:func:`fire` without its record)."""
    return TRANSITIONS[(state, event)]


def mermaid() -> str:
    """The transition table as a Mermaid state diagram (self-loops included)."""
    lines = ["stateDiagram-v2", f"    [*] --> {State.NOMINAL.value}"]
    for (source, event), target in TRANSITIONS.items():
        lines.append(f"    {source.value} --> {target.value}: {event.value}")
    return "\n".join(lines) + "\n"
