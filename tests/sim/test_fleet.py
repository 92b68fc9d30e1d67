"""The fleet simulator: the pilot reproduced and beaten, outage survived, every guarded halt
explained by a residual cause, nothing lost unaccounted, and the same figures from the same seed
however many processes run it."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from plansentry.core.errors import ConfigError
from plansentry.sim import SimConfig, SimConfigError, simulate
from plansentry.sim.controllers import CAUSE_PREFIX
from plansentry.sim.profiles import Profile
from plansentry.sim.report import simulation_report
from plansentry.sim.scene import Scene
from warehouse_fixtures import PROFILES


def run(workers: int = 1, **kw) -> dict:
    kw.setdefault("profile", PROFILES["chaos"])
    return simulation_report(simulate(SimConfig(**kw), workers=workers))


def residual(doc: dict, controller: str = "guarded") -> dict[str, dict]:
    return {row["cause"]: row for row in doc["residual"][controller]}


@pytest.fixture(scope="module")
def pilot() -> dict:
    """20,000 cycles of the pilot profile (fixed seed, two processes): about 20 s on a shared
    2-core machine; docs/SIMULATION.md has the 500,000-cycle run."""
    return run(workers=2, profile=PROFILES["pilot"], cycles=20_000, seed=1)


def test_the_pilot_is_reproduced_unguarded(pilot) -> None:
    """Unguarded halts on 0.7 % +- 0.15 % of cycles (calibration: the profile's 0.7 % malformed),
    and the malformed rate's interval holds the profile's 0.7 %."""
    assert 0.0055 <= pilot["unguarded"]["halt_rate"] <= 0.0085, pilot["unguarded"]
    malformed = next(r for r in pilot["fmli"] if r["failure_mode"] == "malformed")
    lo, hi = malformed["rate_ci95"]
    assert lo <= 0.007 <= hi


def test_the_pilot_guarded_halts_only_for_its_residual_causes(pilot) -> None:
    """No halt with a model failure behind it; every halt is a blocked order's safe move or a late
    decision; nothing unsafe executed; at least 98 % of the oracle's throughput."""
    g, o = pilot["guarded"], pilot["oracle"]
    causes = residual(pilot)
    assert g["model_halts"] == 0
    assert g["halts"] == causes["blocked_order"]["halts"] + causes["late_decision"]["halts"]
    assert g["unsafe_executed"] == 0
    assert g["items_per_hour"] >= 0.98 * o["items_per_hour"], (g, o)
    assert g["lost_orders"] == o["lost_orders"]  # the blocked orders: nobody can serve them


def test_the_pilots_guard_executes_what_plansentry_refuses(pilot) -> None:
    """The pilot's guard checks only the schema: a blocked order's plan (into the closure) is
    executed as the unguarded controller executes it; plansentry executes none."""
    p, u = pilot["pilot_guard"], pilot["unguarded"]
    assert p["unsafe_executed"] == u["unsafe_executed"] > 0
    assert p["safe_moves"] > 0 and p["restarts"] == 0  # the profile has no unknown bins
    lo, hi = pilot["pilot_guard_risk_reduction_ci95"]
    assert lo <= pilot["pilot_guard_risk_reduction"] <= hi


def test_risk_reduction_comes_with_its_interval(pilot) -> None:
    """The ratio of halt rates, and its 95 % interval around it."""
    lo, hi = pilot["risk_reduction_ci95"]
    rr = pilot["risk_reduction"]
    if rr == "inf":
        assert hi == "inf" and lo > 1
    else:
        assert lo <= rr <= hi


def test_outage_keeps_ninety_percent_of_the_oracle(pilot) -> None:
    """The model is down: the breaker stops asking, the fallback drives, the only halts are the
    blocked orders'; the unguarded fleet halts on every cycle."""
    doc = run(profile=PROFILES["outage"], cycles=5_000, seed=2)
    g, o, u = doc["guarded"], doc["oracle"], doc["unguarded"]
    assert g["halts"] == residual(doc)["blocked_order"]["halts"]
    assert g["lost_orders"] == o["lost_orders"]
    assert g["items_per_hour"] >= 0.90 * o["items_per_hour"]
    assert u["halt_rate"] == 1.0  # every cycle: restarts until an operator skips the order
    assert u["lost_orders"] == u["cycles"]
    assert g["model_calls"] < 0.1 * g["cycles"]  # the breaker stopped asking a dead model


def test_chaos_every_executed_plan_is_safe_by_the_independent_checker() -> None:
    """With ``judge_all_plans`` every executed plan is judged cell by cell: the guarded controller
    executes no unsafe plan; the unguarded one executes exactly the unsafe plans the model wrote
    (and the blocked orders' plans into their closures)."""
    judged = run(cycles=3_000, seed=3, judge_all_plans=True)
    labelled = run(cycles=3_000, seed=3, judge_all_plans=False)
    assert judged["guarded"]["unsafe_executed"] == 0
    assert judged["unguarded"]["unsafe_executed"] > 50
    assert judged["unguarded"]["unsafe_executed"] == labelled["unguarded"]["unsafe_executed"]
    modes = {r["failure_mode"] for r in judged["fmli"]}
    assert modes == {
        "timeout",
        "transport",
        "malformed",
        "schema",
        "invalid",
        "unsafe",
        "slow",
        "stale",
    }
    for row in judged["fmli"]:
        assert row["unsafe_guarded"] == 0
        assert row["mitigation"], row


def test_slow_answers_are_refused_or_cost_their_time() -> None:
    """A slow answer the cycle-time rule refuses falls back; one within the bound is executed,
    and the residual row says what it cost over the best plan."""
    doc = run(profile=Profile(name="slow", faults={"slow": 0.2}), cycles=2_000, seed=4)
    slow = next(r for r in doc["fmli"] if r["failure_mode"] == "slow")
    accepted = residual(doc)["slow_plan_accepted"]
    assert slow["count"] > 0 and slow["mitigation"] == {"classical": slow["count"]}
    assert accepted["count"] > 0 and accepted["extra_s"] > 0
    # The unguarded robot drives every slow plan and pays for it.
    assert doc["unguarded"]["items_per_hour"] < doc["guarded"]["items_per_hour"]


@pytest.mark.parametrize("profile", ["pilot", "chaos", "outage"])
def test_nothing_is_lost_every_order_is_done_skipped_or_requeued(profile) -> None:
    sim = simulate(SimConfig(profile=PROFILES[profile], cycles=3_000, seed=4, blocked_order_p=0.01))
    for name, t in sim.tallies.items():
        # Every cycle ends in exactly one of: order done, order lost (counted), order requeued.
        assert t.orders_done + t.lost_orders + t.requeued == t.cycles, name
        issued = t.cycles - t.requeued
        assert issued == 3_000, name


def test_every_residual_cause_that_cannot_occur_says_why() -> None:
    """With no blocked orders and no fallback overrun those rows are 0 and say why."""
    doc = run(profile=PROFILES["pilot"], cycles=1_000, seed=5, blocked_order_p=0.0)
    causes = residual(doc)
    assert causes["blocked_order"]["count"] == 0 and not causes["blocked_order"]["can_occur"]
    assert "blocked_order_p is 0" in causes["blocked_order"]["why_not"]
    assert causes["slow_plan_accepted"]["why_not"] == "the profile has no slow answers"
    assert causes["fallback_overrun"]["can_occur"]  # the measured overrun share is not 0


def test_same_seed_same_bytes_other_seed_other_figures() -> None:
    a = json.dumps(run(cycles=1_500, seed=5))
    b = json.dumps(run(cycles=1_500, seed=5))
    c = json.dumps(run(cycles=1_500, seed=6))
    assert a == b
    assert a != c


def test_two_workers_give_the_figures_of_one() -> None:
    kw = {"cycles": 3_000, "seed": 7, "cycles_per_replication": 1_000, "sweep_budgets_ms": (300.0,)}
    assert run(workers=2, **kw) == run(workers=1, **kw)


def test_hours_mode_and_the_budget_sweep() -> None:
    doc = run(hours=0.5, hours_per_replication=0.25, seed=8, sweep_budgets_ms=(50.0, 150.0, 500.0))
    sweep = doc["budget_sweep"]
    assert [r["budget_ms"] for r in sweep] == [50.0, 150.0, 500.0]
    assert [r["budget_ms"] for r in doc["budget_sweep_pilot_guard"]] == [50.0, 150.0, 500.0]
    robots = doc["config"]["robots"]
    assert doc["oracle"]["robot_hours"] >= 0.99 * robots * 0.5


def test_without_plan_ahead_the_model_misses_every_budget() -> None:
    """Asked at the decision point (median 0.9 s against 150 ms), the model's plan is almost never
    there: plansentry falls back (the breaker soon stops asking); the pilot's guard holds and asks
    again (its retry has the hold to arrive), so most orders start with a halt; the unguarded robot
    waits for every answer."""
    doc = run(profile=PROFILES["clean"], cycles=1_500, seed=9, plan_ahead=False, blocked_order_p=0)
    g, p, u, o = (doc[k] for k in ("guarded", "pilot_guard", "unguarded", "oracle"))
    assert g["model_plan_rate"] < 0.05 and g["halts"] == 0
    assert g["items_per_hour"] >= 0.95 * o["items_per_hour"]
    assert p["halt_rate"] > 0.5 and p["items_per_hour"] < 0.9 * o["items_per_hour"]
    assert u["downtime_fraction"] > 0.1 and u["halts"] == 0


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
        ({"blocked_order_p": -0.1}, "blocked_order_p"),
        ({"fallback_overrun_p": float("nan")}, "fallback_overrun_p"),
        ({"fallback_overrun_mean_ms": -5.0}, "fallback_overrun_mean_ms"),
        ({"safe_stop_s": -1.0}, "safe_stop_s"),
        ({"hold_s": 0}, "hold_s"),
        ({"max_holds": 0}, "max_holds"),
        ({"plan_ahead": "yes"}, "plan_ahead"),
        ({"sweep_budgets_ms": (100.0, -5.0)}, "sweep budget"),
        ({"controllers": ("guarded", "magic")}, "controllers"),
    ],
)
def test_bad_settings_name_the_setting(change, named) -> None:
    base = SimConfig(profile=PROFILES["pilot"], cycles=10)
    with pytest.raises(SimConfigError, match=named):
        replace(base, **change)


