"""The fleet simulator: the pilot reproduced and beaten, outage survived, nothing lost, and the same
figures from the same seed however many processes run it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from plansentry.domains.warehouse.sim import SimConfig, SimConfigError, simulate
from plansentry.domains.warehouse.sim.profiles import PROFILES
from plansentry.domains.warehouse.sim.report import simulation_report


def run(workers: int = 1, **kw) -> dict:
    kw.setdefault("profile", PROFILES["chaos"])
    return simulation_report(simulate(SimConfig(**kw), workers=workers))


def test_pilot_is_reproduced_and_beaten_tenfold() -> None:
    """500,000 cycles of the pilot profile (fixed seed, two processes): unguarded halts on
    0.7 % +- 0.1 % of cycles; guarded has at most 0.005 % model-caused halts (>= 140x), nothing
    unsafe, nothing lost, and at least 98 % of the oracle's throughput."""
    doc = run(workers=2, profile=PROFILES["pilot"], cycles=500_000, seed=1)
    u, g, o = doc["unguarded"], doc["guarded"], doc["oracle"]
    assert u["cycles"] == g["cycles"] == o["cycles"] == 500_000
    assert 0.006 <= u["halt_rate"] <= 0.008, u
    assert g["model_halts"] / g["cycles"] <= 0.00005, g
    assert doc["risk_reduction"] == "inf" or doc["risk_reduction"] >= 140
    assert g["unsafe_executed"] == 0 and g["lost_orders"] == 0
    assert g["items_per_hour"] >= 0.98 * o["items_per_hour"], (g, o)
    assert g["late_decisions"] == 0
    malformed = next(r for r in doc["fmli"] if r["failure_mode"] == "malformed")
    lo, hi = malformed["rate_ci95"]
    assert lo <= 0.007 <= hi  # the profile's 0.7 % is inside the measured interval


def test_outage_keeps_ninety_percent_of_the_oracle_without_halts() -> None:
    doc = run(profile=PROFILES["outage"], cycles=20_000, seed=2)
    g, o, u = doc["guarded"], doc["oracle"], doc["unguarded"]
    assert g["halts"] == 0 and g["lost_orders"] == 0
    assert g["items_per_hour"] >= 0.90 * o["items_per_hour"]
    assert u["halt_rate"] == 1.0  # every cycle: restarts until an operator skips the order
    assert u["lost_orders"] == u["cycles"]
    # The breaker stopped asking a dead model: far fewer calls than decisions.
    assert g["model_calls"] < 0.1 * g["cycles"]


def test_chaos_every_executed_plan_is_safe_by_the_independent_oracle() -> None:
    """With ``audit`` every executed plan is judged cell by cell: the guarded controller executes
    no unsafe plan; the unguarded one executes exactly the unsafe plans the model wrote."""
    audited = run(cycles=4_000, seed=3, judge_all_plans=True)
    labelled = run(cycles=4_000, seed=3, judge_all_plans=False)
    assert audited["guarded"]["unsafe_executed"] == 0
    assert audited["unguarded"]["unsafe_executed"] > 50
    assert audited["unguarded"]["unsafe_executed"] == labelled["unguarded"]["unsafe_executed"]
    modes = {r["failure_mode"] for r in audited["fmli"]}
    assert modes == {"timeout", "transport", "malformed", "schema", "invalid", "unsafe", "stale"}
    for row in audited["fmli"]:
        assert row["halts_guarded"] == 0 and row["unsafe_guarded"] == 0
        assert row["mitigation"], row


@pytest.mark.parametrize("profile", ["pilot", "chaos", "outage"])
def test_nothing_is_lost_every_order_is_done_skipped_or_requeued(profile) -> None:
    sim = simulate(SimConfig(profile=PROFILES[profile], cycles=3_000, seed=4))
    for name, t in sim.tallies.items():
        # Every cycle ends in exactly one of: order done, order lost (counted), order requeued.
        assert t.orders_done + t.lost_orders + t.requeued == t.cycles, name
        issued = t.cycles - t.requeued
        assert issued == 3_000, name


