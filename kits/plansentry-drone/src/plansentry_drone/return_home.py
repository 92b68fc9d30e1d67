"""Return to home: the last fallback before the safe action. Give the mission up and fly home.

From where the drone is, around the no-fly zones at the cruise altitude, to above home, then
down (:mod:`plansentry_drone.flight`). Its outcome ``abandons_task``: the guard holds it to the
safety rules only, so no mission point need be visited. It has no plan, and says why, when the
drone is already at home below the band (landing where it is, the safe action, takes it home), no
clear route reaches home, or the battery cannot get there with its reserve: then the guard's safe
action lands the drone where it is.
"""

from __future__ import annotations

import math
from typing import Final, final

from plansentry.core.decision import FallbackOutcome
from plansentry_drone.airspace import HOME
from plansentry_drone.context import DroneContext
from plansentry_drone.energy import EnergyModel
from plansentry_drone.flight import FlightSettings, energy_shortfall, fly, speed
from plansentry_drone.schema import DronePlan

NAME: Final = "return_to_home"
#: Declared worst-case time (ms) in airspaces within the limits of :mod:`plansentry_drone.airspace`,
#: on a core the guard has to itself. bench/fallback_wcet.py on this project's 2-core VM: the
#: hardest case's best run takes under 3 ms (1 ms in the default airspace), p99 under 2 ms.
DECLARED_WCET_MS: Final = 20.0


@final
class ReturnToHome:
    """Flies home whenever it safely can; a :class:`FallbackOutcome` without a plan (and why)
    otherwise. Never raises."""

    name = NAME
    wcet_ms = DECLARED_WCET_MS

    def __init__(self, energy: EnergyModel, settings: FlightSettings | None = None) -> None:
        self.energy = energy
        self.settings = settings if settings is not None else FlightSettings()

    def plan(self, ctx: DroneContext) -> FallbackOutcome[DronePlan]:
        airspace = ctx.airspace
        x, y, alt = ctx.drone.position_m
        home_x, home_y = airspace.home
        at_home = math.hypot(x - home_x, y - home_y) <= airspace.landing_tolerance_m
        if at_home and alt < airspace.min_alt_m:
            return FallbackOutcome(
                NAME, None, (), "already at home below the band: landing is going home"
            )
        waypoints = fly(ctx, (), HOME, self.settings)
        if isinstance(waypoints, str):
            return FallbackOutcome(NAME, None, (), waypoints)
        short = energy_shortfall(ctx, waypoints, self.energy, hover_points=0, purpose="to get home")
        if short:
            return FallbackOutcome(NAME, None, (), short)
        plan = DronePlan(
            mission_id=ctx.mission.mission_id,
            drone_id=ctx.drone.drone_id,
            waypoints=waypoints,
            speed_mps=speed(ctx, self.settings),
            end=HOME,
        )
        return FallbackOutcome(NAME, plan, abandons_task=True)
