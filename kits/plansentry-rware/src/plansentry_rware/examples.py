"""Floors and contexts: rware's generated floors written without importing rware, the documented
example context ``plansentry check --domain rware`` judges records against, and seeded random
contexts for tests, conformance checks and benchmarks.

:func:`rware_rows` writes the floor rware 2.0.0 generates from ``shelf_columns``, ``shelf_rows``
and ``column_height`` (``Warehouse._make_layout_from_params``: vertical highways every third
column, a horizontal one every ``column_height + 1`` rows, the delivery row at the bottom with its
two goals in the middle, and the queue columns above them); the tests check it against a live
rware environment cell by cell. :data:`SIZES` are rware's registered sizes (``rware-tiny-...``).

The example: ``rware-tiny`` (10 x 11), robot ``R1`` unloaded at ``[0, 0]``, shelves 5 and 20
requested, every shelf at home, robot ``R2`` holding ``[3, 3]``.
"""

from __future__ import annotations

import random
from typing import Any, Final

from plansentry_rware.codec import RwareCodec
from plansentry_rware.context import Robot, RwareContext
from plansentry_rware.layout import GOAL, HIGHWAY, SHELF, Cell, Layout, layout_from_rows

#: rware's registered sizes: ``(shelf_rows, shelf_columns)``, column height 8.
SIZES: Final = {"tiny": (1, 3), "small": (2, 3), "medium": (2, 5), "large": (3, 5)}
COLUMN_HEIGHT: Final = 8


def rware_rows(
    shelf_columns: int, shelf_rows: int, column_height: int = COLUMN_HEIGHT
) -> list[str]:
    """The rows of the floor rware generates from these parameters (see the module docstring)."""
    height = (column_height + 1) * shelf_rows + 2
    width = 3 * shelf_columns + 1
    goals = {(width // 2 - 1, height - 1), (width // 2, height - 1)}
    rows = []
    for y in range(height):
        chars = []
        for x in range(width):
            highway = (
                x % 3 == 0
                or y % (column_height + 1) == 0
                or y == height - 1
                or (y > height - (column_height + 3) and x in (width // 2 - 1, width // 2))
            )
            chars.append(GOAL if (x, y) in goals else HIGHWAY if highway else SHELF)
        rows.append("".join(chars))
    return rows


def sized_layout(size: str) -> Layout:
    """The floor of rware's registered size ``size`` (``tiny``, ``small``, ``medium``, ``large``)."""
    shelf_rows, shelf_columns = SIZES[size]
    return layout_from_rows(rware_rows(shelf_columns, shelf_rows), f"rware-{size}")


def initial_shelves(layout: Layout) -> tuple[tuple[int, Cell], ...]:
    """Every shelf at its home, numbered as rware numbers them at reset (row by row, from 1)."""
    homes = sorted(layout.shelf_homes, key=lambda c: (c[1], c[0]))
    return tuple((i + 1, cell) for i, cell in enumerate(homes))


def example_context(layout: Layout | None = None) -> RwareContext:
    """The documented example (see the module docstring)."""
    layout = layout if layout is not None else sized_layout("tiny")
    return RwareContext(
        task_id="R1-1",
        robot=Robot("R1", (0, 0)),
        requests=(5, 20),
        shelves=initial_shelves(layout),
        reserved=frozenset({(3, 3)}),
        layout=layout,
    )


def example_context_json(layout: Layout | None = None) -> dict[str, Any]:
    """:func:`example_context` as the codec writes it."""
    return RwareCodec().context_to_json(example_context(layout))


def random_context(
    rng: random.Random, layout: Layout, *, robots: int = 4, requests: int = 2, seq: int = 0
) -> RwareContext:
    """A random moment on ``layout``: some shelves away from home (carried by other robots, or put
    down on other homes), ``robots - 1`` other robots holding random cells, ``requests`` requested
    shelves, and the robot somewhere, carrying a shelf one time in five. Same ``rng`` state, same
    context."""
    shelves = dict(initial_shelves(layout))
    homes = sorted(layout.shelf_homes)
    for sid in rng.sample(sorted(shelves), k=min(len(shelves), rng.randint(0, 4))):
        free = [h for h in homes if h not in shelves.values()]
        if rng.random() < 0.5 and free:
            shelves[sid] = rng.choice(free)  # put down elsewhere
        else:
            del shelves[sid]  # carried by another robot
    cells = sorted((x, y) for x in range(layout.width) for y in range(layout.height))
    spots = rng.sample(cells, k=robots)
    position, others = spots[0], frozenset(spots[1:])
    standing = sorted(shelves)
    wanted = tuple(sorted(rng.sample(standing, k=min(requests, len(standing)))))
    carrying = None
    if rng.random() < 0.2:
        on_highway = [c for c in sorted(layout.highways) if c not in others]
        position = rng.choice(on_highway)
        carried = [s for s in range(1, len(homes) + 1) if s not in shelves]
        if carried:
            carrying = rng.choice(carried)
            if rng.random() < 0.5:
                wanted = tuple(sorted({*wanted, carrying}))
    return RwareContext(
        task_id=f"R1-{seq}",
        robot=Robot("R1", position, carrying),
        requests=wanted,
        shelves=tuple(sorted(shelves.items())),
        reserved=others,
        layout=layout,
    )
