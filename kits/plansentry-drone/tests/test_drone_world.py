"""The drone's world in plansentry's simulator: it conforms, its checker is its own, and the
round trip (a profile simulated with an audit log, fitted, simulated again) holds for the drone as
it does for the warehouse."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from plansentry_drone import drone_kit
from plansentry_drone.world import DroneWorld

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.report.fit import bonferroni_z
from plansentry.report.stats import wilson
from plansentry.runtime.world import Reaction, WorldSettings
from plansentry.testing import check_domain

#: A user's profile of their own: every fault the drone writes, a stall that never answers.
PROFILE = """\
name: ours
faults: {malformed: 0.02, schema: 0.01, missed_point: 0.02, unsafe: 0.03, stale: 0.01,
         stall: 0.01, transport: 0.01}
median_s: 2.5
sigma: 0.45
"""
CYCLES = 6000


def cli(*args: str, timeout_s: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def world() -> DroneWorld:
    kit = drone_kit()
    assert kit.world is not None
    built = kit.world(WorldSettings(blocked_p=0.2))
    assert isinstance(built, DroneWorld)
    return built


def test_the_drone_kit_and_its_world_conform(kit, ctx) -> None:
    """check_domain over 80 of the world's missions, a fifth of them blocked."""
    report = check_domain(kit, [ctx], timing=False, world_tasks=80)
    assert report.ok, report.problems


def test_a_blocked_mission_has_a_point_no_plan_reaches(world) -> None:
    """A blocked mission's oracle has no plan; the unaware plan flies into a zone, which the
    rules and the world's own checker both call unsafe."""
    kit = drone_kit()
    task = next(t for t in world.tasks(__import__("random").Random(4), "B") if t.blocked)
    ctx = world.context(task, "DR-1", world.start(0))
    assert world.best(ctx) is None
    naive = world.best_unaware(ctx)
    assert any(v.mode is FailureMode.UNSAFE for v in kit.domain.check_rules(naive, ctx))
    assert world.unsafe(naive, ctx)


def test_the_checker_judges_incursions_the_rules_also_the_clearance(world, ctx) -> None:
    """A waypoint in a zone: unsafe to both. One 5 m from the zone, outside it: unsafe to the
    rules (the 10 m clearance), safe to the checker, which judges what the drone touches (the
    documented disagreement: the gate is the stricter judge)."""
    kit = drone_kit()
    plan = kit.fallbacks[0].plan(ctx).plan
    assert plan is not None and not world.unsafe(plan, ctx)
    # the school: a circle of 150 m round (1300, 300). The plan rounds it through corners the
    # router keeps 10 m clear; between two of them, a waypoint 7.5 m from the circle.
    school, radius = (1300.0, 300.0), 150.0
    i = min(
        range(1, len(plan.waypoints)),
        key=lambda k: math.dist(plan.waypoints[k][:2], school),
    )
    a, b = plan.waypoints[i - 1], plan.waypoints[i]
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    gap = math.dist(mid, school)
    t = (radius + 7.5) / gap
    near_point = (school[0] + (mid[0] - school[0]) * t, school[1] + (mid[1] - school[1]) * t)
    into_wp = (*school, a[2])
    near_wp = (*near_point, a[2])
    into = msgspec.structs.replace(
        plan, waypoints=(*plan.waypoints[:i], into_wp, *plan.waypoints[i:])
    )
    near = msgspec.structs.replace(
        plan, waypoints=(*plan.waypoints[:i], near_wp, *plan.waypoints[i:])
    )
    assert any(v.rule == "no_fly_zone" for v in kit.domain.check_rules(into, ctx))
    assert world.unsafe(into, ctx)
    near_rules = {v.rule for v in kit.domain.check_rules(near, ctx)}
    assert near_rules == {"no_fly_zone"}, near_rules
    assert not world.unsafe(near, ctx)


