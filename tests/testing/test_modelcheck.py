"""The model check of the decider and breaker: it closes on the CI preset with every invariant
holding, it finds injected faults with concrete traces, and its reductions commute with the real
code."""

from __future__ import annotations

import random
from dataclasses import replace
from types import MappingProxyType

import pytest

from plansentry.core import breaker as brk
from plansentry.core import decider as dec
from plansentry.core import fsm
from plansentry.core.breaker import BreakerPhase
from plansentry.core.fsm import TRANSITIONS, Event, State
from plansentry.runtime.config import GuardConfig
from plansentry.testing.modelcheck import CheckResult, check
from plansentry.testing.modelcheck_clocks import canonical, key
from plansentry.testing.modelcheck_invariants import INVARIANTS
from plansentry.testing.modelcheck_liveness import bound, run_from
from plansentry.testing.modelcheck_model import (
    Advance,
    Arrive,
    Ask,
    Decide,
    Model,
    Tick,
    World,
    decisions,
    replay,
    step,
)
from plansentry.testing.modelcheck_presets import PRESETS
from plansentry.testing.modelcheck_timing import concretise

CI = PRESETS["ci"]
S = 1_000_000_000
#: Invariants expected to hold: all of them (probe_asks since finding 2 was fixed).
HOLDING = [i.name for i in INVARIANTS] + ["no_exception", "liveness"]


@pytest.fixture(scope="module")
def ci() -> CheckResult:
    return check(CI.config, in_flight=CI.in_flight)


def _model(in_flight: int = 1) -> Model:
    return Model.of(CI.config, in_flight=in_flight)


def test_ci_preset_reaches_closure(ci: CheckResult) -> None:
    """The CI preset is explored to closure."""
    assert ci.closed and ci.states > 100 and ci.transitions > 10 * ci.states


@pytest.mark.parametrize("name", HOLDING)
def test_ci_preset_holds_the_invariant(ci: CheckResult, name: str) -> None:
    """No reachable input breaks the invariant (today's core, after the fix it led to)."""
    assert ci.counts[name] == 0, next(c.format() for c in ci.counterexamples if c.invariant == name)


def test_ci_preset_fires_every_pair_of_the_table_and_no_other(ci: CheckResult) -> None:
    """Every (state, event) pair of TRANSITIONS is reached; none outside it is fired."""
    assert ci.unreached() == [] and ci.missing == set()
    assert set(ci.coverage) == set(TRANSITIONS)


def test_ci_preset_meets_its_liveness_bound(ci: CheckResult) -> None:
    """The slowest healthy run from any reachable state is within the stated bound."""
    worst, limit = ci.liveness_worst, ci.liveness_bound
    assert 0 < worst[0] <= limit[0] and 0 < worst[1] <= limit[1]


def test_the_one_robot_trace_of_finding_2_stays_within_the_probe_bound() -> None:
    """The trace docs/VERIFICATION.md reported (finding 2, one robot): a probe passes, the next is
    cancelled, a third call is asked. The cancelled call gave its slot back, so the third is the
    second probe out or judged, not a third, and the breaker counts exactly the slots held."""
    out = Arrive("output", "pass", "asked")
    trace = [
        Ask(),
        Decide(0, out, "usable", 1),
        Tick(S, "cool-down"),
        Ask(),
        Decide(0, out, "usable", 0),
    ]
    trace += [Ask(), Decide(0, Arrive("cancelled"), "usable", 0), Ask()]
    world = replay(_model(), tuple(trace))[-1].world
    assert not world.pending[0].skipped and world.pending[0].probe_slot
    assert world.probe_asks == 2 == CI.config.breaker.probes
    assert (world.gs.breaker.probes_ok, world.gs.breaker.probes_out) == (1, 1)


@pytest.mark.pure_core
def test_overlapping_asks_past_the_probe_bound_are_found_when_the_fix_is_undone(
    monkeypatch,
) -> None:
    """Undo the fix of finding 2 (asking reads the state and takes no probe slot): with two
    requests in flight the check finds a third call let through while half-open (probes=2): two
    asks when the cool-down ends, one decided as a passing probe, a third ask."""
    monkeypatch.setattr(dec, "ask", lambda cfg, gs, now: (dec.Asked(dec.skip_reason(gs, now)), gs))
    result = check(CI.config, in_flight=2, max_depth=8, liveness=False)
    c = _found(result, "probe_asks")
    assert not c.spurious and len(c.trace) == 7
    assert replay(_model(2), c.trace)[-1].world.probe_asks == 3


