"""The controllers, one decision at a time: the consult decision kept from asking to deciding, the
safe move's cost, late decisions from a fallback overrun, what the gate saw, the pilot's guard."""

from __future__ import annotations

import json
import random
import statistics

import msgspec
import pytest

from plansentry.core.decision import SafeMove
from plansentry.core.failures import FailureMode
from plansentry.domains.warehouse.classical import DECLARED_WCET_MS
from plansentry.domains.warehouse.schema import encode_plan, plan_to_builtins
from plansentry.domains.warehouse.world import fallback_time
from plansentry.sim.controllers import (
    CAUSE_PREFIX,
    GuardedController,
    Job,
    PilotGuardController,
)
from plansentry.sim.synthetic import ModelCall

S = 1_000_000_000


def servable(scene, blocked: bool = False, seed: int = 1):
    """The first task of a seeded stream that is (or is not) blocked."""
    source = scene.world.tasks(random.Random(seed), f"CTL{seed}")  # ids unique to this stream
    return next(t for t in source if t.blocked == blocked)


def job_for(scene, n: int = 0, blocked: bool = False) -> Job:
    return Job(servable(scene, blocked, seed=n + 1), n)


def start(scene) -> int:
    return scene.world.wh.pack_stations[scene.world.stations[0]]


def trip_breaker(ctl: GuardedController, scene, at_s: float) -> None:
    """Five refused calls in a row from another robot: the breaker opens at ``at_s``."""
    ctx = scene.world.context(servable(scene, seed=99), "R9", start(scene))
    for i in range(5):
        ctl.runtime.decide(
            ctx,
            now_ns=int((at_s + i * 0.01) * S),
            output=None,
            latency_ms=10.0,
            transport_error="connection refused",
        )
    assert not ctl.runtime.guard.may_consult(int((at_s + 0.1) * S))


def good_call(scene, ctx, latency_s: float = 0.5) -> ModelCall:
    best = scene.world.best(ctx)
    return ModelCall("", "", encode_plan(best), latency_s)


def test_a_request_not_asked_is_not_turned_into_a_timeout_when_the_breaker_closes_first(
    scene, recorder
) -> None:
    """Asked while the breaker was open, decided after its cool-down: still "not asked", never a
    "never answered" timeout that feeds the breaker a failed probe (the phantom timeout)."""
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    ctl.runtime.guard.hooks.append(recorder)
    trip_breaker(ctl, scene, at_s=1.0)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=2.0)
    assert pending.call is None and pending.ticket.skipped
    ctl.cycle(pending, 60.0)  # the cool-down (5 s) is long over: consulting would be allowed now
    decision = recorder.decisions[-1]
    assert not decision.consulted and decision.failure_mode is None
    assert decision.source == "classical"
    assert FailureMode.TIMEOUT.value not in ctl.tally.modes
    assert ctl.tally.calls == 0


def test_a_drawn_answer_is_not_dropped_when_the_breaker_opens_before_its_decision_point(
    scene, recorder
) -> None:
    """Asked while the breaker was closed, decided after another robot opened it: the answer that
    was asked for is judged (a shadow decision), not thrown away as "not asked"."""
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    ctl.runtime.guard.hooks.append(recorder)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=1.0)
    assert pending.call is not None and not pending.ticket.skipped
    pending.call = good_call(scene, pending.ctx, latency_s=0.5)
    trip_breaker(ctl, scene, at_s=1.1)
    ctl.cycle(pending, 2.0)
    decision = recorder.decisions[-1]
    assert decision.consulted and decision.shadow
    assert decision.failure_mode is None  # the good answer, judged for the record
    assert decision.source == "classical"  # but not used: the breaker is open
    assert ctl.tally.calls == 1


