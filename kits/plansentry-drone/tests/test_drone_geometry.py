"""Plane geometry and the indexed obstacles: the predicates every rule and route rests on."""

from __future__ import annotations

import pytest
from plansentry_drone.geometry import (
    is_simple,
    point_in_polygon,
    point_segment_distance,
    segment_distance,
    segments_intersect,
)
from plansentry_drone.obstacles import Obstacles

SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
L_SHAPE = ((0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (10.0, 10.0), (10.0, 20.0), (0.0, 20.0))


@pytest.mark.parametrize(
    ("a", "b", "c", "d", "meet"),
    [
        ((0, 0), (10, 10), (0, 10), (10, 0), True),  # crossing
        ((0, 0), (10, 0), (10, 0), (10, 5), True),  # touching at an end
        ((0, 0), (10, 0), (5, 0), (15, 0), True),  # collinear, overlapping
        ((0, 0), (10, 0), (11, 0), (15, 0), False),  # collinear, apart
        ((0, 0), (10, 0), (0, 1), (10, 1), False),  # parallel
    ],
)
def test_segments_intersect(a, b, c, d, meet: bool) -> None:
    """Crossing, touching and overlapping segments meet; parallel or apart ones do not."""
    assert segments_intersect(a, b, c, d) is meet


def test_segment_distance_is_the_closest_approach() -> None:
    """Two parallel segments 3 m apart are 3 m apart; crossing ones 0."""
    assert segment_distance((0, 0), (10, 0), (0, 3), (10, 3)) == pytest.approx(3.0)
    assert segment_distance((0, 0), (10, 10), (0, 10), (10, 0)) == 0.0


def test_point_segment_distance_clamps_to_the_ends() -> None:
    """Beyond an end, the distance is to that end."""
    assert point_segment_distance((13, 4), (0, 0), (10, 0)) == pytest.approx(5.0)
    assert point_segment_distance((5, 2), (0, 0), (10, 0)) == pytest.approx(2.0)


def test_point_in_polygon_on_a_concave_shape() -> None:
    """The L-shape's notch is outside; its arms are inside."""
    assert point_in_polygon((5, 15), L_SHAPE) and point_in_polygon((15, 5), L_SHAPE)
    assert not point_in_polygon((15, 15), L_SHAPE)


def test_a_bow_tie_is_not_simple() -> None:
    """A polygon whose edges cross itself is refused; a square is simple."""
    assert not is_simple(((0, 0), (10, 10), (10, 0), (0, 10)))
    assert is_simple(SQUARE)


def test_a_leg_across_a_zone_between_two_clear_ends_is_not_clear() -> None:
    """Both ends far from the zone, the segment between them through it: not clear."""
    obstacles = Obstacles(((-100, -100), (100, -100), (100, 100), (-100, 100)), [])
    zone = Obstacles.polygon_zone("Z", SQUARE)
    obstacles = Obstacles(obstacles.geofence, [zone])
    assert obstacles.point_clear((-50, 5), 5.0) and obstacles.point_clear((50, 5), 5.0)
    assert not obstacles.leg_clear((-50, 5), (50, 5), 5.0)
    assert obstacles.leg_clear((-50, 30), (50, 30), 5.0)


def test_a_leg_across_the_notch_of_a_concave_geofence_is_not_clear() -> None:
    """Both ends inside the L-shaped fence, the leg cuts its outside corner: not clear."""
    obstacles = Obstacles(L_SHAPE, [])
    assert not obstacles.leg_clear((5, 18), (18, 5), 0.5)
    assert obstacles.leg_clear((2, 2), (8, 8), 0.5)


def test_a_circle_is_kept_clear_by_the_clearance() -> None:
    """A leg passing 3 m outside a circle is clear at 2 m, not at 5 m."""
    fence = ((-50.0, -50.0), (50.0, -50.0), (50.0, 50.0), (-50.0, 50.0))
    obstacles = Obstacles(fence, [Obstacles.circle_zone("C", (0.0, 0.0), 1.0)])
    assert obstacles.leg_clear((-20.0, 4.0), (20.0, 4.0), 2.0)
    assert not obstacles.leg_clear((-20.0, 4.0), (20.0, 4.0), 5.0)