@pytest.mark.parametrize(
    ("world", "blocked_p", "named"),
    [
        ({"closure_p": 2}, 0.0003, "closure_p"),
        ({"closure_p": 0.6}, 0.6, "at most 1"),
        ({"handling_s": 1.0}, 0.0003, "handling_s"),
        ({"handling_s": "fast"}, 0.0003, "handling_s must be a number"),
        ({"aisles": 3}, 0.0003, "unknown parameter 'aisles'"),
    ],
)
def test_bad_world_settings_name_the_setting(world, blocked_p, named) -> None:
    """The warehouse world checks its own parameters when it is built, before anything runs."""
    config = SimConfig(
        profile=PROFILES["pilot"], cycles=10, blocked_order_p=blocked_p, world_params=world
    )
    with pytest.raises(ConfigError, match=named):
        Scene(config, own_world=True)


def test_workers_must_be_positive() -> None:
    with pytest.raises(SimConfigError, match="workers"):
        simulate(SimConfig(profile=PROFILES["pilot"], cycles=10), workers=0)


def test_an_incomplete_plan_executed_unguarded_loses_the_items_of_its_missing_line() -> None:
    """Every answer leaves one line out (1-3 items, 2 on average): the unguarded controller loses
    every order, and the items of the line each plan left out; the guarded one loses nothing."""
    doc = run(
        profile=Profile(name="drops", faults={"incomplete": 1.0}),
        cycles=2_000,
        seed=9,
        blocked_order_p=0.0,
    )
    u, g, o = doc["unguarded"], doc["guarded"], doc["oracle"]
    assert u["lost_orders"] == u["cycles"] == 2_000
    assert 1.8 < u["items_lost"] / u["lost_orders"] < 2.2
    assert u["items"] + u["items_lost"] == o["items"]
    assert g["items_lost"] == 0 and g["lost_orders"] == 0


def test_residual_rows_are_kept_apart_from_the_failure_modes() -> None:
    """``cause:`` rows never reach the FMLI matrix, which lists failure modes only."""
    sim = simulate(SimConfig(profile=PROFILES["pilot"], cycles=2_000, seed=3, blocked_order_p=0.01))
    assert any(k.startswith(CAUSE_PREFIX) for k in sim.tallies["guarded"].modes)
    doc = simulation_report(sim)
    assert not any(r["failure_mode"].startswith(CAUSE_PREFIX) for r in doc["fmli"])
