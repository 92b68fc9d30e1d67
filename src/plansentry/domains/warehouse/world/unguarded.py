"""The unguarded controller, as the pilot ran it: what it does with a given model output.

The model of the pilot's controller (DESIGN.md, "The problem"), used for counterfactuals on the very
same outputs the guard judged (the simulator, the demo, the kit's ``PilotController``). The
controller reads the answer the way a plain Python controller reads JSON: ``json.loads``, then the
fields it needs from the dict (``float(plan["speed_mps"])``, ``int(pick["qty"])``...), ignoring
anything else; it then drives what it read. Its reaction per kind of output is :data:`REACTIONS`
(docs/SIMULATION.md has the same table):

- text ``json.loads`` refuses (truncated, a trailing comma, unbalanced, JSON in prose or a code
  fence, empty, oversize), a missing field or a value of the wrong type (``"1.2 m/s"`` for a
  speed): the controller raises and the robot halts for a restart (``restart_s``, 12 s);
- a transport error: the same halt;
- an extra key: never read, so the plan is executed as if it were not there;
- a value out of the schema's range that the controller can still use (``qty: 0``): executed, the
  robot visits the bin and picks nothing (the line's items are lost); a speed of 0 or less cannot
  be driven: the motor controller refuses it, a halt;
- a plan naming a bin that does not exist: the robot drives there and halts at the bin (a restart);
- a plan for another order (``stale``) or missing lines: executed; the order's missing items are lost;
- an unsafe plan: executed, a safety incident; a slow plan (``slow``): executed, at its cost in time;
- no answer by the decision point: the robot waits for the model. A wait ending in an answer costs
  the wait; ``client_timeout_s`` without one is a halt. Where the wait is unknown (the guard stopped
  the model at its deadline, so nobody saw when it would have answered) nothing is costed and the
  reason says so.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final, final

from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.order import Order
from plansentry.domains.warehouse.rules import BIN_EXISTS
from plansentry.domains.warehouse.schema import Pick, Plan

RESTART_S: Final = 12.0
CLIENT_TIMEOUT_S: Final = 30.0


@final
class Reaction(enum.Enum):
    """What the pilot's controller does with an output (the simulator's
    :class:`~plansentry.runtime.world.Reaction`, and ``WAIT`` for the table's row of a late answer)."""

    CRASH = "crash"  # it raises: the robot halts for a restart
    HALT_AT_BIN = "halt_at_bin"  # it drives to a bin that is not there and stops: a restart
    EXECUTE = "execute"  # it drives what it read
    WAIT = "wait"  # nothing yet: it waits (a halt after client_timeout_s)


@final
@dataclass(frozen=True, slots=True)
class Row:
    """One kind of output: what it is, what the controller does, and why."""

    what: str
    reaction: Reaction
    why: str


#: The unguarded controller's reaction per kind of output (the key is :attr:`Read.kind`).
REACTIONS: Final[Mapping[str, Row]] = MappingProxyType(
    {
        "not_json": Row(
            "text json.loads refuses: truncated, a trailing comma, unbalanced, JSON in prose or in "
            "a code fence, empty, oversize",
            Reaction.CRASH,
            "json.loads raises and nothing catches it",
        ),
        "missing_field": Row(
            "a field the controller reads is missing", Reaction.CRASH, "plan[key] raises KeyError"
        ),
        "wrong_type": Row(
            "a value of the wrong type (a speed of '1.2 m/s', a list for an object)",
            Reaction.CRASH,
            "float() / int() / indexing raises",
        ),
        "bad_speed": Row(
            "a speed of 0 or less", Reaction.CRASH, "the motor controller refuses to drive it"
        ),
        "extra_field": Row(
            "a key the schema does not have",
            Reaction.EXECUTE,
            "a dict reader never looks at it: the plan is driven as if it were not there",
        ),
        "out_of_range": Row(
            "a quantity outside the schema's range (qty 0)",
            Reaction.EXECUTE,
            "int(0) is a valid int: the robot visits the bin and picks nothing, the line is lost",
        ),
        "unknown_bin": Row(
            "a pick from a bin the map does not have",
            Reaction.HALT_AT_BIN,
            "the robot drives to where the bin should be and stops: a restart",
        ),
        "plan": Row(
            "a plan the controller can read (stale, incomplete, unsafe, slow or good)",
            Reaction.EXECUTE,
            "nothing checks it: another order's plan loses this order's items, a missing line its "
            "items, an unsafe plan is a safety incident, a slow plan costs its time",
        ),
        "transport": Row("the call fails", Reaction.CRASH, "the client raises"),
        "late": Row(
            "no answer at the decision point",
            Reaction.WAIT,
            "the controller blocks on the call; after client_timeout_s (30 s) it raises",
        ),
    }
)

