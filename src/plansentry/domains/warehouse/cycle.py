"""How long a picking plan takes, and the bound the cycle-time rule holds it to.

The gate protects the decision's deadline; this rule protects the cycle's. A plan can be valid and
safe and still take a hundred times the work it needs (a crawl at 0.001 m/s, a detour through 32
via-points): to the robot's throughput that is a latency failure (bucket A), failure mode ``slow``.

- **estimate**: the route the plan drives (start, via-points, picks, end, on the router's routes) at
  its speed, plus ``handling_s`` per item;
- **lower estimate**, independent of every planner: a lower bound on the route of *any* plan that
  serves the order (the minimum spanning tree over the start and the bins' access cells, plus the
  shortest leg from one of those bins to a pack station; open-map distances, which closures only
  lengthen) driven at the fastest speed any such route may legally go (the limit of the zones it
  cannot avoid: the start's, the bins', a pack station's), plus the same handling;
- **bound**: ``factor`` x the lower estimate.

The factor is chosen so that no optimal or classical plan over generated orders is refused
(``tests/domains/warehouse/test_cycle.py`` and ``bench/cycle.py`` measure how close they come);
a bound relative to the fallback's own plan would make "the classical plan passes" true by
construction, which is why the lower estimate knows no planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, final

from plansentry.core.errors import ConfigError
from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.router import UNREACHABLE, Router

#: Seconds to pick one item at the bin (the demo's figure; the simulator calibrates its own).
HANDLING_S: Final = 6.0
#: The bound over the lower estimate (docs/SIMULATION.md, "The cycle-time rule").
FACTOR: Final = 3.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CycleTime:
    """The cycle-time rule's settings: ``factor`` x the lower estimate is the most a plan may take;
    ``handling_s`` per item is added to both."""

    factor: float = FACTOR
    handling_s: float = HANDLING_S

    def __post_init__(self) -> None:
        if not (isinstance(self.factor, (int, float)) and self.factor >= 1):
            raise ConfigError(f"cycle_time.factor must be >= 1, got {self.factor!r}")
        if not (isinstance(self.handling_s, (int, float)) and self.handling_s >= 0):
            raise ConfigError(f"cycle_time.handling_s must be >= 0, got {self.handling_s!r}")


#: The rule as rules version ``warehouse-rules/2`` applies it.
DEFAULT_CYCLE_TIME: Final = CycleTime()


def lower_drive_s(router: Router, start: int, cells: list[int]) -> float:
    """A lower bound (seconds) on driving from ``start`` through every cell of ``cells`` to any
    pack station, by any route, at any legal speed; ``0.0`` if some cell is unreachable.

    Called when a context is made (not inside the gate's timing); the distances come from the
    router's open-map tables (:attr:`~.router.Router.leg_dist`, and per point of interest the
    distance to its nearest pack station, :attr:`~.router.Router.station_dist`), or from
    :meth:`~.router.Router.open_distances` for a cell that is no point of interest.
    """
    wh: Warehouse = router.wh
    nodes = [start, *dict.fromkeys(c for c in cells if c != start)]
    index = router.poi_index
    pois: list[int] = []
    for c in nodes:
        i = index.get(c)
        if i is None:  # a start off the points of interest (a test's, a via-point's)
            return _lower_drive_s_routed(router, nodes, cells)
        pois.append(i)
    table = router.leg_dist
    dist = [[row[j] for j in pois] for row in [table[i] for i in pois]]
    for row in dist:
        if UNREACHABLE in row:
            return 0.0
    tree = _mst_length(dist)
    near = router.station_dist
    reachable = [d for i in (pois[1:] or pois) if (d := near[i]) != UNREACHABLE]
    to_station = min(reachable, default=0)
    zones = wh.cell_zones
    required = zones[start]
    for cell in cells:
        required |= zones[cell]
    return (tree + to_station) * wh.cell_m / router.station_limit(required)


def _lower_drive_s_routed(router: Router, nodes: list[int], cells: list[int]) -> float:
    """:func:`lower_drive_s` for nodes the tables do not all hold: distances from the router."""
    wh: Warehouse = router.wh
    start = nodes[0]
    dist = router.open_distances(nodes, nodes)
    for row in dist:
        if UNREACHABLE in row:
            return 0.0
    tree = _mst_length(dist)
    stations = list(wh.pack_stations.values())
    reachable = [
        d
        for row in router.open_distances(nodes[1:] or nodes, stations)
        for d in row
        if d != UNREACHABLE
    ]
    to_station = min(reachable, default=0)
    zones = wh.cell_zones
    required = zones[start]
    for cell in cells:
        required |= zones[cell]
    fastest = max([router.speed_limit(required | zones[station]) for station in stations])
    return (tree + to_station) * wh.cell_m / fastest


def _mst_length(dist: list[list[int]]) -> int:
    """Length of the minimum spanning tree over a complete graph (Prim, O(n^2)); every minimum
    spanning tree has this length, whichever ties are broken which way. The shortest edges from
    the tree are updated in place (a context is made per request: this runs per decision)."""
    if len(dist) < 2:
        return 0
    rest = list(range(1, len(dist)))  # the nodes not in the tree yet ...
    best = dist[0][1:]  # ... and the shortest edge from the tree to each
    total = 0
    while True:
        low = min(best)
        total += low
        i = best.index(low)
        row = dist[rest[i]]
        last, last_best = rest.pop(), best.pop()
        if not rest:
            return total
        if i < len(rest):  # the node taken was not the last: the last takes its place
            rest[i], best[i] = last, last_best
        for k, node in enumerate(rest):
            if row[node] < best[k]:
                best[k] = row[node]
