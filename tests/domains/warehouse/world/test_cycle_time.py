"""The cycle-time rule against the simulator's own orders: it refuses none of the good plans a
simulated fleet meets (the optimum's, the fallback's, the model's good answers with their route
noise), so in the simulator a cycle-time refusal of a good plan is a residual cause that the
measurement bounds, not one that occurs (``bench/cycle.py`` runs the same at 20,000 orders)."""

from __future__ import annotations

import random

import msgspec

from plansentry.domains.warehouse.classical import ClassicalPlanner
from plansentry.domains.warehouse.rules import CYCLE_TIME
from plansentry.domains.warehouse.schema import Plan
from plansentry.sim.profiles import Profile
from plansentry.sim.synthetic import SyntheticModel


def test_no_good_plan_of_the_simulators_orders_is_refused_as_slow(scene) -> None:
    """1,500 orders (closures included): optimal, classical and noisy good plans all pass."""
    classical = ClassicalPlanner(scene.world.router)
    model = SyntheticModel(Profile(name="noisy", route_noise=1.0), scene.world)
    rng = random.Random(2)
    source = (o for o in scene.world.orders(random.Random(2), "C") if not scene.world.blocked(o))
    starts = [scene.world.wh.pack_stations[s] for s in scene.world.stations]
    refused = checked = 0
    for i in range(1_500):
        ctx = scene.world.domain.context(next(source), "R1", starts[i % len(starts)])
        best = scene.world.optimal.plan(ctx)
        noisy = msgspec.json.decode(model.call(ctx, best, None, rng).text, type=Plan)
        for plan in (best, classical.plan(ctx).plan, noisy):
            checked += 1
            refused += any(v.rule == CYCLE_TIME for v in scene.world.domain.check_rules(plan, ctx))
    assert checked == 4_500 and refused == 0