#: Fields the controller reads from the answer (``via`` only if present).
_FIELDS: Final = ("order_id", "robot_id", "picks", "speed_mps", "end")


@final
@dataclass(frozen=True, slots=True)
class Read:
    """How the pilot's controller reads an answer: the row of :data:`REACTIONS` (``kind``) and the
    plan it drives (``None`` if it crashed first)."""

    kind: str
    plan: Plan | None

    @property
    def reaction(self) -> Reaction:
        return REACTIONS[self.kind].reaction


def read_plan(text: bytes, bins: Mapping[str, Any] | frozenset[str]) -> Read:
    """Read ``text`` as the pilot's controller does (see the module docstring); ``bins`` are the
    map's bin names."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Read("not_json", None)
    if not isinstance(data, dict):
        return Read("wrong_type", None)
    try:
        raw_picks = data["picks"]
        picks = tuple(
            Pick(bin=str(p["bin"]), sku=str(p["sku"]), qty=int(p["qty"])) for p in raw_picks
        )
        speed = float(data["speed_mps"])
        via = tuple((int(x), int(y)) for x, y in data.get("via", ()))
        plan = Plan(
            order_id=str(data["order_id"]),
            robot_id=str(data["robot_id"]),
            picks=picks,
            speed_mps=speed,
            end=str(data["end"]),
            via=via,
        )
    except KeyError:
        return Read("missing_field", None)
    except (TypeError, ValueError):
        return Read("wrong_type", None)
    if not speed > 0:
        return Read("bad_speed", None)
    if any(p.bin not in bins for p in picks):
        return Read("unknown_bin", plan)
    if any(p.qty < 1 for p in picks):
        return Read("out_of_range", plan)
    if set(data) - {*_FIELDS, "via"} or any(set(p) - {"bin", "sku", "qty"} for p in raw_picks):
        return Read("extra_field", plan)
    return Read("plan", plan)


@final
@dataclass(frozen=True, slots=True)
class UnguardedOutcome:
    halted: bool
    downtime_s: float
    unsafe_executed: bool
    items_lost: int
    reason: str


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
    """What the unguarded controller does with an output the gate judged ``mode`` / ``rules``,
    when the text is not at hand (with it, :func:`react` reads it per :data:`REACTIONS`: a
    ``schema`` verdict is then a crash or an execution by kind; here it is a crash).

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
    plan (``stale``), else each line's quantity the plan does not pick (a line left out, or
    picked with a smaller quantity, 0 included)."""
    if mode is FailureMode.STALE:
        return sum(line.qty for line in order.lines)
    picked: dict[tuple[str, str], int] = {}
    for pick in plan.picks:
        key = (pick.bin, pick.sku)
        picked[key] = picked.get(key, 0) + max(0, pick.qty)
    return sum(max(0, line.qty - picked.get((line.bin, line.sku), 0)) for line in order.lines)


def order_items(order: Order) -> int:
    """Items an order asks for (the sum of its lines' quantities)."""
    return sum(line.qty for line in order.lines)


def react(
    mode: FailureMode | None,
    rules: frozenset[str],
    text: bytes,
    order: Order,
    *,
    repaired: bool = False,
    wait_s: float | None = None,
    bins: Mapping[str, Any] | frozenset[str] | None = None,
) -> UnguardedOutcome:
    """What the unguarded controller does with the raw ``text`` the gate judged ``mode`` /
    ``rules``: read as :func:`read_plan` reads it (a reaction of :data:`REACTIONS`), and the
    items of ``order`` a plan it executes loses. ``bins``: the map's bin names (default: a pick
    the gate found no bin for, ``bin_exists``, is an unknown bin)."""
    if mode is FailureMode.TIMEOUT:
        return unguarded_outcome(mode, rules, wait_s=wait_s)
    known: Any = bins if bins is not None else _KnownUnless(BIN_EXISTS in rules)
    read = read_plan(text, known)
    reaction = read.reaction
    if reaction is Reaction.CRASH:
        return UnguardedOutcome(True, RESTART_S, False, 0, f"controller crashed ({read.kind})")
    if reaction is Reaction.HALT_AT_BIN:
        return UnguardedOutcome(True, RESTART_S, False, 0, "halted at unknown bin")
    assert read.plan is not None
    outcome = unguarded_outcome(mode if mode in _EXECUTED_WRONG else None, rules)
    if mode is FailureMode.SCHEMA:
        outcome = UnguardedOutcome(False, 0.0, False, 0, f"executed a plan with {read.kind}")
    return replace(outcome, items_lost=items_missing(read.plan, order, mode))


@final
class _KnownUnless:
    """Bin names for :func:`read_plan` when the map is not at hand: every name, unless the gate
    found an unknown bin (then none)."""

    def __init__(self, unknown: bool) -> None:
        self.unknown = unknown

    def __contains__(self, name: object) -> bool:
        return not self.unknown