@pytest.mark.parametrize(
    ("text", "reaction"),
    [
        (b"not json", Reaction.CRASH),
        (b'{"mission_id": "M", "drone_id": "D"}', Reaction.CRASH),
        (
            b'{"mission_id": "M", "drone_id": "D", "waypoints": [[0, 0, 30]], '
            b'"speed_mps": 0, "end": "home"}',
            Reaction.CRASH,
        ),
        (
            b'{"mission_id": "M", "drone_id": "D", "waypoints": [[0, 0, 30]], '
            b'"speed_mps": 5, "end": "the moon"}',
            Reaction.HALT,
        ),
        (
            b'{"mission_id": "M", "drone_id": "D", "waypoints": [[0, 0, 30]], '
            b'"speed_mps": 5, "end": "home", "extra": 1}',
            Reaction.EXECUTE,
        ),
    ],
    ids=["not-json", "missing", "no-speed", "unknown-end", "extra-key"],
)
def test_the_pilots_controller_reads_as_a_plain_controller(world, ctx, text, reaction) -> None:
    """What crashes the controller, what halts it, what it flies anyway."""
    assert world.read(text, ctx).reaction is reaction


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"battery_wh": 0}, "battery_wh"),
        ({"max_points": 2.5}, "max_points"),
        ({"hover_s": "long"}, "hover_s must be a number"),
        ({"wind": 3}, "unknown parameter 'wind'"),
    ],
)
def test_bad_world_parameters_are_named(params, named) -> None:
    kit = drone_kit()
    assert kit.world is not None
    with pytest.raises(ConfigError, match=named):
        kit.world(WorldSettings(params=params))


def test_simulate_for_the_drone_is_reproducible_and_worker_independent() -> None:
    """The same seed, one worker or two: the same document."""
    args = ["simulate", "--domain", "drone", "--profile", "chaos", "--cycles", "1500"]
    one = cli(*args, "--seed", "3", "--json")
    two = cli(*args, "--seed", "3", "--json", "--workers", "2", "--world", "max_points=5")
    doc, other = json.loads(one), json.loads(two)
    assert other.pop("config")["world_params"] == {"max_points": "5"}  # the default, given
    assert {k: v for k, v in doc.items() if k != "config"} == other
    assert doc["config"]["domain"] == "drone" and doc["guarded"]["cycles"] >= 1500
    assert doc["guarded"]["unsafe_executed"] == 0 < doc["unguarded"]["unsafe_executed"]


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory) -> dict:
    """A profile of the user's own, simulated with an audit log, fitted, and fmli of the log."""
    tmp = tmp_path_factory.mktemp("drone-round")
    profile = tmp / "ours.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    log = tmp / "ours.jsonl"
    common = ["--domain", "drone", "--cycles", str(CYCLES), "--controllers", "guarded"]
    cli("simulate", "--profile", str(profile), *common, "--seed", "1", "--audit-log", str(log))
    fitted = tmp / "fitted.yaml"
    fit = json.loads(cli("fit", str(log), "-o", str(fitted), "--json"))
    fmli = json.loads(cli("fmli", str(log), "--json"))
    again = json.loads(cli("simulate", "--profile", str(fitted), *common, "--seed", "2", "--json"))
    return {"fit": fit, "fmli": fmli, "again": again, "profile": profile}


def test_the_fit_names_the_drone_and_its_faults(round_trip) -> None:
    fit = round_trip["fit"]
    assert fit["domain"] == "drone"
    assert "missed_point" in {r["kind"] for r in fit["rates"]}


@pytest.mark.parametrize(
    "kind", ["malformed", "schema", "missed_point", "unsafe", "stale", "stall", "transport"]
)
def test_round_trip_rates_lie_in_the_simultaneous_intervals(round_trip, kind) -> None:
    """Each of the profile's rates (among calls that answer, as the fit counts them) lies in the
    fitted rate's simultaneous 95 % interval."""
    import yaml

    faults = yaml.safe_load(Path(round_trip["profile"]).read_text())["faults"]
    stall = faults["stall"]
    truth = faults[kind] if kind == "stall" else faults[kind] / (1 - stall)
    rows = {r["kind"]: r for r in [*round_trip["fit"]["rates"], round_trip["fit"]["stall"]]}
    lo, hi = rows[kind]["simultaneous_ci95"]
    assert lo <= truth <= hi, (kind, truth, lo, hi)


def test_the_fitted_latency_median_is_the_profiles(round_trip) -> None:
    assert round_trip["fit"]["latency"]["median_s"] == pytest.approx(2.5, rel=0.10)


def test_simulating_the_fit_reproduces_the_logs_rates(round_trip) -> None:
    """Each failure mode's rate in the fitted profile's simulation (another seed) lies in the
    log's own simultaneous 95 % interval (Bonferroni over the modes)."""
    logged = {r["failure_mode"]: r for r in round_trip["fmli"]["fmli"]}
    calls = round_trip["fmli"]["guarded"]["model_calls"]
    z = bonferroni_z(len(logged))
    simulated = {r["failure_mode"]: r for r in round_trip["again"]["fmli"]}
    for mode, row in logged.items():
        lo, hi = wilson(row["count"], calls, z)
        rate = simulated[mode]["rate"] if mode in simulated else 0.0
        assert lo <= rate <= hi, (mode, rate, lo, hi)
