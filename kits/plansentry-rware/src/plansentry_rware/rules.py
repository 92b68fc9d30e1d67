"""The rware kit's rules: what makes a plan fresh, valid and safe. Match on the rule-name constants
below (``Violation.rule``), never on the messages.

Freshness (``stale``): the plan names this task (``task_id``) and the model was asked with this
context's version, ``task id @ layout version`` (``asked_version``).

Validity (``invalid``): the plan is for this robot (``robot_id``); its shelf is one the robot may
fetch: requested and standing, or the one it carries (``shelf_requested``); each leg ends where it
must: ``to_shelf`` on the shelf's cell (empty when the robot carries it), ``to_goal`` on a goal
(empty only when the carried shelf is not requested, i.e. already delivered), ``back`` on an
empty shelf home (``leg_end``); each cell is one step up, down, left or right of the one before,
the first from the robot's own cell (``route_step``).

Safety (``unsafe``): every cell is on the floor (``off_grid``); none of the route's first
:data:`~plansentry_rware.context.NEAR_STEPS` cells is one another robot stands on now
(``reserved_cell``); a loaded robot (``to_goal`` and ``back``) never enters a cell where a shelf
stands now (``loaded_through_shelf``: rware would refuse the move) and stays on highways, but for
the cell where it puts the shelf down (``loaded_off_highway``: the kit's own, stricter rule: a
storage cell empty now may have a shelf put back on it by another robot before this one gets
there, so the kit treats every shelf home as closed to a loaded robot; rware judges each move
against the floor as it is then, and lets a loaded robot cross an empty one; see the README's
"where the two judges disagree").

Every rule is evaluated and every violation returned (one per rule and leg, at its first cell);
the cost is linear in the route's cells, which the schema bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, final

from plansentry.core.failures import FailureMode, Violation
from plansentry_rware.context import NEAR_STEPS, RwareContext
from plansentry_rware.layout import Cell
from plansentry_rware.schema import RwarePlan

TASK_ID: Final = "task_id"  # stale: the plan names another task
ASKED_VERSION: Final = "asked_version"  # stale: the model was asked for another task or layout
ROBOT_ID: Final = "robot_id"  # invalid: the plan is for another robot
SHELF_REQUESTED: Final = "shelf_requested"  # invalid: not a shelf this robot may fetch
LEG_END: Final = "leg_end"  # invalid: a leg does not end where it must
ROUTE_STEP: Final = "route_step"  # invalid: a cell is not one step from the one before
OFF_GRID: Final = "off_grid"  # unsafe: a cell outside the floor
RESERVED_CELL: Final = "reserved_cell"  # unsafe: a near cell where another robot stands
LOADED_THROUGH_SHELF: Final = "loaded_through_shelf"  # unsafe: loaded into a standing shelf
LOADED_OFF_HIGHWAY: Final = "loaded_off_highway"  # unsafe: loaded across a storage cell
RULES: Final = frozenset(
    {
        TASK_ID,
        ASKED_VERSION,
        ROBOT_ID,
        SHELF_REQUESTED,
        LEG_END,
        ROUTE_STEP,
        OFF_GRID,
        RESERVED_CELL,
        LOADED_THROUGH_SHELF,
        LOADED_OFF_HIGHWAY,
    }
)

_STALE: Final = FailureMode.STALE
_INVALID: Final = FailureMode.INVALID
_UNSAFE: Final = FailureMode.UNSAFE
_LEGS: Final = ("to_shelf", "to_goal", "back")


@final
class RwareDomain:
    """The gate's domain for rware plans. Pure and thread-safe."""

    plan_type = RwarePlan

    def version(self, ctx: RwareContext) -> str:
        return ctx.version

    def check_fresh(
        self, plan: RwarePlan, ctx: RwareContext, asked_version: str
    ) -> Sequence[Violation]:
        out = []
        if plan.task_id != ctx.task_id:
            why = f"plan is for task {plan.task_id!r}, not {ctx.task_id!r}"
            out.append(Violation(TASK_ID, _STALE, why, "task_id"))
        if asked_version != ctx.version:
            why = f"model was asked for {asked_version!r}, decision is for {ctx.version!r}"
            out.append(Violation(ASKED_VERSION, _STALE, why))
        return out

    def check_rules(self, plan: RwarePlan, ctx: RwareContext) -> Sequence[Violation]:
        """Every rule ``plan`` breaks in ``ctx``, with where and why; empty if none."""
        out: list[Violation] = []
        robot = ctx.robot
        if plan.robot_id != robot.robot_id:
            why = f"plan is for robot {plan.robot_id!r}, not {robot.robot_id!r}"
            out.append(Violation(ROBOT_ID, _INVALID, why, "robot_id"))
        _shelf(plan, ctx, out)
        _leg_ends(plan, ctx, out)
        _steps(plan, ctx, out)
        return out


