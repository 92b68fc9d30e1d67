"""The decider: choice of plan, timing judgement, hysteresis, breaker, shadow, SAFE_HOLD."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plansentry.core.breaker import BreakerConfig, BreakerPhase, BreakerState
from plansentry.core.decider import (
    Asked,
    DeciderConfig,
    GuardState,
    ask,
    consult,
    decide,
    release,
    skip_reason,
)
from plansentry.core.decision import Arrival, ArrivalKind, DecisionInput, FallbackOutcome, SafeMove
from plansentry.core.failures import FailureMode, Violation
from plansentry.core.fsm import TRANSITIONS, State
from plansentry.core.gate import Verdict
from plansentry.testing.toy import STEP_LIMIT

MS = 1_000_000
S = 1000 * MS
CFG = DeciderConfig(
    recover_after=3,
    reserve_ns=5 * MS,
    breaker=BreakerConfig(consecutive_failures=3, window=10, min_calls=10, cooldown_s=5, probes=2),
)
GOOD = Verdict(None, (), "llm-plan")
BAD = Verdict(FailureMode.SCHEMA, (Violation("schema", FailureMode.SCHEMA, "no"),))
STEPPED = FallbackOutcome("stepper", "stepper-plan")
NONE = FallbackOutcome("stepper", None, (), "blocked at 3")


def inp(
    now: int,
    *,
    verdict=GOOD,
    kind=ArrivalKind.OUTPUT,
    latency=10 * MS,
    fallbacks=(STEPPED,),
    stuck=0,
):
    at = None if kind in (ArrivalKind.TIMEOUT, ArrivalKind.NOT_ASKED) else now + latency
    arrival = Arrival(kind, b"x", 1, at, "", "v")
    return DecisionInput(
        seq=0,
        request_id="r",
        asked_ns=None if kind is ArrivalKind.NOT_ASKED else now,
        deadline_ns=now + 150 * MS,
        decided_ns=now + 20 * MS,
        arrival=arrival,
        verdict=verdict if kind is ArrivalKind.OUTPUT else None,
        gate_ns=1000,
        fallbacks=fallbacks,
        stuck_workers=stuck,
    )


def test_good_output_is_used() -> None:
    """A verdict that passed makes the model's plan the decision."""
    d, gs = decide(CFG, GuardState(), inp(0))
    assert (d.source, d.plan, d.failure_mode, gs.state) == ("llm", "llm-plan", None, State.NOMINAL)


def test_failure_falls_back_and_degrades() -> None:
    """A refused output falls back to the first usable fallback and moves to DEGRADED."""
    d, gs = decide(CFG, GuardState(), inp(0, verdict=BAD))
    assert (d.source, d.failure_mode, gs.state) == ("stepper", FailureMode.SCHEMA, State.DEGRADED)
    assert d.transitions[0].reason.startswith("schema: no")


def test_output_after_the_cutoff_is_a_timeout_even_if_good() -> None:
    """Lateness is judged by the core from the instants, not trusted from the runtime."""
    d, _ = decide(CFG, GuardState(), inp(0, latency=146 * MS))
    assert d.failure_mode is FailureMode.TIMEOUT and d.source == "stepper"


def test_hysteresis_needs_k_good_decisions() -> None:
    """DEGRADED returns to NOMINAL only after recover_after good decisions in a row."""
    _, gs = decide(CFG, GuardState(), inp(0, verdict=BAD))
    states = []
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i * S))
        states.append(gs.state)
    assert states == [State.DEGRADED, State.DEGRADED, State.NOMINAL]


def test_breaker_opens_to_bypass_and_model_is_not_consulted() -> None:
    """Three failures in a row open the breaker: BYPASS, and consult() says no until cool-down."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    assert gs.state is State.BYPASS and not consult(gs, 1 * S) and consult(gs, 6 * S)
    d, gs2 = decide(CFG, gs, inp(S, kind=ArrivalKind.NOT_ASKED))
    assert d.source == "stepper" and not d.consulted and gs2.state is State.BYPASS


def test_probing_closes_after_probes_and_needs_hysteresis_again() -> None:
    """After the cool-down two good probes close the breaker into DEGRADED, not NOMINAL."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    d, gs = decide(CFG, gs, inp(6 * S))
    assert [t.target for t in d.transitions] == [State.PROBING]
    _, gs = decide(CFG, gs, inp(7 * S))
    assert gs.state is State.DEGRADED and gs.breaker.phase is BreakerPhase.CLOSED


