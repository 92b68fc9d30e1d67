"""An independent safety audit of executed plans: walks the cells the robot drives.

It shares nothing with the gate's rules but the definition of the route (``Router.path``, what the
robot actually drives): adjacency, floor cells, closed and staff-only zones and the speed limit are
re-derived from the cells themselves. The simulator and the demo count unsafe plans executed with
it, and the tests use it to check the gate.
"""

from __future__ import annotations

import itertools

from plansentry.core.decision import SafeMove
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.order import PickContext
from plansentry.domains.warehouse.router import Router
from plansentry.domains.warehouse.schema import Plan


def route_cells(plan: Plan, ctx: PickContext, wh: Warehouse, router: Router) -> list[int] | None:
    """The cells the robot would drive for ``plan`` (``None`` if a waypoint is unknown or cut off)."""
    waypoints = [ctx.start]
    for x, y in plan.via:
        if not wh.in_bounds(x, y):
            return None
        waypoints.append(wh.cell(x, y))
    for pick in plan.picks:
        found = wh.bins.get(pick.bin)
        if found is None:
            return None
        waypoints.append(found.access)
    end = wh.pack_stations.get(plan.end)
    if end is None:
        return None
    waypoints.append(end)
    cells = [ctx.start]
    for a, b in itertools.pairwise(waypoints):
        leg = router.path(a, b, ctx.closed_mask)
        if not leg:
            return None
        cells.extend(leg[1:])
    return cells


def unsafe_reasons(
    plan: Plan | SafeMove, ctx: PickContext, wh: Warehouse, router: Router
) -> list[str]:
    """Why executing ``plan`` would be unsafe, judged cell by cell; empty if it is safe."""
    if isinstance(plan, SafeMove):
        return []  # holding still is safe by definition
    cells = route_cells(plan, ctx, wh, router)
    if cells is None:
        return ["route does not exist"]
    out = []
    staff = {c for z in wh.zones.values() if z.kind == "staff_only" for c in z.cells}
    closed = {c for name in ctx.order.closed_zones for c in wh.zones[name].cells}
    limit = wh.max_speed_mps
    for prev, cell in itertools.pairwise(cells):
        (x0, y0), (x1, y1) = wh.xy(prev), wh.xy(cell)
        if abs(x0 - x1) + abs(y0 - y1) > 1:
            out.append(f"jump from {(x0, y0)} to {(x1, y1)}")
    for cell in cells:
        if cell not in wh.free:
            out.append(f"cell {wh.xy(cell)} is not floor")
        if cell in staff:
            out.append(f"cell {wh.xy(cell)} is staff-only")
        if cell in closed:
            out.append(f"cell {wh.xy(cell)} is closed")
        for z in wh.zones.values():
            if z.speed_limit_mps is not None and cell in z.cells:
                limit = min(limit, z.speed_limit_mps)
    if plan.speed_mps > limit:
        out.append(f"speed {plan.speed_mps} over {limit}")
    return out
