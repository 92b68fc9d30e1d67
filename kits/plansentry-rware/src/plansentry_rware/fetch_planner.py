"""The fetch planner: the deterministic baseline behind the model, A* on the grid
(:mod:`plansentry_rware.router`).

Of the requested standing shelves it may fetch, it tries the :data:`CANDIDATES` nearest the robot
(Manhattan distance, ties to the lower id), and for each plans the legs out, around the other
robots that stand near it (``RwareContext.near_reserved``): unloaded to the shelf, and loaded to
the nearest reachable goal over highways only. It takes the shortest of these (ties to the lower
shelf id) and plans it back, loaded over highways, to the nearest empty shelf home (the shelf's
own cell counts), or, when none is in reach, the next shortest. A robot that already carries a
shelf gets the legs that remain. Same context, same plan, on every machine. It follows the kit's
rules by construction, so its plan passes the gate.

No plan, and why, when no candidate has all three legs (the other robots hold the way, or every
goal); the guard then takes the safe action (stay).

Its worst-case time grows with the floor's cells and :data:`CANDIDATES`;
``bench/fallback_wcet.py`` measures it and :data:`DECLARED_WCET_MS` is what the guard reserves.
"""

from __future__ import annotations

from typing import Final, final

from plansentry.core.decision import FallbackOutcome
from plansentry_rware.context import RwareContext
from plansentry_rware.layout import Cell
from plansentry_rware.router import astar
from plansentry_rware.schema import RwarePlan

NAME: Final = "fetch_planner"
#: Requested shelves tried at most, nearest first: bounds the planner's time by 3 x this many
#: A* searches, whatever the request queue's length.
CANDIDATES: Final = 4
#: Declared worst-case time (ms) on rware's registered floors (up to large, 16 x 29) with up to
#: 19 robots and 38 requests, on a core the guard has to itself. bench/fallback_wcet.py on this
#: project's 2-core VM (300 moments a floor and fleet, 5 runs each): the costliest moment's best
#: run 4.7 ms (large, 2 robots), the most CPU one run took 6.9 ms, the slowest run 24.8 ms with
#: other jobs on both cores; with a load of 10 on the 2 cores single runs took 33-460 ms, which
#: no declaration covers.
DECLARED_WCET_MS: Final = 40.0


def _outbound(
    ctx: RwareContext, shelf: int, shelf_cell: Cell, loaded: bool
) -> tuple[tuple[Cell, ...], tuple[Cell, ...]] | None:
    """The legs to the shelf (unloaded) and on to a goal (loaded), or ``None``."""
    layout, reserved = ctx.layout, ctx.near_reserved()
    to_shelf: tuple[Cell, ...] = ()
    if not loaded:
        if shelf_cell in reserved:
            return None
        found = astar(layout, ctx.robot.position, (shelf_cell,), lambda c: c not in reserved)
        if found is None:
            return None
        to_shelf = found
    to_goal: tuple[Cell, ...] = ()
    if shelf in ctx.requests:
        goals = [g for g in layout.goals if g not in reserved]
        highways = layout.highways
        leg = astar(layout, shelf_cell, goals, lambda c: c in highways and c not in reserved)
        if leg is None:
            return None
        to_goal = leg
    return to_shelf, to_goal


def _back(ctx: RwareContext, shelf_cell: Cell, start: Cell) -> tuple[Cell, ...] | None:
    """Loaded, over highways, from ``start`` to the nearest empty shelf home (the shelf's own
    cell counts: lifted, the shelf leaves it empty, unless another plan claims it), or ``None``."""
    layout, reserved = ctx.layout, ctx.near_reserved()
    highways = layout.highways
    homes = set(ctx.empty_homes())
    if shelf_cell in layout.shelf_homes and shelf_cell not in ctx.claimed:
        homes.add(shelf_cell)
    back = astar(layout, start, homes, lambda c: c in highways and c not in reserved)
    return back or None


@final
class FetchPlanner:
    """Plans a fetch whenever one exists within its candidates; a :class:`FallbackOutcome`
    without a plan (and why) otherwise. Never raises."""

    name = NAME
    wcet_ms = DECLARED_WCET_MS

    def plan(self, ctx: RwareContext) -> FallbackOutcome[RwarePlan]:
        robot = ctx.robot
        if robot.carrying is not None:
            candidates = [(robot.carrying, robot.position, True)]
        else:
            x, y = robot.position
            standing = [(s, ctx.cell_of[s]) for s in sorted(set(ctx.requests)) if s in ctx.cell_of]
            standing.sort(key=lambda sc: (abs(sc[1][0] - x) + abs(sc[1][1] - y), sc[0]))
            candidates = [(s, c, False) for s, c in standing[:CANDIDATES]]
            if not candidates:
                return FallbackOutcome(NAME, None, (), "no requested shelf is standing")
        outbound = []
        for shelf, cell, loaded in candidates:
            legs = _outbound(ctx, shelf, cell, loaded)
            if legs is not None:
                outbound.append((len(legs[0]) + len(legs[1]), shelf, cell, legs))
        outbound.sort(key=lambda o: (o[0], o[1]))
        best = None
        for _length, shelf, cell, (to_shelf, to_goal) in outbound:
            end = to_goal[-1] if to_goal else (to_shelf[-1] if to_shelf else robot.position)
            back = _back(ctx, cell, end)
            if back is not None:
                best = (shelf, to_shelf, to_goal, back)
                break
        if best is None:
            why = f"no route to fetch any of shelves {[c[0] for c in candidates]} and return it"
            return FallbackOutcome(NAME, None, (), why)
        shelf, to_shelf, to_goal, back = best
        plan = RwarePlan(
            task_id=ctx.task_id,
            robot_id=robot.robot_id,
            shelf=shelf,
            to_shelf=to_shelf,
            to_goal=to_goal,
            back=back,
        )
        return FallbackOutcome(NAME, plan)
