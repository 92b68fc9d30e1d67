"""Drone contexts and plans as JSON: the audit log's, ``plansentry check``'s and replay's form.

A context is ``{"mission": {...}, "drone": {...}, "airspace": {...}}``::

    "mission": {"mission_id": "M-1", "points": [{"id": "P1", "position_m": [x, y, alt],
                                                 "tolerance_m": 5}, ...]},
    "drone": {"drone_id": "DR-1", "position_m": [x, y, alt], "battery_wh": 180,
              "max_speed_mps": 15},
    "airspace": (see plansentry_drone.airspace)

A plan is the schema's JSON (:class:`~plansentry_drone.schema.DronePlan`). Decoding raises
:class:`~plansentry.core.errors.InputError` naming the bad field (``$.drone.battery_wh``).

Building an airspace indexes it, so the codec keeps the last :data:`AIRSPACE_CACHE` airspaces it
built, by their JSON: a log of a thousand decisions over one airspace builds it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Annotated, Any, Final, final

import msgspec

from plansentry.core.errors import InputError
from plansentry_drone.airspace import Airspace, airspace_from_json, airspace_to_json
from plansentry_drone.context import MAX_MISSION_POINTS, Drone, DroneContext, Mission, MissionPoint
from plansentry_drone.schema import (
    MAX_SPEED_MPS,
    Altitude,
    Coord,
    DronePlan,
    Name,
    plan_to_builtins,
)

AIRSPACE_CACHE: Final = 8

Position = tuple[Coord, Coord, Altitude]


class _PointIn(msgspec.Struct, forbid_unknown_fields=True):
    id: Name
    position_m: Position
    tolerance_m: Annotated[float, msgspec.Meta(ge=0.5, le=100)]


class _MissionIn(msgspec.Struct, forbid_unknown_fields=True):
    mission_id: Name
    points: Annotated[list[_PointIn], msgspec.Meta(min_length=1, max_length=MAX_MISSION_POINTS)]


class _DroneIn(msgspec.Struct, forbid_unknown_fields=True):
    drone_id: Name
    position_m: Position
    battery_wh: Annotated[float, msgspec.Meta(ge=0, le=100_000)]
    max_speed_mps: Annotated[float, msgspec.Meta(gt=0, le=MAX_SPEED_MPS)]


class _ContextIn(msgspec.Struct, forbid_unknown_fields=True):
    mission: _MissionIn
    drone: _DroneIn
    airspace: dict[str, Any]


@final
class DroneCodec:
    """The :class:`~plansentry.runtime.kit.Codec` of the drone kit. Thread-safe."""

    def __init__(self) -> None:
        self._airspaces: OrderedDict[bytes, Airspace] = OrderedDict()
        self._lock = threading.Lock()

    def context_to_json(self, ctx: DroneContext) -> dict[str, Any]:
        m, d = ctx.mission, ctx.drone
        return {
            "mission": {
                "mission_id": m.mission_id,
                "points": [
                    {
                        "id": p.point_id,
                        "position_m": list(p.position_m),
                        "tolerance_m": p.tolerance_m,
                    }
                    for p in m.points
                ],
            },
            "drone": {
                "drone_id": d.drone_id,
                "position_m": list(d.position_m),
                "battery_wh": d.battery_wh,
                "max_speed_mps": d.max_speed_mps,
            },
            "airspace": airspace_to_json(ctx.airspace),
        }

    def context_from_json(self, data: Mapping[str, Any]) -> DroneContext:
        try:
            raw = msgspec.convert(data, _ContextIn)
        except msgspec.ValidationError as exc:
            raise InputError(f"context: {exc}") from None
        ids = [p.id for p in raw.mission.points]
        if len(set(ids)) != len(ids):
            raise InputError(f"context: mission point ids repeat: {ids} - at `$.mission.points`")
        mission = Mission(
            raw.mission.mission_id,
            tuple(MissionPoint(p.id, p.position_m, p.tolerance_m) for p in raw.mission.points),
        )
        d = raw.drone
        drone = Drone(
            drone_id=d.drone_id,
            position_m=d.position_m,
            battery_wh=d.battery_wh,
            max_speed_mps=d.max_speed_mps,
        )
        return DroneContext(mission, drone, self.airspace(raw.airspace))

    def airspace(self, data: Mapping[str, Any]) -> Airspace:
        """The airspace ``data`` describes: built once, then taken from the cache."""
        try:
            key = msgspec.json.encode(data, order="sorted")
        except (TypeError, msgspec.EncodeError) as exc:
            raise InputError(f"context.airspace: {exc}") from None
        with self._lock:
            found = self._airspaces.get(key)
            if found is not None:
                self._airspaces.move_to_end(key)
                return found
        try:
            built = airspace_from_json(data)
        except InputError as exc:
            raise InputError(f"context.{exc}") from None
        with self._lock:
            self._airspaces[key] = built
            while len(self._airspaces) > AIRSPACE_CACHE:
                self._airspaces.popitem(last=False)
        return built

    def plan_to_json(self, plan: DronePlan) -> dict[str, Any]:
        return plan_to_builtins(plan)

    def plan_from_json(self, data: Mapping[str, Any]) -> DronePlan:
        try:
            return msgspec.convert(data, DronePlan)
        except msgspec.ValidationError as exc:
            raise InputError(f"plan: {exc}") from None