def test_a_blocked_order_holds_then_is_reported_unserved(make_scene) -> None:
    """No plan exists: each decision is a safe move (a halt of stop + hold), the order is requeued
    and asked again, and after max_holds it is reported unserved, its items lost."""
    scene = make_scene(hold_s=2.0, safe_stop_s=0.5, max_holds=3)
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    job = job_for(scene, blocked=True)
    steps, t = [], 10.0
    for _ in range(3):
        pending = ctl.ask(job, "R1", start(scene), at_s=t - 1.0)
        steps.append(ctl.cycle(pending, t))
        job.attempt += 1
        t += steps[-1].busy_s
    assert [s.requeue for s in steps] == [True, True, False]
    assert all(s.busy_s >= 2.5 for s in steps)
    tally = ctl.tally
    assert tally.safe_moves == tally.halts == tally.halted_cycles == 3
    assert tally.lost_orders == 1 and tally.items_lost == job.task.items
    assert tally.model_halts == 0  # no plan exists: not the model's failure
    blocked = tally.modes[CAUSE_PREFIX + "blocked_order"]
    assert blocked.count == blocked.halts == 3 and blocked.items_lost == tally.items_lost


@pytest.mark.parametrize(("overrun_p", "late"), [(1.0, True), (0.0, False)])
def test_a_fallback_overrun_past_the_budget_makes_the_decision_late_and_a_halt(
    make_scene, recorder, overrun_p, late
) -> None:
    """The fallback runs before the wait: one that overruns past the deadline (here: always, by
    seconds) delays the decision past it, a halt with its downtime; within its worst case, never."""
    scene = make_scene(fallback_overrun_p=overrun_p, fallback_overrun_mean_ms=100_000.0)
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    ctl.runtime.guard.hooks.append(recorder)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=1.0)
    pending.call = good_call(scene, pending.ctx)
    ctl.cycle(pending, 5.0)
    decision = recorder.decisions[-1]
    assert decision.on_time is not late
    assert decision.accepted  # the model's plan all the same: only the time is lost
    tally = ctl.tally
    assert (tally.late, tally.halts) == ((1, 1) if late else (0, 0))
    assert (CAUSE_PREFIX + "late_decision" in tally.modes) is late
    overrun = tally.modes.get(CAUSE_PREFIX + "fallback_overrun")
    assert (overrun is not None and overrun.count == 1) is late
    if late:
        assert tally.downtime_s == pytest.approx((decision.decided_ns - 5 * S) / S)


@pytest.mark.parametrize("overrun_p", [0.0, 1.0])
def test_fallback_times_are_the_measured_ones_unless_an_overrun_is_drawn(
    make_scene, overrun_p
) -> None:
    """Within the declared worst case from the measured distribution; past it only as an overrun."""
    scene = make_scene(fallback_overrun_p=overrun_p)
    rng = random.Random(3)
    draws = [scene.fallback_ms(rng) for _ in range(5_000)]
    if overrun_p:
        assert min(draws) > DECLARED_WCET_MS
    else:
        assert min(draws) > 0 and max(draws) <= DECLARED_WCET_MS
        q = fallback_time.QUANTILES_MS  # the measured median, reproduced
        assert q[450] <= statistics.median(draws) <= q[550]


@pytest.mark.parametrize(
    ("label", "wrap", "row"),
    [
        ("", lambda t: b"```json\n" + t + b"\n```", "extracted"),  # good label, fenced text
        ("malformed", lambda t: t, None),  # bad label, bare good text
    ],
)
def test_the_extracted_count_is_what_the_gate_saw_not_the_fault_label(
    scene, label, wrap, row
) -> None:
    """The malformed row's "extracted" comes from the text the gate took a plan out of, whatever
    the simulator's hidden label says."""
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=1.0)
    text = encode_plan(scene.world.best(pending.ctx))
    pending.call = ModelCall(label, "fence", wrap(text), 0.5)
    ctl.cycle(pending, 5.0)
    malformed = ctl.tally.modes.get(FailureMode.MALFORMED.value)
    if row is None:
        assert malformed is None
    else:
        assert malformed.count == 1 and malformed.mitigation == {row: 1}


