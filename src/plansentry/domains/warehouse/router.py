"""Shortest routes on the grid, and which zones they cross, as table look-ups.

A robot drives from waypoint to waypoint along the breadth-first shortest path on the floor cells it
may use (never staff-only cells, never a zone the order closed); ties break by a fixed neighbour
order, so the route is a pure function of the map, the closures and the two cells. The gate, the
classical planner and the simulator all use this one definition.

Legs between points of interest (bin access cells and pack stations) are precomputed on the open map
when the router is built. Closures only remove cells, so a precomputed path that avoids every closed
zone is still a shortest path; only legs that cross a closed zone, or start at a via-point, need a
search, and its result is cached per (start, closures).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from plansentry.domains.warehouse.map import Warehouse

UNREACHABLE: Final = -1


@final
@dataclass(frozen=True, slots=True)
class Tree:
    """Breadth-first tree from one cell: distance, parent and crossed-zone mask of reached cells."""

    dist: dict[int, int]
    parent: dict[int, int]
    mask: dict[int, int]


@final
class Router:
    """Route look-ups for one map. Thread-safe; ``cache_size`` bounds the searches kept, and
    ``poi_rows_size`` the rows from a cell to every point of interest kept from them."""

    def __init__(self, wh: Warehouse, *, cache_size: int = 512, poi_rows_size: int = 4_096) -> None:
        self.wh = wh
        self._staff = wh.mask_of(["staff_only"])
        # Floor neighbours of every cell, in the fixed tie-breaking order, computed once.
        self._adj: list[tuple[int, ...]] = [
            wh.neighbours(c) if c in wh.free else () for c in range(wh.width * wh.height)
        ]
        pois = sorted({b.access for b in wh.bins.values()} | set(wh.pack_stations.values()))
        self.poi_index: dict[int, int] = {c: i for i, c in enumerate(pois)}
        self._pois = pois
        self.leg_mask: list[list[int]] = []
        self.leg_dist: list[list[int]] = []
        for src in pois:
            tree = self._search(src, 0)
            self.leg_mask.append([tree.mask.get(dst, UNREACHABLE) for dst in pois])
            self.leg_dist.append([tree.dist.get(dst, UNREACHABLE) for dst in pois])
        self._cache: OrderedDict[tuple[int, int], Tree] = OrderedDict()
        self._cache_size = cache_size
        self._poi_rows: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        self._poi_rows_size = poi_rows_size
        self._lock = threading.Lock()
        self._limits: dict[int, float] = {}
        # Per point of interest, the open-map distance to its nearest pack station (-1: none),
        # and the fastest limit of a route that must cross given zones and end at a station.
        station_cols = [self.poi_index[c] for c in wh.pack_stations.values()]
        self.station_dist: list[int] = [
            min((d for j in station_cols if (d := row[j]) != UNREACHABLE), default=UNREACHABLE)
            for row in self.leg_dist
        ]
        self._station_limits: dict[int, float] = {}

    def _search(self, src: int, closed: int) -> Tree:
        wh = self.wh
        blocked = self._staff | closed
        zones = wh.cell_zones
        adj = self._adj
        dist = {src: 0}
        parent = {src: src}
        mask = {src: zones[src]}
        if zones[src] & blocked or src not in wh.free:
            return Tree(dist, parent, mask)
        queue = deque([src])
        while queue:
            c = queue.popleft()
            d, m = dist[c] + 1, mask[c]
            for n in adj[c]:
                if n not in dist and not zones[n] & blocked:
                    dist[n] = d
                    parent[n] = c
                    mask[n] = m | zones[n]
                    queue.append(n)
        return Tree(dist, parent, mask)

    def tree(self, src: int, closed: int) -> Tree:
        """The (cached) search tree from ``src`` with the zones in ``closed`` removed."""
        key = (src, closed)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        tree = self._search(src, closed)
        with self._lock:
            self._cache[key] = tree
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return tree

    def leg(self, a: int, b: int, closed: int) -> tuple[int, int]:
        """``(distance in cells, crossed-zone mask)`` from ``a`` to ``b``; distance -1 if no route."""
        ia, ib = self.poi_index.get(a), self.poi_index.get(b)
        if ib is not None:
            if ia is not None:
                m = self.leg_mask[ia][ib]
                if m == UNREACHABLE:
                    return UNREACHABLE, 0
                if not m & closed:
                    return self.leg_dist[ia][ib], m
            rows = self._poi_rows.get((a, closed))
            if rows is None:
                rows = self._rows_to_pois(a, closed)
            d = rows[0][ib]
            return (UNREACHABLE, 0) if d == UNREACHABLE else (d, rows[1][ib])
        tree = self.tree(a, closed)
        found = tree.dist.get(b)
        if found is None:
            return UNREACHABLE, 0
        return found, tree.mask[b]

    def _rows_to_pois(self, a: int, closed: int) -> tuple[list[int], list[int]]:
        """Distance and crossed-zone mask from ``a`` to every point of interest with the zones in
        ``closed`` removed (what :meth:`leg` reads; kept for ``poi_rows_size`` pairs, a few
        hundred bytes each, where a whole search tree costs tens of kilobytes)."""
        tree = self.tree(a, closed)
        dist, mask = tree.dist, tree.mask
        rows = (
            [dist.get(p, UNREACHABLE) for p in self._pois],
            [mask.get(p, 0) for p in self._pois],
        )
        with self._lock:
            if len(self._poi_rows) >= self._poi_rows_size:
                self._poi_rows.clear()
            self._poi_rows[a, closed] = rows
        return rows

    def open_distances(self, sources: Sequence[int], targets: Sequence[int]) -> list[list[int]]:
        """``[[leg(a, b, 0)[0] for b in targets] for a in sources]``: open-map distances in cells
        (-1 where there is no route), read from the table wherever both ends are points of
        interest. The floor graph is undirected, so these distances are symmetric."""
        idx = self.poi_index
        columns = [j for b in targets if (j := idx.get(b)) is not None]
        table = len(columns) == len(targets)
        out = []
        for a in sources:
            row = idx.get(a)
            if table and row is not None:
                dists = self.leg_dist[row]
                out.append([dists[j] for j in columns])
            else:
                out.append([self.leg(a, b, 0)[0] for b in targets])
        return out

    def _open_map_leg_ok(self, a: int, b: int, closed: int) -> bool:
        ia, ib = self.poi_index.get(a), self.poi_index.get(b)
        if ia is None or ib is None:
            return False
        m = self.leg_mask[ia][ib]
        return m != UNREACHABLE and not m & closed

    def path(self, a: int, b: int, closed: int) -> list[int]:
        """The cells of the route from ``a`` to ``b`` (both included); empty if there is none.

        This is the route :meth:`leg` judged: the open-map route wherever it avoids the closures.
        """
        tree = self.tree(a, 0 if self._open_map_leg_ok(a, b, closed) else closed)
        if b not in tree.parent:
            return []
        out = [b]
        while out[-1] != a:
            out.append(tree.parent[out[-1]])
        out.reverse()
        return out

    def station_limit(self, required: int) -> float:
        """The fastest speed limit (m/s) of a route that crosses the zones in ``required`` and one
        pack station's: ``max(speed_limit(required | zones of s) for s in stations)``, cached."""
        limit = self._station_limits.get(required)
        if limit is None:
            zones = self.wh.cell_zones
            limit = max(
                [self.speed_limit(required | zones[s]) for s in self.wh.pack_stations.values()]
            )
            self._station_limits[required] = limit
        return limit

    def speed_limit(self, mask: int) -> float:
        """Speed limit (m/s) of a route crossing the zones in ``mask``."""
        limit = self._limits.get(mask)
        if limit is None:
            limit = self.wh.max_speed_mps
            for z in self.wh.zones.values():
                if z.bit & mask and z.speed_limit_mps is not None:
                    limit = min(limit, z.speed_limit_mps)
            self._limits[mask] = limit
        return limit
