"""The kit's rules, one rule per test: each broken by a plan mutated from the fetch planner's, the
rest left intact."""

from __future__ import annotations

from dataclasses import replace

import pytest
from msgspec.structs import replace as revise
from plansentry_rware import (
    ASKED_VERSION,
    LEG_END,
    LOADED_OFF_HIGHWAY,
    LOADED_THROUGH_SHELF,
    NEAR_STEPS,
    OFF_GRID,
    RESERVED_CELL,
    ROBOT_ID,
    ROUTE_STEP,
    SHELF_REQUESTED,
    TASK_ID,
    Robot,
    RwareDomain,
    astar,
)
from rware_helpers import path, rules_broken

from plansentry.core.failures import FailureMode


def test_the_fetch_planners_plan_breaks_no_rule(good_plan, ctx) -> None:
    """The baseline's plan for the example passes every rule."""
    assert rules_broken(good_plan, ctx) == set()


def test_the_plan_fetches_a_requested_shelf_and_returns_it(good_plan, ctx) -> None:
    """The example's plan: to a requested shelf, to a goal, back to an empty home."""
    assert good_plan.shelf in ctx.requests
    assert good_plan.to_shelf[-1] == ctx.cell_of[good_plan.shelf]
    assert good_plan.to_goal[-1] in ctx.layout.goals
    assert good_plan.back[-1] in ctx.layout.shelf_homes


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"task_id": "R1-0"}, TASK_ID),
        ({"robot_id": "R9"}, ROBOT_ID),
    ],
)
def test_a_plan_for_another_task_or_robot_is_refused(good_plan, ctx, change, rule) -> None:
    """Another task's plan is stale; another robot's is invalid."""
    assert rule in rules_broken(revise(good_plan, **change), ctx)


def test_a_plan_asked_for_another_version_is_stale(good_plan, ctx) -> None:
    """The model was asked with another task or layout version."""
    found = RwareDomain().check_fresh(good_plan, ctx, "R1-0@rware-tiny")
    assert [v.rule for v in found] == [ASKED_VERSION]


def test_an_unrequested_shelf_is_refused(good_plan, ctx) -> None:
    """Shelf 1 stands at home but nobody asked for it."""
    assert SHELF_REQUESTED in rules_broken(revise(good_plan, shelf=1), ctx)


def test_a_requested_shelf_that_another_robot_carries_is_refused(good_plan, ctx) -> None:
    """Requested, but not standing anywhere: another robot has it."""
    away = replace(ctx, shelves=tuple(s for s in ctx.shelves if s[0] != good_plan.shelf))
    assert SHELF_REQUESTED in rules_broken(good_plan, away)


def test_a_leg_that_stops_short_is_refused(good_plan, ctx) -> None:
    """to_goal one cell short of the goal."""
    broken = rules_broken(revise(good_plan, to_goal=good_plan.to_goal[:-1]), ctx)
    assert LEG_END in broken


def test_a_route_that_jumps_a_cell_is_refused(good_plan, ctx) -> None:
    """A cell left out: two cells in one step."""
    legs = good_plan.to_goal
    assert ROUTE_STEP in rules_broken(revise(good_plan, to_goal=legs[:2] + legs[3:]), ctx)


def test_a_cell_off_the_floor_is_unsafe(good_plan, ctx) -> None:
    """A detour through column 10 of a 10-column floor."""
    x, y = ctx.robot.position
    plan = revise(good_plan, to_shelf=path((x, y + 1), (ctx.layout.width, y + 1)))
    found = RwareDomain().check_rules(plan, ctx)
    assert OFF_GRID in {v.rule for v in found}
    assert all(v.mode is FailureMode.UNSAFE for v in found if v.rule == OFF_GRID)


def test_a_near_cell_where_another_robot_stands_is_unsafe(good_plan, ctx) -> None:
    """R2 stands on the route's second cell: it will still be there."""
    held = replace(ctx, reserved=frozenset({good_plan.to_shelf[1]}))
    assert RESERVED_CELL in rules_broken(good_plan, held)


def test_a_far_cell_where_another_robot_stands_now_is_not_judged(good_plan, ctx) -> None:
    """R2 stands on the route's fifth cell: by then it has moved or not, which the snapshot
    cannot say (rware refuses the move if it has not, and the controller replans)."""
    assert NEAR_STEPS < 5
    held = replace(ctx, reserved=frozenset({good_plan.cells()[4]}))
    assert rules_broken(good_plan, held) == set()


def test_a_home_another_plan_will_put_its_shelf_on_is_not_empty(good_plan, ctx) -> None:
    """Shelf 20 is away; its empty home is a drop cell, until another robot's plan claims it."""
    home = ctx.cell_of[20]
    away = replace(ctx, shelves=tuple(s for s in ctx.shelves if s[0] != 20))
    highways = ctx.layout.highways
    leg = astar(ctx.layout, good_plan.to_goal[-1], (home,), lambda c: c in highways)
    plan = revise(good_plan, back=leg)
    assert rules_broken(plan, away) == set()
    assert LEG_END in rules_broken(plan, replace(away, claimed=frozenset({home})))


