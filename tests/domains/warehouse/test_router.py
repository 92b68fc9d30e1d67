"""Routes: the judged route is the driven route."""

from __future__ import annotations

import itertools
import random


def test_leg_and_path_agree_with_and_without_closures(domain, wh) -> None:
    """For any two points and closures, leg() reports the distance and zones of path()."""
    router = domain.router
    rng = random.Random(1)
    cells = sorted({b.access for b in wh.bins.values()} | set(wh.pack_stations.values()))
    closable = [z for z in wh.zones.values() if z.kind == "closable"]
    for _ in range(300):
        a, b = rng.sample(cells, 2)
        closed = sum(z.bit for z in rng.sample(closable, rng.randint(0, 2)))
        dist, mask = router.leg(a, b, closed)
        path = router.path(a, b, closed)
        if dist < 0:
            assert path == []
            continue
        assert len(path) == dist + 1 and path[0] == a and path[-1] == b
        crossed = 0
        for c in path:
            crossed |= wh.cell_zones[c]
        assert crossed == mask


def test_routes_never_enter_staff_only_cells(domain, wh) -> None:
    """No route between pack stations and bins touches the maintenance room."""
    staff = wh.zones["maintenance"].cells
    router = domain.router
    cells = list(wh.pack_stations.values()) + [b.access for b in list(wh.bins.values())[::17]]
    for a, b in itertools.permutations(cells, 2):
        assert not staff & set(router.path(a, b, 0))
