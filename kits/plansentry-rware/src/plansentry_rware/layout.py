"""rware's floor plan as the kit's rules see it: highways, shelf homes and goals, from rware's own
layout.

rware (robotic-warehouse 2.0.0) writes a layout as rows of characters, and so does this module:
``x`` a shelf home (a storage cell, where a shelf stands at reset), ``.`` a highway, ``g`` a goal
(a highway cell where a requested shelf is delivered). Cells are ``(x, y)``, ``x`` the column from
the left and ``y`` the row from the top: "up" is ``y - 1``, as in rware.

:func:`layout_from_env` reads a live ``rware.warehouse.Warehouse``: its ``highways`` array, its
``goals`` and, for the shelf homes, every cell that is not a highway (rware puts a shelf on each
at reset). It is the only function here that touches rware, and it reads, never steps. Shelf homes
are the initial layout's: where shelves stand *now* is the context's business
(:class:`~plansentry_rware.context.RwareContext`), not the layout's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, final

from plansentry.core.errors import InputError

Cell: TypeAlias = tuple[int, int]

#: A layout is at most this many cells on a side (bounds the gate, the planner and the codec).
MAX_SIDE: Final = 128

SHELF: Final = "x"
HIGHWAY: Final = "."
GOAL: Final = "g"


@final
@dataclass(frozen=True, slots=True)
class Layout:
    """A warehouse floor (see the module docstring). Build it with :func:`layout_from_rows`;
    the sets are derived from ``rows`` once."""

    rows: tuple[str, ...]
    version: str
    width: int = field(init=False)
    height: int = field(init=False)
    highways: frozenset[Cell] = field(init=False)
    shelf_homes: frozenset[Cell] = field(init=False)
    goals: tuple[Cell, ...] = field(init=False)

    def __post_init__(self) -> None:
        highways, homes, goals = set(), set(), []
        for y, row in enumerate(self.rows):
            for x, char in enumerate(row):
                if char == SHELF:
                    homes.add((x, y))
                else:
                    highways.add((x, y))
                    if char == GOAL:
                        goals.append((x, y))
        object.__setattr__(self, "width", len(self.rows[0]))
        object.__setattr__(self, "height", len(self.rows))
        object.__setattr__(self, "highways", frozenset(highways))
        object.__setattr__(self, "shelf_homes", frozenset(homes))
        object.__setattr__(self, "goals", tuple(goals))

    def inside(self, cell: Cell) -> bool:
        x, y = cell
        return 0 <= x < self.width and 0 <= y < self.height

    def is_highway(self, cell: Cell) -> bool:
        return cell in self.highways

    def text(self) -> str:
        return "\n".join(self.rows)


def layout_version(rows: tuple[str, ...]) -> str:
    """A layout's version: ``rware-WxH-`` and the first 8 hex digits of its rows' SHA-256."""
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:8]
    return f"rware-{len(rows[0])}x{len(rows)}-{digest}"


def layout_from_rows(rows: Any, version: str | None = None) -> Layout:
    """The layout written as ``rows`` (a list of strings of ``x``, ``.`` and ``g``, or one string
    with a row a line); :class:`InputError` naming what is wrong."""
    if isinstance(rows, str):
        rows = [r for r in rows.strip().replace(" ", "").split("\n")]
    if not isinstance(rows, (list, tuple)) or not rows:
        raise InputError("layout.rows: a non-empty list of strings is required")
    if not all(isinstance(r, str) for r in rows):
        raise InputError("layout.rows: every row must be a string")
    rows = tuple(r.lower() for r in rows)
    width = len(rows[0])
    if not 1 <= width <= MAX_SIDE or len(rows) > MAX_SIDE:
        raise InputError(f"layout.rows: at most {MAX_SIDE} x {MAX_SIDE} cells, and at least one")
    for y, row in enumerate(rows):
        if len(row) != width:
            raise InputError(f"layout.rows[{y}]: {len(row)} cells, the first row has {width}")
        bad = set(row) - {SHELF, HIGHWAY, GOAL}
        if bad:
            raise InputError(f"layout.rows[{y}]: unknown cell(s) {sorted(bad)}; use x . g")
    if not any(GOAL in r for r in rows):
        raise InputError("layout.rows: at least one goal (g) is required")
    return Layout(rows, version or layout_version(rows))


def layout_from_env(env: Any) -> Layout:
    """The layout of a live rware ``Warehouse`` (or a gymnasium wrapper of one), from its
    ``highways`` and ``goals``: every non-highway cell is a shelf home, as rware's reset makes it."""
    wh = getattr(env, "unwrapped", env)
    height, width = int(wh.grid_size[0]), int(wh.grid_size[1])
    goals = {(int(x), int(y)) for x, y in wh.goals}
    rows = []
    for y in range(height):
        chars = []
        for x in range(width):
            if (x, y) in goals:
                chars.append(GOAL)
            elif wh.highways[y, x]:
                chars.append(HIGHWAY)
            else:
                chars.append(SHELF)
        rows.append("".join(chars))
    return layout_from_rows(rows)
