"""The classical planner: deterministic, valid, and honest when it cannot plan."""

from __future__ import annotations

import itertools
import random

from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.order import make_order
from plansentry.domains.warehouse.safety import unsafe_reasons


def random_order(wh, rng: random.Random, n: int, closed=()):
    bins = rng.sample(sorted(wh.bins), n)
    return make_order(
        f"O-{rng.randrange(10**6)}",
        [(f"S{i}", b, rng.randint(1, 3)) for i, b in enumerate(bins)],
        wh,
        closed_zones=closed,
    )


def test_plans_are_valid_and_safe_for_random_orders(domain, wh) -> None:
    """Over 200 random orders of 1-30 lines the plan breaks no rule and the oracle finds it safe."""
    rng = random.Random(7)
    planner = ClassicalPlanner(domain.router)
    for _ in range(200):
        order = random_order(wh, rng, rng.randint(1, 30))
        start = rng.choice(list(wh.pack_stations.values()))
        ctx = domain.context(order, "R1", start)
        plan = planner.plan(ctx).plan
        assert plan is not None
        assert not domain.check_rules(plan, ctx)
        assert not unsafe_reasons(plan, ctx, wh, domain.router)


def test_same_order_same_plan(domain, ctx) -> None:
    """Deterministic: two runs give the same plan."""
    planner = ClassicalPlanner(domain.router)
    assert planner.plan(ctx) == planner.plan(ctx)


def tour_length(dist, tour) -> int:
    return sum(dist[a][b] for a, b in itertools.pairwise([0, *tour]))


def test_two_opt_never_lengthens_the_nearest_neighbour_tour(domain, wh) -> None:
    """2-opt only applies improving moves."""
    from plansentry.domains.warehouse import classical

    rng = random.Random(3)
    for _ in range(50):
        n = rng.randint(3, 15)
        # Route lengths on the grid are symmetric, and 2-opt's move test assumes it.
        dist = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                dist[i][j] = dist[j][i] = rng.randint(1, 40)
        nn = classical._nearest_neighbour(dist)
        improved = classical._two_opt(dist, list(nn))

        assert sorted(improved) == sorted(nn)
        assert tour_length(dist, improved) <= tour_length(dist, nn)


def test_order_with_a_bin_in_a_closed_zone_gets_no_plan(domain, wh) -> None:
    """When a line cannot be reached the planner says why instead of guessing."""
    order = make_order("O-1", [("S", "A-05-L", 1)], wh, closed_zones=["aisle-A"])
    outcome = ClassicalPlanner(domain.router).plan(
        domain.context(order, "R1", wh.pack_stations["PACK-1"])
    )
    assert outcome.plan is None and "closed zone" in outcome.detail
