"""A visibility-graph router: the shortest clear way between two points around the no-fly zones.

The graph's nodes stand just outside every corner a shortest path can bend around: each convex
corner of a no-fly polygon, each inward corner of the geofence, and the corners of a polygon drawn
around each circular zone. A node is placed where the lines offset from its two edges by the
planning clearance (the airspace's clearance plus :data:`PLAN_MARGIN_M`) plus :data:`NODE_OFFSET_M`
meet, so a path between two neighbouring nodes runs parallel to the edge, outside the clearance.
Two nodes are joined when the leg between them is clear (:meth:`Obstacles.leg_clear`), so every
path the router returns is clear by the same test the rules apply, with margin to spare.

Building the graph is quadratic in the node count (tens of milliseconds for the default airspace);
it is done once, when the airspace is built. A query checks the direct leg first, then links both
start to the nodes it sees and runs A*: linear in the nodes, plus the search.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Final, final

from plansentry_drone.geometry import Point, counter_clockwise
from plansentry_drone.obstacles import Obstacles

#: Legs are planned this much further from everything than the rules' clearance: it absorbs the
#: rounding of waypoints to 0.1 m and floating-point error, so a planned leg never fails a rule.
PLAN_MARGIN_M: Final = 0.5
#: Graph nodes stand this much beyond the planning clearance.
NODE_OFFSET_M: Final = 2.0
#: Sides of the polygon that stands in for a circular zone in the graph.
CIRCLE_SIDES: Final = 16
#: A node at a sharp corner moves at most this many offsets away from it.
_MAX_MITRE: Final = 4.0
_START: Final = -1
_GOAL: Final = -2


def _corner_nodes(polygon: Sequence[Point], offset: float, *, outside: bool) -> list[Point]:
    """Nodes at the corners of ``polygon`` that bend a path on the free side (``outside`` the
    polygon for a no-fly zone, inside it for the geofence)."""
    ring = counter_clockwise(polygon)
    n = len(ring)
    out: list[Point] = []
    sign = 1.0 if outside else -1.0  # CCW: the right-hand normal points outside
    for i in range(n):
        p, v, q = ring[i - 1], ring[i], ring[(i + 1) % n]
        e1 = (v[0] - p[0], v[1] - p[1])
        e2 = (q[0] - v[0], q[1] - v[1])
        turn = e1[0] * e2[1] - e1[1] * e2[0]
        if turn * sign <= 0:
            continue  # this corner points into the free side's way: no path bends around it
        l1, l2 = math.hypot(*e1), math.hypot(*e2)
        n1 = (sign * e1[1] / l1, -sign * e1[0] / l1)
        n2 = (sign * e2[1] / l2, -sign * e2[0] / l2)
        sx, sy = n1[0] + n2[0], n1[1] + n2[1]
        norm2 = sx * sx + sy * sy
        if norm2 == 0.0:
            continue
        # along the bisector, the distance at which both offset lines are ``offset`` away
        reach = min(2.0 * offset / math.sqrt(norm2), _MAX_MITRE * offset)
        scale = reach / math.sqrt(norm2)
        out.append((v[0] + sx * scale, v[1] + sy * scale))
    return out


@final
class Router:
    """Shortest clear paths in one airspace, at its clearance plus :data:`PLAN_MARGIN_M`."""

    def __init__(self, obstacles: Obstacles, clearance_m: float) -> None:
        self.obstacles = obstacles
        self.clearance_m = clearance_m + PLAN_MARGIN_M
        offset = self.clearance_m + NODE_OFFSET_M
        candidates = _corner_nodes(obstacles.geofence, offset, outside=False)
        for zone in obstacles.zones:
            if zone.polygon:
                candidates += _corner_nodes(zone.polygon, offset, outside=True)
            else:
                reach = (zone.radius_m + offset) / math.cos(math.pi / CIRCLE_SIDES)
                cx, cy = zone.center
                for k in range(CIRCLE_SIDES):
                    angle = 2 * math.pi * k / CIRCLE_SIDES
                    candidates.append((cx + reach * math.cos(angle), cy + reach * math.sin(angle)))
        self.nodes: tuple[Point, ...] = tuple(
            p for p in candidates if obstacles.point_clear(p, self.clearance_m)
        )
        adjacent: list[list[tuple[int, float]]] = [[] for _ in self.nodes]
        for i, a in enumerate(self.nodes):
            for j in range(i + 1, len(self.nodes)):
                b = self.nodes[j]
                if obstacles.leg_clear(a, b, self.clearance_m):
                    d = math.dist(a, b)
                    adjacent[i].append((j, d))
                    adjacent[j].append((i, d))
        self.adjacent: tuple[tuple[tuple[int, float], ...], ...] = tuple(map(tuple, adjacent))

    def leg_clear(self, a: Point, b: Point) -> bool:
        return self.obstacles.leg_clear(a, b, self.clearance_m)

    def point_clear(self, p: Point) -> bool:
        return self.obstacles.point_clear(p, self.clearance_m)

    def path(self, a: Point, b: Point) -> list[Point] | None:
        """The corners of a shortest clear path from ``a`` to ``b``, ends excluded (``[]``: the
        straight leg is clear); ``None`` when no clear path exists or an end is not clear.

        A* over the graph, straight-line distance to ``b`` as the heuristic; whether a node sees
        ``b`` is asked only of the nodes the search reaches."""
        obstacles, clearance = self.obstacles, self.clearance_m
        if not (obstacles.inside_fence(a) and obstacles.inside_fence(b)):
            return None
        clear = obstacles.span_clear
        if clear(a, b, clearance):
            return []
        if not (clear(a, a, clearance) and clear(b, b, clearance)):
            return None
        nodes, adjacent = self.nodes, self.adjacent
        cost: dict[int, float] = {}
        prev: dict[int, int] = {}
        heap: list[tuple[float, float, int]] = []
        for j, p in enumerate(nodes):
            if clear(a, p, clearance):
                cost[j] = g = math.dist(a, p)
                prev[j] = _START
                heap.append((g + math.dist(p, b), g, j))
        heapq.heapify(heap)
        done: set[int] = set()
        goal, last = math.inf, _START
        while heap:
            _f, g, j = heapq.heappop(heap)
            if j == _GOAL:
                break
            if j in done or g > cost[j]:
                continue
            done.add(j)
            p = nodes[j]
            if clear(p, b, clearance) and g + math.dist(p, b) < goal:
                goal, last = g + math.dist(p, b), j
                heapq.heappush(heap, (goal, goal, _GOAL))
            for k, w in adjacent[j]:
                if g + w < cost.get(k, math.inf):
                    cost[k] = g + w
                    prev[k] = j
                    heapq.heappush(heap, (g + w + math.dist(nodes[k], b), g + w, k))
        if last == _START:
            return None
        corners: list[Point] = []
        while last != _START:
            corners.append(nodes[last])
            last = prev[last]
        return corners[::-1]
