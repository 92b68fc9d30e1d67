"""Helpers of the drone kit's tests (a module with a name of its own: the repository's root tests
have a ``helpers`` module and a ``conftest`` of their own on the same path)."""

from __future__ import annotations

import dataclasses

from plansentry_drone import DroneContext


def with_battery(ctx: DroneContext, battery_wh: float, position_m=None) -> DroneContext:
    """``ctx`` with the drone's battery (and position) changed."""
    drone = dataclasses.replace(
        ctx.drone,
        battery_wh=battery_wh,
        position_m=position_m if position_m is not None else ctx.drone.position_m,
    )
    return dataclasses.replace(ctx, drone=drone)


#: Airborne over the site's middle, enough battery to get home but not to fly the mission.
AIRBORNE_M = (900.0, 700.0, 60.0)
