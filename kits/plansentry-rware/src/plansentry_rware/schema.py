"""The plan schema: one typed model, decoded by the gate and sent to the model as JSON Schema.

A plan says which requested shelf the robot fetches and its route in three legs of cells, each leg
starting where the one before ends (the first where the robot stands), each cell one step up,
down, left or right of the one before:

- ``to_shelf``: to the shelf's cell, unloaded (empty when the robot already carries it);
- ``to_goal``: loaded, to a goal cell, where rware counts the delivery (empty when the shelf was
  already delivered and is only being returned);
- ``back``: loaded, to an empty shelf home, where the robot puts the shelf down.

Every list and number is bounded, so decoding and the rules stay bounded in time whatever a model
writes: at most :data:`MAX_LEG` cells a leg, coordinates within the layout limit.
``omit_defaults`` keeps the gate's duplicate-key proof cheap (see ``plansentry.core.gate``).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, TypeAlias

import msgspec

from plansentry_rware.layout import MAX_SIDE

#: Cells in one leg at most: twice a largest layout's half-perimeter.
MAX_LEG: Final = 4 * MAX_SIDE
MAX_SHELF_ID: Final = MAX_SIDE * MAX_SIDE

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Coord = Annotated[int, msgspec.Meta(ge=0, lt=MAX_SIDE)]
#: ``[x, y]``: column from the left, row from the top.
CellIn: TypeAlias = tuple[Coord, Coord]
Leg = Annotated[tuple[CellIn, ...], msgspec.Meta(max_length=MAX_LEG)]


class RwarePlan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One robot's fetch, delivery and return (see the module docstring)."""

    task_id: Name
    robot_id: Name
    shelf: Annotated[int, msgspec.Meta(ge=1, le=MAX_SHELF_ID)]
    to_shelf: Leg
    to_goal: Leg
    back: Leg

    def cells(self) -> tuple[tuple[int, int], ...]:
        """Every cell of the route, in order."""
        return self.to_shelf + self.to_goal + self.back


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`RwarePlan` (the gate decodes with the very same type)."""
    return msgspec.json.schema(RwarePlan)


_ENCODER: Final = msgspec.json.Encoder()


def plan_to_builtins(plan: RwarePlan) -> dict[str, Any]:
    """The plan as JSON values (lists, not tuples)."""
    out: dict[str, Any] = msgspec.json.decode(_ENCODER.encode(plan))
    return out
