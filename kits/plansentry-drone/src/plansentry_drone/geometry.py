"""Plane geometry in metres (``x`` east, ``y`` north): the few predicates the rules and router need.

Points are ``(x, y)`` tuples. A polygon is a tuple of points, implicitly closed, in either
orientation; the functions that need it simple say so (:func:`is_simple` checks). Everything here
is pure and allocates little: the gate runs it for every leg of every plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

Point: TypeAlias = tuple[float, float]
Polygon: TypeAlias = tuple[Point, ...]


def _orient(a: Point, b: Point, c: Point) -> float:
    """Twice the signed area of ``abc``: > 0 if ``c`` is left of ``a -> b``."""
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _within_box(a: Point, b: Point, p: Point) -> bool:
    """Whether ``p`` lies in the bounding box of ``a`` and ``b`` (for collinear points)."""
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether the closed segments ``ab`` and ``cd`` share a point (touching counts)."""
    d1, d2 = _orient(c, d, a), _orient(c, d, b)
    d3, d4 = _orient(a, b, c), _orient(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return (
        (d1 == 0 and _within_box(c, d, a))
        or (d2 == 0 and _within_box(c, d, b))
        or (d3 == 0 and _within_box(a, b, c))
        or (d4 == 0 and _within_box(a, b, d))
    )


def point_segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the closed segment ``ab``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def segment_distance(a: Point, b: Point, c: Point, d: Point) -> float:
    """Shortest distance between the segments ``ab`` and ``cd``; 0 when they meet."""
    if segments_intersect(a, b, c, d):
        return 0.0
    return min(
        point_segment_distance(a, c, d),
        point_segment_distance(b, c, d),
        point_segment_distance(c, a, b),
        point_segment_distance(d, a, b),
    )


def point_in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    """Whether ``p`` is inside ``polygon`` (even-odd rule; a point on an edge may go either way,
    which the clearance every caller keeps makes irrelevant)."""
    x, y = p
    inside = False
    x1, y1 = polygon[-1]
    for x2, y2 in polygon:
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def signed_area(polygon: Sequence[Point]) -> float:
    """The polygon's area, positive when its vertices run counter-clockwise."""
    total = 0.0
    x1, y1 = polygon[-1]
    for x2, y2 in polygon:
        total += x1 * y2 - x2 * y1
        x1, y1 = x2, y2
    return total / 2.0


def counter_clockwise(polygon: Sequence[Point]) -> Polygon:
    """``polygon`` with its vertices counter-clockwise (its interior on the left of each edge)."""
    points = tuple(polygon)
    return points if signed_area(points) > 0 else points[::-1]


def is_simple(polygon: Sequence[Point]) -> bool:
    """Whether ``polygon`` has at least three vertices, a non-zero area and no edge that meets
    another except its neighbours at their shared vertex. Quadratic in the vertex count."""
    n = len(polygon)
    if n < 3 or signed_area(polygon) == 0.0:
        return False
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    if any(a == b for a, b in edges):
        return False
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a vertex by construction
            if segments_intersect(*edges[i], *edges[j]):
                return False
    return True
