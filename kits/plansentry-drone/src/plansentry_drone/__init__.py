"""plansentry-drone: a delivery drone's mission plan, guarded by plansentry.

A plan is the drone's waypoints ``[[x, y, alt], ...]``, its speed and where it lands. The gate
checks that it is for this mission, drone and airspace version, visits every mission point and
ends at home or a pad (validity), and that every waypoint and every leg stays inside the
geofence and clear of the no-fly zones, inside the altitude band, under the drone's top speed and
within the battery's energy and reserve (safety). Behind the model, a mission planner, then
return-to-home; when neither can fly safely, the drone lands where it is.

Start with :func:`drone_kit` (``drone_kit().guard()``), or ``plansentry.load_kit("drone")``.

Importing this package is cheap: the names below are imported on first use, so that
``plansentry`` can list the kit (:mod:`plansentry_drone.plugin`) without loading it.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from plansentry_drone.airspace import (
        Airspace,
        CircleZone,
        PolygonZone,
        default_airspace,
        load_airspace,
    )
    from plansentry_drone.codec import DroneCodec
    from plansentry_drone.context import Drone, DroneContext, Mission, MissionPoint
    from plansentry_drone.energy import EnergyModel
    from plansentry_drone.examples import example_context, random_context
    from plansentry_drone.flight import FlightSettings
    from plansentry_drone.kit import LAND, drone_kit, make_kit
    from plansentry_drone.mission_planner import MissionPlanner
    from plansentry_drone.prompt import DronePrompt
    from plansentry_drone.return_home import ReturnToHome
    from plansentry_drone.rules import (
        ALTITUDE_BAND,
        ASKED_VERSION,
        BATTERY_RESERVE,
        DRONE_ID,
        GEOFENCE,
        MISSION_ID,
        NO_FLY_ZONE,
        POINTS_VISITED,
        ROUTE_END,
        RULES,
        SPEED_LIMIT,
        DroneDomain,
    )
    from plansentry_drone.schema import DronePlan, plan_json_schema

#: Where each public name lives (imported on first use).
_HOMES: _typing.Final = {
    "ALTITUDE_BAND": "rules",
    "ASKED_VERSION": "rules",
    "Airspace": "airspace",
    "BATTERY_RESERVE": "rules",
    "CircleZone": "airspace",
    "DRONE_ID": "rules",
    "Drone": "context",
    "DroneCodec": "codec",
    "DroneContext": "context",
    "DroneDomain": "rules",
    "DronePlan": "schema",
    "DronePrompt": "prompt",
    "EnergyModel": "energy",
    "FlightSettings": "flight",
    "GEOFENCE": "rules",
    "LAND": "kit",
    "MISSION_ID": "rules",
    "Mission": "context",
    "MissionPlanner": "mission_planner",
    "MissionPoint": "context",
    "NO_FLY_ZONE": "rules",
    "POINTS_VISITED": "rules",
    "PolygonZone": "airspace",
    "ROUTE_END": "rules",
    "RULES": "rules",
    "ReturnToHome": "return_home",
    "SPEED_LIMIT": "rules",
    "default_airspace": "airspace",
    "drone_kit": "kit",
    "example_context": "examples",
    "load_airspace": "airspace",
    "make_kit": "kit",
    "plan_json_schema": "schema",
    "random_context": "examples",
}

__all__ = [
    "ALTITUDE_BAND",
    "ASKED_VERSION",
    "BATTERY_RESERVE",
    "DRONE_ID",
    "GEOFENCE",
    "LAND",
    "MISSION_ID",
    "NO_FLY_ZONE",
    "POINTS_VISITED",
    "ROUTE_END",
    "RULES",
    "SPEED_LIMIT",
    "Airspace",
    "CircleZone",
    "Drone",
    "DroneCodec",
    "DroneContext",
    "DroneDomain",
    "DronePlan",
    "DronePrompt",
    "EnergyModel",
    "FlightSettings",
    "Mission",
    "MissionPlanner",
    "MissionPoint",
    "PolygonZone",
    "ReturnToHome",
    "default_airspace",
    "drone_kit",
    "example_context",
    "load_airspace",
    "make_kit",
    "plan_json_schema",
    "random_context",
]


def __getattr__(name: str) -> _typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
