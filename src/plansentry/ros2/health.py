"""What the node says on ``/diagnostics`` once a second, and at which level. Pure Python, no ROS:
the node turns a :class:`Health` into a ``diagnostic_msgs/DiagnosticStatus``.

:class:`Tally` is a :class:`~plansentry.runtime.guard.DecisionHook` that counts decisions, late
ones, the model's and the fallbacks'. :func:`health` reads it with the guard's state into a
level and one line, after what an operator should act on:

- ``ERROR``: the promise broke or nothing but the safe move is left: a decision was late since the
  last report, or the guard holds the safe move (``SAFE_HOLD``);
- ``WARN``: the robots run on fallbacks: the breaker is not closed (``BYPASS``, ``PROBING``),
  the guard is ``DEGRADED``, a model call is stuck, decisions were taken without the model for
  overload, or requests were refused since the last report;
- ``OK``: otherwise.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Final, final

from plansentry.core.fsm import State
from plansentry.runtime.guard import DecisionEvent

OK: Final = 0
WARN: Final = 1
ERROR: Final = 2
#: The sources of a decision whose plan came from the model.
MODEL_SOURCES: Final = frozenset({"llm", "repaired"})


@final
class Tally:
    """Decisions counted by what decided them (thread-safe; the guard calls it under its lock)."""

    def __init__(self) -> None:
        self.decisions = 0
        self.late = 0
        self.model = 0
        self.fallbacks = 0
        self.safe_moves = 0
        self._lock = threading.Lock()

    def on_decision(self, event: DecisionEvent[Any, Any]) -> None:
        d = event.decision
        with self._lock:
            self.decisions += 1
            self.late += not d.on_time
            if d.source in MODEL_SOURCES:
                self.model += 1
            elif d.source == "safe_move":
                self.safe_moves += 1
            else:
                self.fallbacks += 1

    def on_reset(self, seq: int, reason: str) -> None:
        pass


@final
@dataclass(frozen=True, slots=True)
class Health:
    """One report: its level (:data:`OK`, :data:`WARN`, :data:`ERROR`), a line, and values."""

    level: int
    message: str
    values: dict[str, str] = field(default_factory=dict)


@final
@dataclass(slots=True)
class Since:
    """The counts at the last report, so that a report speaks of the last period."""

    late: int = 0
    overloaded: int = 0
    refused: int = 0


def health(
    tally: Tally,
    since: Since,
    *,
    state: State,
    breaker: str,
    skipped: str,
    stuck_workers: int,
    overloaded: int,
    refused: int,
    extra: dict[str, Any] | None = None,
) -> Health:
    """The report for now; ``since`` is moved on to now."""
    late_now = tally.late - since.late
    overloaded_now = overloaded - since.overloaded
    refused_now = refused - since.refused
    since.late, since.overloaded, since.refused = tally.late, overloaded, refused
    share = tally.model / tally.decisions if tally.decisions else 0.0
    if late_now:
        level, line = ERROR, f"{late_now} decision(s) late in the last period"
    elif state is State.SAFE_HOLD:
        level, line = ERROR, "SAFE_HOLD: no planner has a valid plan; the safe move holds"
    elif state is not State.NOMINAL or breaker != "closed":
        level = WARN
        line = f"{state.value}: breaker {breaker}" + (f" ({skipped})" if skipped else "")
    elif stuck_workers:
        level, line = WARN, f"{stuck_workers} model call(s) stuck"
    elif overloaded_now:
        level, line = WARN, f"{overloaded_now} decision(s) without the model: overloaded"
    elif refused_now:
        level, line = WARN, f"{refused_now} request(s) refused in the last period"
    else:
        level, line = OK, f"NOMINAL: model share {share:.0%} of {tally.decisions} decisions"
    values = {
        "state": state.value,
        "breaker": breaker,
        "skipped": skipped,
        "decisions": str(tally.decisions),
        "late": str(tally.late),
        "model": str(tally.model),
        "fallbacks": str(tally.fallbacks),
        "safe_moves": str(tally.safe_moves),
        "model_share": f"{share:.4f}",
        "stuck_workers": str(stuck_workers),
        "overloaded": str(overloaded),
        "refused": str(refused),
        **{k: str(v) for k, v in (extra or {}).items()},
    }
    return Health(level, line, values)