def test_two_requests_in_flight_hold_the_invariants_to_depth_8() -> None:
    """With two requests in flight (an ask, another's decision, then the first's), to depth 8."""
    result = check(CI.config, in_flight=2, max_depth=8)
    assert dict(result.counts) == {} and result.states > 100


def _found(result: CheckResult, name: str):
    (c,) = [c for c in result.counterexamples if c.invariant == name]
    return c


@pytest.mark.pure_core
def test_a_missing_transition_is_found_with_its_trace(monkeypatch) -> None:
    """A pair dropped from the table raises KeyError at some reachable input: found, replayed."""
    pair = (State.DEGRADED, Event.RECOVERED)
    table = {k: v for k, v in TRANSITIONS.items() if k != pair}
    monkeypatch.setattr(fsm, "TRANSITIONS", MappingProxyType(table))
    result = check(CI.config, in_flight=1, max_depth=7, liveness=False)
    c = _found(result, "no_exception")
    assert result.missing == {pair} and "KeyError" in c.message
    with pytest.raises(KeyError):
        replay(_model(), c.trace)


@pytest.mark.pure_core
def test_an_uncapped_backoff_is_found(monkeypatch) -> None:
    """A breaker whose back-off ignores max_cooldown_s breaks the cool-down cap."""

    def uncapped(cfg, state, now_ns, backoff):
        base = int(cfg.cooldown_s * S)
        cool = int(state.cooldown_ns * cfg.backoff) if backoff and state.cooldown_ns else base
        return brk.BreakerState(BreakerPhase.OPEN, 0, (), now_ns + cool, cool, 0)

    monkeypatch.setattr(brk, "_open", uncapped)
    result = check(CI.config, in_flight=1, max_depth=12, liveness=False)
    c = _found(result, "cooldown_cap")
    assert not c.spurious and replay(_model(), c.trace)[-1].world.gs.breaker.cooldown_ns > 2 * S


@pytest.mark.pure_core
def test_a_cooldown_ending_1_ns_early_is_found(monkeypatch) -> None:
    """A threshold off by one nanosecond lets the model be asked during the cool-down."""
    monkeypatch.setattr(
        brk,
        "cooldown_elapsed",
        lambda state, now: state.phase is BreakerPhase.OPEN and now >= state.open_until_ns - 1,
    )
    result = check(CI.config, in_flight=1, max_depth=8, liveness=False)
    c = _found(result, "cooldown")
    assert not c.spurious and "1 ns before the cool-down ends" in c.message


@pytest.mark.pure_core
def test_an_ignored_retry_after_is_found(monkeypatch) -> None:
    """A guard that forgets not_before_ns asks the model before its server's Retry-After."""
    real = dec.skip_reason
    monkeypatch.setattr(
        dec, "skip_reason", lambda gs, now: real(replace(gs, not_before_ns=None), now)
    )
    result = check(CI.config, in_flight=1, max_depth=6, liveness=False)
    c = _found(result, "retry_after")
    assert not c.spurious and "before its server's Retry-After" in c.message


@pytest.mark.pure_core
def test_the_safe_hold_while_probing_bug_is_found_when_the_fix_is_undone(monkeypatch) -> None:
    """Undo the fix (a safe hold while probing keeps the breaker half-open): the check finds the
    KeyError, with a concrete trace through PROBING and SAFE_HOLD to BYPASS."""
    monkeypatch.setattr(brk, "stop_probing", lambda state: state)
    result = check(CI.config, in_flight=1, max_depth=12, liveness=False)
    c = _found(result, "no_exception")
    assert not c.spurious and "KeyError" in c.message
    assert any("SAFE_HOLD, breaker half_open" in line for line in c.labels)
    assert _found(result, "state_matches_breaker").message.endswith("breaker half_open")
    with pytest.raises(KeyError):
        replay(_model(), c.trace)


