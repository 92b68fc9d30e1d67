"""What one robot's plan is judged in: the layout, the robot, the requests, where the shelves stand
and the cells other robots hold, at one decision point.

- ``task_id``: this decision's task (the controller numbers them per robot); a fresh plan names it
  and was asked with :attr:`RwareContext.version`, ``task id @ layout version``;
- ``robot``: its id, cell, and the id of the shelf it carries (``None``: unloaded);
- ``requests``: the requested shelves this robot may fetch (rware's request queue less those
  another robot has already taken on);
- ``shelves``: every standing shelf (not carried) as ``(shelf id, cell)``;
- ``reserved``: where the other robots stand now. The route's first :data:`NEAR_STEPS` cells
  may not enter them (a robot that close is still there when this one arrives); further on the
  cells are free by then or not, which no snapshot can say: rware refuses a move into an occupied
  cell and the controller replans (a rule over every cell refused routes that rware drives
  without a refusal, the first disagreement measured, see the README);
- ``claimed``: shelf homes other robots' plans will put their shelves down on: not empty homes
  for this plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, final

from plansentry_rware.layout import Cell, Layout

#: How many of the route's first cells may not enter a cell another robot stands on now.
NEAR_STEPS: Final = 3


@final
@dataclass(frozen=True, slots=True)
class Robot:
    """The robot the plan is for."""

    robot_id: str
    position: Cell
    carrying: int | None = None


@final
@dataclass(frozen=True, slots=True)
class RwareContext:
    """One decision's context (see the module docstring). Reuse the :class:`Layout` object from
    one decision to the next."""

    task_id: str
    robot: Robot
    requests: tuple[int, ...]
    shelves: tuple[tuple[int, Cell], ...]
    reserved: frozenset[Cell]
    layout: Layout
    claimed: frozenset[Cell] = frozenset()
    shelf_at: dict[Cell, int] = field(init=False, compare=False, repr=False)
    cell_of: dict[int, Cell] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shelf_at", {cell: sid for sid, cell in self.shelves})
        object.__setattr__(self, "cell_of", {sid: cell for sid, cell in self.shelves})

    @property
    def version(self) -> str:
        """What a fresh plan must have been asked with: ``task id @ layout version``."""
        return f"{self.task_id}@{self.layout.version}"

    def empty_homes(self) -> list[Cell]:
        """Shelf homes where no shelf stands, no other robot stands and no other plan will put
        its shelf down, sorted."""
        taken = self.reserved | self.claimed
        return sorted(
            c for c in self.layout.shelf_homes if c not in self.shelf_at and c not in taken
        )

    def near_reserved(self) -> frozenset[Cell]:
        """Other robots' cells within :data:`NEAR_STEPS` steps of the robot (Manhattan): every
        cell the route's first :data:`NEAR_STEPS` cells could be (the fetch planner avoids them on
        the whole route, a superset of what the rule asks)."""
        x, y = self.robot.position
        return frozenset(c for c in self.reserved if abs(c[0] - x) + abs(c[1] - y) <= NEAR_STEPS)
