"""The unguarded controller model: what the pilot's controller did with each kind of output."""

from __future__ import annotations

import json

import pytest

from plansentry.core.failures import FailureMode as M
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.world.unguarded import (
    CLIENT_TIMEOUT_S,
    REACTIONS,
    RESTART_S,
    Reaction,
    react,
    read_plan,
    unguarded_outcome,
)


@pytest.mark.parametrize("mode", [M.MALFORMED, M.EMPTY, M.OVERSIZE, M.SCHEMA, M.TRANSPORT])
def test_unparseable_output_halts_for_a_restart(mode) -> None:
    """Anything a bare json.loads plus field access cannot use crashes the controller: a halt."""
    out = unguarded_outcome(mode, frozenset())
    assert out.halted and out.downtime_s == RESTART_S


def test_fenced_json_halts_the_unguarded_controller() -> None:
    """A valid plan in a code fence passes the gate but not a bare json.loads."""
    assert unguarded_outcome(None, frozenset(), extraction="fence").halted


def test_unknown_bin_halts_at_the_bin() -> None:
    """The robot drives to a bin that is not there and stops."""
    assert unguarded_outcome(M.INVALID, frozenset({"bin_exists"})).halted


def test_unsafe_plan_is_executed() -> None:
    """Nothing stops an unsafe plan: a safety incident, no halt."""
    out = unguarded_outcome(M.UNSAFE, frozenset({"speed_limit"}))
    assert out.unsafe_executed and not out.halted


def test_stale_plan_loses_the_orders_items() -> None:
    """Another order's plan is driven; this order's items are lost."""
    out = unguarded_outcome(M.STALE, frozenset({"order_id"}), missing_items=4)
    assert out.items_lost == 4 and not out.halted


@pytest.mark.parametrize(
    ("wait_s", "halted", "downtime"),
    [
        (2.0, False, 2.0),
        (CLIENT_TIMEOUT_S + 1, True, CLIENT_TIMEOUT_S + RESTART_S),
        (None, False, 0.0),
    ],
)
def test_timeout_costs_the_wait_or_a_client_timeout(wait_s, halted, downtime) -> None:
    """A late answer costs the wait; none within the client timeout halts; unknown is not costed."""
    out = unguarded_outcome(M.TIMEOUT, frozenset(), wait_s=wait_s)
    assert (out.halted, out.downtime_s) == (halted, downtime)


GOOD = {
    "order_id": "O-1",
    "robot_id": "R1",
    "picks": [{"bin": "A-03-L", "sku": "S1", "qty": 2}, {"bin": "A-03-R", "sku": "S2", "qty": 1}],
    "speed_mps": 1.2,
    "end": "PACK-1",
}
BINS = frozenset({"A-03-L", "A-03-R"})


def text_of(change) -> bytes:
    data = json.loads(json.dumps(GOOD))
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (text_of(lambda d: None), "plan"),
        (text_of(lambda d: None)[:-5], "not_json"),  # truncated
        (b"Here it is: " + text_of(lambda d: None), "not_json"),  # prose: no extraction
        (b"```json\n" + text_of(lambda d: None) + b"\n```", "not_json"),
        (text_of(lambda d: d.pop("speed_mps")), "missing_field"),
        (text_of(lambda d: d.update(speed_mps="1.2 m/s")), "wrong_type"),
        (text_of(lambda d: d.update(speed_mps=0)), "bad_speed"),
        (text_of(lambda d: d.update(priority="high")), "extra_field"),
        (text_of(lambda d: d["picks"][0].update(qty=0)), "out_of_range"),
        (text_of(lambda d: d["picks"][1].update(bin="Z-99-L")), "unknown_bin"),
        (b"[1, 2]", "wrong_type"),
    ],
)
def test_the_pilots_controller_reads_each_kind_of_output_as_the_table_says(text, kind) -> None:
    """read_plan puts every output in one row of REACTIONS, by what a dict reader meets."""
    read = read_plan(text, BINS)
    assert read.kind == kind
    assert read.reaction is REACTIONS[kind].reaction
    assert (read.plan is None) == (read.reaction is Reaction.CRASH)


def test_every_row_of_the_reaction_table_says_what_why_and_does_what() -> None:
    """The table is the documented one: each row has a reason and one of the four reactions."""
    assert set(REACTIONS) >= {"not_json", "missing_field", "wrong_type", "extra_field"}
    for row in REACTIONS.values():
        assert row.what and row.why and isinstance(row.reaction, Reaction)


def test_an_extra_key_is_executed_and_a_zero_quantity_loses_its_line(wh) -> None:
    """A schema verdict is not always a crash: a dict reader ignores an extra key (nothing lost)
    and drives a qty of 0 (the line's items lost)."""
    order = make_order("O-1", [("S1", "A-03-L", 2), ("S2", "A-03-R", 1)], wh)
    extra = react(M.SCHEMA, frozenset(), text_of(lambda d: d.update(priority="high")), order)
    zero = react(M.SCHEMA, frozenset(), text_of(lambda d: d["picks"][0].update(qty=0)), order)
    missing = react(M.SCHEMA, frozenset(), text_of(lambda d: d.pop("end")), order)
    assert (extra.halted, extra.items_lost) == (False, 0)
    assert (zero.halted, zero.items_lost) == (False, 2)
    assert missing.halted and missing.downtime_s == RESTART_S
