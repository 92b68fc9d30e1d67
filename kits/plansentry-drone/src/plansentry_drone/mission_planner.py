"""The mission planner: the deterministic baseline behind the model.

It visits the mission's points in nearest-neighbour order (straight-line distance from where the
drone is, ties to the earlier point), flies around the no-fly zones at the cruise altitude
(:mod:`plansentry_drone.flight`), takes each point at its own altitude and returns home. Same
context, same plan, on every machine.

It has no plan, and says why, when a point lies outside the altitude band, no clear route reaches
a point or home, the route needs more than 64 waypoints, or the battery cannot fly it with its
reserve; the guard then asks :mod:`plansentry_drone.return_home`.

Its worst-case time grows with the mission's points and the airspace's corners;
``bench/fallback_wcet.py`` measures it and :data:`DECLARED_WCET_MS` is what the guard reserves.
"""

from __future__ import annotations

import math
from typing import Final, final

from plansentry.core.decision import FallbackOutcome
from plansentry_drone.airspace import HOME
from plansentry_drone.context import DroneContext, MissionPoint, Point3
from plansentry_drone.energy import EnergyModel
from plansentry_drone.flight import FlightSettings, energy_shortfall, fly, speed
from plansentry_drone.schema import DronePlan

NAME: Final = "mission_planner"
#: Declared worst-case time (ms) for missions of up to 16 points in airspaces within the limits
#: of :mod:`plansentry_drone.airspace`, on a core the guard has to itself. bench/fallback_wcet.py
#: on this project's 2-core VM: the hardest mission's best run takes 6-10 ms at the size limits
#: (2 ms in the default airspace), p99 16-20 ms with other jobs on both cores; single runs then
#: spiked to 30-90 ms, CPU time included (the VM's cores are shared), which no declaration covers.
DECLARED_WCET_MS: Final = 60.0


def visiting_order(start: Point3, points: tuple[MissionPoint, ...]) -> list[MissionPoint]:
    """Nearest neighbour by straight-line distance in the plane, from ``start``."""
    left = list(points)
    order: list[MissionPoint] = []
    x, y = start[0], start[1]
    while left:
        nearest = min(
            range(len(left)),
            key=lambda i: (math.hypot(left[i].position_m[0] - x, left[i].position_m[1] - y), i),
        )
        point = left.pop(nearest)
        order.append(point)
        x, y = point.position_m[0], point.position_m[1]
    return order


@final
class MissionPlanner:
    """Plans every mission it can fly safely; a :class:`FallbackOutcome` without a plan (and
    why) otherwise. Never raises."""

    name = NAME
    wcet_ms = DECLARED_WCET_MS

    def __init__(self, energy: EnergyModel, settings: FlightSettings | None = None) -> None:
        self.energy = energy
        self.settings = settings if settings is not None else FlightSettings()

    def plan(self, ctx: DroneContext) -> FallbackOutcome[DronePlan]:
        airspace = ctx.airspace
        for point in ctx.mission.points:
            alt = point.position_m[2]
            if not airspace.min_alt_m <= alt <= airspace.max_alt_m:
                why = f"mission point {point.point_id} at {alt:g} m is outside the altitude band"
                return FallbackOutcome(NAME, None, (), why)
        order = visiting_order(ctx.drone.position_m, ctx.mission.points)
        stops = [(p.point_id, p.position_m) for p in order]
        waypoints = fly(ctx, stops, HOME, self.settings)
        if isinstance(waypoints, str):
            return FallbackOutcome(NAME, None, (), waypoints)
        hover = len(ctx.mission.points)
        short = energy_shortfall(
            ctx, waypoints, self.energy, hover_points=hover, purpose="for the mission"
        )
        if short:
            return FallbackOutcome(NAME, None, (), short)
        plan = DronePlan(
            mission_id=ctx.mission.mission_id,
            drone_id=ctx.drone.drone_id,
            waypoints=waypoints,
            speed_mps=speed(ctx, self.settings),
            end=HOME,
        )
        return FallbackOutcome(NAME, plan)