def pilot_answer(scene, ctx, kind: str) -> ModelCall:
    best = scene.world.best(ctx)
    data = plan_to_builtins(best)
    if kind == "prose":
        return ModelCall("malformed", kind, b"Sure! " + encode_plan(best), 0.5)
    if kind == "extra_field":
        data["priority"] = "high"
    elif kind == "over_speed":
        data["speed_mps"] = 9.0
    elif kind == "unknown_bin":
        data["picks"][0]["bin"] = "Z-99-L"
    elif kind == "late":
        return ModelCall("", "", encode_plan(best), 30.0)
    return ModelCall(kind, kind, json.dumps(data).encode(), 0.5)


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        ("good", "executed"),
        ("prose", "safe_move"),  # json.loads refuses prose: no extraction in the pilot's guard
        ("extra_field", "safe_move"),  # the schema has no such key
        ("late", "safe_move"),  # not there by the deadline
        ("over_speed", "unsafe"),  # valid JSON of the right shape: no domain rule checks speed
        ("unknown_bin", "restart"),  # schema-valid: the robot drives to a bin that is not there
    ],
)
def test_the_pilots_guard_checks_the_schema_and_nothing_else(scene, kind, outcome) -> None:
    """JSON Schema and a safe move: it stops what does not parse or fit the schema, and executes
    anything that does, unsafe or not."""
    ctl = PilotGuardController(scene, seed=1, budget_ms=150.0)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=4.0)
    pending.call = pilot_answer(scene, pending.ctx, kind)
    step = ctl.cycle(pending, 5.0)
    tally = ctl.tally
    assert tally.safe_moves == (outcome == "safe_move")
    assert tally.unsafe_executed == (outcome == "unsafe")
    assert (CAUSE_PREFIX + "restart" in tally.modes) == (outcome == "restart")
    assert step.requeue == (outcome in ("safe_move", "restart"))
    assert tally.halts == (outcome in ("safe_move", "restart"))


def test_the_pilots_guard_waits_at_most_its_budget(scene) -> None:
    """An answer not there by the deadline is a safe move decided at the deadline, whatever the
    budget (here 300 ms)."""
    ctl = PilotGuardController(scene, seed=1, budget_ms=300.0)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=4.0)
    pending.call = pilot_answer(scene, pending.ctx, "late")
    step = ctl.cycle(pending, 5.0)
    hold = scene.config.safe_stop_s + scene.config.hold_s
    assert step.busy_s == pytest.approx(0.3 + hold)
    assert ctl.tally.modes[FailureMode.TIMEOUT.value].count == 1


def test_a_plan_the_guard_accepts_is_executed_and_counted(scene, recorder) -> None:
    """The model's good plan, on time: executed, its items picked, no halt, no row."""
    ctl = GuardedController(scene, seed=1, budget_ms=150.0)
    ctl.runtime.guard.hooks.append(recorder)
    job = job_for(scene)
    pending = ctl.ask(job, "R1", start(scene), at_s=1.0)
    pending.call = good_call(scene, pending.ctx)
    ctl.cycle(pending, 5.0)
    assert recorder.decisions[-1].accepted and not isinstance(recorder.decisions[-1].plan, SafeMove)
    assert ctl.tally.items == job.task.items
    assert ctl.tally.halts == 0 and not ctl.tally.modes
    assert msgspec.structs.asdict(recorder.decisions[-1].plan)["order_id"] == job.task.spec.order_id


@pytest.mark.parametrize(("budget_ms", "accepted"), [(50.0, False), (150.0, True), (500.0, True)])
def test_an_answer_due_after_the_decision_point_is_waited_for_within_the_budget(
    scene, recorder, budget_ms, accepted
) -> None:
    """An answer 100 ms after the decision point: a timeout where the runtime stops waiting at
    50 - 17 ms, the model's plan at 150 or 500 ms (the real-time runtime's wait point)."""
    ctl = GuardedController(scene, seed=1, budget_ms=budget_ms)
    ctl.runtime.guard.hooks.append(recorder)
    pending = ctl.ask(job_for(scene), "R1", start(scene), at_s=4.0)
    pending.call = good_call(scene, pending.ctx, latency_s=1.1)
    ctl.cycle(pending, 5.0)
    decision = recorder.decisions[-1]
    assert decision.accepted is accepted
    assert (decision.failure_mode is FailureMode.TIMEOUT) is not accepted
