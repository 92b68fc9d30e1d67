"""The airspace's boundaries indexed for clearance checks: the geofence's edges and every no-fly
zone, each with its bounding box, so that a leg is only measured against what it comes near.

A leg is *clear* at a clearance ``c`` when both ends are inside the geofence, it comes no closer
than ``c`` to the geofence's boundary, and no closer than ``c`` to any no-fly zone (a leg that
crosses a zone, or ends in one, is at distance 0 from it). The rules measure legs at the
airspace's clearance; the router plans them a little further out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, final

from plansentry_drone.geometry import (
    Point,
    point_in_polygon,
    point_segment_distance,
    segment_distance,
)

#: ``(min_x, min_y, max_x, max_y)``.
Box: TypeAlias = tuple[float, float, float, float]
_Edge: TypeAlias = tuple[Point, Point, Box]


def _box(points: Sequence[Point]) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def leg_box(a: Point, b: Point, grow: float) -> Box:
    """The bounding box of the leg ``ab`` grown by ``grow`` on every side."""
    ax, ay = a
    bx, by = b
    if ax > bx:
        ax, bx = bx, ax
    if ay > by:
        ay, by = by, ay
    return (ax - grow, ay - grow, bx + grow, by + grow)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _edges(polygon: Sequence[Point]) -> tuple[_Edge, ...]:
    n = len(polygon)
    return tuple(
        (polygon[i], polygon[(i + 1) % n], _box((polygon[i], polygon[(i + 1) % n])))
        for i in range(n)
    )


@final
@dataclass(frozen=True, slots=True)
class ZoneShape:
    """One no-fly zone, indexed: a polygon (``polygon`` set) or a circle (``radius_m`` > 0)."""

    zone_id: str
    box: Box
    polygon: tuple[Point, ...] = ()
    edges: tuple[_Edge, ...] = ()
    center: Point = (0.0, 0.0)
    radius_m: float = 0.0

    def contains(self, p: Point) -> bool:
        if self.polygon:
            return point_in_polygon(p, self.polygon)
        return math.hypot(p[0] - self.center[0], p[1] - self.center[1]) <= self.radius_m

    def distance(self, a: Point, b: Point, limit: float, leg: Box) -> float:
        """Distance from the leg ``ab`` to the zone (0 if it enters it), or ``limit`` when the
        leg stays at least ``limit`` away, which is all the caller needs to know. ``leg`` is
        :func:`leg_box` of ``a``, ``b`` and ``limit``."""
        if not _overlap(leg, self.box):
            return limit
        if not self.polygon:
            gap = point_segment_distance(self.center, a, b) - self.radius_m
            return max(0.0, min(gap, limit))
        if point_in_polygon(a, self.polygon) or point_in_polygon(b, self.polygon):
            return 0.0
        best = limit
        for c, d, box in self.edges:
            if _overlap(leg, box):
                best = min(best, segment_distance(a, b, c, d))
                if best == 0.0:
                    break
        return best


@final
class Obstacles:
    """The geofence and the no-fly zones of one airspace, indexed. Immutable and thread-safe."""

    def __init__(self, geofence: Sequence[Point], zones: Sequence[ZoneShape]) -> None:
        self.geofence = tuple(geofence)
        self.fence_edges = _edges(self.geofence)
        self.zones = tuple(zones)

    @staticmethod
    def polygon_zone(zone_id: str, polygon: Sequence[Point]) -> ZoneShape:
        points = tuple(polygon)
        return ZoneShape(zone_id, _box(points), polygon=points, edges=_edges(points))

    @staticmethod
    def circle_zone(zone_id: str, center: Point, radius_m: float) -> ZoneShape:
        x, y = center
        box = (x - radius_m, y - radius_m, x + radius_m, y + radius_m)
        return ZoneShape(zone_id, box, center=center, radius_m=radius_m)

    def inside_fence(self, p: Point) -> bool:
        return point_in_polygon(p, self.geofence)

    def fence_distance(self, a: Point, b: Point, limit: float, leg: Box) -> float:
        """Distance from the leg ``ab`` (both ends inside) to the geofence's boundary, or
        ``limit`` when it stays at least that far; 0 when the leg leaves the geofence. ``leg``
        is :func:`leg_box` of ``a``, ``b`` and ``limit``."""
        best = limit
        for c, d, box in self.fence_edges:
            if _overlap(leg, box):
                best = min(best, segment_distance(a, b, c, d))
                if best == 0.0:
                    break
        return best

    def leg_clear(self, a: Point, b: Point, clearance_m: float) -> bool:
        """Whether the leg ``ab`` is clear at ``clearance_m`` (see the module docstring)."""
        return self.inside_fence(a) and self.inside_fence(b) and self.span_clear(a, b, clearance_m)

    def span_clear(self, a: Point, b: Point, clearance_m: float) -> bool:
        """:meth:`leg_clear` for a leg whose ends are known to be inside the geofence."""
        leg = leg_box(a, b, clearance_m)
        for c, d, box in self.fence_edges:
            if _overlap(leg, box) and segment_distance(a, b, c, d) < clearance_m:
                return False
        for zone in self.zones:
            if _overlap(leg, zone.box) and zone.distance(a, b, clearance_m, leg) < clearance_m:
                return False
        return True

    def point_clear(self, p: Point, clearance_m: float) -> bool:
        """Whether a drone may stand at ``p`` with ``clearance_m`` all round."""
        return self.leg_clear(p, p, clearance_m)
