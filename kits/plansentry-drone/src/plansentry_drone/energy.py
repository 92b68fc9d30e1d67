"""The energy model: how much battery a route needs, stated simply enough to check by hand.

For a route from the drone's position through its waypoints and down onto the landing site::

    estimate_wh = cruise_wh_per_m    x  metres flown (straight legs, altitude change included)
                + climb_wh_per_m     x  metres climbed (ascent only; descent costs nothing extra)
                + hover_wh_per_point x  mission points served (delivery or inspection hover)
                + landing_wh            (the final descent and landing)

and a route is allowed when ``estimate_wh x (1 + reserve_fraction) <= battery_wh``. The defaults
are illustrative figures for a 6 kg delivery multirotor (about 500 W in cruise at 12 m/s, a
15 s hover per point); set your airframe's own (they are kit parameters, recorded in the audit
log). The rules and both fallbacks use this one function, so a fallback never plans what the
battery rule would refuse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import final

from plansentry.core.errors import ConfigError
from plansentry_drone.context import Point3


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyModel:
    """Coefficients of the estimate (see the module docstring); each must be finite and >= 0."""

    cruise_wh_per_m: float = 0.012
    climb_wh_per_m: float = 0.05
    hover_wh_per_point: float = 2.0
    landing_wh: float = 3.0
    reserve_fraction: float = 0.25

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{f.name} must be finite and >= 0, got {value!r}")
        if self.reserve_fraction > 1:
            raise ConfigError(f"reserve_fraction must be <= 1, got {self.reserve_fraction!r}")

    def estimate_wh(
        self, start: Point3, waypoints: Sequence[Sequence[float]], *, hover_points: int
    ) -> float:
        """Energy (Wh) to fly from ``start`` through ``waypoints``, hover at ``hover_points``
        mission points and land."""
        flown = climbed = 0.0
        x0, y0, z0 = start
        for x, y, z in waypoints:
            flown += math.sqrt((x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2)
            if z > z0:
                climbed += z - z0
            x0, y0, z0 = x, y, z
        return (
            self.cruise_wh_per_m * flown
            + self.climb_wh_per_m * climbed
            + self.hover_wh_per_point * hover_points
            + self.landing_wh
        )

    def with_reserve_wh(self, estimate_wh: float) -> float:
        """What the battery must hold for a route estimated at ``estimate_wh``."""
        return estimate_wh * (1.0 + self.reserve_fraction)
