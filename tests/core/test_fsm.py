"""The transition table and its diagram."""

from __future__ import annotations

import pytest

from plansentry.core.fsm import TRANSITIONS, Event, State, fire, mermaid


def test_every_state_is_reachable_from_nominal() -> None:
    """The table connects NOMINAL to every state."""
    seen, frontier = {State.NOMINAL}, [State.NOMINAL]
    while frontier:
        s = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src is s and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(State)


def test_every_state_can_fall_to_safe_hold() -> None:
    """Losing every plan is possible from anywhere."""
    assert all((s, Event.NO_VALID_PLAN) in TRANSITIONS for s in State)


def test_a_pair_missing_from_the_table_is_an_error() -> None:
    """Events the table does not allow in a state raise instead of being ignored."""
    with pytest.raises(KeyError):
        fire(State.BYPASS, Event.MODEL_OK, "no model is consulted in BYPASS")


def test_mermaid_has_one_line_per_transition() -> None:
    """The diagram is the table, edge for edge."""
    text = mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert text.count(" --> ") == len(TRANSITIONS) + 1
    assert "PROBING --> BYPASS: probe_failed" in text
