"""The drone's rules: what makes a plan fresh, valid and safe. Match on the rule-name constants
below (``Violation.rule``), never on the messages.

Freshness (``stale``): the plan names this mission (``mission_id``) and the model was asked with
this context's version, ``mission id @ airspace version`` (``asked_version``).

Validity (``invalid``): the plan is for this drone (``drone_id``); every mission point has a
waypoint within its tolerance (``points_visited``; not asked of a ``"return"`` plan, which gives
the mission up); the route ends at home or a known pad, its last waypoint within the airspace's
landing tolerance of it, horizontally (``route_end``).

Safety (``unsafe``): every waypoint, and every straight leg between them from the drone's own
position on, stays inside the geofence and at least the airspace's clearance from its edge
(``geofence``) and from every no-fly zone (``no_fly_zone``): a leg is measured as a segment, so
one that crosses a zone between two legal waypoints is caught; every waypoint is inside the
altitude band (``altitude_band``; the drone itself may start below it, on the ground); the speed
is at most the drone's top speed (``speed_limit``); the battery holds the route's estimated energy
plus the reserve (``battery_reserve``, see :mod:`plansentry_drone.energy`; the detail gives the
estimate and the limit).

Every rule is evaluated and every violation returned; the gate reports the most severe mode. The
cost is linear in the waypoints, each leg measured only against the edges its bounding box meets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, final

from plansentry.core.failures import FailureMode, Violation
from plansentry_drone.context import DroneContext
from plansentry_drone.energy import EnergyModel
from plansentry_drone.obstacles import leg_box
from plansentry_drone.schema import DronePlan

MISSION_ID: Final = "mission_id"  # stale: the plan names another mission
ASKED_VERSION: Final = "asked_version"  # stale: the model was asked for another mission or airspace
DRONE_ID: Final = "drone_id"  # invalid: the plan is for another drone
POINTS_VISITED: Final = "points_visited"  # invalid: a mission point has no waypoint near it
ROUTE_END: Final = "route_end"  # invalid: not home or a known pad, or the route stops short of it
GEOFENCE: Final = "geofence"  # unsafe: a waypoint or leg outside, or too near, the geofence
NO_FLY_ZONE: Final = "no_fly_zone"  # unsafe: a waypoint or leg in, or too near, a no-fly zone
ALTITUDE_BAND: Final = "altitude_band"  # unsafe: a waypoint below or above the band
SPEED_LIMIT: Final = "speed_limit"  # unsafe: faster than the drone's top speed
BATTERY_RESERVE: Final = "battery_reserve"  # unsafe: the route and reserve need more than it has
RULES: Final = frozenset(
    {
        MISSION_ID,
        ASKED_VERSION,
        DRONE_ID,
        POINTS_VISITED,
        ROUTE_END,
        GEOFENCE,
        NO_FLY_ZONE,
        ALTITUDE_BAND,
        SPEED_LIMIT,
        BATTERY_RESERVE,
    }
)

_STALE: Final = FailureMode.STALE
_INVALID: Final = FailureMode.INVALID
_UNSAFE: Final = FailureMode.UNSAFE


@final
class DroneDomain:
    """The gate's domain for drone plans, under one energy model. Pure and thread-safe."""

    plan_type = DronePlan

    def __init__(self, energy: EnergyModel | None = None) -> None:
        self.energy = energy if energy is not None else EnergyModel()

    def version(self, ctx: DroneContext) -> str:
        return ctx.version

    def check_fresh(
        self, plan: DronePlan, ctx: DroneContext, asked_version: str
    ) -> Sequence[Violation]:
        out = []
        if plan.mission_id != ctx.mission.mission_id:
            why = f"plan is for mission {plan.mission_id!r}, not {ctx.mission.mission_id!r}"
            out.append(Violation(MISSION_ID, _STALE, why, "mission_id"))
        if asked_version != ctx.version:
            why = f"model was asked for {asked_version!r}, decision is for {ctx.version!r}"
            out.append(Violation(ASKED_VERSION, _STALE, why))
        return out

    def check_rules(self, plan: DronePlan, ctx: DroneContext) -> Sequence[Violation]:
        """Every rule ``plan`` breaks in ``ctx``, with where and why; empty if none."""
        out: list[Violation] = []
        drone = ctx.drone
        if plan.drone_id != drone.drone_id:
            why = f"plan is for drone {plan.drone_id!r}, not {drone.drone_id!r}"
            out.append(Violation(DRONE_ID, _INVALID, why, "drone_id"))
        visited = _points_visited(plan, ctx, out)
        _route_end(plan, ctx, out)
        _altitudes(plan, ctx, out)
        _legs(plan, ctx, out)
        if plan.speed_mps > drone.max_speed_mps:
            why = (
                f"{plan.speed_mps:g} m/s over the drone's top speed of {drone.max_speed_mps:g} m/s"
            )
            out.append(Violation(SPEED_LIMIT, _UNSAFE, why, "speed_mps"))
        estimate = self.energy.estimate_wh(drone.position_m, plan.waypoints, hover_points=visited)
        needed = self.energy.with_reserve_wh(estimate)
        if needed > drone.battery_wh:
            why = (
                f"estimated {estimate:.1f} Wh + {self.energy.reserve_fraction:.0%} reserve = "
                f"{needed:.1f} Wh > {drone.battery_wh:.1f} Wh available"
            )
            out.append(Violation(BATTERY_RESERVE, _UNSAFE, why, "waypoints"))
        return out


