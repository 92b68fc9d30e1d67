"""The best plan for an order: every visit order and every pack station tried, on the router's routes.

This is what the simulator's oracle controller executes ("a perfect plan, on time") and what its
synthetic model perturbs. For orders up to :data:`MAX_EXACT_LINES` lines the visit order is exact
(Held-Karp dynamic programming over the router's precomputed leg tables, ending at the nearest pack
station from the last stop); it takes about 20 microseconds for the simulator's 2-5 line orders.
Larger orders fall back to the classical planner's heuristic plan.
"""

from __future__ import annotations

import functools
from typing import Final, final

from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.order import Order, PickContext
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Pick, Plan

MAX_EXACT_LINES: Final = 7


@final
class OptimalPlanner:
    """Shortest-route plans at the fastest speed the route allows; ``None`` if no plan exists."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._classical = ClassicalPlanner(router)
        self._stations = sorted(router.wh.pack_stations.items())
        self._home_cache: dict[tuple[int, int, int], tuple[int, str]] = {}
        self._staff = router.wh.mask_of(["staff_only"])

    def _distances(self, cells: list[int], n: int, closed: int) -> list[list[int]]:
        """``dist[i][j]`` for ``i`` in all cells and ``j`` in the first ``n`` (the stops)."""
        router, far = self.router, 1 << 30
        index = router.poi_index
        if not closed and all(c in index for c in cells):  # the common case: table look-ups
            table = router.leg_dist
            rows = [table[index[c]] for c in cells]
            cols = [index[c] for c in cells[:n]]
            return [[d if (d := row[j]) != UNREACHABLE else far for j in cols] for row in rows]
        out = []
        for a in cells:
            row = []
            for b in cells[:n]:
                d = router.leg(a, b, closed)[0]
                row.append(d if d != UNREACHABLE else far)
            out.append(row)
        return out

    def _home(self, cell: int, closed: int, forbidden: int) -> tuple[int, str]:
        """Distance to, and name of, the nearest usable pack station from ``cell``."""
        key = (cell, closed, forbidden)
        found = self._home_cache.get(key)
        if found is None:
            found = (1 << 30, "")
            for name, station in self._stations:
                if self.router.wh.cell_zones[station] & forbidden:
                    continue
                d = self.router.leg(cell, station, closed)[0]
                if d != UNREACHABLE and d < found[0]:
                    found = (d, name)
            if len(self._home_cache) > 65_536:
                self._home_cache.clear()
            self._home_cache[key] = found
        return found

    def feasible(self, order: Order) -> bool:
        """Whether every bin of ``order`` is open and reaches a pack station with its closures."""
        wh = self.router.wh
        closed = wh.closed_mask(order.closed_zones) if order.closed_zones else 0
        forbidden = closed | self._staff
        for line in order.lines:
            cell = wh.bins[line.bin].access
            if wh.cell_zones[cell] & forbidden or not self._home(cell, closed, forbidden)[1]:
                return False
        return True

    def plan(self, ctx: PickContext) -> Plan | None:
        order = ctx.order
        n = len(order.lines)
        if n > MAX_EXACT_LINES:
            return self._classical.plan(ctx).plan
        wh, router, closed = self.router.wh, self.router, ctx.closed_mask
        stops = [wh.bins[line.bin].access for line in order.lines]
        if any(wh.cell_zones[c] & ctx.forbidden_mask for c in stops):
            return None
        dist = self._distances([*stops, ctx.start], n, closed)  # index n is the start
        home = [self._home(c, closed, ctx.forbidden_mask) for c in stops]
        best_tour = _shortest_tour(dist, [h[0] for h in home], n)
        if best_tour is None:
            return None
        end = home[best_tour[-1]][1]
        crossed, prev = 0, ctx.start
        for cell in [*(stops[i] for i in best_tour), wh.pack_stations[end]]:
            crossed |= router.leg(prev, cell, closed)[1]
            prev = cell
        lines = order.lines
        picks = tuple(Pick(bin=lines[i].bin, sku=lines[i].sku, qty=lines[i].qty) for i in best_tour)
        return Plan(order.order_id, ctx.robot_id, picks, self.router.speed_limit(crossed), end)


_FAR: Final = 1 << 30


@functools.cache
def _steps(n: int) -> tuple[tuple[int, int, int, tuple[int, ...]], ...]:
    """Held-Karp's transitions for ``n`` stops: ``(subset, last, subset without last, candidates
    for the stop before last)``, subsets in order of size."""
    out = []
    for mask in sorted(range(1, 1 << n), key=lambda m: (m.bit_count(), m)):
        if mask.bit_count() < 2:
            continue
        for j in range(n):
            if mask >> j & 1:
                rest = mask & ~(1 << j)
                out.append((mask, j, rest, tuple(i for i in range(n) if rest >> i & 1)))
    return tuple(out)


def _shortest_tour(dist: list[list[int]], home: list[int], n: int) -> list[int] | None:
    """The visit order minimising start -> stops -> nearest station (Held-Karp dynamic programme;
    ties go to the lower index). ``dist[n]`` is the row of the start; ``None`` if nothing reaches."""
    cost = [[_FAR] * n for _ in range(1 << n)]
    parent = [[-1] * n for _ in range(1 << n)]
    start = dist[n]
    for j in range(n):
        cost[1 << j][j] = start[j]
    for mask, j, rest, candidates in _steps(n):
        row = cost[rest]
        best, arg = _FAR, -1
        for i in candidates:
            v = row[i] + dist[i][j]
            if v < best:
                best, arg = v, i
        cost[mask][j] = best
        parent[mask][j] = arg
    full = (1 << n) - 1
    last = min(range(n), key=lambda j: cost[full][j] + home[j])
    if cost[full][last] + home[last] >= _FAR:
        return None
    tour, mask = [], full
    while last >= 0:
        tour.append(last)
        mask, last = mask & ~(1 << last), parent[mask][last]
    tour.reverse()
    return tour
