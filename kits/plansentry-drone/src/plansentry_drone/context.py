"""What a drone's plan is judged in: the mission, the drone and the airspace, at one moment.

Positions are ``(x, y, alt)`` in metres: local ``x`` east and ``y`` north as in the airspace,
altitude above ground. A plan is fresh when it names this mission and the model was asked with
this :attr:`DroneContext.version` (``mission id @ airspace version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias, final

from plansentry_drone.airspace import Airspace

Point3: TypeAlias = tuple[float, float, float]

#: A mission has at least one point and at most this many (bounds the gate and the fallbacks).
MAX_MISSION_POINTS: Final = 16


@final
@dataclass(frozen=True, slots=True)
class MissionPoint:
    """A place to deliver to or inspect: visited when a waypoint is within ``tolerance_m`` of it
    (straight-line distance, altitude included)."""

    point_id: str
    position_m: Point3
    tolerance_m: float


@final
@dataclass(frozen=True, slots=True)
class Mission:
    """The points to visit, in any order."""

    mission_id: str
    points: tuple[MissionPoint, ...]


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class Drone:
    """The drone now: where it is, the battery energy it has left (Wh) and its top speed."""

    drone_id: str
    position_m: Point3
    battery_wh: float
    max_speed_mps: float


@final
@dataclass(frozen=True, slots=True)
class DroneContext:
    """One decision's context. Cheap to build around an :class:`Airspace` already built: reuse
    the airspace object from one decision to the next (building one indexes it)."""

    mission: Mission
    drone: Drone
    airspace: Airspace

    @property
    def version(self) -> str:
        """What a fresh plan must have been asked with: ``mission id @ airspace version``."""
        return f"{self.mission.mission_id}@{self.airspace.version}"
