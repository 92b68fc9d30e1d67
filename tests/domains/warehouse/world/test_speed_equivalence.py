"""The simulator's speed work changes no result: each faster path against the path it replaced
(frozen here as it was), on the same inputs.

The whole-run check is the pilot document (docs/SIMULATION.md, "Reproducibility"): the same
seed gives the same bytes as before the speed work; these tests pin each part.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator

import pytest

from plansentry.domains.warehouse.map import Warehouse
from plansentry.domains.warehouse.optimal import _FAR, _shortest_tour
from plansentry.domains.warehouse.order import Order, make_order
from plansentry.domains.warehouse.router import UNREACHABLE, Router
from plansentry.domains.warehouse.schema import Pick, Plan
from plansentry.domains.warehouse.world.orders import random_orders
from plansentry.sim.synthetic import SyntheticModel


def frozen_random_orders(
    wh: Warehouse, rng: random.Random, *, closure_p: float, blocked_p: float
) -> Iterator[Order]:
    """``random_orders`` as it was before the speed work (every order through ``make_order``)."""
    bins = sorted(wh.bins)
    closable = sorted(n for n, z in wh.zones.items() if z.kind == "closable")
    number = 0
    while True:
        number += 1
        chosen = rng.sample(bins, rng.randint(2, 5))
        lines = [(f"SKU-{rng.randrange(10_000):04d}", b, rng.randint(1, 3)) for b in chosen]
        closed: list[str] = []
        if closable and (closure_p > 0 or blocked_p > 0):
            u = rng.random()
            if u < blocked_p + closure_p:
                cells = {wh.bins[b].access for b in chosen}
                holding = [z for z in closable if cells & wh.zones[z].cells]
                candidates = holding if u < blocked_p else sorted(set(closable) - set(holding))
                if candidates:
                    closed = [rng.choice(candidates)]
        yield make_order(f"O-{number:05d}", lines, wh, closed_zones=closed)


@functools.cache
def _frozen_steps(n: int) -> tuple[tuple[int, int, int, tuple[int, ...]], ...]:
    out = []
    for mask in sorted(range(1, 1 << n), key=lambda m: (m.bit_count(), m)):
        if mask.bit_count() < 2:
            continue
        for j in range(n):
            if mask >> j & 1:
                rest = mask & ~(1 << j)
                out.append((mask, j, rest, tuple(i for i in range(n) if rest >> i & 1)))
    return tuple(out)


def frozen_shortest_tour(dist: list[list[int]], home: list[int], n: int) -> list[int] | None:
    """``optimal._shortest_tour`` as it was before the speed work (tables of lists)."""
    cost = [[_FAR] * n for _ in range(1 << n)]
    parent = [[-1] * n for _ in range(1 << n)]
    start = dist[n]
    for j in range(n):
        cost[1 << j][j] = start[j]
    for mask, j, rest, candidates in _frozen_steps(n):
        row = cost[rest]
        best, arg = _FAR, -1
        for i in candidates:
            v = row[i] + dist[i][j]
            if v < best:
                best, arg = v, i
        cost[mask][j] = best
        parent[mask][j] = arg
    full = (1 << n) - 1
    last = min(range(n), key=lambda j: cost[full][j] + home[j])
    if cost[full][last] + home[last] >= _FAR:
        return None
    tour, mask = [], full
    while last >= 0:
        tour.append(last)
        mask, last = mask & ~(1 << last), parent[mask][last]
    tour.reverse()
    return tour


@pytest.mark.parametrize(("closure_p", "blocked_p"), [(0.0, 0.0), (0.3, 0.05)])
def test_the_order_stream_is_the_one_make_order_built(wh, closure_p, blocked_p) -> None:
    """Orders built directly are those make_order built, from the same random numbers."""
    fast = random_orders(wh, random.Random(4), closure_p=closure_p, blocked_p=blocked_p, digits=5)
    slow = frozen_random_orders(wh, random.Random(4), closure_p=closure_p, blocked_p=blocked_p)
    for a, b in itertools.islice(zip(fast, slow, strict=True), 3_000):
        assert a == b
        assert a.expected == b.expected


@pytest.mark.parametrize("seed", range(3))
def test_the_flat_held_karp_picks_the_tour_the_nested_one_did(seed: int) -> None:
    """Same tour (ties included: small distances tie often) or the same None."""
    rng = random.Random(seed)
    for _ in range(2_000):
        n = rng.randint(1, 6)
        dist = [
            [_FAR if rng.random() < 0.05 else rng.randint(0, 6) for _ in range(n)]
            for _ in range(n + 1)
        ]
        home = [_FAR if rng.random() < 0.05 else rng.randint(0, 6) for _ in range(n)]
        assert _shortest_tour(dist, home, n) == frozen_shortest_tour(dist, home, n)


def test_legs_from_kept_rows_are_the_search_trees_legs(wh) -> None:
    """leg() answered from the rows it keeps equals the search tree's answer, with closures, from
    cells that are no point of interest, and once the rows are cleared for space."""
    router = Router(wh, poi_rows_size=8)
    rng = random.Random(2)
    pois = sorted({b.access for b in wh.bins.values()} | set(wh.pack_stations.values()))
    floor = sorted(wh.free)
    closable = [z.bit for z in wh.zones.values() if z.kind == "closable"]
    for _ in range(1_500):
        a = rng.choice(pois if rng.random() < 0.7 else floor)
        b = rng.choice(pois if rng.random() < 0.9 else floor)
        closed = sum(rng.sample(closable, rng.randint(0, 2)))
        tree = router.tree(a, closed)
        want = (UNREACHABLE, 0) if b not in tree.dist else (tree.dist[b], tree.mask[b])
        ia, ib = router.poi_index.get(a), router.poi_index.get(b)
        if ia is not None and ib is not None:
            m = router.leg_mask[ia][ib]
            if m == UNREACHABLE:
                want = (UNREACHABLE, 0)
            elif not m & closed:
                want = (router.leg_dist[ia][ib], m)
        assert router.leg(a, b, closed) == want
    assert len(router._poi_rows) <= 8


def test_station_tables_are_the_minimum_and_maximum_they_stand_for(wh) -> None:
    """station_dist is each point's nearest pack station on the open map; station_limit the
    fastest limit of a route ending at one."""
    router = Router(wh)
    stations = list(wh.pack_stations.values())
    for cell, i in router.poi_index.items():
        ds = [d for s in stations if (d := router.leg(cell, s, 0)[0]) != UNREACHABLE]
        assert router.station_dist[i] == min(ds, default=UNREACHABLE)
    for required in {wh.cell_zones[c] for c in router.poi_index} | {0}:
        want = max(router.speed_limit(required | wh.cell_zones[s]) for s in stations)
        assert router.station_limit(required) == want


def test_route_cells_from_the_table_are_those_leg_by_leg(make_scene) -> None:
    """WarehouseWorld.route_cells' table path gives the router's leg-by-leg count, for good plans,
    unknown bins and ends, via-points and closures."""
    scene = make_scene(world_params={"closure_p": 0.3}, blocked_order_p=0.02)
    wh, rng = scene.world.wh, random.Random(6)
    orders = scene.world.orders(random.Random(6), "T")
    stations = sorted(wh.pack_stations)
    floor = sorted(wh.free)
    checked = 0
    for order in itertools.islice(orders, 600):
        start = wh.pack_stations[rng.choice(stations)] if rng.random() < 0.9 else rng.choice(floor)
        ctx = scene.world.domain.context(order, "R1", start)
        picks = [Pick(line.bin, line.sku, line.qty) for line in order.lines]
        rng.shuffle(picks)
        if rng.random() < 0.1:
            picks[0] = Pick("Z-99-L", "S", 1)
        end = rng.choice([*stations, "NOWHERE"]) if rng.random() < 0.2 else stations[0]
        via = ((rng.randrange(wh.width), rng.randrange(wh.height)),) if rng.random() < 0.1 else ()
        plan = Plan(order.order_id, "R1", tuple(picks), 1.0, end, via)
        assert scene.world.route_cells(plan, ctx) == scene.world._route_cells(plan, ctx)
        checked += 1
    assert checked == 600


def test_a_reseeded_generator_draws_what_a_fresh_one_did(scene) -> None:
    """The model's answer from the controller's one reseeded generator is that of a generator
    made for the request (common random numbers hold)."""
    model: SyntheticModel = scene.model
    orders = scene.world.orders(random.Random(9), "T")
    start = scene.world.wh.pack_stations[scene.world.stations[0]]
    reused = random.Random()
    for number, order in enumerate(itertools.islice(orders, 400)):
        if scene.world.blocked(order):
            continue
        ctx = scene.world.domain.context(order, "R1", start)
        best = scene.world.best(ctx)
        assert best is not None
        seed = (12345 << 40) ^ (number << 8)
        reused.random()  # whatever the generator drew before
        reused.seed(seed)
        assert model.call(ctx, best, None, reused) == model.call(
            ctx, best, None, random.Random(seed)
        )


@pytest.mark.parametrize(("low", "high"), [(0, 3), (3, 2), (1, 10_000)])
def test_an_impossible_number_of_lines_is_refused_not_drawn_forever(wh, low, high) -> None:
    """The direct draws have no argument checks of their own: the stream checks its bounds."""
    with pytest.raises(ValueError, match="lines per order"):
        next(random_orders(wh, random.Random(1), min_lines=low, max_lines=high))
