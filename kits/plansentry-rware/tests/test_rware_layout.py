"""The kit's floor is rware's own: read from a live environment, and written without rware for
every registered size, cell for cell the same."""

from __future__ import annotations

import pytest
from plansentry_rware import initial_shelves, layout_from_env, layout_from_rows, rware_rows
from plansentry_rware.examples import SIZES
from plansentry_rware.execution import make_env, read_state

from plansentry.core.errors import InputError


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_written_floor_is_the_one_rware_generates(size: str) -> None:
    """rware_rows(size) equals the floor read from rware's Warehouse of that size."""
    shelf_rows, shelf_columns = SIZES[size]
    live = layout_from_env(make_env(size, robots=2, seed=0))
    assert list(live.rows) == rware_rows(shelf_columns, shelf_rows)


def test_shelves_are_numbered_as_rware_numbers_them() -> None:
    """Shelf ids at reset: row by row from the top, each at its home."""
    env = make_env("tiny", robots=2, seed=3)
    layout = layout_from_env(env)
    assert tuple(read_state(env).shelves) == initial_shelves(layout)


def test_goals_are_highways_and_shelf_homes_are_not() -> None:
    """Goals are highway cells (rware's layout marks them so); every other cell is a home."""
    layout = layout_from_env(make_env("small", robots=1, seed=0))
    assert set(layout.goals) <= layout.highways
    assert not layout.highways & layout.shelf_homes
    assert len(layout.highways) + len(layout.shelf_homes) == layout.width * layout.height


@pytest.mark.parametrize(
    ("rows", "named"),
    [(["x.g", "x."], r"rows\[1\]"), (["x.q"], "unknown"), (["x.."], "goal"), ([], "non-empty")],
)
def test_a_bad_floor_is_refused_naming_what_is_wrong(rows, named: str) -> None:
    """Ragged rows, unknown cells, no goal, nothing at all."""
    with pytest.raises(InputError, match=named):
        layout_from_rows(rows)