def test_an_untimeable_trace_is_not_made_concrete() -> None:
    """A request asked when the breaker opened cannot be slow while its 1 s cool-down still has
    2 ns left: no instants realise that, so concretise says so."""
    model = _model(in_flight=2)
    out = Arrive("output", "pass", "asked")
    trace = [Ask(), Ask(), Decide(0, out, "usable", 1)]  # opens the breaker (1 stuck worker)
    trace += [Advance("age", 0)] * (len(model.age_points) - 1)
    trace.append(Decide(0, Arrive("output", "pass", "point"), "usable", 0))
    assert concretise(model, tuple(trace), lambda w, i, o: True) is None


def _walk(seed: int, model: Model):
    """A random walk with arbitrary waits; half the seeds start with the breaker just opened, so
    walks reach half-open periods, probe slots held and counted (the fields the key must carry)."""
    rng = random.Random(seed)
    world = World()
    if seed % 2:
        world = step(model, world, Ask()).world
        world = step(model, world, Decide(0, Arrive("output", "pass"), "usable", 1)).world
    for _ in range(12):
        options = [*decisions(model, world), Tick(rng.choice([1, 7, 10**8, S - 1, S, 3 * S]), "")]
        asks, tick = [o for o in options if isinstance(o, Ask)], options[-1]
        pick = rng.random()
        inp = asks[0] if asks and pick < 0.3 else tick if pick < 0.5 else rng.choice(options)
        world = _try(model, world, inp) or world
        yield world


@pytest.mark.parametrize("seed", range(20))
def test_canonical_worlds_step_like_the_worlds_they_stand_for(seed: int) -> None:
    """The reduction is exact for the real code: from a world reached with arbitrary waits and
    from its canonical form, every input gives the same key (or both raise)."""
    model = _model(in_flight=2)
    for world in _walk(seed, model):
        image = canonical(model, world)
        assert key(model, image) == key(model, world)
        for inp in decisions(model, world):
            a, b = _try(model, world, inp), _try(model, image, inp)
            assert (a is None) == (b is None)
            assert a is None or b is None or key(model, a) == key(model, b)


def test_the_canonical_walks_reach_probe_slots() -> None:
    """The walks above cover the probe slots: a breaker with slots out, and requests in flight
    holding one, counted by the ghost, and not counted."""
    model = _model(in_flight=2)
    worlds = [w for seed in range(20) for w in _walk(seed, model)]
    assert any(w.gs.breaker.probes_out == 2 for w in worlds)
    assert any(w.gs.breaker.probes_ok and w.gs.breaker.probes_out for w in worlds)
    assert any(t.probe_slot and t.counted for w in worlds for t in w.pending)
    assert any(t.probe_slot and not t.counted for w in worlds for t in w.pending)


def _try(model: Model, world: World, inp) -> World | None:
    try:
        return step(model, world, inp).world
    except Exception:
        return None


def test_liveness_bound_of_the_default_configuration() -> None:
    """With two requests in flight and a decision a second: 2 + 120 + 4 + 5 + 3 + 5 decisions."""
    model = Model.of(GuardConfig(), in_flight=2)
    assert bound(model, 2) == (139, 136 * S)


def test_healthy_run_from_a_fresh_trip_waits_out_the_cooldown() -> None:
    """From BYPASS just opened (1 s), a healthy run is refused once, then at 1 s probes twice and
    recovers in two more decisions: 5 decisions, 4 s."""
    model = _model()
    opened = step(model, World(), Ask()).world
    opened = step(model, opened, Decide(0, Arrive("output", "malformed"), "usable", 1)).world
    assert opened.gs.state is State.BYPASS
    run = run_from(model, opened)
    assert (run.nominal, run.decisions, run.elapsed_ns) == (True, 5, 4 * S)


def test_the_check_explores_the_table_the_diagram_draws() -> None:
    """`plansentry fsm --mermaid` draws TRANSITIONS, the table every decision goes through."""
    edges = [line.strip() for line in fsm.mermaid().splitlines()[2:]]
    assert edges == [f"{s.value} --> {t.value}: {e.value}" for (s, e), t in TRANSITIONS.items()]
    assert dec.next_state is fsm.next_state  # which reads TRANSITIONS, as fsm.fire does
