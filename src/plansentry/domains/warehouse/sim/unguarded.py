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

from dataclasses import dataclass, replace
from typing import Final, final

import msgspec

from plansentry.core import strictjson
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.order import Order
from plansentry.domains.warehouse.rules import BIN_EXISTS
from plansentry.domains.warehouse.schema import Plan

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

#: Modes of a plan the unguarded controller executes although it is wrong.
_EXECUTED_WRONG: Final = frozenset(
    {FailureMode.STALE, FailureMode.INVALID, FailureMode.UNSAFE, FailureMode.SLOW}
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
    if BIN_EXISTS in rules:
        return UnguardedOutcome(
            True, restart_s, mode is FailureMode.UNSAFE, 0, "halted at unknown bin"
        )
    if mode is None:
        return UnguardedOutcome(False, 0.0, False, 0, "executed")
    unsafe = mode is FailureMode.UNSAFE
    return UnguardedOutcome(
        False, 0.0, unsafe, missing_items, f"executed a plan that was {mode.value}"
    )


def items_missing(plan: Plan, order: Order, mode: FailureMode | None) -> int:
    """Items of ``order`` an executed ``plan`` does not pick: all of them for another order's
    plan (``stale``), else those of the lines it leaves out."""
    if mode is FailureMode.STALE:
        return sum(line.qty for line in order.lines)
    picked = {(pick.bin, pick.sku) for pick in plan.picks}
    return sum(line.qty for line in order.lines if (line.bin, line.sku) not in picked)


def order_items(order: Order) -> int:
    """Items an order asks for (the sum of its lines' quantities)."""
    return sum(line.qty for line in order.lines)


_PLAN = msgspec.json.Decoder(Plan)


def react(
    mode: FailureMode | None,
    rules: frozenset[str],
    text: bytes,
    order: Order,
    *,
    repaired: bool = False,
    wait_s: float | None = None,
) -> UnguardedOutcome:
    """:func:`unguarded_outcome` for the raw ``text`` the gate judged ``mode`` / ``rules``: how a
    bare parser finds it, and the items of ``order`` a plan it executes would lose."""
    found = strictjson.extract(text) if text else None
    extraction = found.how if isinstance(found, strictjson.Extracted) else "bare"
    outcome = unguarded_outcome(
        mode, rules, extraction=extraction, repaired=repaired, wait_s=wait_s
    )
    if outcome.halted or mode not in _EXECUTED_WRONG:
        return outcome
    plan = _PLAN.decode(text)  # it executed, so a bare parser read it as a plan
    return replace(outcome, items_lost=items_missing(plan, order, mode))
