"""A* on rware's grid: four-connected, unit steps, the Manhattan distance to the nearest target as
the heuristic (admissible and consistent, so the first path found is a shortest one).

Ties are broken by the order cells were pushed (``up, down, left, right`` from each cell), so the
same floor gives the same route on every machine. The cost is bounded by the floor's cells:
each is expanded at most once.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection
from typing import Final

from plansentry_rware.layout import Cell, Layout

#: Neighbours in rware's terms: up (y - 1), down, left, right.
_STEPS: Final = ((0, -1), (0, 1), (-1, 0), (1, 0))
#: Above this many targets, the heuristic is 0 (Dijkstra): a min over many targets costs more
#: than the cells it saves.
_HEURISTIC_TARGETS: Final = 16


def astar(
    layout: Layout,
    start: Cell,
    targets: Collection[Cell],
    passable: Callable[[Cell], bool],
) -> tuple[Cell, ...] | None:
    """The shortest route from ``start`` to any of ``targets``: the cells after ``start``, the
    last a target (``()`` when ``start`` is one); ``None`` when none can be reached. A cell is
    entered when it is on the floor and ``passable`` says so, or is a target."""
    goal = frozenset(targets)
    if not goal:
        return None
    if start in goal:
        return ()
    few = tuple(goal) if len(goal) <= _HEURISTIC_TARGETS else ()

    def h(c: Cell) -> int:
        return min((abs(c[0] - t[0]) + abs(c[1] - t[1]) for t in few), default=0)

    order = itertools.count()
    frontier: list[tuple[int, int, Cell]] = [(h(start), next(order), start)]
    came: dict[Cell, Cell | None] = {start: None}
    cost: dict[Cell, int] = {start: 0}
    while frontier:
        _f, _n, here = heapq.heappop(frontier)
        if here in goal:
            path = []
            node: Cell | None = here
            while node is not None and node != start:
                path.append(node)
                node = came[node]
            return tuple(reversed(path))
        g = cost[here] + 1
        for dx, dy in _STEPS:
            nxt = (here[0] + dx, here[1] + dy)
            if not layout.inside(nxt) or (nxt not in goal and not passable(nxt)):
                continue
            if g < cost.get(nxt, 1 << 30):
                cost[nxt] = g
                came[nxt] = here
                heapq.heappush(frontier, (g + h(nxt), next(order), nxt))
    return None