def _points_visited(plan: DronePlan, ctx: DroneContext, out: list[Violation]) -> int:
    """Report every mission point no waypoint comes within its tolerance of; returns how many
    points the plan does visit (each costs a hover in the energy estimate)."""
    visited = 0
    for point in ctx.mission.points:
        px, py, pz = point.position_m
        nearest = min(
            math.sqrt((x - px) ** 2 + (y - py) ** 2 + (z - pz) ** 2) for x, y, z in plan.waypoints
        )
        if nearest <= point.tolerance_m:
            visited += 1
        else:
            why = (
                f"mission point {point.point_id} not visited: the nearest waypoint is "
                f"{nearest:.1f} m from it (tolerance {point.tolerance_m:g} m)"
            )
            out.append(Violation(POINTS_VISITED, _INVALID, why, "waypoints"))
    return visited


def _route_end(plan: DronePlan, ctx: DroneContext, out: list[Violation]) -> None:
    airspace = ctx.airspace
    site = airspace.sites.get(plan.end)
    if site is None:
        known = ", ".join(sorted(airspace.sites))
        why = f"{plan.end!r} is neither home nor a landing pad ({known})"
        out.append(Violation(ROUTE_END, _INVALID, why, "end"))
        return
    x, y, _alt = plan.waypoints[-1]
    gap = math.hypot(x - site[0], y - site[1])
    if gap > airspace.landing_tolerance_m:
        why = (
            f"the last waypoint is {gap:.1f} m from {plan.end}; it must be within "
            f"{airspace.landing_tolerance_m:g} m to land there"
        )
        out.append(Violation(ROUTE_END, _INVALID, why, f"waypoints[{len(plan.waypoints) - 1}]"))


def _altitudes(plan: DronePlan, ctx: DroneContext, out: list[Violation]) -> None:
    low, high = ctx.airspace.min_alt_m, ctx.airspace.max_alt_m
    for i, (_x, _y, alt) in enumerate(plan.waypoints):
        if not low <= alt <= high:
            why = f"waypoints[{i}] at {alt:g} m is outside the altitude band [{low:g}, {high:g}] m"
            out.append(Violation(ALTITUDE_BAND, _UNSAFE, why, f"waypoints[{i}]"))


def _legs(plan: DronePlan, ctx: DroneContext, out: list[Violation]) -> None:
    """The geofence and the no-fly zones, waypoint by waypoint and leg by leg."""
    airspace = ctx.airspace
    obstacles = airspace.obstacles
    clearance = airspace.clearance_m
    x0, y0, _z0 = ctx.drone.position_m
    prev = (x0, y0)
    prev_inside = obstacles.inside_fence(prev)
    if not prev_inside:
        out.append(Violation(GEOFENCE, _UNSAFE, "the drone itself is outside the geofence"))
    for i, (x, y, _z) in enumerate(plan.waypoints):
        here = (x, y)
        where = f"waypoints[{i}]"
        inside = obstacles.inside_fence(here)
        box = leg_box(prev, here, clearance)
        if not inside:
            why = f"{where} [{x:g}, {y:g}] is outside the geofence"
            out.append(Violation(GEOFENCE, _UNSAFE, why, where))
        elif prev_inside:
            gap = obstacles.fence_distance(prev, here, clearance, box)
            if gap < clearance:
                why = (
                    f"the leg to {where} leaves the geofence"
                    if gap == 0.0
                    else f"the leg to {where} passes {gap:.1f} m from the geofence's edge "
                    f"(clearance {clearance:g} m)"
                )
                out.append(Violation(GEOFENCE, _UNSAFE, why, where))
        for zone in obstacles.zones:
            gap = zone.distance(prev, here, clearance, box)
            if gap >= clearance:
                continue
            if zone.contains(here):
                why = f"{where} [{x:g}, {y:g}] is inside no-fly zone {zone.zone_id}"
            elif gap == 0.0:
                why = f"the leg to {where} crosses no-fly zone {zone.zone_id}"
            else:
                why = (
                    f"the leg to {where} passes {gap:.1f} m from no-fly zone {zone.zone_id} "
                    f"(clearance {clearance:g} m)"
                )
            out.append(Violation(NO_FLY_ZONE, _UNSAFE, why, where))
        prev, prev_inside = here, inside
