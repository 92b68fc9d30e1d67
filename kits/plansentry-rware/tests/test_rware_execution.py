"""Execution by rware itself: the fleet controller drives decided plans in a real rware
warehouse, and rware's checker (reading rware's state, not the kit's rules) counts what happened."""

from __future__ import annotations

import subprocess
import sys

import pytest
from msgspec.structs import replace as revise
from plansentry_rware import astar
from plansentry_rware.controllers import ClassicalDecider
from plansentry_rware.execution import (
    FORWARD,
    NOOP,
    Checker,
    Fleet,
    Order,
    make_env,
    read_state,
)


class Scripted:
    """A decider that hands out the plans it was given, then stays."""

    def __init__(self, make):
        self.make = make
        self.given = 0

    def __call__(self, ctx, step):
        plan = self.make(ctx) if self.given == 0 and ctx.robot.robot_id == "R1" else None
        self.given += plan is not None
        return Order(plan, 0, "scripted")


def _place(env, robot: int, cell, direction: int = 1) -> None:
    """Put robot ``robot`` of rware's warehouse on ``cell`` facing ``direction`` (test set-up)."""
    from rware.warehouse import Direction

    wh = env.unwrapped
    agent = wh.agents[robot]
    agent.x, agent.y = cell
    agent.dir = Direction(direction)
    wh._recalc_grid()


#: Shelf 18 stands at [2, 5], in the left storage block of rware-tiny; the way from it straight
#: down to the goals crosses the homes [2, 6], [2, 7] and [2, 8].
SHELF = 18


@pytest.fixture()
def lone_env():
    """rware-tiny with one robot at [0, 0] (a highway corner), facing down; shelf 18 requested."""
    env = make_env("tiny", robots=1, requests=1, seed=7)
    _place(env, 0, (0, 0))
    wh = env.unwrapped
    wh.request_queue = [wh.shelfs[SHELF - 1]]
    return env


def test_the_classical_planner_delivers_in_rware_with_several_robots() -> None:
    """Three robots, 300 steps, the A* planner alone: rware counts deliveries, and no loaded robot
    ever stood on another shelf."""
    env = make_env("tiny", robots=3, seed=1)
    fleet = Fleet(env, ClassicalDecider())
    counts = fleet.run(300)
    assert counts.steps == 300 and counts.robot_steps == 900
    assert counts.deliveries >= 5
    assert counts.loaded_on_shelf == 0 and counts.refused_by_shelf == 0
    assert any(r.outcome == "completed" and r.delivered for r in fleet.records)


def test_a_fetch_driven_to_its_end_is_one_delivery(lone_env) -> None:
    """One robot, the fetch planner's plan: rware's reward counts one delivery, the robot puts the
    shelf down, the plan is completed."""
    fleet = Fleet(lone_env, Scripted(lambda ctx: ClassicalDecider().planner.plan(ctx).plan))
    fleet.run(120)
    first = fleet.records[0]
    assert first.outcome == "completed" and first.delivered == 1
    assert fleet.counts.deliveries == 1
    assert read_state(lone_env).carrying == (None,)


def _shortcut(ctx):
    """The fetch planner's plan with its loaded legs straight through the storage block."""
    plan = ClassicalDecider().planner.plan(ctx).plan
    leg = astar(ctx.layout, plan.to_shelf[-1], (plan.to_goal[-1],), lambda c: True)
    assert plan.shelf == SHELF and leg[:3] == ((2, 6), (2, 7), (2, 8))
    return revise(plan, to_goal=leg)


def test_rware_refuses_a_loaded_robot_into_a_standing_shelf(lone_env) -> None:
    """The kit's ``loaded_through_shelf``: rware agrees, it cancels the move (req_action NOOP),
    and the robot gives the plan up after four refusals."""
    fleet = Fleet(lone_env, Scripted(_shortcut))
    fleet.run(60)
    first = fleet.records[0]
    assert first.outcome == "abandoned" and first.refused.get("shelf") == 4
    assert fleet.counts.refused_by_shelf == 4 and fleet.counts.loaded_on_shelf == 0


def test_rware_lets_a_loaded_robot_cross_an_empty_shelf_home(lone_env) -> None:
    """The kit's ``loaded_off_highway`` refuses this plan; rware executes it and counts the
    delivery: where the two judges disagree (the kit's rule is the stricter)."""
    env = lone_env
    ctx_plan = {}

    def make(ctx):
        plan = _shortcut(ctx)
        ctx_plan["plan"] = plan
        crossed = {c for c in plan.to_goal if c in ctx.layout.shelf_homes}
        wh = env.unwrapped
        for shelf in wh.shelfs:  # empty those homes: the shelves "are away"
            if (shelf.x, shelf.y) in crossed:
                shelf.x, shelf.y = 0, 0
        wh._recalc_grid()
        return plan

    fleet = Fleet(env, Scripted(make))
    fleet.run(120)
    first = fleet.records[0]
    assert first.refused.get("shelf", 0) == 0
    assert first.crossed_empty_home > 0 and first.delivered == 1


def test_a_route_that_jumps_a_cell_cannot_be_driven(lone_env) -> None:
    """The executor halts on a cell that is not one step away (a restart), rware is never asked."""

    def make(ctx):
        plan = ClassicalDecider().planner.plan(ctx).plan
        return revise(plan, to_shelf=plan.to_shelf[:1] + plan.to_shelf[2:])

    fleet = Fleet(lone_env, Scripted(make), restart_steps=5)
    fleet.run(10)
    assert fleet.records[0].outcome == "broken"


def test_the_checker_counts_a_refused_move_from_rwares_state() -> None:
    """Two robots nose to nose, both driving forward: rware refuses both (a swap), the checker
    sees req_action NOOP on each and counts two moves refused by a robot."""
    env = make_env("tiny", robots=2, seed=0)
    _place(env, 0, (0, 0), direction=1)  # down
    _place(env, 1, (0, 1), direction=0)  # up
    checker = Checker(read_state(env))
    _obs, rewards, *_ = env.step([FORWARD, FORWARD])
    now = read_state(env)
    assert now.req_actions == (NOOP, NOOP)
    assert checker.observe([FORWARD, FORWARD], list(rewards), now) == ["robot", "robot"]
    assert checker.counts.refused_by_robot == 2


def test_a_robot_that_stands_still_is_counted_as_a_stall() -> None:
    """Twenty steps without changing cell: one stall, however long it goes on."""
    env = make_env("tiny", robots=1, seed=0)
    fleet = Fleet(env, lambda ctx, step: Order(None, 0, "stay"), stall_steps=20)
    fleet.run(45)
    assert fleet.counts.stalls == 1 and fleet.counts.deliveries == 0
    assert fleet.counts.requests_waiting == 1 and fleet.counts.oldest_request_steps == 45


def test_rware_runs_headless() -> None:
    """A run imports no rendering: pyglet (rware's viewer) is never loaded."""
    code = (
        "import sys\n"
        "from plansentry_rware.execution import Fleet, make_env\n"
        "from plansentry_rware.controllers import ClassicalDecider\n"
        "Fleet(make_env('tiny', robots=2, seed=0), ClassicalDecider()).run(20)\n"
        "print('pyglet' in sys.modules, 'rware.rendering' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False False"


def test_the_same_seed_runs_the_same() -> None:
    """Same seed, same decider: the same counts."""
    runs = [
        Fleet(make_env("tiny", robots=2, seed=4), ClassicalDecider()).run(150) for _ in range(2)
    ]
    assert runs[0] == runs[1]