def test_same_seed_same_bytes_other_seed_other_figures() -> None:
    a = json.dumps(run(cycles=3_000, seed=5))
    b = json.dumps(run(cycles=3_000, seed=5))
    c = json.dumps(run(cycles=3_000, seed=6))
    assert a == b
    assert a != c


def test_two_workers_give_the_figures_of_one() -> None:
    kw = {
        "cycles": 8_000,
        "seed": 7,
        "cycles_per_replication": 2_000,
        "sweep_budgets_ms": (50.0, 300.0),
    }
    assert run(workers=2, **kw) == run(workers=1, **kw)


def test_hours_mode_and_the_budget_sweep() -> None:
    doc = run(hours=1.0, hours_per_replication=0.5, seed=8, sweep_budgets_ms=(50.0, 150.0, 500.0))
    sweep = doc["budget_sweep"]
    assert [r["budget_ms"] for r in sweep] == [50.0, 150.0, 500.0]
    assert all(r["halt_rate"] == 0 for r in sweep)
    # A longer budget waits out more of the latency tail: fewer timeouts, never more.
    assert sweep[0]["timeouts"] >= sweep[1]["timeouts"] >= sweep[2]["timeouts"]
    robots = doc["config"]["robots"]
    assert doc["oracle"]["robot_hours"] >= 0.99 * robots * 1.0


def test_calibration_gives_the_pilots_cycle_per_item() -> None:
    doc = run(profile=PROFILES["clean"], cycles=4_000, seed=9)
    assert 0.85 <= doc["oracle"]["items_per_robot_hour"] / (3600 / 0.9) <= 1.15
    # A perfect model is used every time and costs nothing against the oracle.
    assert doc["guarded"]["model_plan_rate"] > 0.99
    assert doc["guarded"]["items_per_hour"] >= 0.99 * doc["oracle"]["items_per_hour"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"robots": 0}, "robots"),
        ({"cycles": None}, "exactly one of cycles and hours"),
        ({"hours": 2.0}, "exactly one of cycles and hours"),
        ({"budget_ms": 0}, "budget_ms"),
        ({"budget_ms": float("nan")}, "budget_ms"),
        ({"restart_s": -1}, "restart_s"),
        ({"closure_p": 2}, "closure_p"),
        ({"sweep_budgets_ms": (100.0, -5.0)}, "sweep budget"),
        ({"handling_s": 1.0}, "handling_s"),
        ({"controllers": ("guarded", "magic")}, "controllers"),
    ],
)
def test_bad_settings_name_the_setting(change, named) -> None:
    base = SimConfig(profile=PROFILES["pilot"], cycles=10)
    with pytest.raises(SimConfigError, match=named):
        replace(base, **change)


def test_workers_must_be_positive() -> None:
    with pytest.raises(SimConfigError, match="workers"):
        simulate(SimConfig(profile=PROFILES["pilot"], cycles=10), workers=0)


def test_an_incomplete_plan_executed_unguarded_loses_the_items_of_its_missing_line() -> None:
    """Every answer leaves one line out (1-3 items, 2 on average): the unguarded controller loses
    every order, and the items of the line each plan left out; the guarded one loses nothing."""
    from plansentry.domains.warehouse.sim.profiles import Profile

    doc = run(profile=Profile(name="drops", faults={"incomplete": 1.0}), cycles=2_000, seed=9)
    u, g, o = doc["unguarded"], doc["guarded"], doc["oracle"]
    assert u["lost_orders"] == u["cycles"] == 2_000
    assert 1.8 < u["items_lost"] / u["lost_orders"] < 2.2
    assert u["items"] + u["items_lost"] == o["items"]
    assert g["items_lost"] == 0 and g["lost_orders"] == 0
