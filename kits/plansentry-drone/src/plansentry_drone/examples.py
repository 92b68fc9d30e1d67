"""Example contexts: the documented one ``plansentry check --domain drone`` judges records against
when they bring none, and seeded random ones for tests, conformance checks and benchmarks.

The example: mission ``M-EX-1`` for drone ``DR-1``, on the ground at home with 180 Wh and a top
speed of 15 m/s, delivering to three points of the default airspace; the straight line to the
first crosses the hospital's zone, and the one from the first to the second the school's.
"""

from __future__ import annotations

import random
from typing import Any, Final

from plansentry_drone.airspace import Airspace
from plansentry_drone.codec import DroneCodec
from plansentry_drone.context import Drone, DroneContext, Mission, MissionPoint

EXAMPLE_MISSION: Final = "M-EX-1"
EXAMPLE_DRONE: Final = "DR-1"
EXAMPLE_POINTS: Final = (
    ("P1", (700.0, 600.0, 40.0), 5.0),
    ("P2", (1500.0, 100.0, 30.0), 5.0),
    ("P3", (200.0, 1100.0, 50.0), 5.0),
)


def example_context(airspace: Airspace) -> DroneContext:
    """The documented example (see the module docstring) in ``airspace``."""
    mission = Mission(
        EXAMPLE_MISSION, tuple(MissionPoint(pid, pos, tol) for pid, pos, tol in EXAMPLE_POINTS)
    )
    home_x, home_y = airspace.home
    drone = Drone(
        drone_id=EXAMPLE_DRONE,
        position_m=(home_x, home_y, 0.0),
        battery_wh=180.0,
        max_speed_mps=15.0,
    )
    return DroneContext(mission, drone, airspace)


def example_context_json(airspace: Airspace) -> dict[str, Any]:
    """:func:`example_context` as the codec writes it."""
    return DroneCodec().context_to_json(example_context(airspace))


#: Draws before :func:`random_context` gives up on an airspace with (almost) no free room.
_MAX_DRAWS: Final = 10_000


def _free_point(rng: random.Random, airspace: Airspace, margin_m: float) -> tuple[float, float]:
    """A point drawn uniformly over the geofence's bounding box until one is clear by
    ``margin_m`` more than the clearance (rounded to 0.1 m); :class:`ValueError` if none is
    found in :data:`_MAX_DRAWS` draws."""
    xs = [p[0] for p in airspace.geofence]
    ys = [p[1] for p in airspace.geofence]
    for _ in range(_MAX_DRAWS):
        p = (round(rng.uniform(min(xs), max(xs)), 1), round(rng.uniform(min(ys), max(ys)), 1))
        if airspace.obstacles.point_clear(p, airspace.clearance_m + margin_m):
            return p
    raise ValueError(f"airspace {airspace.version}: no room {margin_m:g} m clear of everything")


def random_context(
    rng: random.Random,
    airspace: Airspace,
    *,
    points: tuple[int, int] = (1, 6),
    battery_wh: tuple[float, float] = (20.0, 250.0),
    airborne: float = 0.3,
    seq: int = 0,
) -> DroneContext:
    """A random mission in ``airspace``: between ``points[0]`` and ``points[1]`` points clear of
    every zone by 20 m more than the clearance, at altitudes inside the band; the drone on the
    ground at home or (with probability ``airborne``) flying somewhere in the band; its battery
    uniform in ``battery_wh``, so some missions cannot be flown. Same ``rng`` state, same context.
    """
    low, high = airspace.min_alt_m, airspace.max_alt_m
    mission_points = []
    for i in range(rng.randint(*points)):
        x, y = _free_point(rng, airspace, 20.0)
        alt = round(rng.uniform(low + 5, min(high - 5, low + 60)), 1)
        mission_points.append(MissionPoint(f"P{i + 1}", (x, y, alt), rng.choice((3.0, 5.0, 10.0))))
    if rng.random() < airborne:
        x, y = _free_point(rng, airspace, 20.0)
        position = (x, y, round(rng.uniform(low, high), 1))
    else:
        position = (airspace.home[0], airspace.home[1], 0.0)
    drone = Drone(
        drone_id=f"DR-{rng.randint(1, 9)}",
        position_m=position,
        battery_wh=round(rng.uniform(*battery_wh), 1),
        max_speed_mps=rng.choice((10.0, 15.0, 20.0)),
    )
    return DroneContext(Mission(f"M-{seq:04d}", tuple(mission_points)), drone, airspace)
