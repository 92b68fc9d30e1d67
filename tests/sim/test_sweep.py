"""Sweeps: the same figures on every engine, and sample sizes grown for the rarest rate."""

from __future__ import annotations

import pytest

from plansentry.report.stats import required_trials, wilson
from plansentry.sim import LocalEngine
from plansentry.sim.profiles import parse_profile
from plansentry.sim.report import sweep_document
from plansentry.sim.sweep import SweepConfig, sweep
from warehouse_fixtures import PROFILES

GRID = SweepConfig(
    profiles=(PROFILES["pilot"], PROFILES["outage"], PROFILES["chaos"]),
    budgets_ms=(50.0, 100.0, 150.0, 300.0, 500.0),
    robots=(2,),
    cycles=1_000,
    seed=3,
    cycles_per_replication=500,
)


#: The drone's world (kits/plansentry-drone, installed on its own as a third party's kit).
DRONE_GRID = SweepConfig(
    profiles=(parse_profile({"name": "chaos", "faults": {"missed_point": 0.05, "stall": 0.02}}),),
    budgets_ms=(150.0, 300.0),
    robots=(2,),
    cycles=300,
    seed=3,
    cycles_per_replication=150,
    domain="drone",
)


def grid_of(engine, grid: SweepConfig = GRID) -> list[dict]:
    return sweep_document(sweep(grid, engine), engine=engine.name, seed=3, ci_rel=None)["grid"]


@pytest.fixture(scope="module")
def local_grid() -> list[dict]:
    return grid_of(LocalEngine(1))


def test_the_grid_covers_every_point_with_its_figures(local_grid) -> None:
    assert len(local_grid) == 15
    assert {(r["profile"], r["budget_ms"]) for r in local_grid} == {
        (p, b) for p in ("pilot", "outage", "chaos") for b in (50.0, 100.0, 150.0, 300.0, 500.0)
    }
    for r in local_grid:
        assert r["guarded"]["unsafe_executed"] == 0 and r["guarded"]["lost_orders"] == 0
        lo, hi = r["guarded"]["halt_rate_ci95"]
        assert lo <= r["guarded"]["halt_rate"] <= hi


def test_two_local_processes_give_the_same_figures(local_grid) -> None:
    assert grid_of(LocalEngine(2)) == local_grid


@pytest.mark.ray
def test_a_local_ray_instance_gives_the_same_figures(local_grid) -> None:
    """5 budgets x 3 profiles on a local Ray instance: identical to the local engine."""
    pytest.importorskip("ray")
    from plansentry.sim.ray import RayEngine

    engine = RayEngine(num_cpus=2)
    try:
        assert grid_of(engine) == local_grid
        assert grid_of(engine, DRONE_GRID) == grid_of(LocalEngine(1), DRONE_GRID)
    finally:
        engine.close()


def test_a_drone_grid_runs_its_own_world() -> None:
    """A sweep of another kit's world: its own faults, rows and figures."""
    grid = grid_of(LocalEngine(1), DRONE_GRID)
    assert len(grid) == 2
    modes = {row["failure_mode"] for point in grid for row in point["fmli"]}
    assert "invalid" in modes  # missed_point: the drone's points_visited rule
    assert all(point["guarded"]["unsafe_executed"] == 0 for point in grid)


def test_sample_size_grows_until_the_rarest_rate_is_estimated_well_enough() -> None:
    """The second stage grows a point to what the rarest rate of its first stage needs; at the
    final size that rate's Wilson half-width is about the relative width asked for. (A rarer rate
    first seen in the second stage is not sized for: the sweep does not run a third stage.)"""
    kw = {
        "profiles": (PROFILES["pilot"],),
        "budgets_ms": (150.0,),
        "robots": (4,),
        "cycles": 2_000,
        "seed": 4,
        "cycles_per_replication": 1_000,
    }
    [(_first, first_rarest)] = sweep(SweepConfig(**kw), LocalEngine(1))
    assert first_rarest is not None
    name, first_rate = first_rarest
    [(run, rarest)] = sweep(SweepConfig(**kw, ci_rel=0.5), LocalEngine(1))
    assert rarest is not None
    assert run.config.cycles > 2_000  # the first stage was not enough for a rate of 0.1-0.3 %
    need = required_trials(first_rate, 0.5)
    assert need <= run.config.cycles < need + 1_000  # grown to it, within a replication
    g = run.tallies["guarded"]
    count = g.modes[name].count
    lo, hi = wilson(count, g.calls)
    assert (hi - lo) / 2 <= 0.6 * count / g.calls  # Wilson's half-width, near the one asked for
    doc = sweep_document([(run, rarest)], engine="local", seed=4, ci_rel=0.5)
    assert doc["grid"][0]["rarest"]["rate_of"] == rarest[0]


def test_the_report_reads_a_sweep(local_grid) -> None:
    from plansentry.report.html import render

    page = render(
        {"kind": "sweep", "engine": "local", "seed": 3, "ci_rel": None, "grid": local_grid}
    )
    assert page.count('class="chart"') == 2  # the budget curves and the rare-event intervals
    assert page.count("<tr><td>") == len(local_grid)