def _shelf(plan: RwarePlan, ctx: RwareContext, out: list[Violation]) -> None:
    carrying = ctx.robot.carrying
    if carrying is not None:
        if plan.shelf != carrying:
            why = f"the robot carries shelf {carrying}; a plan for shelf {plan.shelf} must wait"
            out.append(Violation(SHELF_REQUESTED, _INVALID, why, "shelf"))
        return
    if plan.shelf not in ctx.requests:
        known = ", ".join(map(str, ctx.requests)) or "none"
        why = f"shelf {plan.shelf} is not one this robot may fetch (requested: {known})"
        out.append(Violation(SHELF_REQUESTED, _INVALID, why, "shelf"))
    elif plan.shelf not in ctx.cell_of:
        why = f"shelf {plan.shelf} is not standing anywhere (another robot carries it)"
        out.append(Violation(SHELF_REQUESTED, _INVALID, why, "shelf"))


def _leg_end(
    leg: str, cells: tuple[Cell, ...], start: Cell, ok: bool, want: str, out: list[Violation]
) -> Cell:
    end = cells[-1] if cells else start
    if not ok:
        where = f"{leg}[{len(cells) - 1}]" if cells else leg
        why = f"{leg} ends at {list(end)}; it must end {want}"
        out.append(Violation(LEG_END, _INVALID, why, where))
    return end


def _leg_ends(plan: RwarePlan, ctx: RwareContext, out: list[Violation]) -> None:
    robot = ctx.robot
    loaded = robot.carrying is not None and robot.carrying == plan.shelf
    shelf_cell = robot.position if loaded else ctx.cell_of.get(plan.shelf)
    if loaded:
        ok = not plan.to_shelf
        want = "where it starts: the robot already carries the shelf (leave it empty)"
    else:
        ok = shelf_cell is not None and (plan.to_shelf[-1:] or (robot.position,))[0] == shelf_cell
        want = f"on shelf {plan.shelf}'s cell {list(shelf_cell) if shelf_cell else '(none)'}"
    end = _leg_end("to_shelf", plan.to_shelf, robot.position, ok, want, out)
    requested = plan.shelf in ctx.requests
    goals = ctx.layout.goals
    if requested or not loaded:
        ok = (bool(plan.to_goal) and plan.to_goal[-1] in goals) or (
            not plan.to_goal and end in goals
        )
        want = f"on a goal ({', '.join(str(list(g)) for g in goals)})"
    else:
        ok = not plan.to_goal
        want = "where it starts: the carried shelf is not requested (leave it empty)"
    end = _leg_end("to_goal", plan.to_goal, end, ok, want, out)
    homes = set(ctx.empty_homes())
    if shelf_cell in ctx.layout.shelf_homes and shelf_cell not in ctx.claimed:
        homes.add(shelf_cell)  # lifted, the shelf leaves its cell empty (unless another claims it)
    ok = bool(plan.back) and plan.back[-1] in homes
    _leg_end("back", plan.back, end, ok, "on an empty shelf home, where no shelf stands", out)


def _steps(plan: RwarePlan, ctx: RwareContext, out: list[Violation]) -> None:
    """Route steps, the floor, reserved cells and the loaded robot's cells, leg by leg."""
    layout = ctx.layout
    prev = ctx.robot.position
    carried = plan.shelf  # lifted on the shelf's cell, carried for the rest of the route
    index = 0  # the cell's place in the whole route, from 1
    for leg in _LEGS:
        cells: tuple[Cell, ...] = getattr(plan, leg)
        loaded = leg != "to_shelf"
        broken: set[str] = set()
        last = len(cells) - 1
        for i, cell in enumerate(cells):
            index += 1
            where = f"{leg}[{i}]"
            if abs(cell[0] - prev[0]) + abs(cell[1] - prev[1]) != 1 and ROUTE_STEP not in broken:
                broken.add(ROUTE_STEP)
                why = f"{where} {list(cell)} is not one step from {list(prev)}"
                out.append(Violation(ROUTE_STEP, _INVALID, why, where))
            prev = cell
            if not layout.inside(cell):
                if OFF_GRID not in broken:
                    broken.add(OFF_GRID)
                    why = f"{where} {list(cell)} is off the {layout.width} x {layout.height} floor"
                    out.append(Violation(OFF_GRID, _UNSAFE, why, where))
                continue
            near = index <= NEAR_STEPS
            if near and cell in ctx.reserved and RESERVED_CELL not in broken:
                broken.add(RESERVED_CELL)
                why = f"{where} {list(cell)}, step {index} of the route, is where another robot stands"
                out.append(Violation(RESERVED_CELL, _UNSAFE, why, where))
            if not loaded:
                continue
            standing = ctx.shelf_at.get(cell)
            if standing is not None and standing != carried and LOADED_THROUGH_SHELF not in broken:
                broken.add(LOADED_THROUGH_SHELF)
                why = f"{where} {list(cell)}: a loaded robot would drive into shelf {standing}"
                out.append(Violation(LOADED_THROUGH_SHELF, _UNSAFE, why, where))
            drop = leg == "back" and i == last
            if not drop and not layout.is_highway(cell) and LOADED_OFF_HIGHWAY not in broken:
                broken.add(LOADED_OFF_HIGHWAY)
                why = f"{where} {list(cell)} is a shelf home, closed to a loaded robot"
                out.append(Violation(LOADED_OFF_HIGHWAY, _UNSAFE, why, where))
