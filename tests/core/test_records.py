"""The core's records behave as frozen dataclasses in either build (the compiled one writes their
constructors out, docs/ARCHITECTURE.md "The compiled core"): equal by value, hashable, refusing
assignment, rebuilt by ``dataclasses.replace``, ``copy`` and ``pickle``."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from plansentry.core.breaker import BreakerPhase, BreakerState
from plansentry.core.decider import Asked, GuardState
from plansentry.core.decision import Arrival, ArrivalKind, Decision, FallbackOutcome, SafeMove
from plansentry.core.failures import FailureMode, Violation
from plansentry.core.fsm import Event, State, Transition
from plansentry.core.gate import Verdict
from plansentry.core.strictjson import Extracted, ExtractError

VIOLATION = Violation("bin_exists", FailureMode.INVALID, "no bin 'X'", "picks[0].bin")
RECORDS = [
    VIOLATION,
    Transition(State.NOMINAL, State.DEGRADED, Event.MODEL_FAILED, "malformed: x"),
    BreakerState(BreakerPhase.OPEN, 2, ((True, False),), 5, 6, 1, 2),
    GuardState(State.BYPASS, BreakerState(BreakerPhase.OPEN), 3, 99),
    Asked("breaker open", probe_slot=True),
    Arrival(ArrivalKind.TRANSPORT, b"", 0, 7, "reset", "O-1@1", 8),
    SafeMove("no fallbacks", "land"),
    Extracted(b"{}", "fence"),
    ExtractError(empty=True, detail="output is empty"),
    Verdict(FailureMode.INVALID, (VIOLATION,), None, ("trailing_comma",), "bare"),
    FallbackOutcome("stepper", None, (VIOLATION,), "plan broke bin_exists", True),
    Decision(
        1, "r1", "safe_move", SafeMove("x"), FailureMode.TIMEOUT, (VIOLATION,), (), 1, None,
        9, 10, 11, 12, State.NOMINAL, State.DEGRADED, (), True, False, "",
    ),
]  # fmt: skip


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_a_record_is_a_frozen_value(record) -> None:
    """Equal to its rebuilt copies, with the same hash; assignment and deletion refused."""
    for twin in (
        copy.copy(record),
        copy.deepcopy(record),
        pickle.loads(pickle.dumps(record)),
        dataclasses.replace(record),
    ):
        assert twin == record and hash(twin) == hash(record) and twin is not record
        assert repr(twin) == repr(record)
    first = dataclasses.fields(record)[0].name
    with pytest.raises(AttributeError):  # FrozenInstanceError is one
        setattr(record, first, None)
    with pytest.raises(AttributeError):
        delattr(record, first)


def test_a_record_replaced_changes_only_what_it_is_told() -> None:
    """``dataclasses.replace`` goes through the written-out constructor, keywords and all."""
    changed = dataclasses.replace(VIOLATION, path="picks[1].bin")
    assert (changed.rule, changed.mode, changed.detail, changed.path) == (
        "bin_exists",
        FailureMode.INVALID,
        "no bin 'X'",
        "picks[1].bin",
    )
    assert Violation("r", FailureMode.SCHEMA, "d").path == ""  # the defaults are the dataclass's
    assert Arrival(ArrivalKind.TIMEOUT) == Arrival(ArrivalKind.TIMEOUT, b"", 0, None, "", "", None)