def test_failed_probe_returns_to_bypass_with_longer_cooldown() -> None:
    """A bad probe reopens the breaker for twice the cool-down."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    _, gs = decide(CFG, gs, inp(6 * S, verdict=BAD))
    assert gs.state is State.BYPASS and gs.breaker.cooldown_ns == 10 * S


def test_answer_asked_before_the_trip_is_shadow() -> None:
    """An answer arriving while the breaker is open is judged for the record but not used."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    d, gs2 = decide(CFG, gs, inp(S))
    assert d.shadow and d.source == "stepper" and d.failure_mode is None and gs2 == gs


def test_no_valid_plan_holds_with_the_safe_move() -> None:
    """With the model refused and no fallback plan, the safe move holds: SAFE_HOLD."""
    d, gs = decide(CFG, GuardState(), inp(0, verdict=BAD, fallbacks=(NONE,)))
    assert isinstance(d.plan, SafeMove) and d.source == "safe_move" and gs.state is State.SAFE_HOLD
    assert "blocked at 3" in d.plan.reason


def test_safe_hold_is_left_when_a_plan_exists_again() -> None:
    """The first valid plan after SAFE_HOLD restores DEGRADED (breaker closed)."""
    _, gs = decide(CFG, GuardState(), inp(0, verdict=BAD, fallbacks=(NONE,)))
    _, gs = decide(CFG, gs, inp(S))
    assert gs.state is State.DEGRADED


def test_fallback_with_violations_is_skipped() -> None:
    """A fallback plan that broke a rule is never executed."""
    broken = FallbackOutcome("stepper", "p", (Violation(STEP_LIMIT, FailureMode.UNSAFE, "x"),))
    d, _ = decide(CFG, GuardState(), inp(0, verdict=BAD, fallbacks=(broken, STEPPED)))
    assert d.plan == "stepper-plan"


def test_stuck_workers_force_the_breaker_open() -> None:
    """max_stuck_workers abandoned calls open the breaker with that reason."""
    d, gs = decide(CFG, GuardState(), inp(0, kind=ArrivalKind.TIMEOUT, stuck=4))
    assert gs.state is State.BYPASS and "4 stuck planner workers" in d.transitions[-1].reason


def test_config_refuses_nonsense() -> None:
    """recover_after and reserve must make sense."""
    with pytest.raises(ValueError, match="recover_after"):
        DeciderConfig(recover_after=0)
    with pytest.raises(ValueError, match="reserve_ns"):
        DeciderConfig(reserve_ns=-1)


outcomes = st.sampled_from(["good", "bad", "timeout", "transport", "no_fallback", "late"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(outcomes, st.integers(0, 3 * S)), max_size=60))
def test_any_outcome_sequence_follows_the_table(steps) -> None:
    """Over any sequence: every transition is in the table, the state agrees with the breaker,
    the decision always has a plan, and a model plan is used only when the gate passed it."""
    gs, now = GuardState(), 0
    for outcome, gap in steps:
        now += gap
        asked = consult(gs, now)
        fallbacks = (NONE,) if outcome == "no_fallback" else (STEPPED,)
        if not asked:
            x = inp(now, kind=ArrivalKind.NOT_ASKED, fallbacks=fallbacks)
        elif outcome in ("timeout", "transport"):
            x = inp(now, kind=ArrivalKind(outcome), fallbacks=fallbacks)
        else:
            x = inp(
                now,
                verdict=BAD if outcome in ("bad", "no_fallback") else GOOD,
                latency=200 * MS if outcome == "late" else 10 * MS,
                fallbacks=fallbacks,
            )
        d, nxt = decide(CFG, gs, x)
        for t in d.transitions:
            assert TRANSITIONS[(t.source, t.event)] is t.target
        assert d.state_before is gs.state and d.state_after is nxt.state
        if d.accepted:
            assert outcome == "good" and asked
        assert d.plan is not None
        if nxt.state in (State.NOMINAL, State.DEGRADED):
            assert nxt.breaker.phase is BreakerPhase.CLOSED
        if nxt.state is State.BYPASS:
            assert nxt.breaker.phase is BreakerPhase.OPEN
        if nxt.state is State.PROBING:
            assert nxt.breaker.phase is BreakerPhase.HALF_OPEN
        gs = replace(nxt)


