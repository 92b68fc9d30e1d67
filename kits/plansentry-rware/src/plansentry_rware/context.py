"""What one robot's plan is judged in: the layout, the robot, the requests, where the shelves stand
and the cells other robots hold, at one decision point.

- ``task_id``: this decision's task (the controller numbers them per robot); a fresh plan names it
  and was asked with :attr:`RwareContext.version`, ``task id @ layout version``;
- ``robot``: its id, cell, and the id of the shelf it carries (``None``: unloaded);
- ``requests``: the requested shelves this robot may fetch (rware's request queue less those
  another robot has already taken on);
- ``shelves``: every standing shelf (not carried) as ``(shelf id, cell)``;
- ``reserved``: cells no part of the route may enter: where the other robots stand, and the cells
  they will drop their shelves on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import final

from plansentry_rware.layout import Cell, Layout


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
        """Shelf homes where no shelf stands and no other robot holds the cell, sorted."""
        return sorted(
            c for c in self.layout.shelf_homes if c not in self.shelf_at and c not in self.reserved
        )
