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
        self._access = {name: b.access for name, b in router.wh.bins.items()}
        # _home(cell, 0, staff-only) of every bin's cell: the open map's nearest stations.
        self._open_home = {c: self._home(c, 0, self._staff) for c in self._access.values()}
        # The open-map distance table with "no route" as a distance no tour can afford.
        self._far_dist = [[_FAR if d == UNREACHABLE else d for d in row] for row in router.leg_dist]

    def _distances(self, cells: list[int], n: int, closed: int) -> list[list[int]]:
        """``dist[i][j]`` for ``i`` in all cells and ``j`` in the first ``n`` (the stops)."""
        router, far = self.router, _FAR
        index = router.poi_index
        if not closed and all(c in index for c in cells):  # the common case: table look-ups
            pois = [index[c] for c in cells]
            table = self._far_dist
            cols = pois[:n]
            return [[row[j] for j in cols] for row in [table[i] for i in pois]]
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
            heuristic: Plan | None = self._classical.plan(ctx).plan
            return heuristic
        wh, router, closed, forbidden = (
            self.router.wh,
            self.router,
            ctx.closed_mask,
            ctx.forbidden_mask,
        )
        access, zones = self._access, wh.cell_zones
        stops = [access[line.bin] for line in order.lines]
        for c in stops:
            if zones[c] & forbidden:
                return None
        dist = self._distances([*stops, ctx.start], n, closed)  # index n is the start
        if not closed and forbidden == self._staff:  # the open map: one look-up per stop
            open_home = self._open_home
            home = [open_home.get(c) or self._home(c, 0, forbidden) for c in stops]
        else:
            home_of = self._home
            home = [home_of(c, closed, forbidden) for c in stops]
        best_tour = _shortest_tour(dist, [h[0] for h in home], n)
        if best_tour is None:
            return None
        end = home[best_tour[-1]][1]
        route = [*(stops[i] for i in best_tour), wh.pack_stations[end]]
        crossed = 0
        index = router.poi_index
        if not closed and ctx.start in index:  # the open map: the table's masks
            masks = router.leg_mask
            prev_poi = index[ctx.start]
            for cell in route:
                poi = index[cell]
                m = masks[prev_poi][poi]
                if m != UNREACHABLE:
                    crossed |= m
                prev_poi = poi
        else:
            prev = ctx.start
            for cell in route:
                crossed |= router.leg(prev, cell, closed)[1]
                prev = cell
        lines = order.lines
        picks = tuple([Pick(x.bin, x.sku, x.qty) for x in [lines[i] for i in best_tour]])
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


@functools.cache
def _flat_steps(n: int) -> tuple[tuple[int, int, int, tuple[int, ...]], ...]:
    """:func:`_steps` for tables stored flat (entry ``subset * n + last``): ``(entry, last,
    entry of the subset without last at stop 0, candidates)``."""
    return tuple((mask * n + j, j, rest * n, cands) for mask, j, rest, cands in _steps(n))


def _shortest_tour(dist: list[list[int]], home: list[int], n: int) -> list[int] | None:
    """The visit order minimising start -> stops -> nearest station (Held-Karp dynamic programme;
    ties go to the lower index). ``dist[n]`` is the row of the start; ``None`` if nothing reaches.

    The tables are flat lists indexed ``subset * n + last``, and each step reads the column of
    its last stop once: the same programme, with fewer indexings per transition."""
    size = n << n
    cost = [_FAR] * size
    parent = [-1] * size
    start = dist[n]
    for j in range(n):
        cost[(1 << j) * n + j] = start[j]
    cols = [[row[j] for row in dist] for j in range(n)]  # cols[j][i] == dist[i][j]
    for entry, j, rest, candidates in _flat_steps(n):
        col = cols[j]
        best, arg = _FAR, -1
        for i in candidates:
            v = cost[rest + i] + col[i]
            if v < best:
                best, arg = v, i
        cost[entry] = best
        parent[entry] = arg
    base = ((1 << n) - 1) * n
    last = min(range(n), key=lambda j: cost[base + j] + home[j])
    if cost[base + last] + home[last] >= _FAR:
        return None
    tour, mask = [], (1 << n) - 1
    while last >= 0:
        tour.append(last)
        mask, last = mask & ~(1 << last), parent[mask * n + last]
    tour.reverse()
    return tour
