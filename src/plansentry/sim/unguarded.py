"""The unguarded controller, as the pilot ran it: what it would have done with a given model output.

The model of the pilot's controller (DESIGN.md, "The problem"), used for counterfactuals on the very
same outputs the guard judged:

- output that does not parse as JSON, or lacks the plan's fields or types (everything the gate calls
  ``empty``, ``malformed``, ``oversize`` or ``schema``; also JSON in a code fence or in prose, which a
  bare ``json.loads`` refuses): the controller crashes and the robot halts for a restart
  (``restart_s``, 12 s by default);
- a transport error: the same halt;
- a plan naming a bin that does not exist: the robot drives there and halts at the bin (a restart);
- a plan for another order (``stale``) or missing lines: executed; the order's missing items are lost;
- an unsafe plan: executed, and counted as a safety incident;
- no answer by the decision point: the robot waits for the model. A wait ending in an answer costs
  the wait; ``client_timeout_s`` without one is a halt. Where the wait is unknown (the guard stopped
  the model at its deadline, so nobody saw when it would have answered) nothing is costed and the
  reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from plansentry.core.failures import FailureMode

RESTART_S: Final = 12.0
CLIENT_TIMEOUT_S: Final = 30.0
_CRASH: Final = frozenset(
    {
        FailureMode.EMPTY,
        FailureMode.MALFORMED,
        FailureMode.OVERSIZE,
        FailureMode.SCHEMA,
        FailureMode.TRANSPORT,
    }
)


@final
@dataclass(frozen=True, slots=True)
class UnguardedOutcome:
    halted: bool
    downtime_s: float
    unsafe_executed: bool
    items_lost: int
    reason: str


def unguarded_outcome(
    mode: FailureMode | None,
    rules: frozenset[str],
    *,
    extraction: str = "bare",
    repaired: bool = False,
    wait_s: float | None = None,
    missing_items: int = 0,
    restart_s: float = RESTART_S,
    client_timeout_s: float = CLIENT_TIMEOUT_S,
) -> UnguardedOutcome:
    """What the unguarded controller does with an output the gate judged ``mode`` / ``rules``.

    ``wait_s`` is how long past the decision point the model took (``None``: unknown or never).
    """
    if mode is FailureMode.TIMEOUT:
        if wait_s is None:
            return UnguardedOutcome(False, 0.0, False, 0, "waited for the model: wait not measured")
        if wait_s < client_timeout_s:
            return UnguardedOutcome(False, wait_s, False, 0, "waited for the model")
        return UnguardedOutcome(True, client_timeout_s + restart_s, False, 0, "client timeout")
    if mode in _CRASH or extraction != "bare" or repaired:
        return UnguardedOutcome(True, restart_s, False, 0, "controller crashed on the output")
    if "bin_exists" in rules:
        return UnguardedOutcome(
            True, restart_s, mode is FailureMode.UNSAFE, 0, "halted at unknown bin"
        )
    if mode is None:
        return UnguardedOutcome(False, 0.0, False, 0, "executed")
    unsafe = mode is FailureMode.UNSAFE
    return UnguardedOutcome(
        False, 0.0, unsafe, missing_items, f"executed a plan that was {mode.value}"
    )
