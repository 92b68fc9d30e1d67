"""The unguarded controller model: what the pilot's controller did with each kind of output."""

from __future__ import annotations

import pytest

from plansentry.core.failures import FailureMode as M
from plansentry.domains.warehouse.sim.unguarded import (
    CLIENT_TIMEOUT_S,
    RESTART_S,
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
