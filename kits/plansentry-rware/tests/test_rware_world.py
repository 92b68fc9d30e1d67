"""The rware world in plansentry's simulator: it conforms, its checker is its own (a cell walk
against the floor and the scene, not the kit's rules), execution time follows rware's steps, and
``plansentry simulate --domain rware`` is reproducible from its seed."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import msgspec
import pytest
from plansentry_rware import RwarePlan, rware_kit
from plansentry_rware.world import RwareWorld
from rware_helpers import path, rules_broken

from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode
from plansentry.runtime.world import Reaction, WorldSettings
from plansentry.testing import check_domain


def cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "plansentry.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def world() -> RwareWorld:
    kit = rware_kit()
    assert kit.world is not None
    built = kit.world(WorldSettings(blocked_p=0.2))
    assert isinstance(built, RwareWorld)
    return built


def test_the_rware_kit_and_its_world_conform(kit, ctx, world) -> None:
    """check_domain over 120 of the world's tasks, a fifth of them blocked."""
    report = check_domain(kit, [ctx], timing=False, world=world, world_tasks=120)
    assert report.ok, report.problems


def test_a_blocked_task_has_no_plan_and_the_unaware_plan_walks_into_a_robot(kit, world) -> None:
    task = next(t for t in world.tasks(random.Random(4), "B") if t.blocked)
    ctx = world.context(task, "R1", world.start(0))
    assert world.best(ctx) is None
    naive = world.best_unaware(ctx)
    assert any(v.mode is FailureMode.UNSAFE for v in kit.domain.check_rules(naive, ctx))
    assert world.unsafe(naive, ctx)


def test_the_checker_walks_cells_and_disagrees_where_documented(ctx, world) -> None:
    """The example: R1 at [0, 0], shelves at home. A loaded step into a standing shelf is
    unsafe to both judges; a loaded step across an empty shelf home is unsafe to the rules
    (loaded_off_highway) and safe to the checker (rware allows it)."""
    plan = world.best(ctx)
    assert plan is not None and not world.unsafe(plan, ctx)
    pickup = plan.to_shelf[-1]
    x, y = pickup
    beside = next(
        c for c in ((x - 1, y), (x + 1, y)) if c in ctx.layout.shelf_homes and c in ctx.shelf_at
    )
    into = msgspec.structs.replace(plan, to_goal=(beside, pickup, *plan.to_goal))
    assert "loaded_through_shelf" in rules_broken(into, ctx)
    assert world.unsafe(into, ctx)
    emptied = type(ctx)(
        ctx.task_id,
        ctx.robot,
        ctx.requests,
        tuple((s, c) for s, c in ctx.shelves if c != beside),
        ctx.reserved,
        ctx.layout,
    )
    assert "loaded_off_highway" in rules_broken(into, emptied)
    assert "loaded_through_shelf" not in rules_broken(into, emptied)
    assert not world.unsafe(into, emptied)


def test_off_the_floor_and_into_a_robot_nearby_are_unsafe_to_the_checker(ctx, world) -> None:
    plan = world.best(ctx)
    assert plan is not None
    off = msgspec.structs.replace(plan, to_shelf=((0, 0), *plan.to_shelf), back=plan.back)
    assert world.unsafe(msgspec.structs.replace(plan, to_shelf=((0, 12),)), ctx)
    assert not world.unsafe(off, ctx)  # a step in place is no collision (it is a broken route)
    near = type(ctx)(
        ctx.task_id,
        ctx.robot,
        ctx.requests,
        ctx.shelves,
        frozenset({plan.to_shelf[1]}),
        ctx.layout,
    )
    assert world.unsafe(plan, near)


def test_execution_time_counts_rware_steps(ctx, world) -> None:
    """Straight ahead: a step a cell, plus lifting and putting down; a quarter turn one step
    more, a half turn two."""
    base = RwarePlan(task_id="R1-1", robot_id="R1", shelf=5, to_shelf=(), to_goal=(), back=())
    straight = msgspec.structs.replace(base, to_shelf=path([1, 0], [2, 0], [3, 0]))
    assert world.execute_s(straight, ctx) == 3 + 2
    turn = msgspec.structs.replace(base, to_shelf=path([1, 0], [1, 1]))
    assert world.execute_s(turn, ctx) == 2 + 1 + 2
    back = msgspec.structs.replace(base, to_shelf=path([1, 0], [0, 0]))
    assert world.execute_s(back, ctx) == 2 + 2 + 2
    assert world.after(turn, ctx) == (1, 1)


@pytest.mark.parametrize(
    ("text", "reaction"),
    [
        (b"not json", Reaction.CRASH),
        (b'{"task_id": "R1-1", "robot_id": "R1"}', Reaction.CRASH),
        (
            b'{"task_id": "R1-1", "robot_id": "R1", "shelf": 5, "to_shelf": [[2, 0]], '
            b'"to_goal": [], "back": []}',
            Reaction.HALT,
        ),
        (
            b'{"task_id": "R1-1", "robot_id": "R1", "shelf": 5, "to_shelf": [[1, 0]], '
            b'"to_goal": [], "back": []}',
            Reaction.EXECUTE,
        ),
    ],
    ids=["not-json", "missing", "jump", "drivable"],
)
def test_the_pilots_controller_reads_as_the_kits_pilot(world, ctx, text, reaction) -> None:
    assert world.read(text, ctx).reaction is reaction


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"others": 2.5}, "others"),
        ({"requests": 0}, "requests"),
        ({"step_s": 0}, "step_s"),
        ({"wind": 3}, "unknown parameter 'wind'"),
    ],
)
def test_bad_world_parameters_are_named(params, named) -> None:
    kit = rware_kit()
    assert kit.world is not None
    with pytest.raises(ConfigError, match=named):
        kit.world(WorldSettings(params=params))


def test_simulate_for_rware_is_reproducible_and_worker_independent() -> None:
    """The same seed, one worker or two: the same document; the guard executes nothing the
    world's checker calls unsafe, the unguarded pilot does."""
    args = ("simulate", "--domain", "rware", "--profile", "chaos", "--cycles", "1500")
    one = cli(*args, "--seed", "3", "--json")
    two = cli(*args, "--seed", "3", "--json", "--workers", "2", "--world", "others=3")
    doc, other = json.loads(one), json.loads(two)
    assert other.pop("config")["world_params"] == {"others": "3"}  # the default, given
    assert {k: v for k, v in doc.items() if k != "config"} == other
    assert doc["config"]["domain"] == "rware" and doc["guarded"]["cycles"] >= 1500
    assert doc["guarded"]["unsafe_executed"] == 0 < doc["unguarded"]["unsafe_executed"]


def test_sweep_runs_for_rware() -> None:
    """One grid point: the guard executes nothing unsafe there either."""
    args = ["sweep", "--domain", "rware", "--budgets", "150", "--profiles", "pilot"]
    out = json.loads(cli(*args, "--cycles", "400", "--max-cycles", "400", "--json"))
    (point,) = out["grid"]
    assert (point["profile"], point["budget_ms"], point["cycles"]) == ("pilot", 150.0, 400)
    assert point["guarded"]["unsafe_executed"] == 0
