"""The oracle's planner: exact on small orders, valid and safe by the rules and the oracle."""

from __future__ import annotations

import itertools
import random

import pytest

from plansentry.domains.warehouse.optimal import OptimalPlanner
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.router import UNREACHABLE
from plansentry.domains.warehouse.safety import unsafe_reasons
from plansentry.domains.warehouse.world.orders import random_orders


def brute_force(ctx, wh, router) -> int:
    """Shortest start -> every stop -> a pack station, by trying every order and every station."""
    stops = [wh.bins[line.bin].access for line in ctx.order.lines]
    best = None
    for perm in itertools.permutations(stops):
        length, prev = 0, ctx.start
        for cell in perm:
            d = router.leg(prev, cell, ctx.closed_mask)[0]
            assert d != UNREACHABLE
            length, prev = length + d, cell
        for station in wh.pack_stations.values():
            d = router.leg(prev, station, ctx.closed_mask)[0]
            if d != UNREACHABLE and (best is None or length + d < best):
                best = length + d
    assert best is not None
    return best


def length_of(plan, ctx, wh, router) -> int:
    total, prev = 0, ctx.start
    for cell in [*(wh.bins[p.bin].access for p in plan.picks), wh.pack_stations[plan.end]]:
        total += router.leg(prev, cell, ctx.closed_mask)[0]
        prev = cell
    return total


@pytest.mark.parametrize("closed", [(), ("cross-mid",), ("aisle-D",)])
def test_optimal_is_as_short_as_brute_force_and_passes_every_rule(wh, domain, closed) -> None:
    planner = OptimalPlanner(domain.router)
    rng = random.Random(7)
    checked = 0
    for order in itertools.islice(random_orders(wh, rng, max_lines=6), 300):
        if closed and any(
            wh.bins[line.bin].access in wh.zones[closed[0]].cells for line in order.lines
        ):
            continue
        order = make_order(
            order.order_id,
            [(x.sku, x.bin, x.qty) for x in order.lines],
            wh,
            closed_zones=list(closed),
        )
        start = wh.pack_stations[rng.choice(sorted(wh.pack_stations))]
        ctx = domain.context(order, "R1", start)
        plan = planner.plan(ctx)
        assert plan is not None
        assert length_of(plan, ctx, wh, domain.router) == brute_force(ctx, wh, domain.router)
        assert not list(domain.check_rules(plan, ctx))
        assert not unsafe_reasons(plan, ctx, wh, domain.router)
        checked += 1
    assert checked > 150


def test_an_order_with_a_bin_in_a_closed_zone_has_no_plan(wh, domain) -> None:
    planner = OptimalPlanner(domain.router)
    bin_in_a = next(b for b, v in sorted(wh.bins.items()) if v.access in wh.zones["aisle-A"].cells)
    order = make_order("X", [("S", bin_in_a, 1)], wh, closed_zones=["aisle-A"])
    assert not planner.feasible(order)
    assert planner.plan(domain.context(order, "R1", wh.pack_stations["PACK-1"])) is None
