"""What both fallbacks share: turning a list of stops into waypoints the rules will accept.

A flight climbs (or descends) vertically into the altitude band where the drone stands if it is
outside it, flies to each stop around the no-fly zones (:class:`~plansentry_drone.router.Router`)
at the cruise altitude, takes each stop at its own altitude, and ends above the landing site at
the cruise altitude, from where it descends. Waypoints are rounded to 0.1 m (the router's margin
absorbs it), all but the vertical climb-out's, which stays exactly over the drone. The speed is
the cruise speed, capped at the drone's top speed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, final

from plansentry.core.errors import ConfigError
from plansentry_drone.airspace import Airspace
from plansentry_drone.context import DroneContext, Point3
from plansentry_drone.energy import EnergyModel
from plansentry_drone.geometry import Point
from plansentry_drone.schema import MAX_WAYPOINTS, Waypoint

#: The cruise altitude keeps at least this far inside the band.
BAND_MARGIN_M: Final = 5.0


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class FlightSettings:
    """How the fallbacks fly: ``cruise_alt_m`` (moved into the band if outside it) and
    ``cruise_speed_mps`` (capped at each drone's top speed)."""

    cruise_alt_m: float = 60.0
    cruise_speed_mps: float = 12.0

    def __post_init__(self) -> None:
        for name in ("cruise_alt_m", "cruise_speed_mps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be finite and > 0, got {value!r}")

    def cruise_alt_in(self, airspace: Airspace) -> float:
        """The cruise altitude for ``airspace``: the setting, kept ``BAND_MARGIN_M`` inside its
        band (the band's middle when it is narrower than twice that)."""
        low, high = airspace.min_alt_m + BAND_MARGIN_M, airspace.max_alt_m - BAND_MARGIN_M
        if low > high:
            return (airspace.min_alt_m + airspace.max_alt_m) / 2
        return min(max(self.cruise_alt_m, low), high)


def _r(v: float) -> float:
    return round(v, 1)


def fly(
    ctx: DroneContext, stops: Sequence[tuple[str, Point3]], site: str, settings: FlightSettings
) -> tuple[Waypoint, ...] | str:
    """Waypoints from the drone through the named ``stops`` to above landing ``site``; or why
    there are none (a stop or the site unreachable, too many waypoints)."""
    airspace = ctx.airspace
    router = airspace.router
    cruise = _r(settings.cruise_alt_in(airspace))
    x, y, alt = ctx.drone.position_m
    here: Point = (x, y)
    out: list[Waypoint] = []
    if not airspace.min_alt_m <= alt <= airspace.max_alt_m:
        out.append((x, y, cruise))  # straight up (or down): not rounded, the leg stays vertical
    end = airspace.sites[site]
    targets = [*stops, (site, (end[0], end[1], cruise))]
    for name, (tx, ty, talt) in targets:
        there = (_r(tx), _r(ty))
        corners = router.path(here, there)
        if corners is None:
            return f"no clear route to {name}"
        out.extend((_r(cx), _r(cy), cruise) for cx, cy in corners)
        out.append((there[0], there[1], _r(talt)))
        here = there
        if len(out) > MAX_WAYPOINTS:
            return f"the route needs more than {MAX_WAYPOINTS} waypoints"
    return tuple(out)


def energy_shortfall(
    ctx: DroneContext,
    waypoints: Sequence[Waypoint],
    energy: EnergyModel,
    *,
    hover_points: int,
    purpose: str,
) -> str:
    """Why the battery cannot fly ``waypoints`` (as the battery rule judges it), or ``""``."""
    estimate = energy.estimate_wh(ctx.drone.position_m, waypoints, hover_points=hover_points)
    needed = energy.with_reserve_wh(estimate)
    if needed <= ctx.drone.battery_wh:
        return ""
    have = ctx.drone.battery_wh
    return f"battery too low {purpose}: needs {needed:.1f} Wh with the reserve, has {have:.1f} Wh"


def speed(ctx: DroneContext, settings: FlightSettings) -> float:
    """The cruise speed, capped at the drone's top speed."""
    return min(settings.cruise_speed_mps, ctx.drone.max_speed_mps)
