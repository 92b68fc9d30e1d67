"""The classical planner: the deterministic baseline of the Simplex architecture.

Visit order by nearest neighbour from where the robot stands, improved by 2-opt (bounded passes), on
the router's shortest routes; the nearest pack station as the end; the fastest speed every crossed
zone allows. Same inputs, same plan, on every machine.

Worst-case time grows with the order size (2-opt is quadratic per pass); ``bench/classical.py``
measures it and :data:`DECLARED_WCET_MS` is what the guard reserves for it.
"""

from __future__ import annotations

from typing import Final, final

from plansentry.core.decision import FallbackOutcome
from plansentry.domains.warehouse.order import PickContext
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Pick, Plan

NAME: Final = "classical"
#: Declared worst-case time (ms) for orders up to MAX_LINES lines on maps up to the default's size;
#: bench/classical.py measures the real figure on this machine (docs/BENCHMARKS.md).
DECLARED_WCET_MS: Final = 20.0
MAX_LINES: Final = 50
MAX_2OPT_PASSES: Final = 8


@final
class ClassicalPlanner:
    """Plans every order it can; returns a :class:`FallbackOutcome` with no plan when it cannot."""

    name = NAME
    wcet_ms = DECLARED_WCET_MS

    def __init__(self, router: Router, *, max_speed_mps: float | None = None) -> None:
        self.router = router
        self.max_speed_mps = max_speed_mps

    def plan(self, ctx: PickContext) -> FallbackOutcome[Plan]:
        wh = self.router.wh
        order = ctx.order
        if len(order.lines) > MAX_LINES:
            return FallbackOutcome(
                NAME, None, (), f"order has {len(order.lines)} lines > {MAX_LINES}"
            )
        closed = ctx.closed_mask
        leg = self.router.leg
        stops = [wh.bins[line.bin].access for line in order.lines]
        for line, cell in zip(order.lines, stops, strict=True):
            if wh.cell_zones[cell] & ctx.forbidden_mask:
                return FallbackOutcome(NAME, None, (), f"bin {line.bin} is in a closed zone")
        cells = [ctx.start, *stops]
        n = len(cells)
        dist = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                if i != j:
                    d, _ = leg(cells[i], cells[j], closed)
                    if d == UNREACHABLE:
                        return FallbackOutcome(NAME, None, (), "no open route between two stops")
                    dist[i][j] = d
        tour = _nearest_neighbour(dist)
        tour = _two_opt(dist, tour)
        last = cells[tour[-1]]
        best_end, best_d = "", UNREACHABLE
        for sname, scell in sorted(wh.pack_stations.items()):
            d, _ = leg(last, scell, closed)
            if d != UNREACHABLE and (best_d == UNREACHABLE or d < best_d):
                best_end, best_d = sname, d
        if not best_end:
            return FallbackOutcome(NAME, None, (), "no pack station reachable")
        route = [cells[i] for i in tour] + [wh.pack_stations[best_end]]
        crossed = 0
        for a, b in zip([ctx.start, *route], route, strict=False):
            crossed |= leg(a, b, closed)[1]
        speed = self.router.speed_limit(crossed)
        if self.max_speed_mps is not None:
            speed = min(speed, self.max_speed_mps)
        picks = tuple(
            Pick(bin=order.lines[i - 1].bin, sku=order.lines[i - 1].sku, qty=order.lines[i - 1].qty)
            for i in tour
        )
        plan = Plan(order.order_id, ctx.robot_id, picks, speed, best_end)
        return FallbackOutcome(NAME, plan)


def _nearest_neighbour(dist: list[list[int]]) -> list[int]:
    """Visit order over stops 1..n-1 starting from 0 (the robot); ties go to the lower index."""
    left = set(range(1, len(dist)))
    tour: list[int] = []
    cur = 0
    while left:
        nxt = min(left, key=lambda j: (dist[cur][j], j))
        tour.append(nxt)
        left.remove(nxt)
        cur = nxt
    return tour


def _two_opt(dist: list[list[int]], tour: list[int]) -> list[int]:
    """2-opt on an open path that starts at 0 (fixed) and visits ``tour``; bounded passes."""
    path = [0, *tour]
    n = len(path)
    for _ in range(MAX_2OPT_PASSES):
        improved = False
        for i in range(1, n - 1):
            for j in range(i + 1, n):
                a, b = path[i - 1], path[i]
                c = path[j]
                d_next = dist[c][path[j + 1]] if j + 1 < n else 0
                b_next = dist[b][path[j + 1]] if j + 1 < n else 0
                before = dist[a][b] + d_next
                after = dist[a][c] + b_next
                if after < before:
                    path[i : j + 1] = reversed(path[i : j + 1])
                    improved = True
        if not improved:
            break
    return path[1:]