def _probing_with_no_plan():
    """Three failures open the breaker; after the cool-down one probe passes (PROBING, half-open);
    then a decision that did not consult the model (a request refused before the cool-down ended,
    or cancelled) finds no fallback plan either."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    _, gs = decide(CFG, gs, inp(6 * S))
    assert gs.state is State.PROBING and gs.breaker.phase is BreakerPhase.HALF_OPEN
    _, gs = decide(CFG, gs, inp(6 * S, kind=ArrivalKind.NOT_ASKED, fallbacks=(NONE,)))
    return gs


def test_safe_hold_while_probing_holds_an_open_breaker_not_a_half_open_one() -> None:
    """Regression (model check): SAFE_HOLD entered while probing kept the breaker half-open, a
    pair no event of the table leaves; it now reopens it with the cool-down still over."""
    gs = _probing_with_no_plan()
    assert gs.state is State.SAFE_HOLD and gs.breaker.phase is BreakerPhase.OPEN
    assert consult(replace(gs, state=State.BYPASS), 6 * S)


def test_probe_answer_decided_in_a_safe_hold_while_probing_does_not_raise() -> None:
    """Regression (model check): a probe asked before that safe hold and decided in it raised
    KeyError (SAFE_HOLD, probes_passed); it is now a shadow answer, and the fallback restores BYPASS."""
    d, gs = decide(CFG, _probing_with_no_plan(), inp(6 * S))
    assert d.shadow and d.source == "stepper" and gs.state is State.BYPASS


def test_probe_after_leaving_a_safe_hold_while_probing_does_not_raise() -> None:
    """Regression (model check): leaving that safe hold with a fallback gave BYPASS with a half-open
    breaker, so the next probe raised KeyError (BYPASS, probes_passed); probing starts afresh."""
    gs = _probing_with_no_plan()
    assert not consult(gs, 7 * S)
    _, gs = decide(CFG, gs, inp(7 * S, kind=ArrivalKind.NOT_ASKED))
    assert gs.state is State.BYPASS and consult(gs, 7 * S)
    states = []
    for t in (7 * S, 8 * S):
        _, gs = decide(CFG, gs, inp(t))
        states.append(gs.state)
    assert states == [State.PROBING, State.DEGRADED]


def _cooled_down():
    """Three failures open the breaker (cool-down 5 s, 2 probes); at 6 s the cool-down is over."""
    gs = GuardState()
    for i in range(3):
        _, gs = decide(CFG, gs, inp(i, verdict=BAD))
    assert gs.state is State.BYPASS and consult(gs, 6 * S)
    return gs


def test_ask_takes_a_probe_slot_only_while_the_breaker_is_not_closed() -> None:
    """A closed breaker lets calls through without counting them; one whose cool-down is over
    counts each call let through as a probe slot held."""
    asked, gs = ask(CFG, GuardState(), 0)
    assert asked == Asked() and gs == GuardState()
    asked, gs = ask(CFG, _cooled_down(), 6 * S)
    assert asked == Asked(probe_slot=True) and gs.breaker.probes_out == 1


def test_overlapping_asks_while_half_open_let_through_at_most_probes_calls() -> None:
    """Regression (model check, finding 2): two requests made once the cool-down was over and one
    decided as a passing probe left the third request free to call the model (3 calls, probes=2).
    The trace the check found: both asked at 6 s, the first decided (PROBING), then a third ask."""
    gs = _cooled_down()
    first, gs = ask(CFG, gs, 6 * S)
    second, gs = ask(CFG, gs, 6 * S)
    _, gs = decide(CFG, gs, replace(inp(6 * S), probe_slot=first.probe_slot))
    assert gs.state is State.PROBING and (gs.breaker.probes_ok, gs.breaker.probes_out) == (1, 1)
    third, gs = ask(CFG, gs, 6 * S)
    assert third.skipped == "probing: 1 probe calls out and 1 passed of 2"
    assert not third.probe_slot and gs.breaker.probes_out == 1
    _, gs = decide(CFG, gs, replace(inp(6 * S), probe_slot=second.probe_slot))
    assert gs.state is State.DEGRADED and gs.breaker == BreakerState()
    assert ask(CFG, gs, 6 * S) == (Asked(), gs)


def test_requests_made_at_once_after_the_cooldown_take_at_most_probes_slots() -> None:
    """k requests made at once when the cool-down ends: only `probes` call the model."""
    gs = _cooled_down()
    outcomes = []
    for _ in range(4):
        asked, gs = ask(CFG, gs, 6 * S)
        outcomes.append(asked.probe_slot)
    assert outcomes == [True, True, False, False] and gs.breaker.probes_out == 2


def test_a_cancelled_probe_gives_its_slot_back() -> None:
    """A probe given up without a verdict (the real-time runtime's cancel; decided as not asked)
    frees its slot, so the half-open period can still reach `probes` verdicts: the one-robot trace
    of finding 2 is now two probes at most out or passed at any ask."""
    gs = _cooled_down()
    first, gs = ask(CFG, gs, 6 * S)
    _, gs = decide(CFG, gs, replace(inp(6 * S), probe_slot=first.probe_slot))
    _, gs = ask(CFG, gs, 6 * S)
    assert (gs.breaker.probes_ok, gs.breaker.probes_out) == (1, 1)
    gs = release(gs)  # RealtimeRuntime.cancel
    d, gs = decide(CFG, gs, inp(6 * S, kind=ArrivalKind.NOT_ASKED))
    assert not d.consulted and (gs.breaker.probes_ok, gs.breaker.probes_out) == (1, 0)
    third, gs = ask(CFG, gs, 6 * S)
    assert third.probe_slot and (gs.breaker.probes_ok, gs.breaker.probes_out) == (1, 1)
    fourth, gs = ask(CFG, gs, 6 * S)
    assert fourth.skipped.startswith("probing")


def test_a_probe_slot_outlives_the_period_it_was_taken_in() -> None:
    """A probe still out when another probe fails counts against the next half-open period, and its
    decision gives the slot back then."""
    gs = _cooled_down()
    _, gs = ask(CFG, gs, 6 * S)
    second, gs = ask(CFG, gs, 6 * S)
    _, gs = decide(CFG, gs, replace(inp(6 * S, verdict=BAD), probe_slot=True))
    assert gs.state is State.BYPASS and gs.breaker.probes_out == 1
    reopened = gs.breaker.open_until_ns
    asked, gs = ask(CFG, gs, reopened)
    assert asked.probe_slot and gs.breaker.probes_out == 2
    assert ask(CFG, gs, reopened)[0].skipped.startswith("probing")
    d, gs = decide(CFG, gs, replace(inp(reopened), probe_slot=second.probe_slot))
    assert d.accepted and gs.state is State.PROBING and gs.breaker.probes_out == 1


def test_skip_reason_is_a_read_that_knows_the_probe_bound_only_with_the_config() -> None:
    """skip_reason and consult take no slot; with the config they say when all slots are taken."""
    gs = _cooled_down()
    for _ in range(2):
        _, gs = ask(CFG, gs, 6 * S)
    assert skip_reason(gs, 6 * S) == "" and consult(gs, 6 * S)
    assert skip_reason(gs, 6 * S, CFG).startswith("probing") and not consult(gs, 6 * S, CFG)
    assert gs.breaker.probes_out == 2