def _loaded_shortcut(ctx, plan):
    """The plan's to_goal routed over every cell (shelves and highways alike)."""
    start = plan.to_shelf[-1]
    leg = astar(ctx.layout, start, (plan.to_goal[-1],), lambda c: True)
    return revise(plan, to_goal=leg)


def test_a_loaded_robot_through_a_standing_shelf_is_unsafe(good_plan, ctx) -> None:
    """Straight down the storage column, where shelves stand: rware would refuse the move."""
    plan = _loaded_shortcut(ctx, good_plan)
    assert any(c in ctx.shelf_at for c in plan.to_goal)
    broken = rules_broken(plan, ctx)
    assert {LOADED_THROUGH_SHELF, LOADED_OFF_HIGHWAY} <= broken


def test_a_loaded_robot_across_an_empty_shelf_home_is_unsafe_by_the_kits_own_rule(
    good_plan, ctx
) -> None:
    """The same shortcut with those homes empty: rware would let it pass; the kit does not
    (a shelf may be put back there before the robot arrives)."""
    plan = _loaded_shortcut(ctx, good_plan)
    crossed = {c for c in plan.to_goal if c in ctx.layout.shelf_homes}
    empty = replace(
        ctx, shelves=tuple(s for s in ctx.shelves if s[1] not in crossed or s[0] == plan.shelf)
    )
    broken = rules_broken(plan, empty)
    assert LOADED_OFF_HIGHWAY in broken and LOADED_THROUGH_SHELF not in broken


def test_the_shelf_may_go_back_to_its_own_home(ctx, good_plan) -> None:
    """Lifted, the shelf leaves its home empty: back may end there."""
    home = good_plan.to_shelf[-1]
    leg = astar(ctx.layout, good_plan.to_goal[-1], (home,), lambda c: c in ctx.layout.highways)
    plan = revise(good_plan, back=leg)
    assert rules_broken(plan, ctx) == set()


def test_regression_the_shelfs_own_cell_is_no_drop_cell_when_another_plan_claims_it(
    ctx, good_plan
) -> None:
    """A shelf put down on a home another robot's plan will drop on (by a plan the kit refused,
    driven unguarded): fetching it, the plan may not return it there. Before the fix the kit
    accepted it and rware refused the loaded robot's last move into the other robot's shelf
    (bench/side_by_side.py, chaos, pilot_guard seed 1)."""
    home = good_plan.to_shelf[-1]
    assert rules_broken(good_plan, ctx) == set() and good_plan.back[-1] == home
    claimed = replace(ctx, claimed=frozenset({home}))
    assert LEG_END in rules_broken(good_plan, claimed)


def test_back_onto_a_home_where_a_shelf_stands_is_refused(ctx, good_plan) -> None:
    """Another shelf stands on the drop cell."""
    other = next(c for s, c in ctx.shelves if s != good_plan.shelf)
    leg = astar(ctx.layout, good_plan.to_goal[-1], (other,), lambda c: c in ctx.layout.highways)
    broken = rules_broken(revise(good_plan, back=leg), ctx)
    assert LEG_END in broken and LOADED_THROUGH_SHELF in broken


def test_a_robot_carrying_a_requested_shelf_goes_straight_to_a_goal(kit, ctx) -> None:
    """Loaded already: to_shelf empty, the rest as usual."""
    shelf = ctx.requests[0]
    on_road = (0, 2)
    loaded = replace(
        ctx,
        robot=Robot("R1", on_road, shelf),
        shelves=tuple(s for s in ctx.shelves if s[0] != shelf),
    )
    plan = kit.fallbacks[0].plan(loaded).plan
    assert plan is not None and plan.to_shelf == () and plan.shelf == shelf
    assert rules_broken(plan, loaded) == set()
    assert LEG_END in rules_broken(revise(plan, to_shelf=path((0, 3))), loaded)


def test_a_robot_carrying_a_delivered_shelf_only_returns_it(kit, ctx) -> None:
    """Loaded with a shelf no longer requested: no to_goal, back to a home."""
    loaded = replace(
        ctx, robot=Robot("R1", (0, 2), 1), shelves=tuple(s for s in ctx.shelves if s[0] != 1)
    )
    plan = kit.fallbacks[0].plan(loaded).plan
    assert plan is not None and plan.to_goal == () and plan.shelf == 1
    assert rules_broken(plan, loaded) == set()
    assert SHELF_REQUESTED in rules_broken(revise(plan, shelf=5), loaded)


def test_every_violation_names_a_declared_rule(kit, good_plan, ctx) -> None:
    """The rule names a plan can break are the kit's declared ones."""
    plan = revise(good_plan, shelf=1, to_goal=good_plan.to_goal[:1], robot_id="X")
    assert rules_broken(plan, ctx) <= kit.rules
