"""The plan schema: one typed model, decoded by the gate and sent to the model as JSON Schema.

Every list and number is bounded, so decoding and the rules stay bounded in time whatever a model
writes: at most :data:`MAX_WAYPOINTS` waypoints, coordinates within ±100 km, speed within
:data:`MAX_SPEED_MPS` (the drone's own top speed is a rule, not a schema bound).
``omit_defaults`` keeps the gate's duplicate-key proof cheap (see ``plansentry.core.gate``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeAlias

import msgspec

from plansentry_drone.airspace import COORD_LIMIT_M

MAX_WAYPOINTS: Final = 64
MAX_SPEED_MPS: Final = 40.0
MAX_ALT_M: Final = 10_000.0

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Coord = Annotated[float, msgspec.Meta(ge=-COORD_LIMIT_M, le=COORD_LIMIT_M)]
Altitude = Annotated[float, msgspec.Meta(ge=-MAX_ALT_M, le=MAX_ALT_M)]
#: ``[x, y, alt]`` in metres.
Waypoint: TypeAlias = tuple[Coord, Coord, Altitude]


class DronePlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A flight: from where the drone is, straight legs through ``waypoints`` in order at
    ``speed_mps``, then a vertical descent onto ``end`` (``"home"`` or a landing pad's id)."""

    mission_id: Name
    drone_id: Name
    waypoints: Annotated[tuple[Waypoint, ...], msgspec.Meta(min_length=1, max_length=MAX_WAYPOINTS)]
    speed_mps: Annotated[float, msgspec.Meta(gt=0, le=MAX_SPEED_MPS)]
    end: Name


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`DronePlan` (the gate decodes with the very same type)."""
    return msgspec.json.schema(DronePlan)


_ENCODER: Final = msgspec.json.Encoder()


def plan_to_builtins(plan: DronePlan) -> dict[str, Any]:
    """The plan as JSON values (lists, not the struct's tuples, so that JSON tools, and
    ``check_domain``'s mutations, see arrays as arrays)."""
    out: dict[str, Any] = msgspec.json.decode(_ENCODER.encode(plan))
    return out
